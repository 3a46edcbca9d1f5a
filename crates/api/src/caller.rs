//! The authenticated caller: a verified bearer token whose user is still active,
//! within their request budget.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use sims_domain::Principal;
use sims_persistence::{Actor, users};

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
            let claims = state.keys.verify(token)?;
            // A database failure here is a 500, never a 401: the caller did nothing wrong.
            let principal = users::principal(state.db.conn(), claims.sub)
                .await
                .map_err(ApiError::from)?
                .ok_or_else(|| {
                    ApiError::unauthorized("the account is deactivated or no longer exists")
                })?;
            let now = chrono::Utc::now().timestamp();
            if let Some(status) = state.budget.take(principal.user_id, now) {
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
