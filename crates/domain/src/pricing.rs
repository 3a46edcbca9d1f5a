//! Line arithmetic in stored units: every amount rounded half away from zero to two
//! decimals, step by step, and totals summed from the rounded lines.

use rust_decimal::Decimal;

use crate::money::round_amount;

/// A line's inputs in stored units: quantity in thousandths, unit price in
/// ten-thousandths, discount and tax in basis points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineInput {
    pub quantity_milli: i64,
    pub unit_price_e4: i64,
    pub discount_bp: i64,
    pub tax_bp: i64,
}

/// A line's amounts in minor units, each rounded half away from zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineAmounts {
    pub gross: i64,
    pub discount: i64,
    pub net: i64,
    pub tax: i64,
    pub total: i64,
}

fn minor(d: Decimal) -> Option<i64> {
    let r = round_amount(d);
    i64::try_from((r * Decimal::ONE_HUNDRED).trunc()).ok()
}

/// `gross = round(quantity × unit_price)`, `discount = round(gross × discount% / 100)`,
/// `net = gross − discount`, `tax = round(net × tax% / 100)`, `total = net + tax`.
/// `None` when an amount overflows.
pub fn price_line(l: LineInput) -> Option<LineAmounts> {
    let q = Decimal::new(l.quantity_milli, 3);
    let p = Decimal::new(l.unit_price_e4, 4);
    let gross_d = round_amount(q.checked_mul(p)?);
    let discount_d = round_amount(
        gross_d
            .checked_mul(Decimal::new(l.discount_bp, 2))?
            .checked_div(Decimal::ONE_HUNDRED)?,
    );
    let net_d = gross_d - discount_d;
    let tax_d = round_amount(
        net_d
            .checked_mul(Decimal::new(l.tax_bp, 2))?
            .checked_div(Decimal::ONE_HUNDRED)?,
    );
    let (gross, discount, net, tax) = (
        minor(gross_d)?,
        minor(discount_d)?,
        minor(net_d)?,
        minor(tax_d)?,
    );
    Some(LineAmounts {
        gross,
        discount,
        net,
        tax,
        total: net.checked_add(tax)?,
    })
}

/// Order totals: sums of the rounded lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    /// Σ net.
    pub subtotal: i64,
    pub discount_total: i64,
    pub tax_total: i64,
    /// subtotal + tax_total.
    pub total: i64,
}

/// Sums line amounts; `None` on overflow.
pub fn totals(lines: &[LineAmounts]) -> Option<Totals> {
    let mut t = Totals::default();
    for l in lines {
        t.subtotal = t.subtotal.checked_add(l.net)?;
        t.discount_total = t.discount_total.checked_add(l.discount)?;
        t.tax_total = t.tax_total.checked_add(l.tax)?;
    }
    t.total = t.subtotal.checked_add(t.tax_total)?;
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(q: i64, p: i64, d: i64, t: i64) -> LineAmounts {
        price_line(LineInput {
            quantity_milli: q,
            unit_price_e4: p,
            discount_bp: d,
            tax_bp: t,
        })
        .unwrap_or_default()
    }

    #[test]
    fn line_arithmetic_rounds_each_step_half_away_from_zero() {
        // 3 × 0.335 = 1.005 → 1.01 (a float gives 1.00499… → 1.00).
        assert_eq!(line(3000, 3350, 0, 0).gross, 101);
        // 2.5 kg × 12.3456 = 30.864 → 30.86; 10% off → 3.086 → 3.09; net 27.77; 13% tax → 3.6101 → 3.61.
        assert_eq!(
            line(2500, 123_456, 1000, 1300),
            LineAmounts {
                gross: 3086,
                discount: 309,
                net: 2777,
                tax: 361,
                total: 3138
            }
        );
        // 100% discount: nothing to pay, no tax.
        assert_eq!(
            line(1000, 50_000, 10_000, 1300),
            LineAmounts {
                gross: 500,
                discount: 500,
                net: 0,
                tax: 0,
                total: 0
            }
        );
        // 0.1 + 0.2 worth of lines sum to exactly 0.30.
        let t = totals(&[line(1000, 1000, 0, 0), line(1000, 2000, 0, 0)]).unwrap_or_default();
        assert_eq!(t.total, 30);
        // Totals are sums of rounded lines, with several tax rates.
        let t =
            totals(&[line(1000, 10_050, 0, 1300), line(1000, 10_050, 0, 600)]).unwrap_or_default();
        assert_eq!((t.subtotal, t.tax_total, t.total), (202, 13 + 6, 221));
    }
}
