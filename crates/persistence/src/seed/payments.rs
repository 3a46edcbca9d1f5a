//! Payments (回款) and payment plans of confirmed orders. Payments lag the order date by
//! 0–90 days and are never dated after now or before the order's confirmation; an order
//! is never paid past its total. About a fifth of the orders carry a plan of 2–4 monthly
//! instalments due within 90 days, adding up to the total exactly; most customers pay each
//! instalment around its due date, some stop paying part-way (overdue instalments), and a
//! twentieth of the orders without a plan are not paid (yet), which fills every bucket
//! of the receivables report.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::Rng;
use sims_domain::order::{OrderStatus, PaymentMethod};
use sims_domain::payment::{PaymentPlan, accept_payment};
use uuid::Uuid;

use super::clock::{days, office_time};
use super::fake::*;
use super::generate::Gen;
use crate::entities::{payment_plan_instalments, payments};

/// What settling an order needs to know of it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Payable {
    pub id: Uuid,
    /// The owner, who records the payments.
    pub by: Uuid,
    pub total: i64,
    pub order_date: NaiveDate,
    pub confirmed: DateTime<Utc>,
}

/// Share of payable orders that get a payment plan.
const PLAN_SHARE: f64 = 0.22;

impl Gen<'_> {
    /// The order's payments (oldest first) and its payment plan, if any.
    pub(super) fn settle(
        &mut self,
        o: &Payable,
    ) -> (Vec<payments::Model>, Vec<payment_plan_instalments::Model>) {
        let mut paying: Vec<(NaiveDate, i64)> = Vec::new();
        let mut plan = Vec::new();
        let rng = &mut self.rng;
        if chance(rng, PLAN_SHARE) {
            let offsets: &[i64] = match *weighted(rng, &[(2u8, 60), (3, 30), (4, 10)]) {
                2 => &[30, 60],
                3 => &[30, 60, 90],
                _ => &[0, 30, 60, 90],
            };
            let n = offsets.len() as i64;
            let share = o.total / n;
            let instalments: Vec<(NaiveDate, i64)> = offsets
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let amount = if i as i64 == n - 1 {
                        o.total - share * (n - 1)
                    } else {
                        share
                    };
                    (o.order_date + days(*d), amount)
                })
                .collect();
            let fits = PaymentPlan {
                instalments: instalments.clone(),
            }
            .check_fits(OrderStatus::Confirmed, o.total)
            .is_ok();
            if fits {
                let stops_after = if chance(rng, 0.75) {
                    instalments.len()
                } else {
                    rng.random_range(0..instalments.len())
                };
                let mut i = 0;
                while i < stops_after {
                    let (due, mut amount) = instalments[i];
                    // Now and then two instalments are paid together.
                    if i + 1 < stops_after && chance(rng, 0.35) {
                        i += 1;
                        amount += instalments[i].1;
                    }
                    paying.push((due + days(rng.random_range(-5..=10)), amount));
                    i += 1;
                }
                plan = instalments;
            }
        }
        if plan.is_empty() {
            // Terms of 30 to 90 days (账期); one in twenty not paid (yet).
            let lag = match rng.random_range(0..100) {
                0..27 => Some(rng.random_range(0..=30)),
                27..67 => Some(rng.random_range(31..=60)),
                67..95 => Some(rng.random_range(61..=90)),
                _ => None,
            };
            let deposit = o.total * 30 / 100;
            match lag {
                Some(lag) if chance(rng, 0.06) && deposit > 0 => {
                    paying.push((o.order_date + days(rng.random_range(0..=lag / 2)), deposit));
                    paying.push((o.order_date + days(lag), o.total - deposit));
                }
                Some(lag) => paying.push((o.order_date + days(lag), o.total)),
                None if chance(rng, 0.2) && deposit > 0 => {
                    paying.push((o.order_date + days(rng.random_range(0..=20)), deposit));
                }
                None => {}
            }
        }
        let latest = (o.order_date + days(90)).min(self.today);
        let mut paid = 0;
        let mut out = Vec::new();
        for (day, amount) in paying {
            let day = day.max(o.order_date).min(o.order_date + days(90));
            if day > latest || amount <= 0 {
                break;
            }
            let received = office_time(rng, day, self.now)
                .max(o.confirmed + Duration::minutes(rng.random_range(5..120)));
            if received > self.now {
                break;
            }
            let Ok(after) = accept_payment(OrderStatus::Confirmed, o.total, paid, amount) else {
                break;
            };
            paid = after;
            let method = *weighted(
                rng,
                &[
                    (PaymentMethod::BankTransfer, 70),
                    (PaymentMethod::Other, 10),
                    (PaymentMethod::Cheque, 8),
                    (PaymentMethod::Card, 7),
                    (PaymentMethod::Cash, 5),
                ],
            );
            let reference = match method {
                PaymentMethod::BankTransfer => Some(format!(
                    "TT{}{:04}",
                    received.format("%Y%m%d"),
                    rng.random_range(0..10_000)
                )),
                PaymentMethod::Cheque => Some(format!("CHQ {:06}", rng.random_range(0..1_000_000))),
                PaymentMethod::Card => Some(format!("POS {:08}", rng.random_range(0..100_000_000))),
                PaymentMethod::Other => Some(format!(
                    "{} {:010}",
                    pick(rng, &["支付宝 Alipay", "微信支付 WeChat Pay"]),
                    rng.random_range(0..10_000_000_000u64)
                )),
                PaymentMethod::Cash => None,
            };
            let created_at =
                (received + Duration::seconds(rng.random_range(0..7_200))).min(self.now);
            out.push(payments::Model {
                id: self.ids.at(created_at),
                order_id: o.id,
                amount_minor: amount,
                received_at: received,
                method: method.as_str().to_owned(),
                reference,
                created_by: o.by,
                created_at,
            });
        }
        let created = o.confirmed;
        let instalments = plan
            .into_iter()
            .enumerate()
            .map(
                |(i, (due_date, amount_minor))| payment_plan_instalments::Model {
                    id: self.ids.at(created),
                    order_id: o.id,
                    position: i as i32,
                    due_date,
                    amount_minor,
                },
            )
            .collect();
        (out, instalments)
    }
}
