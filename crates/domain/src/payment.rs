//! Payments received on orders (回款) and payment plans: what a payment may be, which
//! orders take one, and how instalments must add up.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::error::{DomainError, FieldViolation, Refusal, Violations};
use crate::money::{Money, amount_minor};
use crate::order::{OrderStatus, PaymentMethod};
use crate::values::{check_items, optional_text};

/// Longest payment reference (a bank slip number, a cheque number), in characters.
pub const REFERENCE_MAX: usize = 200;
/// Most instalments in one payment plan.
pub const MAX_INSTALMENTS: usize = 120;

/// A payment received, as stored and sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = PaymentView))]
pub struct PaymentRecord {
    pub id: Uuid,
    pub order_id: Uuid,
    pub amount: Money,
    pub received_at: DateTime<Utc>,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A payment as sent, checked: a positive amount with at most two decimals and an
/// optional reference of up to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentDraft {
    pub amount_minor: i64,
    pub reference: Option<String>,
}

impl PaymentDraft {
    /// Checks the amount and reference, naming every broken field.
    pub fn parse(amount: Decimal, reference: Option<&str>) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        let amount = v.check(amount_minor("amount", amount));
        if amount == Some(0) {
            v.push(FieldViolation::new(
                "amount",
                "out_of_range",
                "amount must be greater than 0",
            ));
        }
        let reference = v.check(optional_text("reference", reference, REFERENCE_MAX));
        v.finish()?;
        Ok(Self {
            amount_minor: amount.unwrap_or_default(),
            reference: reference.flatten(),
        })
    }
}

/// The paid amount after receiving `amount` on an order in `status` with `total` of
/// which `paid` is already received: drafts and cancelled orders take no payments, and
/// no payment takes the paid amount past the total.
pub fn accept_payment(
    status: OrderStatus,
    total: i64,
    paid: i64,
    amount: i64,
) -> Result<i64, DomainError> {
    if matches!(status, OrderStatus::Draft | OrderStatus::Cancelled) {
        return Err(Refusal::NotPayable { status }.into());
    }
    paid.checked_add(amount)
        .filter(|v| *v <= total)
        .ok_or_else(|| {
            Refusal::Overpayment {
                outstanding: Money::from_minor(total - paid),
            }
            .into()
        })
}

/// A payment plan as sent: dated instalments in minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentPlan {
    pub instalments: Vec<(NaiveDate, i64)>,
}

impl PaymentPlan {
    /// Checks there is at least one instalment and every amount is a valid amount.
    pub fn parse(instalments: &[(NaiveDate, Decimal)]) -> Result<Self, DomainError> {
        check_items(
            "instalments",
            instalments.len(),
            MAX_INSTALMENTS,
            "a plan has at least one instalment",
        )?;
        let mut v = Violations::new();
        let items = instalments
            .iter()
            .enumerate()
            .filter_map(|(i, (due, amount))| {
                v.check(amount_minor(&format!("instalments[{i}].amount"), *amount))
                    .map(|a| (*due, a))
            })
            .collect();
        v.finish()?;
        Ok(Self { instalments: items })
    }

    /// Checks the plan fits an order in `status` with `total`: not cancelled, the
    /// instalments adding up to the total exactly, listed by due date.
    pub fn check_fits(&self, status: OrderStatus, total: i64) -> Result<(), DomainError> {
        status.check_plannable()?;
        let sum = self
            .instalments
            .iter()
            .try_fold(0i64, |acc, (_, a)| acc.checked_add(*a));
        if sum != Some(total) {
            return Err(DomainError::field(
                "instalments",
                "sum_mismatch",
                format!(
                    "the instalments must add up to the order total {}",
                    Money::from_minor(total)
                ),
            ));
        }
        if self.instalments.windows(2).any(|w| w[0].0 > w[1].0) {
            return Err(DomainError::field(
                "instalments",
                "not_in_order",
                "list the instalments by due date",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn day(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, n).unwrap_or_default()
    }

    #[test]
    fn payments_are_positive_exact_amounts() {
        assert_eq!(
            PaymentDraft::parse(d("10.5"), Some(" 工行 ")),
            Ok(PaymentDraft {
                amount_minor: 1050,
                reference: Some("工行".into())
            })
        );
        for bad in ["0", "-1", "0.001"] {
            assert!(
                matches!(PaymentDraft::parse(d(bad), None), Err(DomainError::Validation(v)) if v[0].field == "amount"),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_confirmed_orders_take_payments_up_to_their_total() {
        for s in [Draft, Cancelled] {
            assert_eq!(
                accept_payment(s, 1000, 0, 1),
                Err(Refusal::NotPayable { status: s }.into())
            );
        }
        for s in [Confirmed, PartiallyShipped, Shipped, Completed] {
            assert_eq!(accept_payment(s, 1000, 400, 600), Ok(1000));
        }
        assert_eq!(
            accept_payment(Confirmed, 1000, 400, 601),
            Err(Refusal::Overpayment {
                outstanding: Money::from_minor(600)
            }
            .into())
        );
        assert!(accept_payment(Confirmed, i64::MAX, i64::MAX, 1).is_err());
    }

    #[test]
    fn plans_add_up_to_the_total_in_date_order() {
        assert!(PaymentPlan::parse(&[]).is_err());
        assert!(matches!(
            PaymentPlan::parse(&[(day(1), d("1")), (day(2), d("0.001"))]),
            Err(DomainError::Validation(v)) if v[0].field == "instalments[1].amount"
        ));
        let plan = PaymentPlan::parse(&[(day(1), d("3.00")), (day(9), d("7"))])
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(plan.check_fits(Confirmed, 1000), Ok(()));
        assert!(plan.check_fits(Confirmed, 1001).is_err());
        assert!(matches!(
            plan.check_fits(Cancelled, 1000),
            Err(DomainError::InvalidTransition { .. })
        ));
        let unordered = PaymentPlan {
            instalments: vec![(day(9), 300), (day(1), 700)],
        };
        assert!(matches!(
            unordered.check_fits(Draft, 1000),
            Err(DomainError::Validation(v)) if v[0].code == "not_in_order"
        ));
    }
}
