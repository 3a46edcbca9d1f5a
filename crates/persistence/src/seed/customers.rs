//! Customers with their contacts, tags, ownership history and follow-ups, and (through
//! [`super::pipeline`]) their opportunities and the leads they were converted from.
//!
//! Ownership follows the pool rules in force (`return_after_days`, 30 by default): an
//! owned customer's last follow-up (or the moment its owner got it) is more recent than
//! that, so the pool-return job finds nothing on its first run but starts taking customers
//! back over the following days; pool customers either came in unowned (an import) or
//! were returned by the job, long enough ago that no reclaim cooldown is still running.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::Rng;
use sea_orm::{Set, TryIntoModel};
use sims_domain::customer::{Contact, ContactInput, Customer, CustomerInput, CustomerLevel};
use sims_domain::follow_up::{FollowUp, FollowUpKind};
use sims_domain::pool::OwnershipChange;
use uuid::Uuid;

use super::SeedError;
use super::clock::{DayPicker, business_weight, days, office_between, office_time};
use super::fake::*;
use super::generate::Gen;
use super::names::{
    ABROAD, CHINA, CN_NOTES, CN_TITLES, EN_NOTES, EN_TITLES, FAMILIES, Place, Region, SOURCES, TAGS,
};
use super::pipeline::OpportunityPlan;
use crate::entities::{contacts, customer_events, customer_tags, follow_ups};

/// An owned customer, as orders need it.
#[derive(Debug, Clone)]
pub(crate) struct CustomerRef {
    pub id: Uuid,
    /// The owner's user index.
    pub owner: usize,
    pub created: DateTime<Utc>,
    /// Since when the owner has it.
    pub since: DateTime<Utc>,
    pub region: Region,
    /// How often it orders, relative to others (A customers most).
    pub weight: u32,
}

/// What the customer phase leaves for later phases.
#[derive(Debug, Default)]
pub(crate) struct World {
    /// Owned customers, in creation order.
    pub owned: Vec<CustomerRef>,
    /// Leads generated as converted into a customer.
    pub converted_leads: usize,
    /// Per user: the revenue (subtotals) of their counted orders.
    pub revenue: Vec<i64>,
}

/// How a customer came to its owner (or to the pool).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ownership {
    /// Created by the rep who owns it.
    Owned,
    /// Imported into the pool, later claimed by a rep.
    Claimed,
    /// Imported into the pool and never claimed.
    PoolNew,
    /// Created by a rep, returned to the pool by the job after 30 days of silence.
    Returned,
}

/// Per-customer rates that make the profile's totals come out.
struct Rates {
    extra_contacts: f64,
    extra_follow_ups: f64,
    opportunities: f64,
    conversion: f64,
}

/// A customer's attributes and the people behind it, before ownership.
struct Drawn {
    customer: Customer,
    place: &'static Place,
    english: bool,
    domain: Option<String>,
    weight: u32,
    level_factor: f64,
}

/// An ownership change: what, from and to whom (user indexes), by whom, when.
type Event = (
    OwnershipChange,
    Option<usize>,
    Option<usize>,
    Option<usize>,
    DateTime<Utc>,
);

/// The seller's point of view of a customer: who has it, since when, and who writes its
/// follow-ups in which window.
struct Owners {
    mode: Ownership,
    owner: Option<usize>,
    rep: usize,
    created_by: usize,
    since: Option<DateTime<Utc>>,
    events: Vec<Event>,
}

fn place(rng: &mut rand::rngs::StdRng, table: &'static [Place]) -> &'static Place {
    let weights: Vec<u32> = table.iter().map(|p| p.weight).collect();
    &table[weighted_index(rng, &weights)]
}

/// The Chinese and English words of a product category (`"五金 Hardware"`).
pub(crate) fn category_words(rng: &mut rand::rngs::StdRng, english: bool) -> &'static str {
    let category = pick(rng, FAMILIES).category;
    let (cn, en) = category.split_once(' ').unwrap_or((category, category));
    if english { en } else { cn }
}

impl Gen<'_> {
    /// Every customer, in creation order, with what hangs off it.
    pub(super) fn customers(&mut self) -> Result<(), SeedError> {
        let s = self.plan.sizes;
        let n = s.customers.max(1) as f64;
        let rates = Rates {
            extra_contacts: ((s.contacts as f64 / n - 0.1) / 0.8 - 1.0).max(0.0),
            extra_follow_ups: (s.follow_ups as f64 / (0.95 * n) - 1.0).max(0.0),
            // A tenth of the draws find no room (customers too new): drawn a little more often.
            opportunities: 1.1 * s.opportunities as f64 / (0.9 * n),
            conversion: (0.15 * s.leads as f64 / (0.85 * 0.9 * n)).min(1.0),
        };
        let picker = DayPicker::new(self.today - days(1_095), self.today, 150, business_weight);
        let mut dates: Vec<NaiveDate> = (0..s.customers)
            .map(|_| picker.pick(&mut self.rng))
            .collect();
        dates.sort();
        for day in dates {
            self.customer(day, &rates)?;
        }
        Ok(())
    }

    fn draw_customer(&mut self) -> Result<Drawn, SeedError> {
        let rng = &mut self.rng;
        let abroad = chance(rng, 0.12);
        let place = if abroad {
            place(rng, ABROAD)
        } else {
            place(rng, CHINA)
        };
        let company = chance(rng, 0.8);
        let english = abroad || (company && chance(rng, 0.05));
        let (name, domain, industry, person) = if company {
            let c = if english {
                english_company(rng, place, !abroad)
            } else {
                chinese_company(rng, place)
            };
            (c.name, Some(c.domain), Some(c.industry), None)
        } else {
            let p = if english {
                english_person(rng)
            } else {
                chinese_person(rng)
            };
            (p.name.clone(), None, None, Some(p))
        };
        let phone = match (company, rng.random_range(0..10)) {
            (true, 0..=6) => Some(office_phone(rng, place)),
            (true, 7..=8) => Some(personal_phone(rng, place)),
            (false, 0..=8) => Some(personal_phone(rng, place)),
            _ => None,
        };
        let email = match (&domain, &person) {
            (Some(d), _) if chance(rng, 0.7) => Some(format!(
                "{}@{d}",
                pick(rng, &["info", "sales", "contact", "purchase"])
            )),
            (_, Some(p)) if chance(rng, 0.6) => Some(format!(
                "{}{}@{}",
                p.latin,
                rng.random_range(1..100),
                pick(rng, super::names::MAIL_SERVICES)
            )),
            _ => None,
        };
        let (level, weight, level_factor) = *weighted(
            rng,
            &[
                ((Some(CustomerLevel::A), 6, 2.0), 10),
                ((Some(CustomerLevel::B), 3, 1.4), 25),
                ((Some(CustomerLevel::C), 2, 0.8), 40),
                ((Some(CustomerLevel::D), 1, 0.5), 15),
                ((None, 1, 0.6), 10),
            ],
        );
        let mut tags = Vec::new();
        for _ in 0..*weighted(rng, &[(0usize, 50), (1, 30), (2, 15), (3, 5)]) {
            let tag = (*weighted(rng, TAGS)).to_owned();
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let input = CustomerInput {
            name: Some(name.clone()),
            kind: Some(if company {
                sims_domain::customer::CustomerKind::Company
            } else {
                sims_domain::customer::CustomerKind::Individual
            }),
            level,
            industry: industry.map(str::to_owned),
            source: chance(rng, 0.9).then(|| (*weighted(rng, SOURCES)).to_owned()),
            phone,
            email,
            province: chance(rng, 0.95).then(|| place.province.to_owned()),
            city: chance(rng, 0.95).then(|| place.city.to_owned()),
            address: chance(rng, 0.7).then(|| address(rng, place)),
            tags: Some(tags),
            notes: chance(rng, 0.25).then(|| (*pick(rng, CUSTOMER_NOTES)).to_owned()),
        };
        let customer = Customer::create(input)
            .map_err(|e| SeedError::Generator(format!("customer {name:?}: {e}")))?;
        Ok(Drawn {
            customer,
            place,
            english,
            domain,
            weight,
            level_factor,
        })
    }

    /// Who owns the customer created at `created`, and its ownership history.
    fn owners(&mut self, created: DateTime<Utc>, region: Region) -> Owners {
        let team = self.team_for(region);
        let rep = self.rep_of(team);
        let manager = self.teams[team].manager;
        let age = self.now - created;
        let mode = match self.rng.random_range(0..100) {
            0..85 => Ownership::Owned,
            85..90 if age > days(10) => Ownership::Claimed,
            85..90 => Ownership::Owned,
            90..95 => Ownership::PoolNew,
            _ if age > self.returned_before() + days(7) => Ownership::Returned,
            _ => Ownership::PoolNew,
        };
        let created_event = |to| (OwnershipChange::Created, None, to, None, created);
        match mode {
            Ownership::Owned => Owners {
                mode,
                owner: Some(rep),
                rep,
                created_by: rep,
                since: Some(created),
                events: vec![created_event(Some(rep))],
            },
            Ownership::Claimed => {
                let at = office_between(&mut self.rng, created + days(1), self.now - days(1));
                Owners {
                    mode,
                    owner: Some(rep),
                    rep,
                    created_by: manager,
                    since: Some(at),
                    events: vec![
                        created_event(None),
                        (OwnershipChange::Claimed, None, Some(rep), Some(rep), at),
                    ],
                }
            }
            Ownership::PoolNew => Owners {
                mode,
                owner: None,
                rep,
                created_by: if chance(&mut self.rng, 0.7) {
                    manager
                } else {
                    0
                },
                since: None,
                events: vec![created_event(None)],
            },
            Ownership::Returned => Owners {
                mode,
                owner: None,
                rep,
                created_by: rep,
                since: None,
                events: vec![created_event(Some(rep))],
            },
        }
    }

    /// How long an owned customer may go without a follow-up before the job returns it.
    fn return_after(&self) -> Duration {
        days(i64::from(self.plan.pool.return_after_days.max(1)))
    }

    /// How long ago the last follow-up of a customer the job returned may be at the latest:
    /// the return, and the cooldown after it, are over.
    fn returned_before(&self) -> Duration {
        self.return_after() + days(i64::from(self.plan.pool.reclaim_cooldown_days) + 1)
    }

    /// When the customer was followed up, oldest first, given who has had it.
    fn follow_up_times(
        &mut self,
        created: DateTime<Utc>,
        owners: &Owners,
        extra: f64,
    ) -> Vec<DateTime<Utc>> {
        let (window, returned_before) = (self.return_after(), self.returned_before());
        let rng = &mut self.rng;
        let now = self.now;
        let mut times = Vec::new();
        match owners.mode {
            Ownership::PoolNew => {}
            Ownership::Owned | Ownership::Claimed => {
                let start = owners.since.unwrap_or(created);
                if start > now - window * 5 / 6 {
                    for _ in 0..poisson(rng, extra * 0.5) {
                        times.push(office_between(rng, start, now));
                    }
                } else {
                    // Most were followed up lately, a few are about to go back to the pool.
                    let (half, most) = (window / 2, window * 9 / 10);
                    let age = match rng.random_range(0..100) {
                        0..70 => office_between(rng, now - half, now),
                        70..95 => office_between(rng, now - most, now - half),
                        _ => office_between(rng, now - window + Duration::hours(12), now - most),
                    };
                    let last = age.max(start);
                    times.push(last);
                    for _ in 0..poisson(rng, extra) {
                        times.push(office_between(rng, start, last));
                    }
                }
            }
            Ownership::Returned => {
                let last = office_between(rng, created, now - returned_before);
                times.push(last);
                for _ in 0..poisson(rng, extra) {
                    times.push(office_between(rng, created, last));
                }
            }
        }
        times.sort();
        times
    }

    fn customer(&mut self, day: NaiveDate, rates: &Rates) -> Result<(), SeedError> {
        let created = office_time(&mut self.rng, day, self.now);
        let drawn = self.draw_customer()?;
        let mut owners = self.owners(created, drawn.place.region);
        let id = self.ids.at(created);
        let times = self.follow_up_times(created, &owners, rates.extra_follow_ups);
        if owners.mode == Ownership::Returned {
            let last = times.last().copied().unwrap_or(created);
            let at =
                last + self.return_after() + Duration::seconds(self.rng.random_range(0..3_600));
            owners.events.push((
                OwnershipChange::ReturnedToPool,
                Some(owners.rep),
                None,
                None,
                at,
            ));
        }
        let contacts = self.contacts(id, created, &drawn, &owners, rates)?;
        let owned = matches!(owners.mode, Ownership::Owned | Ownership::Claimed);
        let converts = owners.mode == Ownership::Owned
            && !contacts.is_empty()
            && chance(&mut self.rng, rates.conversion);
        let opportunities = if owned {
            let plan = OpportunityPlan {
                customer_id: id,
                owner: owners.rep,
                since: owners.since.unwrap_or(created),
                english: drawn.english,
                count: poisson(&mut self.rng, rates.opportunities * drawn.level_factor),
                level_factor: drawn.level_factor,
                starts_with_conversion: converts && chance(&mut self.rng, 0.5),
            };
            self.opportunities(&plan)?
        } else {
            Vec::new()
        };
        let mut updated = created;
        let mut last = None;
        let mut next = None;
        let mut follow_ups = Vec::with_capacity(times.len());
        for occurred in &times {
            let row = self.follow_up(id, *occurred, &owners, &drawn, &opportunities, &contacts)?;
            updated = updated.max(row.created_at);
            last = Some(row.occurred_at);
            if row.next_follow_up_at.is_some() {
                next = row.next_follow_up_at;
            }
            follow_ups.push(row);
        }
        let mut events = Vec::with_capacity(owners.events.len());
        for (kind, from, to, actor, at) in &owners.events {
            updated = updated.max(*at);
            let actor = if *kind == OwnershipChange::Created {
                Some(owners.created_by)
            } else {
                *actor
            };
            events.push(customer_events::Model {
                id: self.ids.at(*at),
                customer_id: id,
                kind: kind.as_str().to_owned(),
                from_owner_id: from.map(|i| self.users[i].id),
                to_owner_id: to.map(|i| self.users[i].id),
                actor_id: actor.map(|i| self.users[i].id),
                at: *at,
            });
        }
        let mut row = crate::customers::new_row(
            id,
            &drawn.customer,
            owners.owner.map(|o| self.users[o].id),
            self.users[owners.created_by].id,
            created,
        )
        .try_into_model()?;
        row.owner_since = owners.since;
        row.last_follow_up_at = last;
        row.next_follow_up_at = next;
        // Each follow-up and each later ownership change moved the version on.
        row.version = (times.len() + owners.events.len()) as i64;
        row.updated_at = updated;
        // The customer goes first: a flush never writes a row before the one it names.
        self.out.put(row)?;
        for event in events {
            self.out.put(event)?;
        }
        for tag in &drawn.customer.tags {
            self.out.put(customer_tags::Model {
                customer_id: id,
                tag: tag.clone(),
            })?;
        }
        for c in contacts.iter().cloned() {
            self.out.put(c)?;
        }
        for (opportunity, changes) in opportunities.iter().cloned() {
            self.out.put(opportunity)?;
            for change in changes {
                self.out.put(change)?;
            }
        }
        for f in follow_ups {
            self.out.put(f)?;
        }
        if converts {
            let opportunity = opportunities
                .first()
                .filter(|(o, _)| o.created_at == created)
                .map(|(o, _)| o.id);
            self.converted_lead(
                id,
                created,
                &drawn.customer,
                &contacts[0],
                owners.rep,
                opportunity,
            )?;
        }
        if owned && let Some(owner) = owners.owner {
            self.world.owned.push(CustomerRef {
                id,
                owner,
                created,
                since: owners.since.unwrap_or(created),
                region: drawn.place.region,
                weight: drawn.weight,
            });
        }
        Ok(())
    }

    fn contacts(
        &mut self,
        customer_id: Uuid,
        created: DateTime<Utc>,
        drawn: &Drawn,
        owners: &Owners,
        rates: &Rates,
    ) -> Result<Vec<contacts::Model>, SeedError> {
        let company = drawn.domain.is_some()
            || drawn.customer.kind == sims_domain::customer::CustomerKind::Company;
        let count = if company {
            1 + poisson(&mut self.rng, rates.extra_contacts)
        } else {
            usize::from(chance(&mut self.rng, 0.5))
        };
        let mut out = Vec::with_capacity(count);
        for i in 0..count {
            let rng = &mut self.rng;
            let at = if i == 0 {
                created
            } else {
                office_between(rng, created, self.now)
            };
            let input = if company {
                let person = if drawn.english {
                    english_person(rng)
                } else {
                    chinese_person(rng)
                };
                let title = if drawn.english {
                    *pick(rng, EN_TITLES)
                } else {
                    *pick(rng, CN_TITLES)
                };
                let email = drawn
                    .domain
                    .as_ref()
                    .filter(|_| chance(rng, 0.7))
                    .map(|d| format!("{}@{d}", person.latin));
                ContactInput {
                    name: Some(person.name),
                    title: chance(rng, 0.85).then(|| title.to_owned()),
                    phone: chance(rng, 0.85).then(|| personal_phone(rng, drawn.place)),
                    email,
                    is_primary: Some(i == 0),
                }
            } else {
                ContactInput {
                    name: Some(drawn.customer.name.clone()),
                    title: None,
                    phone: drawn.customer.phone.clone(),
                    email: drawn.customer.email.clone(),
                    is_primary: Some(true),
                }
            };
            let contact = Contact::create(input)
                .map_err(|e| SeedError::Generator(format!("contact: {e}")))?;
            let by = match owners.mode {
                Ownership::Owned | Ownership::Returned => owners.rep,
                _ if owners.since.is_some_and(|s| s <= at) => owners.rep,
                _ => owners.created_by,
            };
            let mut am = contacts::ActiveModel {
                id: Set(self.ids.at(at)),
                customer_id: Set(customer_id),
                created_by: Set(self.users[by].id),
                version: Set(1),
                created_at: Set(at),
                updated_at: Set(at),
                ..Default::default()
            };
            crate::contacts::apply_fields(&mut am, &contact);
            out.push(am.try_into_model()?);
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn follow_up(
        &mut self,
        customer_id: Uuid,
        occurred: DateTime<Utc>,
        owners: &Owners,
        drawn: &Drawn,
        opportunities: &[(
            crate::entities::opportunities::Model,
            Vec<super::pipeline::Change>,
        )],
        contacts: &[contacts::Model],
    ) -> Result<follow_ups::Model, SeedError> {
        let recent = occurred > self.now - self.return_after();
        let rng = &mut self.rng;
        let notes = if drawn.english { EN_NOTES } else { CN_NOTES };
        let (kind, template) = *pick(rng, notes);
        let who = contacts
            .first()
            .map(|c| c.name.clone())
            .unwrap_or_else(|| if drawn.english { "the buyer" } else { "客户" }.to_owned());
        let content = template
            .replace("{cat}", category_words(rng, drawn.english))
            .replace("{who}", &who);
        let kind = FollowUpKind::parse(kind).unwrap_or(FollowUpKind::Note);
        let next = chance(rng, if recent { 0.7 } else { 0.35 }).then(|| {
            occurred + days(rng.random_range(2..22)) + Duration::hours(rng.random_range(0..8))
        });
        let linked: Vec<Uuid> = opportunities
            .iter()
            .filter(|(o, _)| o.created_at <= occurred && o.closed_at.is_none_or(|c| occurred <= c))
            .map(|(o, _)| o.id)
            .collect();
        let opportunity_id = (!linked.is_empty() && chance(rng, 0.45)).then(|| *pick(rng, &linked));
        let f = FollowUp::create(kind, &content, occurred, next, self.now)
            .map_err(|e| SeedError::Generator(format!("follow-up: {e}")))?;
        let created_at = (occurred + Duration::seconds(rng.random_range(0..10_800))).min(self.now);
        Ok(follow_ups::Model {
            id: self.ids.at(created_at),
            customer_id,
            opportunity_id,
            kind: f.kind.as_str().to_owned(),
            content: f.content,
            occurred_at: f.occurred_at,
            next_follow_up_at: f.next_follow_up_at,
            author_id: self.users[owners.rep].id,
            version: 1,
            created_at,
            updated_at: created_at,
        })
    }
}
