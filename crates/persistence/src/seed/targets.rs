//! Monthly revenue targets (销售目标): for every rep and every team, from twelve months
//! back to next month, each set by the team's manager (the national team's by the admin)
//! shortly before its month. A rep's target is near their average month's revenue in the
//! seeded orders (85–125%), so that attainment spreads around 100%; a team's is the sum
//! of its members' and its sub-teams' targets.

use chrono::Duration;
use rand::Rng;
use sims_domain::target::Month;

use super::SeedError;
use super::clock::{day_start, days, office_between};
use super::generate::Gen;
use crate::entities::targets;

/// Rounds an amount in minor units to whole thousands of yuan (at least one thousand).
fn round_thousands(minor: i64) -> i64 {
    (minor / 100_000).max(1) * 100_000
}

impl Gen<'_> {
    /// Targets of every rep and team; `revenue[u]` is user `u`'s seeded revenue over the
    /// 18 months of orders.
    pub(super) fn targets(&mut self, revenue: &[i64]) -> Result<(), SeedError> {
        let mut month = Month::of(self.today);
        for _ in 0..12 {
            month = Month::of(month.first_day() - days(1));
        }
        let last = Month::of(self.today).next();
        while month <= last {
            self.targets_of(month, revenue)?;
            month = month.next();
        }
        Ok(())
    }

    fn targets_of(&mut self, month: Month, revenue: &[i64]) -> Result<(), SeedError> {
        let name = month.to_string();
        let first = day_start(month.first_day());
        // Set in the ten days before the month starts, and never after now.
        let set = |g: &mut Self| {
            let at = office_between(&mut g.rng, first - days(10), first - days(1));
            at.min(g.now - Duration::minutes(g.rng.random_range(1..600)))
        };
        let mut team_totals = Vec::with_capacity(self.teams.len());
        for t in 0..self.teams.len() {
            let mut total = 0;
            for r in self.teams[t].reps.clone() {
                let share = self.rng.random_range(85..=125);
                let monthly = revenue.get(r).copied().unwrap_or(0) / 18;
                let amount = round_thousands(monthly * share / 100);
                total += amount;
                let at = set(self);
                let by = self.users[self.teams[t].manager].id;
                self.put_target(&name, (Some(self.users[r].id), None), amount, by, at)?;
            }
            team_totals.push(total);
        }
        // Sub-teams roll up into their parents (children come after their parent).
        for t in (0..self.teams.len()).rev() {
            if let Some(p) = self.teams[t].parent {
                team_totals[p] += team_totals[t];
            }
        }
        for (t, total) in team_totals.iter().enumerate() {
            let at = set(self);
            let by = match self.teams[t].parent {
                Some(_) => self.users[self.teams[t].manager].id,
                None => self.admin(),
            };
            let team = self.teams[t].id;
            self.put_target(&name, (None, Some(team)), round_thousands(*total), by, at)?;
        }
        Ok(())
    }

    fn put_target(
        &mut self,
        month: &str,
        (user_id, team_id): (Option<uuid::Uuid>, Option<uuid::Uuid>),
        amount_minor: i64,
        created_by: uuid::Uuid,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), SeedError> {
        self.out.put(targets::Model {
            id: self.ids.at(at),
            month: month.to_owned(),
            user_id,
            team_id,
            amount_minor,
            currency: "CNY".into(),
            created_by,
            version: 1,
            created_at: at,
            updated_at: at,
        })
    }
}
