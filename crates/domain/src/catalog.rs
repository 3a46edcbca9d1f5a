//! Products and stock quantities: exact decimal values held as integers.
//!
//! Quantities keep up to 3 decimals (stored in thousandths), prices up to 4 (stored in
//! ten-thousandths), tax rates are percents with up to 2 decimals (stored in basis
//! points). None of them ever passes through a float.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::access::Principal;

use crate::error::{DomainError, FieldViolation, Violations};
use crate::values::{NAME_MAX, SHORT_TEXT_MAX, bounded_text, optional_text};

/// Largest quantity (up to 1,000,000,000), so that stock levels and report sums stay far
/// from overflow.
pub const QUANTITY_MAX: i64 = 1_000_000_000;

fn scaled(
    field: &str,
    value: Decimal,
    scale: u32,
    what: &str,
    allow_negative: bool,
    max: i64,
) -> Result<i64, FieldViolation> {
    if value.abs() > Decimal::from(max) {
        return Err(FieldViolation::new(
            field,
            "out_of_range",
            format!("{field} must be at most {max}"),
        ));
    }
    if !allow_negative && value.is_sign_negative() && !value.is_zero() {
        return Err(FieldViolation::new(
            field,
            "out_of_range",
            format!("{field} cannot be negative"),
        ));
    }
    if value.normalize().scale() > scale {
        return Err(FieldViolation::new(
            field,
            "too_precise",
            format!("{field} takes at most {scale} decimals ({what})"),
        ));
    }
    let factor = Decimal::from(10i64.pow(scale));
    value
        .checked_mul(factor)
        .and_then(|v| i64::try_from(v.trunc()).ok())
        .filter(|v| v.unsigned_abs() < 1_000_000_000_000_000)
        .ok_or_else(|| FieldViolation::new(field, "out_of_range", format!("{field} is too large")))
}

/// A quantity in thousandths, e.g. `2.5` kg → 2500. Must be positive.
pub fn quantity(field: &str, value: Decimal) -> Result<i64, FieldViolation> {
    let q = scaled(field, value, 3, "quantities", false, QUANTITY_MAX)?;
    if q == 0 {
        return Err(FieldViolation::new(
            field,
            "out_of_range",
            format!("{field} must be greater than 0"),
        ));
    }
    Ok(q)
}

/// A signed quantity change in thousandths (stock adjustments); not zero.
pub fn quantity_change(field: &str, value: Decimal) -> Result<i64, FieldViolation> {
    let q = scaled(field, value, 3, "quantities", true, QUANTITY_MAX)?;
    if q == 0 {
        return Err(FieldViolation::new(
            field,
            "out_of_range",
            format!("{field} must not be 0"),
        ));
    }
    Ok(q)
}

/// A quantity that may be zero (reorder points).
pub fn quantity_or_zero(field: &str, value: Decimal) -> Result<i64, FieldViolation> {
    scaled(field, value, 3, "quantities", false, QUANTITY_MAX)
}

/// A price in ten-thousandths, e.g. `12.3456` → 123456. Zero is allowed (free goods).
pub fn price(field: &str, value: Decimal) -> Result<i64, FieldViolation> {
    scaled(field, value, 4, "prices", false, crate::money::AMOUNT_MAX)
}

/// A percentage 0..=100 with up to 2 decimals, in basis points (`"13"` → 1300).
pub fn percent(field: &str, value: Decimal) -> Result<i64, FieldViolation> {
    scaled(field, value, 2, "percentages", false, 100)
}

/// Thousandths back to a decimal, without trailing zeros (`2500` → `2.5`).
pub fn quantity_decimal(milli: i64) -> Decimal {
    Decimal::new(milli, 3).normalize()
}

/// Ten-thousandths back to a decimal with at least two places (`125000` → `12.50`).
pub fn price_decimal(e4: i64) -> Decimal {
    let mut d = Decimal::new(e4, 4).normalize();
    if d.scale() < 2 {
        d.rescale(2);
    }
    d
}

/// Basis points back to a percent without trailing zeros (`1300` → `13`).
pub fn percent_decimal(bp: i64) -> Decimal {
    Decimal::new(bp, 2).normalize()
}

/// Longest unit name (`盒`, `kg`, `pcs`), in characters.
pub const UNIT_MAX: usize = 20;

/// A quantity, held in thousandths (`2.5` kg is 2500).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Quantity(pub i64);

impl Quantity {
    /// The quantity as a decimal without trailing zeros (`2.5`).
    pub fn to_decimal(self) -> Decimal {
        quantity_decimal(self.0)
    }
}

crate::decimal_string!(
    Quantity,
    "Quantity",
    "A quantity as a decimal string, up to 3 decimals",
    "2.5"
);

/// A unit price, held in ten-thousandths (`12.3456` is 123456).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Price(pub i64);

impl Price {
    /// The price as a decimal with at least two places (`12.50`).
    pub fn to_decimal(self) -> Decimal {
        price_decimal(self.0)
    }
}

crate::decimal_string!(
    Price,
    "Price",
    "A unit price as a decimal string, up to 4 decimals",
    "12.50"
);

/// A percentage, held in basis points (`13` is 1300).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Percent(pub i64);

impl Percent {
    /// The percentage as a decimal without trailing zeros (`13`).
    pub fn to_decimal(self) -> Decimal {
        percent_decimal(self.0)
    }
}

crate::decimal_string!(
    Percent,
    "Percent",
    "A percentage as a decimal string: \"13\" is 13%",
    "13"
);

/// A product's attributes, validated and scaled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub unit: String,
    pub category: Option<String>,
    pub list_price_e4: i64,
    pub cost_e4: Option<i64>,
    pub tax_rate_bp: i64,
    pub reorder_point_milli: Option<i64>,
    pub active: bool,
}

/// A product as sent.
#[derive(Debug, Clone, Default)]
pub struct ProductInput {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub unit: Option<String>,
    pub category: Option<String>,
    pub list_price: Option<Decimal>,
    pub cost: Option<Decimal>,
    pub tax_rate: Option<Decimal>,
    pub reorder_point: Option<Decimal>,
    pub active: Option<bool>,
}

/// Longest SKU or warehouse code, in characters.
pub const SKU_MAX: usize = 64;

/// Checks a SKU: 1–64 characters of letters, digits, `-`, `_`, `.` and `/`.
pub fn sku(field: &str, input: &str) -> Result<String, FieldViolation> {
    let s = bounded_text(field, input, SKU_MAX)?;
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    {
        Ok(s)
    } else {
        Err(FieldViolation::new(
            field,
            "invalid_sku",
            format!("{field} takes letters, digits, '-', '_', '.' and '/'"),
        ))
    }
}

impl Product {
    /// Validates a new product: sku, name, unit, list price and tax rate are required.
    pub fn create(input: ProductInput) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        let mut required = |field: &str, present: bool| {
            if !present {
                v.push(FieldViolation::new(
                    field,
                    "required",
                    format!("{field} is required"),
                ));
            }
        };
        required("sku", input.sku.is_some());
        required("name", input.name.is_some());
        required("unit", input.unit.is_some());
        required("list_price", input.list_price.is_some());
        required("tax_rate", input.tax_rate.is_some());
        let sku = input.sku.as_deref().and_then(|s| v.check(sku("sku", s)));
        let name = input
            .name
            .as_deref()
            .and_then(|s| v.check(bounded_text("name", s, NAME_MAX)));
        let unit = input
            .unit
            .as_deref()
            .and_then(|s| v.check(bounded_text("unit", s, UNIT_MAX)));
        let category = v.check(optional_text(
            "category",
            input.category.as_deref(),
            SHORT_TEXT_MAX,
        ));
        let list_price = input
            .list_price
            .and_then(|p| v.check(price("list_price", p)));
        let cost = match input.cost {
            Some(c) => v.check(price("cost", c)).map(Some),
            None => Some(None),
        };
        let tax = input.tax_rate.and_then(|t| v.check(percent("tax_rate", t)));
        let reorder = match input.reorder_point {
            Some(r) => v.check(quantity_or_zero("reorder_point", r)).map(Some),
            None => Some(None),
        };
        v.finish()?;
        match (sku, name, unit, category, list_price, cost, tax, reorder) {
            (
                Some(sku),
                Some(name),
                Some(unit),
                Some(category),
                Some(list_price_e4),
                Some(cost_e4),
                Some(tax_rate_bp),
                Some(reorder_point_milli),
            ) => Ok(Self {
                sku,
                name,
                unit,
                category,
                list_price_e4,
                cost_e4,
                tax_rate_bp,
                reorder_point_milli,
                active: input.active.unwrap_or(true),
            }),
            _ => Err(DomainError::Validation(vec![])),
        }
    }
}

/// A product as stored and sent. `cost` is for managers and admins: see
/// [`ProductRecord::for_viewer`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ProductView))]
pub struct ProductRecord {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub unit: String,
    pub category: Option<String>,
    pub list_price: Price,
    /// Managers and admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<Price>,
    pub tax_rate: Percent,
    pub reorder_point: Option<Quantity>,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ProductRecord {
    /// The product as `viewer` may see it: without its cost for a rep.
    pub fn for_viewer(mut self, viewer: &Principal) -> Self {
        if !viewer.may_see_cost() {
            self.cost = None;
        }
        self
    }

    /// The product's validated attributes, to apply a change to.
    pub fn product(&self) -> Product {
        Product {
            sku: self.sku.clone(),
            name: self.name.clone(),
            unit: self.unit.clone(),
            category: self.category.clone(),
            list_price_e4: self.list_price.0,
            cost_e4: self.cost.map(|c| c.0),
            tax_rate_bp: self.tax_rate.0,
            reorder_point_milli: self.reorder_point.map(|r| r.0),
            active: self.active,
        }
    }
}

/// A warehouse as stored and sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = WarehouseView))]
pub struct WarehouseRecord {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A change to a product: only the fields sent change; `cost`, `category` and
/// `reorder_point` cannot be cleared, only replaced.
#[derive(Debug, Clone, Default)]
pub struct ProductPatch {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub unit: Option<String>,
    pub category: Option<String>,
    pub list_price: Option<Decimal>,
    pub cost: Option<Decimal>,
    pub tax_rate: Option<Decimal>,
    pub reorder_point: Option<Decimal>,
    pub active: Option<bool>,
}

impl Product {
    /// Applies a change, validating the fields it touches.
    pub fn apply(mut self, patch: ProductPatch) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        if let Some(s) = patch.sku.as_deref().and_then(|s| v.check(sku("sku", s))) {
            self.sku = s;
        }
        if let Some(n) = patch
            .name
            .as_deref()
            .and_then(|n| v.check(bounded_text("name", n, NAME_MAX)))
        {
            self.name = n;
        }
        if let Some(u) = patch
            .unit
            .as_deref()
            .and_then(|u| v.check(bounded_text("unit", u, UNIT_MAX)))
        {
            self.unit = u;
        }
        v.patch(&mut self.category, patch.category.as_deref(), |c| {
            optional_text("category", Some(c), SHORT_TEXT_MAX)
        });
        if let Some(x) = patch
            .list_price
            .and_then(|x| v.check(price("list_price", x)))
        {
            self.list_price_e4 = x;
        }
        if let Some(x) = patch.cost.and_then(|x| v.check(price("cost", x))) {
            self.cost_e4 = Some(x);
        }
        if let Some(x) = patch.tax_rate.and_then(|x| v.check(percent("tax_rate", x))) {
            self.tax_rate_bp = x;
        }
        if let Some(x) = patch
            .reorder_point
            .and_then(|x| v.check(quantity_or_zero("reorder_point", x)))
        {
            self.reorder_point_milli = Some(x);
        }
        if let Some(a) = patch.active {
            self.active = a;
        }
        v.finish()?;
        Ok(self)
    }
}

/// A warehouse's code and name, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warehouse {
    pub code: String,
    pub name: String,
}

impl Warehouse {
    /// Validates a code (the characters of a SKU) and a name.
    pub fn new(code: &str, name: &str) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        let code = v.check(sku("code", code));
        let name = v.check(bounded_text("name", name, NAME_MAX));
        v.finish()?;
        Ok(Self {
            code: code.unwrap_or_default(),
            name: name.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn values_scale_exactly() {
        assert_eq!(quantity("q", d("2.5")), Ok(2500));
        assert_eq!(quantity("q", d("0.001")), Ok(1));
        assert_eq!(
            quantity("q", d("1.0005")).map_err(|e| e.code),
            Err("too_precise".into())
        );
        assert_eq!(
            quantity("q", d("0")).map_err(|e| e.code),
            Err("out_of_range".into())
        );
        assert_eq!(
            quantity("q", d("-1")).map_err(|e| e.code),
            Err("out_of_range".into())
        );
        assert_eq!(quantity_change("q", d("-1.5")), Ok(-1500));
        assert_eq!(price("p", d("12.3456")), Ok(123_456));
        assert_eq!(
            price("p", d("0.00001")).map_err(|e| e.code),
            Err("too_precise".into())
        );
        assert_eq!(percent("t", d("13")), Ok(1300));
        assert_eq!(
            percent("t", d("100.01")).map_err(|e| e.code),
            Err("out_of_range".into())
        );
        assert_eq!(quantity_decimal(2500).to_string(), "2.5");
        assert_eq!(price_decimal(125_000).to_string(), "12.50");
        assert_eq!(price_decimal(123_456).to_string(), "12.3456");
        assert_eq!(percent_decimal(1300).to_string(), "13");
        assert_eq!(
            price("p", d("100000000000000")).map_err(|e| e.code),
            Err("out_of_range".into())
        );
    }

    #[test]
    fn products_validate() {
        let ok = Product::create(ProductInput {
            sku: Some("SKU-001".into()),
            name: Some("螺丝 M6".into()),
            unit: Some("盒".into()),
            list_price: Some(d("12.5")),
            tax_rate: Some(d("13")),
            ..Default::default()
        });
        assert!(
            ok.as_ref()
                .is_ok_and(|p| p.list_price_e4 == 125_000 && p.tax_rate_bp == 1300 && p.active)
        );
        match Product::create(ProductInput {
            sku: Some("bad sku!".into()),
            ..Default::default()
        }) {
            Err(DomainError::Validation(v)) => {
                let fields: Vec<_> = v.iter().map(|f| f.field.as_str()).collect();
                assert_eq!(
                    fields,
                    vec!["name", "unit", "list_price", "tax_rate", "sku"]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn patches_touch_only_what_they_name() {
        let p = Product::create(ProductInput {
            sku: Some("SKU-001".into()),
            name: Some("螺丝".into()),
            unit: Some("盒".into()),
            list_price: Some(d("12.5")),
            tax_rate: Some(d("13")),
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("{e:?}"));
        let changed = p.clone().apply(ProductPatch {
            cost: Some(d("8.2")),
            active: Some(false),
            ..Default::default()
        });
        assert_eq!(
            changed.map(|c| (c.cost_e4, c.active, c.list_price_e4)),
            Ok((Some(82_000), false, 125_000))
        );
        match p.apply(ProductPatch {
            sku: Some("no spaces".into()),
            tax_rate: Some(d("101")),
            ..Default::default()
        }) {
            Err(DomainError::Validation(v)) => assert_eq!(
                v.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(),
                vec!["sku", "tax_rate"]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn warehouses_validate() {
        assert!(Warehouse::new("HZ-01", "杭州一号仓").is_ok());
        assert!(
            matches!(Warehouse::new("HZ 01", ""), Err(DomainError::Validation(v)) if v.len() == 2)
        );
    }
}
