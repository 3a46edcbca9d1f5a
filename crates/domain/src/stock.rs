//! The stock ledger's rules: movement kinds, level arithmetic that never goes below
//! zero, and what a receipt, a return or an adjustment must hold.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::catalog::{self, Quantity};
use crate::error::{DomainError, Violations};
use crate::values::{SHORT_TEXT_MAX, bounded_text, check_items, optional_text};

/// Longest receipt or return reference, in characters.
pub const REFERENCE_MAX: usize = SHORT_TEXT_MAX;
/// Longest reason given for an adjustment, in characters.
pub const REASON_MAX: usize = 500;
/// Most lines in one receipt, return or shipment.
pub const MAX_LINES: usize = 500;

crate::stored_enum! {
    /// What kind of change a stock movement is.
    pub enum MovementKind {
        Receipt => "receipt",
        Adjustment => "adjustment",
        Reserve => "reserve",
        Release => "release",
        Shipment => "shipment",
        Return => "return",
    }
}

/// Stock arithmetic: what a level becomes after a movement, refusing any state where
/// reserved or available stock would go below zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Level {
    pub on_hand: i64,
    pub reserved: i64,
}

impl Level {
    /// `on_hand − reserved`.
    pub fn available(self) -> i64 {
        self.on_hand - self.reserved
    }

    /// The level after adding `on_hand_delta` and `reserved_delta`, if it stays valid
    /// (available ≥ 0 and reserved ≥ 0).
    pub fn apply(self, on_hand_delta: i64, reserved_delta: i64) -> Option<Level> {
        let next = Level {
            on_hand: self.on_hand.checked_add(on_hand_delta)?,
            reserved: self.reserved.checked_add(reserved_delta)?,
        };
        (next.reserved >= 0 && next.available() >= 0).then_some(next)
    }
}

/// A product's stock in one warehouse.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = StockLevelView))]
pub struct StockLevelRecord {
    pub product_id: Uuid,
    pub warehouse_id: Uuid,
    pub on_hand: Quantity,
    pub reserved: Quantity,
    /// `on_hand − reserved`.
    pub available: Quantity,
    pub updated_at: DateTime<Utc>,
}

/// An entry of the stock ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = MovementView))]
pub struct MovementRecord {
    pub id: Uuid,
    pub product_id: Uuid,
    pub warehouse_id: Uuid,
    pub kind: MovementKind,
    /// Signed change of on-hand stock.
    pub quantity: Quantity,
    /// Signed change of reserved stock.
    pub reserved_change: Quantity,
    pub reference: Option<String>,
    pub reason: Option<String>,
    pub order_id: Option<Uuid>,
    pub created_by: Uuid,
    pub at: DateTime<Utc>,
}

/// Goods coming in (a receipt, or goods a customer returned): an optional reference
/// and at least one line of a product and a positive quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    pub reference: Option<String>,
    /// Products and quantities in thousandths.
    pub lines: Vec<(Uuid, i64)>,
}

impl Inbound {
    /// Checks the reference and lines of a `what` (`receipt`, `return`).
    pub fn parse(
        what: &str,
        reference: Option<&str>,
        lines: &[(Uuid, Decimal)],
    ) -> Result<Self, DomainError> {
        check_items(
            "lines",
            lines.len(),
            MAX_LINES,
            &format!("a {what} has at least one line"),
        )?;
        let mut v = Violations::new();
        let reference = v
            .check(optional_text("reference", reference, REFERENCE_MAX))
            .flatten();
        let lines = lines
            .iter()
            .enumerate()
            .filter_map(|(i, (product, q))| {
                v.check(catalog::quantity(&format!("lines[{i}].quantity"), *q))
                    .map(|q| (*product, q))
            })
            .collect();
        v.finish()?;
        Ok(Self { reference, lines })
    }
}

/// A signed correction of on-hand stock with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment {
    /// Signed, not zero, in thousandths.
    pub quantity_milli: i64,
    pub reason: String,
}

impl Adjustment {
    /// Checks the quantity (signed, not zero) and the reason (1–500 characters).
    pub fn parse(quantity: Decimal, reason: &str) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        let q = v.check(catalog::quantity_change("quantity", quantity));
        let reason = v.check(bounded_text("reason", reason, REASON_MAX));
        v.finish()?;
        Ok(Self {
            quantity_milli: q.unwrap_or_default(),
            reason: reason.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn levels_never_go_below_zero() {
        let l = Level {
            on_hand: 100,
            reserved: 0,
        };
        assert_eq!(
            l.apply(0, 100),
            Some(Level {
                on_hand: 100,
                reserved: 100
            })
        );
        assert_eq!(l.apply(0, 101), None, "cannot reserve more than available");
        let r = Level {
            on_hand: 100,
            reserved: 60,
        };
        assert_eq!(r.apply(-50, 0), None, "cannot take away reserved stock");
        assert_eq!(
            r.apply(-60, -60),
            Some(Level {
                on_hand: 40,
                reserved: 0
            }),
            "shipping moves reserved out"
        );
        assert_eq!(r.apply(0, -61), None);
        assert_eq!(r.available(), 40);
    }

    #[test]
    fn inbound_needs_lines_with_positive_quantities() {
        match Inbound::parse("receipt", None, &[]) {
            Err(DomainError::Validation(v)) => {
                assert_eq!(v[0].message, "a receipt has at least one line")
            }
            other => panic!("{other:?}"),
        }
        let p = Uuid::now_v7();
        assert!(matches!(
            Inbound::parse("return", Some("RMA-1"), &[(p, d("0"))]),
            Err(DomainError::Validation(v)) if v[0].field == "lines[0].quantity"
        ));
        assert_eq!(
            Inbound::parse("receipt", Some(" PO-7 "), &[(p, d("2.5"))]),
            Ok(Inbound {
                reference: Some("PO-7".into()),
                lines: vec![(p, 2500)]
            })
        );
    }

    #[test]
    fn adjustments_are_signed_and_explained() {
        assert_eq!(
            Adjustment::parse(d("-2"), "盘点损耗").map(|a| a.quantity_milli),
            Ok(-2000)
        );
        assert!(matches!(
            Adjustment::parse(d("0"), " "),
            Err(DomainError::Validation(v)) if v.len() == 2
        ));
    }
}
