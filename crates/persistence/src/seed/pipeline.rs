//! Opportunities that walk the pipeline stage by stage (each move recorded, so stage ages
//! are real), and leads: those converted into customers and those still being worked.
//!
//! An opportunity dwells 2–35 days in a stage, then moves on, is lost (one in five from
//! each open stage) or, from the last open stage, is won (55%) or lost. Creation skews
//! recent, so that the funnel holds open deals in every stage while older deals have
//! closed: the win rate lands near 25–30%.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sea_orm::{Set, TryIntoModel};
use sims_domain::customer::{Customer, CustomerKind};
use sims_domain::lead::{Lead, LeadInput, LeadStatus};
use sims_domain::pipeline::{StageKind, check_amount};
use sims_domain::values::normalize_name;
use uuid::Uuid;

use super::SeedError;
use super::clock::{DayPicker, between, business_weight, days, office_between, office_time};
use super::customers::category_words;
use super::fake::*;
use super::generate::Gen;
use super::names::{LOST_REASONS, Region, SOURCES};
use crate::entities::{contacts, leads, opportunities, opportunity_stage_changes};

/// A recorded stage move.
pub(crate) type Change = opportunity_stage_changes::Model;

/// An opportunity with its stage history.
pub(crate) type Opportunity = (opportunities::Model, Vec<Change>);

/// The opportunities to open on one customer.
pub(crate) struct OpportunityPlan {
    pub customer_id: Uuid,
    /// The owner's user index.
    pub owner: usize,
    /// Since when the owner has the customer: no opportunity is older.
    pub since: DateTime<Utc>,
    pub english: bool,
    pub count: usize,
    pub level_factor: f64,
    /// The first opportunity was opened by converting the lead the customer came from.
    pub starts_with_conversion: bool,
}

const CN_DEALS: &[&str] = &[
    "{cat}年度采购",
    "{year}年{cat}框架协议",
    "{cat}批量采购项目",
    "新产线{cat}配套",
    "{cat}更换供应商",
];
const EN_DEALS: &[&str] = &[
    "{cat} annual supply",
    "{year} {cat} framework agreement",
    "{cat} bulk order",
    "New line: {cat}",
    "{cat} supplier switch",
];

impl Gen<'_> {
    /// The open stages in order, and the won and lost stages.
    fn stages(&self) -> (Vec<Uuid>, Option<Uuid>, Option<Uuid>) {
        let of = |kind| {
            self.plan
                .stages
                .iter()
                .find(|s| s.kind == kind)
                .map(|s| s.id)
        };
        let open = self
            .plan
            .stages
            .iter()
            .filter(|s| s.kind == StageKind::Open)
            .map(|s| s.id)
            .collect();
        (open, of(StageKind::Won), of(StageKind::Lost))
    }

    /// The opportunities of one customer, oldest first.
    pub(super) fn opportunities(
        &mut self,
        plan: &OpportunityPlan,
    ) -> Result<Vec<Opportunity>, SeedError> {
        let window = plan.since.max(self.now - days(720));
        if window >= self.now - Duration::hours(1) {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(plan.count);
        for j in 0..plan.count {
            let created = if j == 0 && plan.starts_with_conversion {
                plan.since
            } else if chance(&mut self.rng, 0.4) {
                let recent = window.max(self.now - days(90));
                office_between(&mut self.rng, recent, self.now - Duration::hours(1))
            } else {
                office_between(&mut self.rng, window, self.now - Duration::hours(1))
            };
            if let Some(o) = self.opportunity(plan, created)? {
                out.push(o);
            }
        }
        out.sort_by_key(|(o, _)| o.created_at);
        Ok(out)
    }

    fn opportunity(
        &mut self,
        plan: &OpportunityPlan,
        created: DateTime<Utc>,
    ) -> Result<Option<Opportunity>, SeedError> {
        let (open, won, lost) = self.stages();
        let Some(first) = open.first().copied() else {
            return Ok(None);
        };
        let rng = &mut self.rng;
        let mut moves: Vec<(Option<Uuid>, Uuid, DateTime<Utc>)> = vec![(None, first, created)];
        let (mut at, mut stage, mut kind) = (created, 0usize, StageKind::Open);
        loop {
            let next = office_between(rng, at + Duration::days(2), at + Duration::days(35));
            if next > self.now {
                break;
            }
            at = next;
            let r = rng.random_range(0..100);
            let from = Some(open[stage]);
            let last_open = stage + 1 == open.len();
            match (won, lost) {
                (Some(w), _) if last_open && r < 55 => {
                    moves.push((from, w, at));
                    kind = StageKind::Won;
                }
                (_, Some(l)) if last_open || r < 20 => {
                    moves.push((from, l, at));
                    kind = StageKind::Lost;
                }
                _ if last_open => break,
                _ => {
                    stage += 1;
                    moves.push((from, open[stage], at));
                    continue;
                }
            }
            break;
        }
        let (lo, hi) = match plan.level_factor {
            f if f >= 2.0 => (50_000, 2_000_000),
            f if f >= 1.4 => (20_000, 500_000),
            f if f >= 0.8 => (5_000, 200_000),
            _ => (2_000, 50_000),
        };
        let yuan: i64 = rng.random_range(lo..hi) / 100 * 100;
        let unquoted = kind == StageKind::Open && stage == 0 && chance(rng, 0.1);
        let amount_minor = if unquoted { 0 } else { yuan * 100 };
        check_amount(kind, amount_minor)
            .map_err(|e| SeedError::Generator(format!("opportunity amount: {e}")))?;
        let template = if plan.english {
            *pick(rng, EN_DEALS)
        } else {
            *pick(rng, CN_DEALS)
        };
        let name = template
            .replace("{cat}", category_words(rng, plan.english))
            .replace("{year}", &created.format("%Y").to_string());
        let created_day = created.date_naive();
        let mut expected = created_day + days(rng.random_range(30..150));
        if kind == StageKind::Open && expected < self.today && chance(rng, 0.85) {
            expected = self.today + days(rng.random_range(7..150));
        }
        // Some open deals have no date yet (the forecast's `undated`).
        let undated = kind == StageKind::Open && chance(rng, 0.08);
        let lost_reason = (kind == StageKind::Lost).then(|| (*pick(rng, LOST_REASONS)).to_owned());
        let (_, current, last_at) = moves.last().copied().unwrap_or((None, first, created));
        let id = self.ids.at(created);
        let owner = self.users[plan.owner].id;
        let changes = moves
            .iter()
            .map(|(from, to, at)| Change {
                id: self.ids.at(*at),
                opportunity_id: id,
                customer_id: plan.customer_id,
                from_stage_id: *from,
                to_stage_id: *to,
                by_user_id: owner,
                at: *at,
            })
            .collect::<Vec<_>>();
        let model = opportunities::Model {
            id,
            customer_id: plan.customer_id,
            name_norm: normalize_name(&name),
            name,
            amount_minor,
            currency: "CNY".into(),
            stage_id: current,
            status: kind.as_str().to_owned(),
            expected_close_date: (!undated).then_some(expected),
            owner_id: owner,
            lost_reason,
            closed_at: (kind != StageKind::Open).then_some(last_at),
            created_by: owner,
            version: changes.len() as i64,
            created_at: created,
            updated_at: last_at,
        };
        Ok(Some((model, changes)))
    }

    /// The lead a customer was converted from, at the customer's creation, linked to it,
    /// its primary contact and (when the conversion opened one) its first opportunity.
    pub(super) fn converted_lead(
        &mut self,
        customer_id: Uuid,
        converted: DateTime<Utc>,
        customer: &Customer,
        contact: &contacts::Model,
        owner: usize,
        opportunity_id: Option<Uuid>,
    ) -> Result<(), SeedError> {
        let created = converted
            - days(self.rng.random_range(1..40))
            - Duration::minutes(self.rng.random_range(0..600));
        let lead = Lead::create(LeadInput {
            name: Some(contact.name.clone()),
            company: (customer.kind == CustomerKind::Company).then(|| customer.name.clone()),
            phone: contact.phone.clone().or_else(|| customer.phone.clone()),
            email: contact.email.clone().or_else(|| customer.email.clone()),
            source: customer.source.clone(),
        })
        .map_err(|e| SeedError::Generator(format!("lead: {e}")))?;
        let owner_id = self.users[owner].id;
        let mut am = leads::ActiveModel {
            id: Set(self.ids.at(created)),
            status: Set(LeadStatus::Converted.as_str().to_owned()),
            owner_id: Set(owner_id),
            customer_id: Set(Some(customer_id)),
            contact_id: Set(Some(contact.id)),
            opportunity_id: Set(opportunity_id),
            converted_at: Set(Some(converted)),
            created_by: Set(owner_id),
            // new → contacted → converted
            version: Set(3),
            created_at: Set(created),
            updated_at: Set(converted),
            ..Default::default()
        };
        crate::leads::apply_fields(&mut am, &lead);
        self.out.put(am.try_into_model()?)?;
        self.world.converted_leads += 1;
        Ok(())
    }

    /// Leads not (yet) converted, from the last twelve months: the newer, the more of them
    /// still `new`; older ones qualified or disqualified.
    pub(super) fn leads(&mut self) -> Result<(), SeedError> {
        let count = self
            .plan
            .sizes
            .leads
            .saturating_sub(self.world.converted_leads);
        let picker = DayPicker::new(self.today - days(365), self.today, 60, business_weight);
        let mut dates: Vec<_> = (0..count).map(|_| picker.pick(&mut self.rng)).collect();
        dates.sort();
        for day in dates {
            let created = office_time(&mut self.rng, day, self.now);
            let region = *pick(&mut self.rng, &Region::ALL);
            let team = self.team_for(region);
            let owner = self.rep_of(team);
            let created_by = if chance(&mut self.rng, 0.3) {
                self.teams[team].manager
            } else {
                owner
            };
            let rng = &mut self.rng;
            let place = pick(rng, super::names::CHINA);
            let english = chance(rng, 0.15);
            let person = if english {
                english_person(rng)
            } else {
                chinese_person(rng)
            };
            let company = chance(rng, 0.7).then(|| chinese_company(rng, place));
            let email = match &company {
                Some(c) if chance(rng, 0.6) => Some(format!("{}@{}", person.latin, c.domain)),
                None if chance(rng, 0.5) => Some(format!(
                    "{}{}@{}",
                    person.latin,
                    rng.random_range(1..100),
                    pick(rng, super::names::MAIL_SERVICES)
                )),
                _ => None,
            };
            let lead = Lead::create(LeadInput {
                name: Some(person.name),
                company: company.map(|c| c.name),
                phone: chance(rng, 0.85).then(|| mobile(rng)),
                email,
                source: chance(rng, 0.9).then(|| (*weighted(rng, SOURCES)).to_owned()),
            })
            .map_err(|e| SeedError::Generator(format!("lead: {e}")))?;
            let age = (self.now - created).num_days();
            let weights: &[(LeadStatus, u32)] = match age {
                0..7 => &[
                    (LeadStatus::New, 70),
                    (LeadStatus::Contacted, 25),
                    (LeadStatus::Disqualified, 5),
                ],
                7..30 => &[
                    (LeadStatus::New, 25),
                    (LeadStatus::Contacted, 40),
                    (LeadStatus::Qualified, 20),
                    (LeadStatus::Disqualified, 15),
                ],
                _ => &[
                    (LeadStatus::New, 10),
                    (LeadStatus::Contacted, 25),
                    (LeadStatus::Qualified, 30),
                    (LeadStatus::Disqualified, 35),
                ],
            };
            let status = *weighted(rng, weights);
            let changes = match status {
                LeadStatus::New => 0,
                LeadStatus::Contacted => 1,
                LeadStatus::Disqualified => rng.random_range(1..3),
                _ => 2,
            };
            let mut updated = created;
            for _ in 0..changes {
                updated = between(rng, updated, (updated + days(10)).min(self.now));
            }
            let mut am = leads::ActiveModel {
                id: Set(self.ids.at(created)),
                status: Set(status.as_str().to_owned()),
                owner_id: Set(self.users[owner].id),
                customer_id: Set(None),
                contact_id: Set(None),
                opportunity_id: Set(None),
                converted_at: Set(None),
                created_by: Set(self.users[created_by].id),
                version: Set(1 + changes),
                created_at: Set(created),
                updated_at: Set(updated),
                ..Default::default()
            };
            crate::leads::apply_fields(&mut am, &lead);
            self.out.put(am.try_into_model()?)?;
        }
        Ok(())
    }
}
