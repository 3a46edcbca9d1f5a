//! Webhook delivery: the dispatcher that runs inside the server, the signature receivers
//! check, and the guard that keeps deliveries off loopback, private and link-local
//! addresses.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sims_domain::webhook::{URL_MAX, is_public};
use sims_persistence::webhooks::{self, Attempt, Due};

use crate::config::WebhookSettings;
use crate::state::AppState;

/// Deliveries one dispatcher sends at once.
const BATCH: u64 = 32;

/// Hex HMAC-SHA256 of `"{timestamp}.{body}"` under `secret`: `SIMS-Signature`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        // HMAC takes a key of any length; this cannot happen.
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A checked target: its URL and, for a host name, the addresses it resolved to, which the
/// delivery connects to (so that a name cannot resolve to a public address for the check
/// and a private one for the connection).
#[derive(Debug, Clone)]
pub struct Target {
    pub url: reqwest::Url,
    pub pinned: Option<(String, Vec<SocketAddr>)>,
}

/// Checks a target URL: `http` or `https` with a host, and, unless private targets are
/// allowed, every address its host resolves to on the public internet. The reason it is
/// refused otherwise.
pub async fn check_target(url: &str, allow_private: bool) -> Result<Target, String> {
    if url.chars().count() > URL_MAX {
        return Err(format!("at most {URL_MAX} characters"));
    }
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("the scheme must be http or https".into());
    }
    let Some(host) = parsed.host_str().map(str::to_owned) else {
        return Err("the URL names no host".into());
    };
    if allow_private {
        return Ok(Target {
            url: parsed,
            pinned: None,
        });
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let (addresses, pinned): (Vec<SocketAddr>, bool) = match bare.parse::<IpAddr>() {
        Ok(ip) => (vec![SocketAddr::new(ip, port)], false),
        Err(_) => (
            tokio::net::lookup_host((bare.as_str(), port))
                .await
                .map_err(|_| format!("{host} does not resolve"))?
                .collect(),
            true,
        ),
    };
    if addresses.is_empty() {
        return Err(format!("{host} does not resolve"));
    }
    if addresses.iter().any(|a| !is_public(a.ip())) {
        return Err(format!(
            "{host} is, or resolves to, a loopback, private or link-local address"
        ));
    }
    Ok(Target {
        url: parsed,
        pinned: pinned.then_some((bare, addresses)),
    })
}

/// The HTTP client deliveries go out with: the subscriber's timeout, no redirects.
fn client_builder(settings: &WebhookSettings) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(settings.timeout_secs))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("sims-webhooks")
}

/// Runs the dispatcher until the process ends: every `poll_interval_ms`, fans new events
/// out into deliveries and sends the deliveries that are due, each claimed for a lease
/// first so that of many instances only one sends it in one attempt.
pub async fn run_dispatcher(state: AppState) {
    let settings = state.settings.webhooks.clone();
    let client = match client_builder(&settings).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook client; no deliveries");
            return;
        }
    };
    let lease = chrono::Duration::seconds(settings.timeout_secs as i64 + 30);
    let mut ticks = tokio::time::interval(Duration::from_millis(settings.poll_interval_ms.max(10)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = webhooks::fan_out(&state.db).await {
            tracing::warn!(error = %e, "webhook fan-out failed");
            continue;
        }
        let due = match webhooks::claim_due(&state.db, lease, BATCH).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim due webhook deliveries");
                continue;
            }
        };
        let sends = due
            .into_iter()
            .map(|d| deliver(&state, &client, &settings, d));
        futures_util::future::join_all(sends).await;
    }
}

/// Sends one delivery and records how it went.
async fn deliver(state: &AppState, client: &reqwest::Client, settings: &WebhookSettings, d: Due) {
    let started = Instant::now();
    let checked = tokio::time::timeout(
        Duration::from_secs(settings.timeout_secs),
        check_target(&d.url, settings.allow_private_targets),
    )
    .await
    .unwrap_or_else(|_| Err("its host did not resolve in time".into()));
    let attempt = match checked {
        Err(reason) => {
            tracing::warn!(delivery = %d.id, url = %d.url, %reason, "webhook target refused at delivery");
            Attempt {
                status_code: None,
                latency_ms: 0,
                delivered: false,
            }
        }
        Ok(target) => {
            let pinned = match &target.pinned {
                Some((host, addresses)) => client_builder(settings)
                    .resolve_to_addrs(host, addresses)
                    .build()
                    .ok(),
                None => None,
            };
            let timestamp = chrono::Utc::now().timestamp();
            let sent = pinned
                .as_ref()
                .unwrap_or(client)
                .post(target.url)
                .header("content-type", "application/json")
                .header("SIMS-Event-Id", d.event_id.to_string())
                .header("SIMS-Timestamp", timestamp.to_string())
                .header("SIMS-Signature", signature(&d.secret, timestamp, &d.body))
                .body(d.body.clone())
                .send()
                .await;
            let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
            match sent {
                Ok(res) => Attempt {
                    status_code: Some(i32::from(res.status().as_u16())),
                    latency_ms,
                    delivered: res.status().is_success(),
                },
                Err(e) => {
                    tracing::info!(delivery = %d.id, error = %e, "webhook delivery got no answer");
                    Attempt {
                        status_code: None,
                        latency_ms,
                        delivered: false,
                    }
                }
            }
        }
    };
    match webhooks::record_attempt(&state.db, &d, attempt, settings.retry_base_secs).await {
        Ok(Some(status)) => {
            tracing::debug!(delivery = %d.id, status = status.as_str(), "webhook attempt")
        }
        Ok(None) => tracing::info!(
            delivery = %d.id,
            "a webhook attempt ended after its claim was taken over (replayed, or the lease ran out); not counted"
        ),
        Err(e) => tracing::warn!(delivery = %d.id, error = %e, "cannot record a webhook attempt"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently: Python's hmac.new(secret, b"1700000000.{...}", sha256).
        assert_eq!(
            signature("whsec_test", 1_700_000_000, "{\"id\":1}"),
            "2f441ba4b3b2d50d28a9ab9d9fd8880376ecd1eb5d0435401553f5d8d0a5dcf8"
        );
    }

    #[tokio::test]
    async fn private_targets_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9000/hook",
            "http://[::1]/hook",
            "http://169.254.169.254/latest",
            "http://10.0.0.5/hook",
            "http://localhost:8080/hook",
        ] {
            assert!(check_target(url, false).await.is_err(), "{url}");
            assert!(check_target(url, true).await.is_ok(), "{url}");
        }
        for url in ["ftp://example.com/x", "not a url", "file:///etc/passwd"] {
            assert!(check_target(url, true).await.is_err(), "{url}");
        }
        assert!(
            check_target("https://93.184.216.34/hook", false)
                .await
                .is_ok()
        );
    }
}
