//! The authenticated caller: a verified bearer token whose user is still active,
//! within their request budget.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use sims_domain::Principal;
use sims_domain::api_key::is_api_key;
use sims_persistence::api_keys::{self, UsableKey};
use sims_persistence::{Actor, users};
use uuid::Uuid;

use crate::auth::token_hash;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::telemetry::RequestId;

/// The caller of a request that requires a bearer token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub request_id: Option<String>,
}

impl Caller {
    /// The actor recorded in audit entries for this request.
    pub fn actor(&self) -> Actor {
        Actor {
            principal: self.principal.clone(),
            request_id: self.request_id.clone(),
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::internal("state missing"))?;
            let token = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .map(str::trim)
                .ok_or_else(|| {
                    ApiError::unauthorized(
                        "send an access token as 'Authorization: Bearer <token>'",
                    )
                })?;
            // A database failure here is a 500, never a 401: the caller did nothing wrong.
            // An API key lives until it is revoked; an access token while its session does.
            let (user_id, key, session_epoch) = if is_api_key(token) {
                let key = key_in_use(state, KeyIs::Secret(token)).await?;
                (key.user_id, Some(key.id), None)
            } else {
                let claims = state.keys.verify(token)?;
                if let Some(id) = claims.key {
                    key_in_use(state, KeyIs::Exchanged(id)).await?;
                }
                (claims.sub, claims.key, Some(claims.epoch))
            };
            let (principal, epoch) = users::remembered_session(&state.db, user_id)
                .await
                .map_err(ApiError::from)?
                .ok_or_else(|| {
                    ApiError::unauthorized("the account is deactivated or no longer exists")
                })?;
            // A password change or deactivation ended every session issued before it.
            if session_epoch.is_some_and(|e| e != epoch) {
                return Err(ApiError::unauthorized(
                    "this session has ended (the password changed); sign in again",
                ));
            }
            let now = chrono::Utc::now().timestamp();
            // An API key has a budget of its own, apart from its user's.
            if let Some(status) = state.budget.take(key.unwrap_or(principal.user_id), now) {
                req.extensions_mut().insert(status);
                if status.exceeded {
                    let mut e = ApiError::new(
                        ErrorCode::RateLimited,
                        format!("over the budget of {} requests a minute", status.limit),
                    );
                    e.retry_after = Some(status.reset);
                    return Err(e);
                }
            }
            let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
            Ok(Caller {
                principal,
                request_id,
            })
        })
    }
}

/// How a request names an API key.
pub enum KeyIs<'a> {
    /// The secret itself, sent as the bearer credential.
    Secret(&'a str),
    /// An access token exchanged for the key.
    Exchanged(Uuid),
}

/// The API key a request uses, if it may be used now: not revoked, not expired. Its use
/// is written at most once a minute.
pub async fn key_in_use(state: &AppState, key: KeyIs<'_>) -> Result<UsableKey, ApiError> {
    let now = sims_persistence::now();
    let conn = state.db.conn();
    let found = match key {
        KeyIs::Secret(secret) => api_keys::by_secret(conn, &token_hash(secret), now).await?,
        KeyIs::Exchanged(id) => api_keys::usable_by_id(conn, id, now).await?,
    };
    let key = found
        .ok_or_else(|| ApiError::unauthorized("the API key is unknown, revoked or expired"))?;
    if state.key_uses.due(key.id, key.last_used_at, now) {
        api_keys::record_use(conn, key.id, now).await?;
    }
    Ok(key)
}

/// What the handler of a signed-in request works with: the shared state (through
/// `Deref`, so `ctx.db` and `ctx.settings`) and the caller.
#[derive(Clone)]
pub struct Ctx {
    state: web::Data<AppState>,
    pub principal: Principal,
    pub request_id: Option<String>,
}

impl Ctx {
    /// The actor recorded in audit entries for this request.
    pub fn actor(&self) -> Actor {
        Actor {
            principal: self.principal.clone(),
            request_id: self.request_id.clone(),
        }
    }

    /// The caller's data scope.
    pub fn scope(&self) -> sims_domain::Scope {
        self.principal.scope()
    }
}

impl std::ops::Deref for Ctx {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.state
    }
}

impl FromRequest for Ctx {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let caller = Caller::from_request(req, payload);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("state missing"))?;
            let Caller {
                principal,
                request_id,
            } = caller.await?;
            Ok(Ctx {
                state,
                principal,
                request_id,
            })
        })
    }
}
