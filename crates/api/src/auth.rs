//! Credentials: argon2id password hashes, HS256 access tokens, opaque refresh tokens.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

/// Who issues access tokens (`iss`).
pub const ISSUER: &str = "sims";
/// Whom access tokens are for (`aud`).
pub const AUDIENCE: &str = "sims-api";

/// What an access token carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    /// The user's session epoch when the token was issued: the token works only while it
    /// is the user's current one (a password change or deactivation moves it on).
    pub epoch: i64,
    /// The role when the token was issued (the server re-reads the current one).
    pub role: String,
    /// The team when the token was issued.
    pub team: Option<Uuid>,
    /// The API key the token was exchanged for (`POST /auth/token`): the token works
    /// only while that key does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Uuid>,
    pub iat: i64,
    pub exp: i64,
}

/// Whom an access token is for: the user, their role and team, and their session epoch.
#[derive(Debug, Clone)]
pub struct TokenFor {
    pub user_id: Uuid,
    pub role: String,
    pub team: Option<Uuid>,
    pub epoch: i64,
}

impl TokenFor {
    /// A token for an active user's principal in `epoch`.
    pub fn principal(p: &sims_domain::Principal, epoch: i64) -> Self {
        Self {
            user_id: p.user_id,
            role: p.role.as_str().to_owned(),
            team: p.team_id,
            epoch,
        }
    }
}

/// Signs and verifies access tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Access token lifetime in seconds.
    pub access_ttl: i64,
}

impl TokenKeys {
    /// Keys for an HS256 secret.
    pub fn new(secret: &str, access_ttl: i64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            access_ttl,
        }
    }

    /// A signed access token for the user in session `epoch`, exchanged for API key
    /// `key` if given.
    pub fn issue(&self, session: &TokenFor, key: Option<Uuid>) -> ApiResult<String> {
        let now = chrono::Utc::now().timestamp();
        let TokenFor {
            user_id,
            role,
            team,
            epoch,
        } = session;
        let (user_id, team, epoch) = (*user_id, *team, *epoch);
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: user_id,
            epoch,
            role: role.clone(),
            team,
            key,
            iat: now,
            exp: now + self.access_ttl,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)
    }

    /// The claims of a valid, unexpired token signed with our secret.
    pub fn verify(&self, token: &str) -> ApiResult<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    ApiError::unauthorized("the access token has expired")
                }
                _ => ApiError::unauthorized("the access token is invalid"),
            })
    }
}

/// A random URL-safe token of `bytes` random bytes.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The hex SHA-256 of a high-entropy token, as stored.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hashes a password with argon2id on a blocking thread.
pub async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(ApiError::internal)?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)?
}

/// An argon2id hash (same parameters as real ones) of a random password nobody kept.
/// Sign-ins for unknown users are verified against it, so that they take as long as
/// sign-ins for real accounts and the answer time does not reveal which emails exist.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$BnofiPe+jQx9WwEPgy8Qwg$2RlOtOCPOPMmrtzF0AfIzdwSsMmhZNqPqj8hbUFRIxw";

/// Whether `password` matches `hash`, checked on a blocking thread.
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_reject_tampering() {
        let keys = TokenKeys::new("0123456789abcdef0123456789abcdef", 60);
        let id = Uuid::now_v7();
        let whom = TokenFor {
            user_id: id,
            role: "sales".into(),
            team: None,
            epoch: 3,
        };
        let t = keys.issue(&whom, None).unwrap_or_default();
        let claims = keys.verify(&t).ok();
        assert_eq!(claims.as_ref().map(|c| (c.sub, c.epoch)), Some((id, 3)));
        assert_eq!(
            claims.map(|c| (c.iss, c.aud)),
            Some((ISSUER.to_owned(), AUDIENCE.to_owned()))
        );
        let other = TokenKeys::new("another-secret-another-secret-xx", 60);
        assert!(other.verify(&t).is_err());
        let expired = TokenKeys::new("0123456789abcdef0123456789abcdef", -10);
        let old = expired.issue(&whom, None).unwrap_or_default();
        assert!(keys.verify(&old).is_err());
    }

    #[test]
    fn tokens_for_another_issuer_or_audience_are_refused() {
        let keys = TokenKeys::new("0123456789abcdef0123456789abcdef", 60);
        let now = chrono::Utc::now().timestamp();
        for (iss, aud) in [("someone-else", AUDIENCE), (ISSUER, "another-api")] {
            let claims = Claims {
                iss: iss.into(),
                aud: aud.into(),
                sub: Uuid::now_v7(),
                epoch: 0,
                role: "admin".into(),
                team: None,
                key: None,
                iat: now,
                exp: now + 60,
            };
            let forged =
                jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding)
                    .unwrap_or_default();
            assert!(keys.verify(&forged).is_err(), "{iss} {aud}");
        }
    }

    #[test]
    fn the_dummy_hash_is_a_real_argon2id_hash() {
        let parsed = PasswordHash::new(DUMMY_HASH);
        assert!(parsed.is_ok_and(|h| h.algorithm.as_str() == "argon2id"));
    }

    #[test]
    fn hashes_are_stable_and_tokens_random() {
        assert_eq!(token_hash("abc").len(), 64);
        assert_eq!(token_hash("abc"), token_hash("abc"));
        assert_ne!(random_token(32), random_token(32));
    }
}
