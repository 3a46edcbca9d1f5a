//! Sales orders (订单): line arithmetic, totals, the status machine and payment status.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::catalog::{self, Percent, Price, Quantity};
use crate::error::{DomainError, FieldViolation, Violations};
use crate::money::Money;
use crate::values::check_items;

pub use crate::pricing::{LineAmounts, LineInput, Totals, price_line, totals};

/// Most lines in one order.
pub const MAX_ORDER_LINES: usize = 500;

crate::stored_enum! {
    /// Where an order stands.
    pub enum OrderStatus {
        Draft => "draft",
        Confirmed => "confirmed",
        PartiallyShipped => "partially_shipped",
        Shipped => "shipped",
        Completed => "completed",
        Cancelled => "cancelled",
    }
}

impl OrderStatus {
    /// `draft → confirmed → partially_shipped → shipped → completed`, and
    /// `draft | confirmed → cancelled`. Anything else is `invalid_transition`.
    pub fn transition(self, to: OrderStatus) -> Result<OrderStatus, DomainError> {
        use OrderStatus::*;
        let ok = matches!(
            (self, to),
            (Draft, Confirmed)
                | (Confirmed, PartiallyShipped)
                | (Confirmed, Shipped)
                | (PartiallyShipped, PartiallyShipped)
                | (PartiallyShipped, Shipped)
                | (Shipped, Completed)
                | (Draft, Cancelled)
                | (Confirmed, Cancelled)
        );
        if ok {
            Ok(to)
        } else {
            Err(DomainError::InvalidTransition {
                from: self.as_str().into(),
                to: to.as_str().into(),
            })
        }
    }

    /// Whether the order counts in reports' revenue: confirmed and later, never a draft or
    /// a cancelled order.
    pub fn counts_in_reports(self) -> bool {
        !matches!(self, OrderStatus::Draft | OrderStatus::Cancelled)
    }

    /// Whether stock is reserved for the order's unshipped quantities.
    pub fn holds_reservation(self) -> bool {
        matches!(self, OrderStatus::Confirmed | OrderStatus::PartiallyShipped)
    }

    /// Only drafts have their lines replaced.
    pub fn check_editable(self) -> Result<(), DomainError> {
        self.refuse_unless(self == OrderStatus::Draft, "edited")
    }

    /// Only orders holding a reservation ship.
    pub fn check_shippable(self) -> Result<(), DomainError> {
        self.refuse_unless(self.holds_reservation(), "shipped")
    }

    /// Where a shipment takes the order: `shipped` once every line is shipped in full.
    pub fn after_shipment(self, everything_shipped: bool) -> Result<OrderStatus, DomainError> {
        self.transition(if everything_shipped {
            OrderStatus::Shipped
        } else {
            OrderStatus::PartiallyShipped
        })
    }

    /// Every order but a cancelled one carries a payment plan.
    pub fn check_plannable(self) -> Result<(), DomainError> {
        self.refuse_unless(self != OrderStatus::Cancelled, "planned")
    }

    fn refuse_unless(self, ok: bool, to: &str) -> Result<(), DomainError> {
        if ok {
            Ok(())
        } else {
            Err(DomainError::InvalidTransition {
                from: self.as_str().into(),
                to: to.into(),
            })
        }
    }
}

/// One line of an order as the client asked for it, checked: the product's list price
/// and tax rate fill in what is not given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRequest {
    pub product_id: Uuid,
    pub quantity_milli: i64,
    pub unit_price_e4: Option<i64>,
    pub discount_bp: Option<i64>,
    pub tax_bp: Option<i64>,
}

/// A line as sent: decimals straight from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineFields {
    pub product_id: Uuid,
    pub quantity: Decimal,
    pub unit_price: Option<Decimal>,
    pub discount_percent: Option<Decimal>,
    pub tax_rate: Option<Decimal>,
}

/// The lines of a new or edited order: at least one, each field checked and named
/// `lines[i].field`.
pub fn order_lines(lines: &[LineFields]) -> Result<Vec<LineRequest>, DomainError> {
    check_items(
        "lines",
        lines.len(),
        MAX_ORDER_LINES,
        "an order has at least one line",
    )?;
    let mut v = Violations::new();
    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let field = |name: &str| format!("lines[{i}].{name}");
        let quantity = v.check(catalog::quantity(&field("quantity"), l.quantity));
        let price = l
            .unit_price
            .and_then(|p| v.check(catalog::price(&field("unit_price"), p)));
        let discount = l
            .discount_percent
            .and_then(|d| v.check(catalog::percent(&field("discount_percent"), d)));
        let tax = l
            .tax_rate
            .and_then(|t| v.check(catalog::percent(&field("tax_rate"), t)));
        if let Some(quantity_milli) = quantity {
            out.push(LineRequest {
                product_id: l.product_id,
                quantity_milli,
                unit_price_e4: price,
                discount_bp: discount,
                tax_bp: tax,
            });
        }
    }
    v.finish()?;
    Ok(out)
}

/// The earliest order date accepted: older records belong to an archive, not the pipeline.
pub const EARLIEST_ORDER_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// An order's date: `today` (UTC) when none is sent; an order entered late carries its real
/// date, but never one after `today` nor before [`EARLIEST_ORDER_DATE`].
pub fn order_date(sent: Option<NaiveDate>, today: NaiveDate) -> Result<NaiveDate, FieldViolation> {
    let date = sent.unwrap_or(today);
    if date > today {
        return Err(FieldViolation::new(
            "order_date",
            "out_of_range",
            format!("an order cannot be dated after today ({today})"),
        ));
    }
    if date < EARLIEST_ORDER_DATE {
        return Err(FieldViolation::new(
            "order_date",
            "out_of_range",
            format!("an order cannot be dated before {EARLIEST_ORDER_DATE}"),
        ));
    }
    Ok(date)
}

/// A new order's date, currency (default `CNY`) and lines, naming every broken field.
pub fn order_draft(
    order_date_sent: Option<NaiveDate>,
    today: NaiveDate,
    currency: Option<&str>,
    lines: &[LineFields],
) -> Result<(NaiveDate, String, Vec<LineRequest>), DomainError> {
    let mut v = Violations::new();
    let date = v.check(order_date(order_date_sent, today));
    let currency = v.check(crate::pipeline::parse_currency(
        "currency",
        currency.unwrap_or("CNY"),
    ));
    let lines = match order_lines(lines) {
        Ok(l) => Some(l),
        Err(DomainError::Validation(more)) => {
            more.into_iter().for_each(|m| v.push(m));
            None
        }
        Err(other) => return Err(other),
    };
    v.finish()?;
    Ok((
        date.unwrap_or(today),
        currency.unwrap_or_default(),
        lines.unwrap_or_default(),
    ))
}

/// What the catalogue says of a product an order line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductTerms {
    pub list_price_e4: i64,
    pub tax_rate_bp: i64,
}

/// A line priced: its inputs in stored units and its amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricedLine {
    pub product_id: Uuid,
    pub input: LineInput,
    pub amounts: LineAmounts,
}

impl LineRequest {
    /// Prices line `index` against its product's terms.
    pub fn price(&self, index: usize, terms: ProductTerms) -> Result<PricedLine, DomainError> {
        let input = LineInput {
            quantity_milli: self.quantity_milli,
            unit_price_e4: self.unit_price_e4.unwrap_or(terms.list_price_e4),
            discount_bp: self.discount_bp.unwrap_or(0),
            tax_bp: self.tax_bp.unwrap_or(terms.tax_rate_bp),
        };
        let amounts = price_line(input).ok_or_else(|| {
            DomainError::field(
                &format!("lines[{index}]"),
                "out_of_range",
                "the line's amount is too large",
            )
        })?;
        Ok(PricedLine {
            product_id: self.product_id,
            input,
            amounts,
        })
    }
}

/// The totals of priced lines, refusing a total that does not fit.
pub fn order_totals(lines: &[PricedLine]) -> Result<Totals, DomainError> {
    totals(&lines.iter().map(|l| l.amounts).collect::<Vec<_>>())
        .ok_or_else(|| DomainError::field("lines", "out_of_range", "the order total is too large"))
}

/// The lines of a shipment: at least one, each quantity positive.
pub fn shipment_lines(lines: &[(Uuid, Decimal)]) -> Result<Vec<(Uuid, i64)>, DomainError> {
    check_items(
        "lines",
        lines.len(),
        crate::stock::MAX_LINES,
        "ship at least one line",
    )?;
    let mut v = Violations::new();
    let out = lines
        .iter()
        .enumerate()
        .filter_map(|(i, (line, q))| {
            v.check(catalog::quantity(&format!("lines[{i}].quantity"), *q))
                .map(|q| (*line, q))
        })
        .collect();
    v.finish()?;
    Ok(out)
}

/// An order as stored and sent, with its lines (none in a list).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = OrderView))]
pub struct OrderRecord {
    pub id: Uuid,
    /// `SO-YYYYMM-000123`.
    pub number: String,
    pub customer_id: Uuid,
    pub opportunity_id: Option<Uuid>,
    pub owner_id: Uuid,
    pub warehouse_id: Uuid,
    pub currency: String,
    pub status: OrderStatus,
    pub order_date: NaiveDate,
    pub lines: Vec<OrderLineRecord>,
    /// Σ net.
    pub subtotal: Money,
    pub discount_total: Money,
    pub tax_total: Money,
    /// subtotal + tax_total.
    pub total: Money,
    pub payment_status: PaymentStatus,
    pub paid_amount: Money,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An order line with its server-computed amounts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = OrderLineView))]
pub struct OrderLineRecord {
    pub id: Uuid,
    pub product_id: Uuid,
    pub quantity: Quantity,
    pub shipped_quantity: Quantity,
    pub unit_price: Price,
    pub discount_percent: Percent,
    pub tax_rate: Percent,
    pub gross: Money,
    pub discount: Money,
    pub net: Money,
    pub tax: Money,
    pub total: Money,
}

crate::stored_enum! {
    /// `unpaid`, `partial` or `paid`.
    pub enum PaymentStatus {
        Unpaid => "unpaid",
        Partial => "partial",
        Paid => "paid",
    }
}

/// The payment status of an order with `total` of which `paid` was received.
pub fn payment_status(total: i64, paid: i64) -> PaymentStatus {
    if paid <= 0 && total > 0 {
        PaymentStatus::Unpaid
    } else if paid >= total {
        PaymentStatus::Paid
    } else {
        PaymentStatus::Partial
    }
}

crate::stored_enum! {
    /// How a payment was received.
    pub enum PaymentMethod {
        Cash => "cash",
        BankTransfer => "bank_transfer",
        Card => "card",
        Cheque => "cheque",
        Other => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    const ALL: [OrderStatus; 6] = [
        Draft,
        Confirmed,
        PartiallyShipped,
        Shipped,
        Completed,
        Cancelled,
    ];

    #[test]
    fn confirmed_and_later_orders_count_and_only_a_confirmation_or_cancel_changes_that() {
        let counted: Vec<_> = ALL.into_iter().filter(|s| s.counts_in_reports()).collect();
        assert_eq!(counted, [Confirmed, PartiallyShipped, Shipped, Completed]);
        for from in ALL {
            for to in ALL {
                if from.transition(to).is_ok() && from.counts_in_reports() != to.counts_in_reports()
                {
                    assert!(
                        matches!((from, to), (Draft, Confirmed) | (Confirmed, Cancelled)),
                        "{from:?} -> {to:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn only_documented_moves() {
        let allowed = [
            (Draft, Confirmed),
            (Confirmed, PartiallyShipped),
            (Confirmed, Shipped),
            (PartiallyShipped, PartiallyShipped),
            (PartiallyShipped, Shipped),
            (Shipped, Completed),
            (Draft, Cancelled),
            (Confirmed, Cancelled),
        ];
        for from in ALL {
            for to in ALL {
                assert_eq!(
                    from.transition(to).is_ok(),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
            }
            assert_eq!(OrderStatus::parse(from.as_str()), Some(from));
        }
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn fields_of(e: Result<impl std::fmt::Debug, DomainError>) -> Vec<String> {
        match e {
            Err(DomainError::Validation(v)) => v.into_iter().map(|f| f.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lines_are_checked_and_named() {
        assert_eq!(fields_of(order_lines(&[])), vec!["lines"]);
        let p = Uuid::now_v7();
        let line = |q: &str, price: Option<&str>, disc: Option<&str>| LineFields {
            product_id: p,
            quantity: d(q),
            unit_price: price.map(d),
            discount_percent: disc.map(d),
            tax_rate: None,
        };
        assert_eq!(
            fields_of(order_lines(&[
                line("1", None, None),
                line("0", Some("1.00001"), Some("101")),
            ])),
            vec![
                "lines[1].quantity",
                "lines[1].unit_price",
                "lines[1].discount_percent"
            ]
        );
        let ok = order_lines(&[line("2.5", Some("12.3456"), None)]).unwrap_or_default();
        assert_eq!(
            ok,
            vec![LineRequest {
                product_id: p,
                quantity_milli: 2500,
                unit_price_e4: Some(123_456),
                discount_bp: None,
                tax_bp: None
            }]
        );
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn drafts_name_date_currency_and_lines_together() {
        let today = day("2026-12-01");
        assert_eq!(
            fields_of(order_draft(
                Some(day("2026-12-02")),
                today,
                Some("yuan"),
                &[]
            )),
            vec!["order_date", "currency", "lines"]
        );
        assert_eq!(
            order_draft(
                None,
                today,
                None,
                &[LineFields {
                    product_id: Uuid::nil(),
                    quantity: d("1"),
                    unit_price: None,
                    discount_percent: None,
                    tax_rate: None,
                }]
            )
            .map(|(date, c, l)| (date, c, l.len())),
            Ok((today, "CNY".to_owned(), 1))
        );
    }

    #[test]
    fn an_order_entered_late_keeps_its_date_but_none_is_in_the_future() {
        let today = day("2026-12-01");
        assert_eq!(order_date(None, today), Ok(today));
        assert_eq!(
            order_date(Some(day("2026-09-30")), today),
            Ok(day("2026-09-30"))
        );
        assert_eq!(order_date(Some(today), today), Ok(today));
        assert!(order_date(Some(day("2026-12-02")), today).is_err());
        assert!(order_date(Some(day("1999-12-31")), today).is_err());
        assert_eq!(
            order_date(Some(EARLIEST_ORDER_DATE), today),
            Ok(EARLIEST_ORDER_DATE)
        );
    }

    #[test]
    fn product_terms_fill_what_the_line_leaves_out() {
        let req = LineRequest {
            product_id: Uuid::now_v7(),
            quantity_milli: 2000,
            unit_price_e4: None,
            discount_bp: Some(1000),
            tax_bp: None,
        };
        let priced = req.price(
            0,
            ProductTerms {
                list_price_e4: 50_000,
                tax_rate_bp: 1300,
            },
        );
        assert_eq!(
            priced.map(|p| (p.input.unit_price_e4, p.input.tax_bp, p.amounts.total)),
            Ok((50_000, 1300, 1017)),
            "2 × 5.00 = 10.00, 10% off = 9.00, 13% tax = 1.17"
        );
        let huge = LineRequest {
            quantity_milli: i64::MAX,
            unit_price_e4: Some(i64::MAX),
            ..req
        };
        assert_eq!(
            fields_of(huge.price(
                3,
                ProductTerms {
                    list_price_e4: 0,
                    tax_rate_bp: 0
                }
            )),
            vec!["lines[3]"]
        );
    }

    #[test]
    fn order_states_gate_edits_shipments_and_plans() {
        assert!(Draft.check_editable().is_ok());
        assert!(Confirmed.check_editable().is_err());
        assert!(Confirmed.check_shippable().is_ok() && PartiallyShipped.check_shippable().is_ok());
        for s in [Draft, Shipped, Completed, Cancelled] {
            assert!(s.check_shippable().is_err(), "{s}");
        }
        assert_eq!(Confirmed.after_shipment(false), Ok(PartiallyShipped));
        assert_eq!(PartiallyShipped.after_shipment(true), Ok(Shipped));
        assert!(Cancelled.check_plannable().is_err() && Draft.check_plannable().is_ok());
    }

    #[test]
    fn shipments_need_lines_and_positive_quantities() {
        assert_eq!(fields_of(shipment_lines(&[])), vec!["lines"]);
        let l = Uuid::now_v7();
        assert_eq!(
            fields_of(shipment_lines(&[(l, d("1")), (l, d("-1"))])),
            vec!["lines[1].quantity"]
        );
        assert_eq!(shipment_lines(&[(l, d("1.5"))]), Ok(vec![(l, 1500)]));
    }

    #[test]
    fn payment_status_follows_amounts() {
        assert_eq!(payment_status(1000, 0), PaymentStatus::Unpaid);
        assert_eq!(payment_status(1000, 1), PaymentStatus::Partial);
        assert_eq!(payment_status(1000, 1000), PaymentStatus::Paid);
        assert_eq!(payment_status(0, 0), PaymentStatus::Paid);
    }
}
