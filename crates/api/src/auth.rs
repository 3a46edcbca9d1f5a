//! Credentials: argon2id password hashes, HS256 access tokens, opaque refresh tokens.

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm as Argon2Kind, Argon2, Block, Params, Version};
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

/// The argon2id cost of new hashes: 12 MiB, 3 passes, one lane — one of the OWASP
/// configurations of equal strength, chosen for its memory: `max_concurrent_hashes` of
/// them fit beside the server in 100 MB. Hashes made with other parameters still verify,
/// and are re-hashed with these at the next sign-in.
pub const HASH_M_KIB: u32 = 12 * 1024;
/// Passes of new hashes.
pub const HASH_T: u32 = 3;

fn params() -> ApiResult<Params> {
    Params::new(HASH_M_KIB, HASH_T, 1, None).map_err(ApiError::internal)
}

/// Hashes `password` with the current parameters, in `memory` (grown as needed).
fn hash_with(memory: &mut Vec<Block>, password: &str) -> ApiResult<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(ApiError::internal)?;
    let params = params()?;
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_buf)
        .map_err(ApiError::internal)?;
    let mut out = [0u8; 32];
    memory.resize(params.block_count(), Block::default());
    Argon2::new(Argon2Kind::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, &mut memory[..])
        .map_err(ApiError::internal)?;
    let phc = PasswordHash {
        algorithm: Argon2Kind::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(ApiError::internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(ApiError::internal)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the argon2 `hash`, computed in `memory`.
fn verify_with(memory: &mut Vec<Block>, password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Argon2Kind::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = parsed
        .version
        .map_or(Ok(Version::V0x13), Version::try_from)
        .unwrap_or(Version::V0x13);
    let mut salt_buf = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    memory.resize(params.block_count(), Block::default());
    let computed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt_bytes,
        &mut out,
        &mut memory[..],
    );
    // `Output` compares in constant time.
    computed.is_ok() && Output::new(&out).is_ok_and(|o| o == expected)
}

/// Whether `hash` was made with other parameters than new hashes get.
pub fn needs_rehash(hash: &str) -> bool {
    PasswordHash::new(hash)
        .ok()
        .and_then(|h| Params::try_from(&h).ok())
        .is_none_or(|p| p.m_cost() != HASH_M_KIB || p.t_cost() != HASH_T || p.p_cost() != 1)
}

/// Hashes a password on a blocking thread (start-up and the CLI; requests go through
/// [`PasswordHasher`]).
pub async fn hash_password(password: String) -> ApiResult<String> {
    let hashed = tokio::task::spawn_blocking(move || {
        let hashed = hash_with(&mut Vec::new(), &password);
        crate::memory::release_now();
        hashed
    });
    hashed.await.map_err(ApiError::internal)?
}

type HashJob = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Runs password hashes on a fixed set of threads (`auth.max_concurrent_hashes`), so that
/// a burst of sign-ins queues instead of running hundreds of argon2 checks at once. A
/// thread keeps its argon2 memory (12 MiB) from one hash to the next while hashes are
/// waiting, and frees it when none is: at most threads × 12 MiB during a burst however
/// many sign-ins come, none when idle (the thread hands the freed pages back to the
/// system at once, [`crate::memory::release_now`]). No allocator settings are needed.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: std::sync::mpsc::SyncSender<HashJob>,
    /// Hashes sent and not yet taken by a thread.
    waiting: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// A hash (current parameters) of a password nobody has: sign-ins for unknown
    /// emails are checked against it, so that they take as long as real ones and the
    /// answer time does not reveal which emails exist.
    dummy: std::sync::Arc<String>,
}

/// Most hash requests that may wait for a thread before a sign-in is turned away.
const HASH_QUEUE: usize = 10_000;

impl PasswordHasher {
    /// A pool of `threads` hashing threads (at least one).
    pub fn new(threads: usize) -> std::io::Result<Self> {
        use std::sync::atomic::Ordering;
        let (jobs, queue) = std::sync::mpsc::sync_channel::<HashJob>(HASH_QUEUE);
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        let waiting = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for i in 0..threads.max(1) {
            let (queue, waiting) = (queue.clone(), waiting.clone());
            std::thread::Builder::new()
                .name(format!("sims-hash-{i}"))
                .spawn(move || {
                    let mut memory = Vec::new();
                    loop {
                        let job = {
                            let q = queue.lock().unwrap_or_else(|p| p.into_inner());
                            q.recv()
                        };
                        let Ok(job) = job else { return };
                        waiting.fetch_sub(1, Ordering::AcqRel);
                        job(&mut memory);
                        if waiting.load(Ordering::Acquire) == 0 {
                            memory = Vec::new();
                            crate::memory::release_now();
                        }
                    }
                })?;
        }
        let hasher = Self {
            jobs,
            waiting,
            dummy: std::sync::Arc::new(String::new()),
        };
        let (made, dummy) = std::sync::mpsc::channel();
        hasher
            .send(Box::new(move |memory: &mut Vec<Block>| {
                let _ = made.send(hash_with(memory, &random_token(24)));
            }))
            .map_err(|_| std::io::Error::other("the hashing threads stopped"))?;
        let dummy = dummy
            .recv()
            .map_err(|_| std::io::Error::other("the hashing threads stopped"))?
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(Self {
            dummy: std::sync::Arc::new(dummy),
            ..hasher
        })
    }

    /// Queues a hash; refused when the queue is full or the threads are gone.
    fn send(&self, job: HashJob) -> Result<(), ()> {
        use std::sync::atomic::Ordering;
        self.waiting.fetch_add(1, Ordering::AcqRel);
        self.jobs.try_send(job).map_err(|_| {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
        })
    }

    /// The hash an unknown email is checked against.
    pub fn dummy_hash(&self) -> String {
        self.dummy.as_ref().clone()
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> ApiResult<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: HashJob = Box::new(move |memory| {
            let _ = tx.send(work(memory));
        });
        self.send(job).map_err(|_| {
            ApiError::new(
                crate::error::ErrorCode::Unavailable,
                "too many sign-ins at once; try again shortly",
            )
        })?;
        rx.await.map_err(ApiError::internal)
    }

    /// Whether `password` matches `hash`.
    pub async fn verify(&self, password: String, hash: String) -> ApiResult<bool> {
        self.run(move |m| verify_with(m, &password, &hash)).await
    }

    /// A new argon2id hash of `password`.
    pub async fn hash(&self, password: String) -> ApiResult<String> {
        self.run(move |m| hash_with(m, &password)).await?
    }
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
    fn hashes_verify_in_reused_memory_and_old_parameters_still_verify() {
        let mut memory = Vec::new();
        let hash = hash_with(&mut memory, "correct horse battery").unwrap_or_default();
        assert!(
            hash.starts_with("$argon2id$v=19$m=12288,t=3,p=1$"),
            "{hash}"
        );
        assert!(verify_with(&mut memory, "correct horse battery", &hash));
        assert!(!verify_with(&mut memory, "correct horse batterY", &hash));
        assert!(!needs_rehash(&hash));
        // A hash made with the crate's defaults (19 MiB, 2 passes) by an earlier version.
        let old = "$argon2id$v=19$m=19456,t=2,p=1$BnofiPe+jQx9WwEPgy8Qwg$2RlOtOCPOPMmrtzF0AfIzdwSsMmhZNqPqj8hbUFRIxw";
        assert!(needs_rehash(old));
        assert!(!verify_with(&mut memory, "anything", old));
        assert!(!verify_with(&mut memory, "x", "not a hash"));
    }

    #[test]
    fn hashes_are_stable_and_tokens_random() {
        assert_eq!(token_hash("abc").len(), 64);
        assert_eq!(token_hash("abc"), token_hash("abc"));
        assert_ne!(random_token(32), random_token(32));
    }
}
