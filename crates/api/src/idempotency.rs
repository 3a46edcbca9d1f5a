//! Runs keyed creates at most once: the first response to an `Idempotency-Key` is stored
//! and sent again for the same body; another body under the same key is `422`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use serde::Serialize;
use sims_persistence::idempotency::{self, Claim};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

/// A response ready to send and to store.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub status: StatusCode,
    pub body: String,
    pub location: Option<String>,
    pub etag: Option<String>,
}

impl Prepared {
    /// A JSON response.
    pub fn json(status: StatusCode, value: &impl Serialize) -> ApiResult<Self> {
        Ok(Self {
            status,
            body: serde_json::to_string(value).map_err(ApiError::internal)?,
            location: None,
            etag: None,
        })
    }

    /// With a `Location` header.
    pub fn location(mut self, l: String) -> Self {
        self.location = Some(l);
        self
    }

    /// With an `ETag` for `version`.
    pub fn version(mut self, v: i64) -> Self {
        self.etag = Some(format!("\"{v}\""));
        self
    }

    fn into_response(self, replayed: bool) -> HttpResponse {
        let mut b = HttpResponse::build(self.status);
        b.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ));
        if let Some(l) = self.location {
            b.insert_header((header::LOCATION, l));
        }
        if let Some(e) = self.etag {
            b.insert_header((header::ETAG, e));
        }
        if replayed {
            b.insert_header(("Idempotent-Replayed", "true"));
        }
        b.body(self.body)
    }
}

/// Runs `work` unless `key` was already used by `caller` for the same request.
pub async fn once<F, Fut>(
    state: &AppState,
    caller: Uuid,
    key: Option<&str>,
    hash: &str,
    work: F,
) -> ApiResult<HttpResponse>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ApiResult<Prepared>>,
{
    let Some(key) = key else {
        return work().await.map(|p| p.into_response(false));
    };
    match idempotency::claim(&state.db, caller, key, hash).await? {
        Claim::Replay {
            status,
            body,
            location,
            etag,
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            Ok(Prepared {
                status,
                body,
                location,
                etag,
            }
            .into_response(true))
        }
        Claim::Mismatch => Err(ApiError::fields(
            ErrorCode::ValidationFailed,
            vec![sims_domain::FieldViolation::new(
                "Idempotency-Key",
                "key_reused",
                "this Idempotency-Key was used with another request body",
            )],
        )),
        Claim::InProgress => Err(ApiError::new(
            ErrorCode::Conflict,
            "a request with this Idempotency-Key is still running; retry shortly",
        )),
        Claim::Run => match work().await {
            Ok(p) => {
                idempotency::complete(
                    &state.db,
                    caller,
                    key,
                    p.status.as_u16(),
                    p.body.clone(),
                    p.location.clone(),
                    p.etag.clone(),
                )
                .await?;
                Ok(p.into_response(false))
            }
            Err(e) => {
                idempotency::abandon(&state.db, caller, key).await?;
                Err(e)
            }
        },
    }
}
