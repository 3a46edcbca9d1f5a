//! Field encryption at rest (SPEC §8): customer and contact phone and email are stored
//! as `enc:v1:<key id>:<base64 of nonce ‖ AES-256-GCM ciphertext>`, and beside each a
//! keyed hash (HMAC-SHA256) of its normalised value for exact search and duplicate checks.
//! The key id is derived from the key, so a value names the key that opens it; old keys
//! still open their values until `sims rotate-key` re-encrypts them under the current key.
//!
//! The keys are the process's configuration: installed once at start-up ([`install`]),
//! before any request; with none installed every function passes values through (off).

use std::sync::OnceLock;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// What a sealed value starts with.
pub const SEALED: &str = "enc:v1:";

/// One key: its id, the cipher and the hash key derived from it.
struct Key {
    id: String,
    cipher: Aes256Gcm,
    mac: [u8; 32],
}

impl Key {
    fn new(bytes: &[u8; 32]) -> Self {
        let id = hex(&Sha256::digest(bytes)[..4]);
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(bytes).unwrap_or_else(|_| unreachable_hmac());
        mac.update(b"sims field search");
        let mac: [u8; 32] = mac.finalize().into_bytes().into();
        Key {
            id,
            cipher: Aes256Gcm::new(&(*bytes).into()),
            mac,
        }
    }

    fn hash(&self, normalised: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.mac).unwrap_or_else(|_| unreachable_hmac());
        mac.update(normalised.as_bytes());
        format!("h:{}", hex(&mac.finalize().into_bytes()))
    }
}

/// HMAC takes a key of any length.
fn unreachable_hmac() -> Hmac<Sha256> {
    // new_from_slice only fails for fixed-size MACs; HMAC has none.
    <Hmac<Sha256> as KeyInit>::new(&Default::default())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

struct Keys {
    current: Key,
    old: Vec<Key>,
}

static KEYS: OnceLock<Keys> = OnceLock::new();

/// A key that cannot be used, or a second installation.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

/// Parses a base64 key of 32 bytes.
pub fn parse_key(name: &str, text: &str) -> Result<[u8; 32], KeyError> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|_| KeyError(format!("{name} is not base64")))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        KeyError(format!(
            "{name} must be 32 bytes in base64 (it has {}); make one with `openssl rand -base64 32`",
            bytes.len()
        ))
    })
}

/// Turns encryption on for this process with `current` (new values) and `old` (values
/// written under earlier keys still open). Once per process.
pub fn install(current: &[u8; 32], old: &[[u8; 32]]) -> Result<(), KeyError> {
    let keys = Keys {
        current: Key::new(current),
        old: old.iter().map(Key::new).collect(),
    };
    let ids = |k: &Keys| -> Vec<String> {
        std::iter::once(&k.current)
            .chain(&k.old)
            .map(|k| k.id.clone())
            .collect()
    };
    let wanted = ids(&keys);
    if let Some(installed) = KEYS.get() {
        // Installing the same keys again (a second server in one process) is no change.
        return if ids(installed) == wanted {
            Ok(())
        } else {
            Err(KeyError(
                "other encryption keys are already installed in this process".into(),
            ))
        };
    }
    KEYS.set(keys)
        .map_err(|_| KeyError("the encryption keys are already installed".into()))
}

#[cfg(not(test))]
fn keys() -> Option<&'static Keys> {
    KEYS.get()
}

// Unit tests run on threads of one process: each installs keys for its own thread, so a
// test of encryption never turns it on for the others.
#[cfg(test)]
thread_local! {
    static TEST_KEYS: std::cell::Cell<Option<&'static Keys>> = const { std::cell::Cell::new(None) };
}

#[cfg(test)]
fn keys() -> Option<&'static Keys> {
    TEST_KEYS.with(std::cell::Cell::get)
}

#[cfg(test)]
fn install_for_this_thread(current: &[u8; 32], old: &[[u8; 32]]) {
    let keys = Keys {
        current: Key::new(current),
        old: old.iter().map(Key::new).collect(),
    };
    TEST_KEYS.with(|k| k.set(Some(Box::leak(Box::new(keys)))));
}

/// Whether values are encrypted.
pub fn enabled() -> bool {
    keys().is_some()
}

/// The current key's id, when on.
pub fn current_key_id() -> Option<&'static str> {
    keys().map(|k| k.current.id.as_str())
}

/// The ids of every key this process can open values with.
pub fn known_key_ids() -> Vec<&'static str> {
    keys()
        .map(|k| {
            std::iter::once(&k.current)
                .chain(&k.old)
                .map(|k| k.id.as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// The value as stored: sealed under the current key when on.
pub fn seal(plain: Option<&str>) -> Option<String> {
    let plain = plain?;
    let Some(keys) = keys() else {
        return Some(plain.to_owned());
    };
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    // Encrypting into a Vec cannot fail for inputs of this size.
    let sealed = keys
        .current
        .cipher
        .encrypt(&Nonce::from(nonce), plain.as_bytes())
        .unwrap_or_default();
    let mut out = Vec::with_capacity(12 + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Some(format!(
        "{SEALED}{}:{}",
        keys.current.id,
        STANDARD.encode(out)
    ))
}

/// Why a stored value does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("it is encrypted, and no encryption key is set (SIMS_ENCRYPTION__KEY)")]
    NoKey,
    #[error(
        "it is encrypted under key {0}, which is neither SIMS_ENCRYPTION__KEY nor one of SIMS_ENCRYPTION__OLD_KEYS"
    )]
    UnknownKey(String),
    #[error("it does not decrypt under key {0}: damaged")]
    Damaged(String),
}

/// The value as sent: opened when sealed, as it is when stored in clear.
pub fn open(stored: Option<&str>) -> Result<Option<String>, OpenError> {
    let Some(stored) = stored else {
        return Ok(None);
    };
    let Some(rest) = stored.strip_prefix(SEALED) else {
        return Ok(Some(stored.to_owned()));
    };
    let keys = keys().ok_or(OpenError::NoKey)?;
    let (id, data) = rest.split_once(':').unwrap_or((rest, ""));
    let key = std::iter::once(&keys.current)
        .chain(&keys.old)
        .find(|k| k.id == id)
        .ok_or_else(|| OpenError::UnknownKey(id.to_owned()))?;
    let damaged = || OpenError::Damaged(id.to_owned());
    let bytes = STANDARD.decode(data).map_err(|_| damaged())?;
    if bytes.len() < 12 {
        return Err(damaged());
    }
    let (nonce, sealed) = bytes.split_at(12);
    let nonce = <[u8; 12]>::try_from(nonce).map_err(|_| damaged())?;
    let plain = key
        .cipher
        .decrypt(&Nonce::from(nonce), sealed)
        .map_err(|_| damaged())?;
    String::from_utf8(plain).map(Some).map_err(|_| damaged())
}

/// The key of `id` a stored value is sealed under (`None`: in clear).
pub fn key_id_of(stored: &str) -> Option<&str> {
    stored
        .strip_prefix(SEALED)
        .map(|rest| rest.split_once(':').map_or(rest, |(id, _)| id))
}

/// What is stored to find a normalised value by: the value itself when off, its keyed
/// hash under the current key when on.
pub fn search_key(normalised: Option<String>) -> Option<String> {
    let n = normalised?;
    Some(match keys() {
        None => n,
        Some(k) => k.current.hash(&n),
    })
}

/// Every stored form a normalised value may have: its hash under the current key and
/// each old one (until `rotate-key` has run), and the value itself (stored in clear when
/// off, and by rows `encrypt-existing` has not reached yet).
pub fn search_keys(normalised: &str) -> Vec<String> {
    let mut all = vec![normalised.to_owned()];
    if let Some(k) = keys() {
        all.extend(
            std::iter::once(&k.current)
                .chain(&k.old)
                .map(|key| key.hash(normalised)),
        );
    }
    all
}

/// Seals, in place, every string under a key named `phone` or `email` anywhere in
/// `value`: a record kept as JSON (an outbox event, a stored idempotent answer) holds no
/// phone or email in clear. Does nothing when off.
pub fn seal_json(value: &mut serde_json::Value) {
    if !enabled() {
        return;
    }
    walk(value, &mut |v| {
        if let serde_json::Value::String(s) = v
            && !s.starts_with(SEALED)
            && !s.starts_with("h:")
            && let Some(sealed) = seal(Some(s))
        {
            *s = sealed;
        }
    });
}

/// Opens, in place, what [`seal_json`] sealed.
pub fn open_json(value: &mut serde_json::Value) -> Result<(), OpenError> {
    let mut failed = None;
    walk(value, &mut |v| {
        if let serde_json::Value::String(s) = v
            && s.starts_with(SEALED)
        {
            match open(Some(s)) {
                Ok(Some(plain)) => *s = plain,
                Ok(None) => {}
                Err(e) => failed = Some(e),
            }
        }
    });
    failed.map_or(Ok(()), Err)
}

/// [`seal_json`] over JSON text; text that is not JSON is kept as it is.
pub fn seal_json_text(text: &str) -> String {
    if !enabled() || !(text.contains("\"phone\"") || text.contains("\"email\"")) {
        return text.to_owned();
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut v) => {
            seal_json(&mut v);
            v.to_string()
        }
        Err(_) => text.to_owned(),
    }
}

/// Whether JSON text holds a phone or email in clear or sealed under an old key.
pub fn json_text_is_stale(text: &str) -> bool {
    if !(text.contains("\"phone\"") || text.contains("\"email\"")) {
        return false;
    }
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(text) else {
        return false;
    };
    let current = current_key_id();
    let mut stale = false;
    walk(&mut v, &mut |v| {
        if let serde_json::Value::String(s) = v
            && !s.starts_with("h:")
            && key_id_of(s) != current
        {
            stale = true;
        }
    });
    stale
}

/// [`open_json`] over JSON text.
pub fn open_json_text(text: &str) -> Result<String, OpenError> {
    if !text.contains(SEALED) {
        return Ok(text.to_owned());
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut v) => {
            open_json(&mut v)?;
            Ok(v.to_string())
        }
        Err(_) => Ok(text.to_owned()),
    }
}

/// What an audit entry records of a stored phone or email: the keyed hash beside a
/// sealed value (never the value), the value when it is stored in clear.
pub fn audited(stored: Option<&str>, hash: Option<&str>) -> Option<String> {
    match stored {
        Some(s) if s.starts_with(SEALED) => hash.map(str::to_owned),
        other => other.map(str::to_owned),
    }
}

/// Calls `f` on every string under a key named `phone` or `email`, however deep below it
/// (an audit entry keeps `{"phone": {"before": …, "after": …}}`).
fn walk(value: &mut serde_json::Value, f: &mut dyn FnMut(&mut serde_json::Value)) {
    visit(value, false, f);
}

fn visit(value: &mut serde_json::Value, inside: bool, f: &mut dyn FnMut(&mut serde_json::Value)) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                visit(v, inside || k == "phone" || k == "email", f);
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                visit(v, inside, f);
            }
        }
        serde_json::Value::String(_) if inside => f(value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_carry_their_key_and_hash_stably() {
        assert!(parse_key("K", "not base64!").is_err());
        assert!(parse_key("K", &STANDARD.encode([1u8; 16])).is_err());
        let old = Key::new(&[7u8; 32]);
        let Ok(current) = parse_key("K", &STANDARD.encode([9u8; 32])) else {
            panic!("a 32-byte key parses");
        };
        // Off: everything passes through.
        assert_eq!(seal(Some("13800138000")).as_deref(), Some("13800138000"));
        assert_eq!(search_key(Some("a@b.cn".into())).as_deref(), Some("a@b.cn"));
        assert_eq!(
            open(Some("enc:v1:00000000:AAAA")),
            Err(OpenError::NoKey),
            "a sealed value without a key is an error, never garbage"
        );
        // A value sealed under the old key before the rotation.
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ct = old
            .cipher
            .encrypt(&Nonce::from(nonce), b"old@acme.cn".as_slice())
            .unwrap_or_default();
        let old_value = format!(
            "{SEALED}{}:{}",
            old.id,
            STANDARD.encode([nonce.as_slice(), &ct].concat())
        );
        install_for_this_thread(&current, &[[7u8; 32]]);

        let a = seal(Some("13800138000")).unwrap_or_default();
        let b = seal(Some("13800138000")).unwrap_or_default();
        assert!(a.starts_with(SEALED) && !a.contains("138"), "{a}");
        assert_ne!(a, b, "a fresh nonce each time");
        assert_eq!(open(Some(&a)), Ok(Some("13800138000".into())));
        assert_eq!(key_id_of(&a), current_key_id());
        assert_eq!(open(Some(&old_value)), Ok(Some("old@acme.cn".into())));
        assert_eq!(open(Some("13800138000")), Ok(Some("13800138000".into())));
        let tampered = format!("{}A{}", &a[..a.len() - 2], &a[a.len() - 1..]);
        assert!(matches!(open(Some(&tampered)), Err(OpenError::Damaged(_))));
        assert!(matches!(
            open(Some("enc:v1:deadbeef:AAAA")),
            Err(OpenError::UnknownKey(_))
        ));
        let h = search_key(Some("13800138000".into())).unwrap_or_default();
        assert_eq!(Some(h.clone()), search_key(Some("13800138000".into())));
        assert!(h.starts_with("h:") && !h.contains("13800138000"));
        assert_eq!(
            search_keys("13800138000"),
            vec![
                "13800138000".to_owned(),
                h.clone(),
                Key::new(&[7u8; 32]).hash("13800138000")
            ]
        );

        let mut event = serde_json::json!({"data": {"name": "Acme", "phone": "138", "contacts": [{"email": "a@b.cn"}]},
            "email": {"before": "a@b.cn", "after": null}});
        seal_json(&mut event);
        let text = event.to_string();
        assert!(!text.contains("\"138\"") && !text.contains("a@b.cn") && text.contains("Acme"));
        assert!(open_json(&mut event).is_ok());
        assert_eq!(event["data"]["contacts"][0]["email"], "a@b.cn");
        assert_eq!(event["data"]["phone"], "138");
    }
}
