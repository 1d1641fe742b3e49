//! Money in integer minor units (cents, satang) with an ISO 4217 currency. No floats anywhere:
//! a price is what the menu says, to the last minor unit.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ISO 4217 currency that has minor units (so not gold, test codes or funds).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

/// The error for a currency code that is not an ISO 4217 currency we can price in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an ISO 4217 currency code such as USD, EUR or THB")]
pub struct InvalidCurrency;

impl Currency {
    /// The three-letter code, e.g. `THB`.
    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// How many decimal places the minor unit has (2 for USD, 0 for JPY, 3 for KWD).
    pub fn exponent(&self) -> u32 {
        // Construction guarantees an exponent; 2 is the only sensible fallback.
        self.0.exponent().map_or(2, u32::from)
    }

    /// The currency's symbol, e.g. `$` or `฿`.
    pub fn symbol(&self) -> String {
        self.0.symbol().to_string()
    }
}

impl FromStr for Currency {
    type Err = InvalidCurrency;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        let currency = iso_currency::Currency::from_code(code).ok_or(InvalidCurrency)?;
        if currency.exponent().is_none() || currency.is_fund() || currency.is_special() {
            return Err(InvalidCurrency);
        }
        Ok(Self(currency))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        code.parse().map_err(serde::de::Error::custom)
    }
}

/// An amount of money: integer minor units of one currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Money {
    /// The amount in minor units (1250 is 12.50 USD).
    pub minor: i64,
    /// The currency of the amount.
    pub currency: Currency,
}

/// Arithmetic on money that overflowed or mixed currencies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Two amounts of different currencies were combined.
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
    /// The result does not fit in 64 bits of minor units.
    #[error("amount out of range")]
    Overflow,
}

impl Money {
    /// An amount of `minor` units of `currency`.
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Self { minor: 0, currency }
    }

    /// The sum, refusing other currencies and overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    /// The amount times a quantity, refusing overflow.
    pub fn checked_mul(self, quantity: i64) -> Result<Money, MoneyError> {
        let minor = self
            .minor
            .checked_mul(quantity)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }
}

impl fmt::Display for Money {
    /// Formats with the currency's own number of decimals, e.g. `12.50 USD`, `1500 JPY`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exponent = self.currency.exponent();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exponent == 0 {
            return write!(f, "{sign}{abs} {}", self.currency);
        }
        let scale = 10u64.pow(exponent);
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            abs / scale,
            abs % scale,
            self.currency,
            width = exponent as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        "USD".parse().unwrap()
    }

    #[test]
    fn currencies_parse_from_their_iso_code_only() {
        assert_eq!(usd().code(), "USD");
        assert_eq!("THB".parse::<Currency>().unwrap().exponent(), 2);
        assert_eq!("JPY".parse::<Currency>().unwrap().exponent(), 0);
        assert_eq!("KWD".parse::<Currency>().unwrap().exponent(), 3);
        for bad in ["", "usd", "US", "USDX", "XAU", "XXX", "ZZZ"] {
            assert!(bad.parse::<Currency>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn money_formats_with_the_currency_decimals() {
        assert_eq!(Money::new(1250, usd()).to_string(), "12.50 USD");
        assert_eq!(Money::new(-5, usd()).to_string(), "-0.05 USD");
        assert_eq!(
            Money::new(1500, "JPY".parse().unwrap()).to_string(),
            "1500 JPY"
        );
        assert_eq!(
            Money::new(1234, "KWD".parse().unwrap()).to_string(),
            "1.234 KWD"
        );
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies_and_overflow() {
        let a = Money::new(100, usd());
        let thb = Money::new(100, "THB".parse().unwrap());
        assert_eq!(a.checked_add(a).unwrap().minor, 200);
        assert!(matches!(
            a.checked_add(thb),
            Err(MoneyError::CurrencyMismatch(..))
        ));
        assert_eq!(
            Money::new(i64::MAX, usd()).checked_add(a),
            Err(MoneyError::Overflow)
        );
        assert_eq!(a.checked_mul(3).unwrap().minor, 300);
        assert_eq!(
            Money::new(i64::MAX, usd()).checked_mul(2),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn money_serializes_as_minor_units_and_code() {
        let json = serde_json::to_value(Money::new(1250, usd())).unwrap();
        assert_eq!(json, serde_json::json!({"minor": 1250, "currency": "USD"}));
        let back: Money = serde_json::from_value(json).unwrap();
        assert_eq!(back, Money::new(1250, usd()));
        assert!(
            serde_json::from_value::<Money>(serde_json::json!({"minor": 1, "currency": "NOPE"}))
                .is_err()
        );
    }
}
