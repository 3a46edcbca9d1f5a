//! Money: exact decimal amounts in a currency, stored as integer minor units.

use rust_decimal::{Decimal, RoundingStrategy};

/// Decimal places an amount is rounded and rendered to.
pub const AMOUNT_SCALE: u32 = 2;

/// The grammar of every decimal a client sends (amounts, prices, quantities, percents):
/// an optional minus, up to 15 digits, and up to 10 decimals. No exponent, no `+`, no
/// separators, so that `"1e3"` or `"1_000"` is refused rather than guessed at.
pub const DECIMAL_PATTERN: &str = r"^-?[0-9]{1,15}(\.[0-9]{1,10})?$";
/// Longest decimal string [`DECIMAL_PATTERN`] admits.
pub const DECIMAL_TEXT_MAX: usize = 27;

/// Reads a decimal string that matches [`DECIMAL_PATTERN`]; anything else is `None`.
pub fn parse_decimal_text(s: &str) -> Option<Decimal> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |t: &str, max: usize| {
        !t.is_empty() && t.len() <= max && t.bytes().all(|b| b.is_ascii_digit())
    };
    if !all_digits(whole, 15) || fraction.is_some_and(|f| !all_digits(f, 10)) {
        return None;
    }
    s.parse().ok()
}

/// Rounds half away from zero to two decimals, the rule for every line amount.
pub fn round_amount(value: Decimal) -> Decimal {
    let mut v = value.round_dp_with_strategy(AMOUNT_SCALE, RoundingStrategy::MidpointAwayFromZero);
    v.rescale(AMOUNT_SCALE);
    v
}

/// Largest amount of money a client may send (10,000,000,000,000.00), so that report sums
/// stay far from overflow.
pub const AMOUNT_MAX: i64 = 10_000_000_000_000;

/// An amount the client sent (a decimal string) in minor units: at most two decimals,
/// not negative, at most [`AMOUNT_MAX`]; otherwise a violation on `field`.
pub fn amount_minor(field: &str, amount: Decimal) -> Result<i64, crate::error::FieldViolation> {
    if amount > Decimal::from(AMOUNT_MAX) {
        return Err(crate::error::FieldViolation::new(
            field,
            "out_of_range",
            format!("{field} must be at most {AMOUNT_MAX}"),
        ));
    }
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(crate::error::FieldViolation::new(
            field,
            "out_of_range",
            format!("{field} cannot be negative"),
        ));
    }
    Money::from_decimal(amount)
        .map(Money::minor)
        .ok_or_else(|| {
            crate::error::FieldViolation::new(
                field,
                "invalid_amount",
                format!("{field} must have at most two decimals and fit 18 digits"),
            )
        })
}

/// An exact amount of money, always held at two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money {
    minor: i64,
}

impl Money {
    /// Zero.
    pub const ZERO: Money = Money { minor: 0 };

    /// An amount from integer minor units (cents, 分).
    pub fn from_minor(minor: i64) -> Self {
        Self { minor }
    }

    /// An amount from a decimal with at most two decimal places that fits in i64 minor
    /// units; anything else is `None` (never silently rounded).
    pub fn from_decimal(value: Decimal) -> Option<Self> {
        let normalized = value.normalize();
        if normalized.scale() > AMOUNT_SCALE {
            return None;
        }
        let minor = value.checked_mul(Decimal::ONE_HUNDRED)?;
        i64::try_from(minor.trunc())
            .ok()
            .map(|minor| Self { minor })
    }

    /// The amount in minor units, as stored.
    pub fn minor(self) -> i64 {
        self.minor
    }

    /// The amount as a decimal with exactly two places.
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.minor, AMOUNT_SCALE)
    }

    /// Sum of two amounts, `None` on overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.minor.checked_add(other.minor).map(Money::from_minor)
    }
}

crate::decimal_string!(
    Money,
    "Money",
    "An exact amount as a decimal string with two places",
    "1234.50"
);

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_decimal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text_is_plain_digits_only() {
        for ok in ["0", "12.50", "-2.5", "999999999999999.0123456789"] {
            assert_eq!(
                parse_decimal_text(ok).map(|d| d.to_string()),
                Some(ok.to_owned()),
                "{ok}"
            );
        }
        for bad in [
            "",
            "-",
            ".5",
            "5.",
            "+5",
            "1e3",
            "1_000",
            " 5",
            "5 ",
            "1,5",
            "0x10",
            "1234567890123456",
            "1.12345678901",
            "NaN",
        ] {
            assert_eq!(parse_decimal_text(bad), None, "{bad:?}");
        }
    }
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(round_amount(d("2.675")).to_string(), "2.68");
        assert_eq!(round_amount(d("-2.675")).to_string(), "-2.68");
        assert_eq!(round_amount(d("5")).to_string(), "5.00");
        assert_eq!(round_amount(d("0.005")).to_string(), "0.01");
    }

    #[test]
    fn amounts_from_clients_are_checked() {
        assert_eq!(amount_minor("amount", d("1234.5")), Ok(123_450));
        assert_eq!(amount_minor("amount", d("0")), Ok(0));
        assert_eq!(
            amount_minor("amount", d("-0.01")).map_err(|e| e.code),
            Err("out_of_range".into())
        );
        assert_eq!(
            amount_minor("amount", d("0.001")).map_err(|e| e.code),
            Err("invalid_amount".into())
        );
    }

    #[test]
    fn money_is_exact() {
        let a = Money::from_decimal(d("0.10")).unwrap_or(Money::ZERO);
        let b = Money::from_decimal(d("0.20")).unwrap_or(Money::ZERO);
        assert_eq!(a.checked_add(b).map(|m| m.to_string()), Some("0.30".into()));
        let big = Money::from_decimal(d("99999999999999.99"));
        assert_eq!(big.map(|m| m.to_string()), Some("99999999999999.99".into()));
        assert_eq!(
            Money::from_decimal(d("1.005")),
            None,
            "never rounds silently"
        );
        assert_eq!(
            Money::from_decimal(d("1.500")).map(|m| m.minor()),
            Some(150)
        );
        assert_eq!(Money::ZERO.to_string(), "0.00");
    }
}
