//! The generator: one seeded random stream drives every choice, in a fixed order, so that
//! a seed (with the same clock and database state) always makes the same data. Ids come
//! from a second stream, so that they never change the content. Rows leave through
//! [`Out`] in batches; nothing here touches the database.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sims_domain::Role;
use sims_domain::pipeline::StageKind;
use sims_domain::pool::PoolRules;
use uuid::Uuid;

use super::clock::{Ids, days};
use super::fake::{Person, chinese_person, english_person};
use super::names::Region;
use super::rows::{Flush, Out, Sink};
use super::{DemoAccount, SeedError, Sizes};
use crate::entities::{teams, users};

/// A pipeline stage as the generator needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StageRef {
    pub id: Uuid,
    pub kind: StageKind,
}

/// Values already stored that generated ones must not repeat.
#[derive(Debug, Clone, Default)]
pub(crate) struct Taken {
    /// Lower-cased user emails.
    pub emails: HashSet<String>,
    pub skus: HashSet<String>,
    pub warehouse_codes: HashSet<String>,
}

/// Everything one generation depends on.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub sizes: Sizes,
    pub seed: u64,
    pub now: DateTime<Utc>,
    /// 1 for the first seed run on a database, 2 for the next forced one, …
    pub run: u32,
    pub password_hash: String,
    /// The pipeline's stages, by position.
    pub stages: Vec<StageRef>,
    pub taken: Taken,
    /// The last order number used per month (`YYYYMM`).
    pub counters: HashMap<String, i64>,
    /// The pool rules in force: owned customers are followed up often enough to stay.
    pub pool: PoolRules,
}

/// What a generation produced besides its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub accounts: Vec<DemoAccount>,
    /// The last order number now used per month.
    pub counters: Vec<(String, i64)>,
    /// The most customers one rep owns.
    pub most_owned: usize,
}

/// A generated user.
#[derive(Debug, Clone)]
pub(crate) struct UserRef {
    pub id: Uuid,
    /// How much business this rep brings in, relative to others (1–4).
    pub weight: u32,
}

/// A generated team.
#[derive(Debug, Clone)]
pub(crate) struct TeamRef {
    pub id: Uuid,
    pub parent: Option<usize>,
    pub region: Option<Region>,
    pub manager: usize,
    pub reps: Vec<usize>,
}

/// The state of one generation.
pub(crate) struct Gen<'a> {
    pub plan: &'a Plan,
    pub rng: StdRng,
    pub ids: Ids,
    pub out: Out<'a>,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    pub users: Vec<UserRef>,
    pub teams: Vec<TeamRef>,
    pub accounts: Vec<DemoAccount>,
    pub(super) world: super::customers::World,
    pub(super) catalog: super::catalog::Catalog,
    emails: HashSet<String>,
}

/// Generates the whole data set of `plan`, handing rows to `sink` as `flush` says.
pub(crate) fn generate(plan: &Plan, flush: Flush, sink: Sink<'_>) -> Result<Outcome, SeedError> {
    let mut g = Gen {
        plan,
        rng: StdRng::seed_from_u64(plan.seed),
        // Ids differ between runs on one database (so a forced run never collides), never
        // the content.
        ids: Ids::new(StdRng::seed_from_u64(
            plan.seed ^ 0x05ee_d1d5_u64.wrapping_mul(u64::from(plan.run)),
        )),
        out: Out::new(flush, sink),
        now: plan.now,
        today: plan.now.date_naive(),
        users: Vec::new(),
        teams: Vec::new(),
        accounts: Vec::new(),
        world: Default::default(),
        catalog: Default::default(),
        emails: plan.taken.emails.clone(),
    };
    g.people()?;
    g.catalog()?;
    g.customers()?;
    g.leads()?;
    let counters = g.orders()?;
    let revenue = std::mem::take(&mut g.world.revenue);
    g.targets(&revenue)?;
    g.out.flush()?;
    let mut owned = vec![0usize; g.users.len()];
    for c in &g.world.owned {
        owned[c.owner] += 1;
    }
    Ok(Outcome {
        accounts: g.accounts,
        counters,
        most_owned: owned.into_iter().max().unwrap_or(0),
    })
}

/// The mailbox domain of seeded users: no such top-level domain exists, so no seeded
/// user's address belongs to anybody (the reports benchmark signs in with these).
pub const USER_DOMAIN: &str = "demo.sims";

impl Gen<'_> {
    /// `local@demo.sims`, tagged with the run after the first (`local+run2@…`), and
    /// made unique against stored and generated users.
    fn user_email(&mut self, local: &str) -> String {
        let tag = match self.plan.run {
            0 | 1 => String::new(),
            n => format!("+run{n}"),
        };
        let mut n = 1;
        loop {
            let number = if n == 1 { String::new() } else { n.to_string() };
            let email = format!("{local}{number}{tag}@{USER_DOMAIN}");
            if self.emails.insert(email.to_lowercase()) {
                return email;
            }
            n += 1;
        }
    }

    /// A team name, tagged with the run after the first.
    fn team_name(&self, name: &str) -> String {
        match self.plan.run {
            0 | 1 => name.to_owned(),
            n => format!("{name} #{n}"),
        }
    }

    fn person(&mut self) -> Person {
        if super::fake::chance(&mut self.rng, 0.85) {
            chinese_person(&mut self.rng)
        } else {
            english_person(&mut self.rng)
        }
    }

    fn user_row(
        &mut self,
        (email, name): (String, String),
        role: Role,
        team: Option<(usize, Uuid)>,
        at: DateTime<Utc>,
    ) -> Result<usize, SeedError> {
        let id = self.ids.at(at);
        self.out.put(users::Model {
            id,
            email_norm: email.to_lowercase(),
            email,
            name,
            // Every seeded user shares one hash of the one demo password: synthetic data,
            // hashed once instead of once per user.
            password_hash: self.plan.password_hash.clone(),
            role: role.as_str().to_owned(),
            team_id: team.map(|(_, id)| id),
            active: true,
            version: 1,
            created_at: at,
            updated_at: at,
            session_epoch: 0,
        })?;
        self.users.push(UserRef {
            id,
            weight: 1 + rand::Rng::random_range(&mut self.rng, 0..4),
        });
        Ok(self.users.len() - 1)
    }

    /// The team tree: two top-level teams for a small profile; else a national team over
    /// regional ones, with further teams under the regions.
    fn team_specs(&self) -> Vec<(String, Option<usize>, Option<Region>)> {
        let n = self.plan.sizes.teams.max(1);
        if n <= 2 {
            return (0..n)
                .map(|i| {
                    (
                        Region::ALL[i].team_name().to_owned(),
                        None,
                        Some(Region::ALL[i]),
                    )
                })
                .collect();
        }
        let mut specs = vec![("全国销售部 National Sales".to_owned(), None, None)];
        let regions = (n - 1).min(Region::ALL.len());
        for r in Region::ALL.iter().take(regions) {
            specs.push((r.team_name().to_owned(), Some(0), Some(*r)));
        }
        for j in 0..n - 1 - regions {
            let r = j % regions;
            let name = format!("{} {}组", Region::ALL[r].team_name(), j / regions + 1);
            specs.push((name, Some(1 + r), Some(Region::ALL[r])));
        }
        specs
    }

    /// Teams, one manager each, the admin and the reps. The first admin, the manager of
    /// the first sales team and its first two reps get fixed emails and are printed.
    pub(super) fn people(&mut self) -> Result<(), SeedError> {
        let start = self.now - days(1_230);
        let admin_email = self.user_email("admin");
        self.user_row(
            (admin_email.clone(), "演示管理员 Demo Admin".into()),
            Role::Admin,
            None,
            start,
        )?;
        self.accounts.push(DemoAccount {
            role: Role::Admin,
            email: admin_email,
            name: "演示管理员 Demo Admin".into(),
        });
        let specs = self.team_specs();
        let mut team_ids = Vec::with_capacity(specs.len());
        for (i, (name, parent, _)) in specs.iter().enumerate() {
            let at = start + Duration::minutes(10 + i as i64);
            let id = self.ids.at(at);
            team_ids.push((id, at, name.clone(), *parent));
        }
        // Managers join their team, then the team names them: version 2.
        let first_sales_team = specs.iter().position(|(_, _, r)| r.is_some()).unwrap_or(0);
        for (i, (_, _, region)) in specs.iter().enumerate() {
            let person = self.person();
            let local = if i == first_sales_team {
                "manager".to_owned()
            } else {
                person.latin.clone()
            };
            let email = self.user_email(&local);
            let at = team_ids[i].1 + Duration::minutes(30);
            let user = self.user_row(
                (email.clone(), person.name.clone()),
                Role::Manager,
                Some((i, team_ids[i].0)),
                at,
            )?;
            if i == first_sales_team {
                self.accounts.push(DemoAccount {
                    role: Role::Manager,
                    email,
                    name: person.name,
                });
            }
            self.teams.push(TeamRef {
                id: team_ids[i].0,
                parent: team_ids[i].3,
                region: *region,
                manager: user,
                reps: Vec::new(),
            });
        }
        for (i, (id, at, name, parent)) in team_ids.iter().enumerate() {
            let updated = *at + Duration::hours(1);
            let name = self.team_name(name);
            self.out.put(teams::Model {
                id: *id,
                name,
                parent_id: parent.map(|p| team_ids[p].0),
                manager_id: Some(self.users[self.teams[i].manager].id),
                version: 2,
                created_at: *at,
                updated_at: updated,
            })?;
        }
        let sales_teams: Vec<usize> = (0..self.teams.len())
            .filter(|t| self.teams[*t].region.is_some())
            .collect();
        if sales_teams.is_empty() {
            return Err(SeedError::Generator("the profile has no sales team".into()));
        }
        for k in 0..self.plan.sizes.reps {
            // The two printed reps share the printed manager's team.
            let team = if k < 2 {
                sales_teams[0]
            } else {
                sales_teams[(k - 1) % sales_teams.len()]
            };
            let person = self.person();
            let local = if k < 2 {
                format!("rep{}", k + 1)
            } else {
                person.latin.clone()
            };
            let email = self.user_email(&local);
            let at = start + days(2) + Duration::minutes(k as i64 * 7);
            let user = self.user_row(
                (email.clone(), person.name.clone()),
                Role::Sales,
                Some((team, team_ids[team].0)),
                at,
            )?;
            self.teams[team].reps.push(user);
            if k < 2 {
                self.accounts.push(DemoAccount {
                    role: Role::Sales,
                    email,
                    name: person.name,
                });
            }
        }
        Ok(())
    }

    /// The admin (the first user).
    pub(super) fn admin(&self) -> Uuid {
        self.users.first().map(|u| u.id).unwrap_or_default()
    }

    /// The sales team that serves `region` (its own where one exists), drawn by the
    /// number of reps.
    pub(super) fn team_for(&mut self, region: Region) -> usize {
        let sales: Vec<usize> = (0..self.teams.len())
            .filter(|t| !self.teams[*t].reps.is_empty())
            .collect();
        let own: Vec<usize> = sales
            .iter()
            .copied()
            .filter(|t| self.teams[*t].region == Some(region))
            .collect();
        let pool = if own.is_empty() || super::fake::chance(&mut self.rng, 0.1) {
            sales
        } else {
            own
        };
        if pool.is_empty() {
            return 0;
        }
        let weights: Vec<u32> = pool
            .iter()
            .map(|t| self.teams[*t].reps.len() as u32)
            .collect();
        pool[super::fake::weighted_index(&mut self.rng, &weights)]
    }

    /// A rep of `team`, drawn by how much business each brings in.
    pub(super) fn rep_of(&mut self, team: usize) -> usize {
        let reps = &self.teams[team].reps;
        let weights: Vec<u32> = reps.iter().map(|r| self.users[*r].weight).collect();
        let i = super::fake::weighted_index(&mut self.rng, &weights);
        reps.get(i).copied().unwrap_or(0)
    }
}
