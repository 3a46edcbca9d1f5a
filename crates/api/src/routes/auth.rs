//! Sign-in: login, refresh with rotation, logout, and the caller's own profile.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use sims_persistence::auth::Family;
use sims_persistence::{auth as store, users};
use utoipa::ToSchema;

use crate::auth::{TokenFor, needs_rehash, random_token, token_hash};
use crate::caller::{Ctx, KeyIs, key_in_use};
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::Json;
use crate::reply::Tagged;
use crate::responses::{Always, Authenticated, WithBody};
use crate::routes::Routes;
use crate::state::AppState;
use sims_domain::Violations;
use sims_domain::api_key::is_api_key;
use sims_domain::team::UserRecord;
use sims_domain::values::{EMAIL_MAX, check_length, check_password, check_password_length};

/// Credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "admin@example.com", "password": "correct horse battery"}))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A refresh token presented to rotate or revoke it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "b6m3K0Zc1XvQy8s2Lr5TfWn9Hj4Dg7Ep0Ua1Ic6Ob3M"}))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// A new pair of tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque, single-use token for `POST /auth/refresh`.
    pub refresh_token: String,
    pub token_type: TokenType,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// How to send the access token: always `Bearer`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum TokenType {
    Bearer,
}

/// A new pair for a sign-in: an access token for `whom` and the first refresh token of
/// a new family.
async fn begin_session(state: &AppState, whom: &TokenFor) -> ApiResult<TokenPair> {
    let refresh_token = random_token(32);
    store::store_refresh(
        state.db.conn(),
        whom.user_id,
        Family::begin(),
        &token_hash(&refresh_token),
        refresh_expiry(state),
    )
    .await?;
    Ok(TokenPair {
        access_token: state.keys.issue(whom, None)?,
        refresh_token,
        token_type: TokenType::Bearer,
        expires_in: state.keys.access_ttl,
    })
}

fn refresh_expiry(state: &AppState) -> chrono::DateTime<chrono::Utc> {
    sims_persistence::now() + Duration::seconds(state.settings.auth.refresh_ttl_secs as i64)
}

fn locked(until: chrono::DateTime<chrono::Utc>) -> ApiError {
    let mut e = ApiError::new(
        ErrorCode::RateLimited,
        "too many failed sign-ins; try again later",
    );
    e.retry_after = Some((until - chrono::Utc::now()).num_seconds().max(1) as u64);
    e
}

/// Signs in with email and password. Unknown users and wrong passwords get the same
/// answer; repeated failures for one account or one address answer `429`.
#[utoipa::path(tag = "auth", operation_id = "login", security(()), request_body = LoginRequest, responses(
    Always,
    WithBody,
    (status = 200, description = "A new access and refresh token", body = TokenPair),
    (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> ApiResult<web::Json<TokenPair>> {
    let body = body.0;
    let mut v = Violations::new();
    v.check(check_length("email", &body.email, EMAIL_MAX));
    v.check(check_password_length("password", &body.password));
    v.finish()?;
    let email = body.email.trim().to_lowercase();
    let account_key = format!("account:{email}");
    let address_key = format!("address:{}", state.client_ip(&req));
    let window = Duration::seconds(state.settings.auth.login_failure_window_secs as i64);
    let limit = state.settings.auth.max_login_failures as i32;
    // Counted before the hash, so that a burst of guesses cannot outrun the limit.
    let keys = [
        (account_key.clone(), limit),
        (address_key.clone(), limit.saturating_mul(4)),
    ];
    if let store::Attempt::Locked { until } = store::take_attempt(&state.db, &keys, window).await? {
        return Err(locked(until));
    }
    let conn = state.db.conn();
    let found = users::credentials(conn, &email).await?;
    let hash = found
        .as_ref()
        .map(|c| c.password_hash.clone())
        .unwrap_or_else(|| state.hasher.dummy_hash());
    let upgrade = needs_rehash(&hash).then(|| body.password.clone());
    let password_ok = state.hasher.verify(body.password, hash).await?;
    let (user, epoch, old_hash) = match found {
        Some(c) if password_ok && c.user.active => (c.user, c.session_epoch, c.password_hash),
        _ => return Err(ApiError::unauthorized("wrong email or password")),
    };
    store::clear_failures(conn, &account_key).await?;
    store::give_back(conn, &address_key).await?;
    if let Some(password) = upgrade {
        let new_hash = state.hasher.hash(password).await?;
        users::upgrade_hash(conn, user.id, &old_hash, &new_hash).await?;
    }
    let whom = TokenFor {
        user_id: user.id,
        role: user.role.as_str().to_owned(),
        team: user.team_id,
        epoch,
    };
    let pair = begin_session(&state, &whom).await?;
    tracing::info!(user_id = %user.id, "signed in");
    Ok(web::Json(pair))
}

/// Exchanges a refresh token for a new pair. Each refresh token works once; presenting
/// one that was already rotated revokes its whole family (a stolen token is useless).
#[utoipa::path(tag = "auth", operation_id = "refresh_token", security(()), request_body = RefreshRequest, responses(
    Always,
    WithBody,
    (status = 200, description = "A new access and refresh token", body = TokenPair),
    (status = 401, description = "Unknown, expired, rotated or revoked refresh token", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> ApiResult<web::Json<TokenPair>> {
    let refresh_token = random_token(32);
    let rotation = store::rotate_refresh(
        &state.db,
        &token_hash(&body.0.refresh_token),
        &token_hash(&refresh_token),
        refresh_expiry(&state),
        Duration::days(i64::from(state.settings.auth.refresh_family_max_days)),
    )
    .await?;
    let user_id = match rotation {
        store::Rotation::Rotated { user_id } => user_id,
        store::Rotation::Rejected => {
            return Err(ApiError::unauthorized(
                "the refresh token is unknown, expired or revoked",
            ));
        }
        store::Rotation::ReuseDetected => {
            tracing::warn!("a rotated refresh token was presented again; its family is revoked");
            return Err(ApiError::unauthorized(
                "the refresh token was already used; sign in again",
            ));
        }
        store::Rotation::FamilyExpired => {
            return Err(ApiError::unauthorized(
                "this session is older than it may live; sign in again",
            ));
        }
    };
    let (principal, epoch) = users::session(state.db.conn(), user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the account is deactivated"))?;
    let pair = TokenPair {
        access_token: state
            .keys
            .issue(&TokenFor::principal(&principal, epoch), None)?,
        refresh_token,
        token_type: TokenType::Bearer,
        expires_in: state.keys.access_ttl,
    };
    Ok(web::Json(pair))
}

/// Signs out: revokes the refresh token's whole family.
#[utoipa::path(tag = "auth", operation_id = "logout", security(()), request_body = RefreshRequest, responses(
    Always,
    WithBody,
    (status = 204, description = "Revoked"),
    (status = 401, description = "Unknown refresh token", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    if store::revoke_by_token(&state.db, &token_hash(&body.0.refresh_token)).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::unauthorized(
            "the refresh token is unknown or already revoked",
        ))
    }
}

/// The signed-in user.
#[utoipa::path(tag = "auth", operation_id = "get_me", responses(
    Authenticated,
    (status = 200, description = "The user", body = UserRecord),
))]
#[get("/me")]
pub async fn me(ctx: Ctx) -> ApiResult<Tagged<UserRecord>> {
    let u = users::get(ctx.db.conn(), ctx.principal.user_id).await?;
    Ok(Tagged(u))
}

/// A new password for the caller.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "correct horse battery", "new_password": "a longer passphrase now"}))]
pub struct ChangePassword {
    pub current_password: String,
    /// At least 10 characters.
    pub new_password: String,
}

impl std::fmt::Debug for ChangePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangePassword { .. }")
    }
}

/// Changes the caller's own password. Every session of theirs ends at once: refresh
/// tokens are revoked and access tokens issued before answer `401`; sign in again.
#[utoipa::path(tag = "auth", operation_id = "change_password", request_body = ChangePassword, responses(
    Authenticated,
    WithBody,
    (status = 204, description = "Changed; sign in again with the new password"),
))]
#[post("/me/password")]
pub async fn change_password(ctx: Ctx, body: Json<ChangePassword>) -> ApiResult<HttpResponse> {
    let b = body.0;
    let mut v = Violations::new();
    v.check(check_password_length(
        "current_password",
        &b.current_password,
    ));
    v.check(check_password("new_password", &b.new_password));
    v.finish()?;
    let creds = users::credentials_by_id(ctx.db.conn(), ctx.principal.user_id).await?;
    if !ctx
        .hasher
        .verify(b.current_password, creds.password_hash)
        .await?
    {
        return Err(ApiError::validation(vec![
            sims_domain::FieldViolation::new(
                "current_password",
                "incorrect",
                "current_password is not your password",
            ),
        ]));
    }
    let hash = ctx.hasher.hash(b.new_password).await?;
    users::change_own_password(&ctx.db, &ctx.actor(), hash).await?;
    tracing::info!(user_id = %ctx.principal.user_id, "changed their password");
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the sign-in routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(login)
        .service(refresh)
        .service(logout)
        .service(exchange_api_key)
        .service(change_password)
        .service(me);
}

/// An API key to exchange for an access token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"api_key": "sims_2Nf0bW3kQe7Zr9xYtUvA1sD4gH6jK8lM0pO2qR5t"}))]
pub struct TokenRequest {
    pub api_key: String,
}

/// An access token for an API key (no refresh token: exchange the key again).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyToken {
    /// Short-lived JWT for `Authorization: Bearer`; it works while the key does.
    pub access_token: String,
    pub token_type: TokenType,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// Exchanges an API key for a short-lived access token acting as the key's user. A
/// revoked or expired key, or one whose user is deactivated, answers `401`.
#[utoipa::path(tag = "auth", operation_id = "exchange_api_key", security(()), request_body = TokenRequest, responses(
    Always,
    WithBody,
    (status = 200, description = "An access token", body = KeyToken),
    (status = 401, description = "Unknown, revoked or expired key, or a deactivated user", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/token")]
pub async fn exchange_api_key(
    state: web::Data<AppState>,
    body: Json<TokenRequest>,
) -> ApiResult<web::Json<KeyToken>> {
    let secret = body.0.api_key;
    let unknown = || ApiError::unauthorized("the API key is unknown, revoked or expired");
    if !is_api_key(&secret) || secret.len() > 256 {
        return Err(unknown());
    }
    let key = key_in_use(&state, KeyIs::Secret(&secret)).await?;
    let (user, epoch) = users::session(state.db.conn(), key.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the key's user is deactivated"))?;
    let access_token = state
        .keys
        .issue(&TokenFor::principal(&user, epoch), Some(key.id))?;
    Ok(web::Json(KeyToken {
        access_token,
        token_type: TokenType::Bearer,
        expires_in: state.keys.access_ttl,
    }))
}
