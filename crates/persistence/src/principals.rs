//! Who each signed-in user is (role, team, managed team subtree, session epoch), kept in
//! memory so that an authenticated request costs no statement of its own, and forgotten the
//! moment any user or team changes:
//!
//! - in this process, by the writes of users and teams themselves, after they commit and
//!   before they answer, so that a deactivation or a password change bites at the next
//!   request;
//! - on PostgreSQL, for every instance, by a trigger on `users` and `teams` that notifies
//!   the channel [`CHANNEL`] at commit (whoever writes, with whatever tool), which
//!   [`listen`] follows. While that listener is not connected nothing is cached, so an
//!   instance that might miss a change reads the database instead.
//!
//! A read that began before a change never stores what it read: every change moves the
//! generation on, and an answer is kept only if the generation is still the one it began
//! in.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sqlx::Error;
use sea_orm::sqlx::postgres::PgListener;
use sims_domain::Principal;
use uuid::Uuid;

use crate::Database;

/// The PostgreSQL channel the triggers on `users` and `teams` notify.
pub const CHANNEL: &str = "sims_principals";

/// Most users remembered; past this the memory starts over.
const MOST: usize = 100_000;

/// A user's principal and session epoch.
pub type Session = (Principal, i64);

/// The remembered sessions.
#[derive(Debug)]
pub struct Principals {
    sessions: RwLock<HashMap<Uuid, Session>>,
    generation: AtomicU64,
    enabled: AtomicBool,
}

impl Principals {
    /// A memory that caches from the start (`enabled`) or once a listener connects.
    pub fn new(enabled: bool) -> Self {
        Self {
            sessions: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            enabled: AtomicBool::new(enabled),
        }
    }

    /// The remembered session of `user`, if caching is on.
    pub fn get(&self, user: Uuid) -> Option<Session> {
        if !self.enabled.load(Ordering::Acquire) {
            return None;
        }
        self.sessions.read().ok()?.get(&user).cloned()
    }

    /// The generation a read begins in.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Remembers what a read that began in `generation` found, unless something changed
    /// since.
    pub fn put(&self, generation: u64, user: Uuid, session: Session) {
        if !self.enabled.load(Ordering::Acquire) {
            return;
        }
        if let Ok(mut map) = self.sessions.write() {
            // Checked under the lock that `changed` takes to clear.
            if self.generation.load(Ordering::Acquire) != generation {
                return;
            }
            if map.len() >= MOST {
                map.clear();
            }
            map.insert(user, session);
        }
    }

    /// A user or team changed: forget everything, and keep no read already under way.
    pub fn changed(&self) {
        if let Ok(mut map) = self.sessions.write() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            map.clear();
        } else {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Turns caching on or off; either way, forgets everything.
    fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Release);
        self.changed();
    }

    /// Whether answers are being remembered.
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }
}

/// Follows [`CHANNEL`] on PostgreSQL for as long as the server runs: every notification
/// forgets the remembered sessions; a lost connection turns caching off until a new
/// listener is subscribed. Returns at once on SQLite, where this process is the only
/// writer and its writes forget for themselves.
pub async fn listen(db: Database) {
    if db.backend() != sea_orm::DatabaseBackend::Postgres {
        return;
    }
    let principals = db.principals().clone();
    let pool = db.conn().get_postgres_connection_pool().clone();
    loop {
        let subscribed = async {
            let mut l = PgListener::connect_with(&pool).await?;
            l.listen(CHANNEL).await?;
            Ok::<_, Error>(l)
        };
        let mut listener = match subscribed.await {
            Ok(l) => l,
            Err(Error::PoolClosed) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for user changes; not caching sessions");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        principals.set_enabled(true);
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => principals.changed(),
                // The connection was lost and is back: whatever was sent meanwhile is gone.
                Ok(None) => principals.changed(),
                Err(Error::PoolClosed) => {
                    principals.set_enabled(false);
                    return;
                }
                Err(e) => {
                    principals.set_enabled(false);
                    tracing::warn!(error = %e, "lost the listener for user changes; not caching sessions until it is back");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sims_domain::Role;

    fn session(user: Uuid) -> Session {
        (
            Principal {
                user_id: user,
                role: Role::Sales,
                team_id: None,
                managed_teams: vec![],
            },
            1,
        )
    }

    #[test]
    fn a_read_that_began_before_a_change_is_not_kept() {
        let p = Principals::new(true);
        let user = Uuid::now_v7();
        let began = p.generation();
        p.changed();
        p.put(began, user, session(user));
        assert!(p.get(user).is_none());
        let again = p.generation();
        p.put(again, user, session(user));
        assert_eq!(p.get(user).map(|s| s.1), Some(1));
        p.changed();
        assert!(p.get(user).is_none(), "a change forgets everyone");
    }

    #[test]
    fn nothing_is_cached_while_off() {
        let p = Principals::new(false);
        let user = Uuid::now_v7();
        p.put(p.generation(), user, session(user));
        assert!(p.get(user).is_none());
        p.set_enabled(true);
        p.put(p.generation(), user, session(user));
        assert!(p.get(user).is_some());
        p.set_enabled(false);
        assert!(p.get(user).is_none());
    }
}
