//! The customer pool (公海): how many customers a rep may own, when an owned customer
//! returns to the pool, and when a rep may claim one back.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, FieldViolation, Refusal, Violations};

crate::stored_enum! {
    /// How a customer's owner changed, as its history records it.
    pub enum OwnershipChange {
        /// The customer was created with an owner, or straight into the pool.
        Created => "created",
        /// A rep took it from the pool.
        Claimed => "claimed",
        /// Its owner gave it back to the pool.
        Released => "released",
        /// A manager or admin gave it to someone else.
        Transferred => "transferred",
        /// The pool-return job took it back after too long without a follow-up.
        ReturnedToPool => "returned_to_pool",
    }
}

/// The range of `max_owned_per_rep`.
pub const MAX_OWNED_RANGE: (u32, u32) = (1, 100_000);
/// The range of `return_after_days`.
pub const RETURN_AFTER_RANGE: (u32, u32) = (1, 3650);
/// The range of `reclaim_cooldown_days`.
pub const COOLDOWN_RANGE: (u32, u32) = (0, 365);
/// How far ahead (in days) the list of customers about to return may look.
pub const RETURNING_WITHIN_MAX: u32 = 365;

/// The pool rules admins set at `/settings/pool`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoolRules {
    /// Most customers one rep may own (1..=100000).
    pub max_owned_per_rep: u32,
    /// Days without a follow-up after which an owned customer returns to the pool (1..=3650).
    pub return_after_days: u32,
    /// Days a rep must wait to claim back a customer they released or lost (0..=365).
    pub reclaim_cooldown_days: u32,
}

impl Default for PoolRules {
    fn default() -> Self {
        Self {
            max_owned_per_rep: 500,
            return_after_days: 30,
            reclaim_cooldown_days: 7,
        }
    }
}

impl PoolRules {
    /// Checks every rule is in range, naming the fields that are not.
    pub fn validate(&self) -> Result<(), DomainError> {
        let mut v = Violations::new();
        let mut range = |field: &str, value: u32, lo: u32, hi: u32| {
            if !(lo..=hi).contains(&value) {
                v.push(FieldViolation::new(
                    field,
                    "out_of_range",
                    format!("{field} must be between {lo} and {hi}"),
                ));
            }
        };
        let ranges = [
            ("max_owned_per_rep", self.max_owned_per_rep, MAX_OWNED_RANGE),
            (
                "return_after_days",
                self.return_after_days,
                RETURN_AFTER_RANGE,
            ),
            (
                "reclaim_cooldown_days",
                self.reclaim_cooldown_days,
                COOLDOWN_RANGE,
            ),
        ];
        for (field, value, (lo, hi)) in ranges {
            range(field, value, lo, hi);
        }
        v.finish()
    }

    /// When an owned customer returns to the pool: `return_after_days` after the later of
    /// its last follow-up and the moment its owner got it.
    pub fn returns_at(
        &self,
        owner_since: DateTime<Utc>,
        last_follow_up_at: Option<DateTime<Utc>>,
    ) -> DateTime<Utc> {
        let since = last_follow_up_at.map_or(owner_since, |f| f.max(owner_since));
        since + Duration::days(i64::from(self.return_after_days))
    }

    /// Customers whose last activity is before this instant are due to return at `now`.
    pub fn return_cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::days(i64::from(self.return_after_days))
    }

    /// Until when a rep who released or lost a customer at `at` may not claim it back.
    pub fn cooldown_until(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        at + Duration::days(i64::from(self.reclaim_cooldown_days))
    }

    /// Whether a rep who owns `owned` customers, and whose cooldown on this customer
    /// (if any) runs until `cooldown`, may claim it at `now`.
    pub fn check_claim(
        &self,
        cooldown: Option<DateTime<Utc>>,
        owned: u64,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if let Some(until) = cooldown.filter(|u| *u > now) {
            return Err(Refusal::ClaimCooldown { until }.into());
        }
        if owned >= u64::from(self.max_owned_per_rep) {
            return Err(Refusal::OwnedLimitReached {
                owned,
                max: self.max_owned_per_rep,
            }
            .into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, 9, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn return_counts_from_the_later_of_claim_and_follow_up() {
        let rules = PoolRules {
            return_after_days: 10,
            ..PoolRules::default()
        };
        assert_eq!(rules.returns_at(day(1), None), day(11));
        assert_eq!(rules.returns_at(day(1), Some(day(5))), day(15));
        assert_eq!(
            rules.returns_at(day(5), Some(day(1))),
            day(15),
            "an old follow-up by a previous owner does not shorten the new owner's time"
        );
        assert_eq!(rules.return_cutoff(day(11)), day(1));
    }

    #[test]
    fn cooldown() {
        let rules = PoolRules::default();
        assert_eq!(rules.cooldown_until(day(1)), day(8));
    }

    #[test]
    fn claims_wait_out_the_cooldown_and_respect_the_limit() {
        let rules = PoolRules {
            max_owned_per_rep: 2,
            ..PoolRules::default()
        };
        assert_eq!(rules.check_claim(None, 1, day(5)), Ok(()));
        assert_eq!(
            rules.check_claim(Some(day(5)), 1, day(5)),
            Ok(()),
            "ends at"
        );
        assert_eq!(
            rules.check_claim(Some(day(6)), 1, day(5)),
            Err(Refusal::ClaimCooldown { until: day(6) }.into())
        );
        assert_eq!(
            rules.check_claim(None, 2, day(5)),
            Err(Refusal::OwnedLimitReached { owned: 2, max: 2 }.into())
        );
    }

    #[test]
    fn rules_are_bounded() {
        assert!(PoolRules::default().validate().is_ok());
        let bad = PoolRules {
            max_owned_per_rep: 0,
            return_after_days: 0,
            reclaim_cooldown_days: 400,
        };
        match bad.validate() {
            Err(DomainError::Validation(v)) => assert_eq!(v.len(), 3),
            other => panic!("{other:?}"),
        }
    }
}
