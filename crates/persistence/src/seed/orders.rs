//! Sales orders over the last 18 months: dated by the business calendar (more in Q4, few
//! around Chinese New Year), numbered per month after the stored counters, priced line by
//! line by the domain's pricing, moved through the status machine with the stock
//! movements each step makes, and paid by [`super::payments`].
//!
//! The older an order, the further along it is: last week's are mostly drafts and
//! confirmed, last month's shipping, older ones completed; about 7% are cancelled (two in
//! five after confirmation, which reserves and then releases).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sims_domain::order::{LineRequest, OrderStatus, PricedLine, ProductTerms, order_totals};

use super::SeedError;
use super::clock::{DayPicker, business_weight, days, office_between, office_time};
use super::fake::*;
use super::generate::Gen;
use super::payments::Payable;
use super::stock::OrderRef;
use crate::entities::{order_lines, orders};

/// When an order moved through its statuses.
#[derive(Debug, Default)]
struct Steps {
    confirmed: Option<DateTime<Utc>>,
    /// Each shipment's time and how much of each line it ships.
    shipments: Vec<(DateTime<Utc>, Vec<i64>)>,
    completed: Option<DateTime<Utc>>,
    cancelled: Option<DateTime<Utc>>,
}

/// An office-hours instant `within` after `from`, never after `now`.
fn after(
    rng: &mut rand::rngs::StdRng,
    from: DateTime<Utc>,
    within: (Duration, Duration),
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let lo = (from + within.0).min(now);
    let hi = (from + within.1).min(now);
    office_between(rng, lo, hi)
}

impl Gen<'_> {
    /// Every order, oldest first; returns the last number used per month.
    pub(super) fn orders(&mut self) -> Result<Vec<(String, i64)>, SeedError> {
        let first_day = self.today - days(547);
        let opened = super::clock::day_start(first_day) - days(10);
        self.open_stock(opened)?;
        let picker = DayPicker::new(first_day, self.today, 30, business_weight);
        let mut times: Vec<DateTime<Utc>> = (0..self.plan.sizes.orders)
            .map(|_| {
                let d = picker.pick(&mut self.rng);
                office_time(&mut self.rng, d, self.now)
            })
            .collect();
        times.sort();
        let mut counters: BTreeMap<String, i64> = BTreeMap::new();
        for created in times {
            self.order(created, opened, &mut counters)?;
        }
        self.close_stock()?;
        Ok(counters.into_iter().collect())
    }

    /// An owned customer that existed (and had its owner) at `at`, older and better ones
    /// more often.
    fn pick_customer(&mut self, at: DateTime<Utc>) -> Option<usize> {
        let owned = &self.world.owned;
        let k = owned.partition_point(|c| c.created <= at);
        if k == 0 {
            return None;
        }
        for _ in 0..40 {
            let i = self.rng.random_range(0..k);
            let c = &owned[i];
            if c.since <= at && self.rng.random_range(0..6) < c.weight {
                return Some(i);
            }
        }
        (0..k).find(|i| owned[*i].since <= at)
    }

    fn pick_warehouse(&mut self, region: super::names::Region) -> usize {
        let near: Vec<usize> = (0..self.catalog.warehouses.len())
            .filter(|w| self.catalog.warehouses[*w].region == region)
            .collect();
        if !near.is_empty() && chance(&mut self.rng, 0.85) {
            *pick(&mut self.rng, &near)
        } else {
            self.rng
                .random_range(0..self.catalog.warehouses.len().max(1))
        }
    }

    /// Popular products more often; never one retired before `at`.
    fn pick_product(&mut self, at: DateTime<Utc>) -> Option<usize> {
        let total = self.catalog.popularity.last().copied()?;
        for _ in 0..20 {
            let r = self.rng.random_range(0..total);
            let p = self.catalog.popularity.partition_point(|c| *c <= r);
            if self.catalog.products[p].retired_at.is_none_or(|t| at < t) {
                return Some(p);
            }
        }
        None
    }

    /// An order's lines, priced exactly as the API prices them.
    fn lines(&mut self, at: DateTime<Utc>) -> Result<Vec<(usize, PricedLine)>, SeedError> {
        let count = *weighted(
            &mut self.rng,
            &[
                (1usize, 22),
                (2, 24),
                (3, 20),
                (4, 14),
                (5, 9),
                (6, 5),
                (7, 3),
                (8, 3),
            ],
        );
        let discount = *weighted(
            &mut self.rng,
            &[(0i64, 65), (500, 20), (1_000, 10), (1_500, 3), (2_000, 2)],
        );
        let mut products: Vec<usize> = Vec::with_capacity(count);
        for _ in 0..count * 3 {
            if products.len() == count {
                break;
            }
            if let Some(p) = self.pick_product(at)
                && !products.contains(&p)
            {
                products.push(p);
            }
        }
        let mut out = Vec::with_capacity(products.len());
        for (i, p) in products.into_iter().enumerate() {
            let rng = &mut self.rng;
            let product = &self.catalog.products[p];
            let mut quantity = rng.random_range(product.units.0..=product.units.1) * 1_000;
            if product.fractional && chance(rng, 0.4) {
                quantity += 500;
            }
            let unit_price = chance(rng, 0.15)
                .then(|| product.list_price_e4 * rng.random_range(90..99) / 100 / 100 * 100);
            let line_discount = if chance(rng, 0.2) {
                *pick(rng, &[0i64, 300, 500, 800])
            } else {
                discount
            };
            let request = LineRequest {
                product_id: product.id,
                quantity_milli: quantity,
                unit_price_e4: unit_price.filter(|p| *p > 0),
                discount_bp: (line_discount > 0).then_some(line_discount),
                tax_bp: None,
            };
            let terms = ProductTerms {
                list_price_e4: product.list_price_e4,
                tax_rate_bp: product.tax_rate_bp,
            };
            let priced = request
                .price(i, terms)
                .map_err(|e| SeedError::Generator(format!("order line: {e}")))?;
            out.push((p, priced));
        }
        Ok(out)
    }

    /// Where an order of `age_days` stands, and when it got there.
    fn steps(&mut self, created: DateTime<Utc>, lines: &[i64]) -> (OrderStatus, Steps) {
        use OrderStatus::*;
        let age_days = (self.now - created).num_days();
        let weights: &[(OrderStatus, u32)] = match age_days {
            0..3 => &[
                (Draft, 30),
                (Confirmed, 55),
                (PartiallyShipped, 5),
                (Shipped, 5),
                (Cancelled, 5),
            ],
            3..14 => &[
                (Draft, 8),
                (Confirmed, 30),
                (PartiallyShipped, 12),
                (Shipped, 40),
                (Completed, 5),
                (Cancelled, 5),
            ],
            14..45 => &[
                (Draft, 3),
                (Confirmed, 8),
                (PartiallyShipped, 6),
                (Shipped, 33),
                (Completed, 44),
                (Cancelled, 6),
            ],
            _ => &[
                (Draft, 1),
                (Confirmed, 1),
                (PartiallyShipped, 1),
                (Shipped, 7),
                (Completed, 83),
                (Cancelled, 7),
            ],
        };
        let mut status = *weighted(&mut self.rng, weights);
        let now = self.now;
        let rng = &mut self.rng;
        let mut steps = Steps::default();
        if status == Draft {
            return (status, steps);
        }
        if status == Cancelled && chance(rng, 0.6) {
            steps.cancelled = Some(after(rng, created, (Duration::minutes(10), days(3)), now));
            return (status, steps);
        }
        let confirmed = after(rng, created, (Duration::minutes(5), days(2)), now);
        steps.confirmed = Some(confirmed);
        match status {
            Cancelled => {
                steps.cancelled = Some(after(rng, confirmed, (Duration::hours(1), days(5)), now));
            }
            PartiallyShipped => {
                let shipped: Vec<i64> = lines
                    .iter()
                    .enumerate()
                    .map(|(i, q)| match (i, rng.random_range(0..3)) {
                        (0, _) | (_, 0) => q / 2 / 1_000 * 1_000,
                        (_, 1) => *q,
                        _ => 0,
                    })
                    .collect();
                let some = shipped.iter().any(|s| *s > 0);
                let all = shipped.iter().zip(lines).all(|(s, q)| s == q);
                if some && !all {
                    let at = after(rng, confirmed, (Duration::hours(4), days(6)), now);
                    steps.shipments.push((at, shipped));
                } else {
                    // Too small to ship in part: still waiting for its first shipment.
                    status = Confirmed;
                }
            }
            Shipped | Completed => {
                let first = after(rng, confirmed, (Duration::hours(4), days(6)), now);
                if lines.len() > 1 && chance(rng, 0.2) {
                    let split = rng.random_range(1..lines.len());
                    let part = |keep: bool| -> Vec<i64> {
                        lines
                            .iter()
                            .enumerate()
                            .map(|(i, q)| if (i < split) == keep { *q } else { 0 })
                            .collect()
                    };
                    let second = after(rng, first, (Duration::hours(12), days(8)), now);
                    steps.shipments.push((first, part(true)));
                    steps.shipments.push((second, part(false)));
                } else {
                    steps.shipments.push((first, lines.to_vec()));
                }
                if status == Completed {
                    let last = steps.shipments.last().map_or(first, |s| s.0);
                    steps.completed = Some(after(rng, last, (days(1), days(20)), now));
                }
            }
            _ => {}
        }
        (status, steps)
    }

    fn order(
        &mut self,
        created: DateTime<Utc>,
        opened: DateTime<Utc>,
        counters: &mut BTreeMap<String, i64>,
    ) -> Result<(), SeedError> {
        let Some(c) = self.pick_customer(created) else {
            return Ok(());
        };
        let customer = self.world.owned[c].clone();
        let lines = self.lines(created)?;
        if lines.is_empty() {
            return Ok(());
        }
        let priced: Vec<PricedLine> = lines.iter().map(|(_, l)| *l).collect();
        let totals = order_totals(&priced)
            .map_err(|e| SeedError::Generator(format!("order totals: {e}")))?;
        let warehouse = self.pick_warehouse(customer.region);
        let quantities: Vec<i64> = priced.iter().map(|l| l.input.quantity_milli).collect();
        let (status, steps) = self.steps(created, &quantities);
        let month = created.format("%Y%m").to_string();
        let stored = self.plan.counters.get(&month).copied().unwrap_or(0);
        let last = counters.entry(month.clone()).or_insert(stored);
        *last += 1;
        let number = format!("SO-{month}-{:06}", *last);
        let id = self.ids.at(created);
        let owner = self.users[customer.owner].id;
        let order = OrderRef {
            id,
            number: &number,
            by: owner,
        };
        let mut shipped = vec![0i64; lines.len()];
        if let Some(at) = steps.confirmed {
            for (p, l) in &lines {
                self.reserve((*p, warehouse), l.input.quantity_milli, at, order, opened)?;
            }
        }
        for (at, quantities) in &steps.shipments {
            for (i, q) in quantities.iter().enumerate() {
                if *q > 0 {
                    self.ship((lines[i].0, warehouse), *q, *at, order)?;
                    shipped[i] += q;
                }
            }
        }
        if let (Some(at), Some(_)) = (steps.cancelled, steps.confirmed) {
            for (i, (p, l)) in lines.iter().enumerate() {
                let left = l.input.quantity_milli - shipped[i];
                if left > 0 {
                    self.release((*p, warehouse), left, at, order)?;
                }
            }
        }
        let (payments, plan) = match steps.confirmed {
            Some(confirmed) if status != OrderStatus::Cancelled => self.settle(&Payable {
                id,
                by: owner,
                total: totals.total,
                order_date: created.date_naive(),
                confirmed,
            }),
            _ => (Vec::new(), Vec::new()),
        };
        let paid: i64 = payments.iter().map(|p| p.amount_minor).sum();
        if !matches!(status, OrderStatus::Draft | OrderStatus::Cancelled) {
            if self.world.revenue.len() < self.users.len() {
                self.world.revenue.resize(self.users.len(), 0);
            }
            self.world.revenue[customer.owner] += totals.subtotal;
        }
        let mut updated = created;
        let mut moves = 0;
        for at in steps
            .confirmed
            .iter()
            .chain(steps.shipments.iter().map(|(at, _)| at))
            .chain(steps.completed.iter())
            .chain(steps.cancelled.iter())
        {
            updated = updated.max(*at);
            moves += 1;
        }
        for p in &payments {
            updated = updated.max(p.created_at);
        }
        self.out.put(orders::Model {
            id,
            number: number.clone(),
            customer_id: customer.id,
            opportunity_id: None,
            owner_id: owner,
            warehouse_id: self.catalog.warehouses[warehouse].id,
            currency: "CNY".into(),
            status: status.as_str().to_owned(),
            subtotal_minor: totals.subtotal,
            discount_minor: totals.discount_total,
            tax_minor: totals.tax_total,
            total_minor: totals.total,
            paid_minor: paid,
            order_date: created.date_naive(),
            confirmed_at: steps.confirmed,
            created_by: owner,
            // Each status move and each payment saved the order once more.
            version: 1 + moves + payments.len() as i64,
            created_at: created,
            updated_at: updated,
        })?;
        for (i, (p, l)) in lines.iter().enumerate() {
            self.out.put(order_lines::Model {
                id: self.ids.at(created),
                order_id: id,
                position: i as i32,
                product_id: self.catalog.products[*p].id,
                quantity_milli: l.input.quantity_milli,
                shipped_milli: shipped[i],
                unit_price_e4: l.input.unit_price_e4,
                discount_bp: l.input.discount_bp,
                tax_bp: l.input.tax_bp,
                gross_minor: l.amounts.gross,
                discount_minor: l.amounts.discount,
                net_minor: l.amounts.net,
                tax_minor: l.amounts.tax,
                total_minor: l.amounts.total,
            })?;
        }
        for p in payments {
            self.out.put(p)?;
        }
        for i in plan {
            self.out.put(i)?;
        }
        Ok(())
    }
}
