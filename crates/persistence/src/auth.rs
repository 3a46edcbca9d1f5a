//! Sign-in state kept in the database so that every instance agrees: refresh-token
//! families and login-failure counters.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::entities::{login_failures, refresh_tokens};
use crate::{Database, Result, now};

/// A refresh family: its id and when its first token was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    pub id: Uuid,
    pub started_at: DateTime<Utc>,
}

impl Family {
    /// A family begun now, at sign-in.
    pub fn begin() -> Self {
        Self {
            id: Uuid::now_v7(),
            started_at: now(),
        }
    }
}

/// Stores a new refresh token (by its hash) in `family`.
pub async fn store_refresh<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    family: Family,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        family_id: Set(family.id),
        token_hash: Set(token_hash.to_owned()),
        expires_at: Set(expires_at),
        created_at: Set(now()),
        used_at: Set(None),
        revoked_at: Set(None),
        family_started_at: Set(Some(family.started_at)),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current: it is now used, and `new_hash` is stored in its family.
    Rotated { user_id: Uuid },
    /// Unknown, expired or revoked.
    Rejected,
    /// The token had already been rotated: its whole family is now revoked.
    ReuseDetected,
    /// The family is older than it may live: it is now revoked; sign in again.
    FamilyExpired,
}

async fn revoke_family<C: ConnectionTrait>(conn: &C, family_id: Uuid) -> Result<()> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::val(now()))
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Rotates the refresh token with `token_hash`, storing `new_hash` in its place.
/// Exactly one of two concurrent rotations of the same token wins; the other is
/// treated as reuse.
pub async fn rotate_refresh(
    db: &Database,
    token_hash: &str,
    new_hash: &str,
    expires_at: DateTime<Utc>,
    family_max_age: Duration,
) -> Result<Rotation> {
    // An unknown token (a guess) is answered from a read, without the write lock.
    if find_refresh(db.conn(), token_hash).await?.is_none() {
        return Ok(Rotation::Rejected);
    }
    db.write(async |tx| {
        let Some(token) = find_refresh(tx, token_hash).await? else {
            return Ok(Rotation::Rejected);
        };
        if token.revoked_at.is_some() {
            return Ok(Rotation::Rejected);
        }
        if token.used_at.is_some() {
            revoke_family(tx, token.family_id).await?;
            return Ok(Rotation::ReuseDetected);
        }
        if token.expires_at <= Utc::now() {
            return Ok(Rotation::Rejected);
        }
        let family = Family {
            id: token.family_id,
            started_at: token.family_started_at.unwrap_or(token.created_at),
        };
        if family.started_at + family_max_age <= Utc::now() {
            revoke_family(tx, family.id).await?;
            return Ok(Rotation::FamilyExpired);
        }
        let claimed = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::UsedAt, Expr::val(now()))
            .filter(refresh_tokens::Column::Id.eq(token.id))
            .filter(refresh_tokens::Column::UsedAt.is_null())
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(tx)
            .await?;
        if claimed.rows_affected != 1 {
            revoke_family(tx, token.family_id).await?;
            return Ok(Rotation::ReuseDetected);
        }
        store_refresh(tx, token.user_id, family, new_hash, expires_at).await?;
        Ok(Rotation::Rotated {
            user_id: token.user_id,
        })
    })
    .await
}

async fn find_refresh<C: ConnectionTrait>(
    conn: &C,
    token_hash: &str,
) -> Result<Option<refresh_tokens::Model>> {
    Ok(refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
        .one(conn)
        .await?)
}

/// Revokes the family of the token with `token_hash`. Returns whether the token was live.
pub async fn revoke_by_token(db: &Database, token_hash: &str) -> Result<bool> {
    if find_refresh(db.conn(), token_hash).await?.is_none() {
        return Ok(false);
    }
    db.write(async |tx| {
        let Some(token) = find_refresh(tx, token_hash).await? else {
            return Ok(false);
        };
        revoke_family(tx, token.family_id).await?;
        Ok(token.revoked_at.is_none())
    })
    .await
}

/// Revokes every refresh token of a user (deactivation, password change).
pub async fn revoke_all_for_user<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> Result<()> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::val(now()))
        .filter(refresh_tokens::Column::UserId.eq(user_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// What a sign-in attempt may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// It was counted: check the password.
    Allowed,
    /// A key has used up its attempts until then.
    Locked { until: DateTime<Utc> },
}

/// Counts a sign-in attempt against every key (an account, an address) *before* the
/// password is checked, in one transaction: of any number of attempts at once, at most
/// `limit` per key in a window get through to the hash. A key over its limit locks the
/// attempt without counting it against the others. A successful sign-in gives its
/// attempts back ([`clear_failures`], [`give_back`]).
pub async fn take_attempt(
    db: &Database,
    keys: &[(String, i32)],
    window: Duration,
) -> Result<Attempt> {
    db.write(async |tx| {
        let t = now();
        let mut counted = Vec::with_capacity(keys.len());
        for (key, limit) in keys {
            let row = login_failures::Entity::find_by_id(key.clone())
                .lock_exclusive()
                .one(tx)
                .await?;
            let window_open = row
                .as_ref()
                .is_some_and(|r| r.window_started_at + window > t);
            if let Some(r) = &row
                && window_open
                && r.failures >= *limit
            {
                return Ok(Attempt::Locked {
                    until: r.window_started_at + window,
                });
            }
            counted.push((key, row.is_some(), window_open));
        }
        for (key, exists, window_open) in counted {
            let by_key = login_failures::Column::Key.eq(key.as_str());
            if window_open {
                login_failures::Entity::update_many()
                    .col_expr(
                        login_failures::Column::Failures,
                        Expr::col(login_failures::Column::Failures).add(1),
                    )
                    .filter(by_key)
                    .exec(tx)
                    .await?;
            } else if exists {
                // The row is locked and its window has passed: this attempt opens a new one.
                login_failures::Entity::update_many()
                    .col_expr(login_failures::Column::Failures, Expr::val(1))
                    .col_expr(login_failures::Column::WindowStartedAt, Expr::val(t))
                    .filter(by_key)
                    .exec(tx)
                    .await?;
            } else {
                // The first attempt. Two at once both insert; the loser's unique violation
                // runs its whole transaction again, which then finds the row and counts.
                // (Never delete here: under READ COMMITTED a delete would see, and drop, a
                // row another attempt has just committed.)
                login_failures::ActiveModel {
                    key: Set(key.clone()),
                    failures: Set(1),
                    window_started_at: Set(t),
                }
                .insert(tx)
                .await?;
            }
        }
        Ok(Attempt::Allowed)
    })
    .await
}

/// Gives back one attempt counted against `key` (a successful sign-in from an address).
pub async fn give_back<C: ConnectionTrait>(conn: &C, key: &str) -> Result<()> {
    login_failures::Entity::update_many()
        .col_expr(
            login_failures::Column::Failures,
            Expr::col(login_failures::Column::Failures).sub(1),
        )
        .filter(login_failures::Column::Key.eq(key))
        .filter(login_failures::Column::Failures.gt(0))
        .exec(conn)
        .await?;
    Ok(())
}

/// Deletes the failure counters whose window has passed, and returns how many.
pub async fn purge_failures<C: ConnectionTrait>(conn: &C, window: Duration) -> Result<u64> {
    Ok(login_failures::Entity::delete_many()
        .filter(login_failures::Column::WindowStartedAt.lt(now() - window))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Forgets the failures of `key` (after a successful sign-in).
pub async fn clear_failures<C: ConnectionTrait>(conn: &C, key: &str) -> Result<()> {
    login_failures::Entity::delete_many()
        .filter(login_failures::Column::Key.eq(key))
        .exec(conn)
        .await?;
    Ok(())
}
