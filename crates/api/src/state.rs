//! What every handler shares: the database, token keys, settings, metrics and the
//! in-memory request budget.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sims_persistence::Database;
use uuid::Uuid;

use crate::auth::{PasswordHasher, TokenKeys};
use crate::client::TrustedProxies;
use crate::config::Settings;
use crate::telemetry::Metrics;

/// Shared application state.
#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    /// Where reports read: a replica when `DATABASE_READ_URL` is set, else `db`.
    pub reports: Database,
    pub keys: TokenKeys,
    pub settings: Arc<Settings>,
    pub metrics: Metrics,
    /// Requests per minute per signed-in caller.
    pub budget: Arc<RequestBudget<Uuid>>,
    /// Requests per minute per client address, for requests without credentials.
    pub address_budget: Arc<RequestBudget<IpAddr>>,
    /// When this instance last recorded each API key's use.
    pub key_uses: Arc<KeyUses>,
    /// The bounded pool password hashes run on.
    pub hasher: PasswordHasher,
    /// The proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<TrustedProxies>,
}

impl AppState {
    /// The client's address (see [`TrustedProxies::client`]).
    pub fn client_ip(&self, req: &actix_web::HttpRequest) -> IpAddr {
        self.trusted_proxies.client(req.peer_addr(), req.headers())
    }
}

/// When each API key's use was last written, so that a key in use costs one write a
/// minute per instance, not one per request.
#[derive(Debug, Default)]
pub struct KeyUses(Mutex<HashMap<Uuid, DateTime<Utc>>>);

impl KeyUses {
    /// Whether the use of `key` at `now` should be written (and notes it as written).
    /// `stored` is what the database last holds.
    pub fn due(&self, key: Uuid, stored: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.clear();
        }
        let last = map.get(&key).copied().max(stored);
        let due = sims_domain::api_key::use_is_due(last, now);
        if due {
            map.insert(key, now);
        }
        due
    }
}

/// One caller's standing in the current budget window, sent as `RateLimit-*` headers.
#[derive(Debug, Clone, Copy)]
pub struct BudgetStatus {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset: u64,
    pub exceeded: bool,
}

/// Requests per minute per caller (a user, or an address), counted in memory per
/// instance (fixed one-minute windows).
#[derive(Debug)]
pub struct RequestBudget<K> {
    per_minute: u32,
    windows: Mutex<HashMap<K, (i64, u32)>>,
}

impl<K: Hash + Eq> RequestBudget<K> {
    /// A budget of `per_minute` requests; `0` turns it off.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `caller` at `now_secs`; `None` when the budget is off.
    pub fn take(&self, caller: K, now_secs: i64) -> Option<BudgetStatus> {
        if self.per_minute == 0 {
            return None;
        }
        let window = now_secs.div_euclid(60);
        let reset = (60 - now_secs.rem_euclid(60)) as u64;
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (w, _)| *w == window);
        }
        let entry = map.entry(caller).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        let exceeded = entry.1 >= self.per_minute;
        if !exceeded {
            entry.1 += 1;
        }
        Some(BudgetStatus {
            limit: self.per_minute,
            remaining: self.per_minute - entry.1,
            reset,
            exceeded,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_counts_per_caller_and_window() {
        let b = RequestBudget::new(2);
        let (a, c) = (Uuid::now_v7(), Uuid::now_v7());
        let t = 120;
        assert_eq!(
            b.take(a, t).map(|s| (s.remaining, s.exceeded)),
            Some((1, false))
        );
        assert_eq!(
            b.take(a, t + 1).map(|s| (s.remaining, s.exceeded)),
            Some((0, false))
        );
        assert_eq!(
            b.take(a, t + 2).map(|s| (s.remaining, s.exceeded, s.reset)),
            Some((0, true, 58))
        );
        assert_eq!(
            b.take(c, t + 2).map(|s| s.exceeded),
            Some(false),
            "callers are counted apart"
        );
        assert_eq!(
            b.take(a, t + 60).map(|s| s.exceeded),
            Some(false),
            "a new minute resets"
        );
        assert!(RequestBudget::new(0).take(a, t).is_none());
    }
}
