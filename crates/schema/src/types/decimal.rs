//! The `Decimal` scalar: an amount of yuan, exact, written as a JSON string.

use std::fmt;

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use concord_domain::Fee;

use crate::error::ApiError;

/// An exact decimal number: `units` × 10^−`scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    units: i64,
    scale: u32,
}

impl From<Fee> for Decimal {
    fn from(fee: Fee) -> Self {
        Decimal {
            units: fee.fen(),
            scale: 2,
        }
    }
}

impl Decimal {
    /// Halfway between two fees, exactly: whole fen when their sum is
    /// even, else half a fen more, which takes a third decimal.
    pub fn midpoint(a: Fee, b: Fee) -> Self {
        let sum = a.fen() + b.fen();
        if sum % 2 == 0 {
            Decimal {
                units: sum / 2,
                scale: 2,
            }
        } else {
            Decimal {
                units: sum * 5,
                scale: 3,
            }
        }
    }

    /// The fee this amount is; every `Decimal` a client sends parsed as one.
    pub fn fee(self) -> Result<Fee, String> {
        if self.scale == 2 {
            Fee::from_fen(self.units)
        } else {
            Err(format!("{self} is not a whole number of fen"))
        }
    }
}

/// A stored amount in fen as a `Decimal`: one no fee can have is a storage
/// fault, never shown as if it were a fee.
pub(crate) fn stored_fee(fen: i64) -> Result<Decimal, ApiError> {
    Fee::from_fen(fen)
        .map(Decimal::from)
        .map_err(|e| ApiError::Internal(e.into()))
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = 10u64.pow(self.scale);
        let size = self.units.unsigned_abs();
        let sign = if self.units < 0 { "-" } else { "" };
        let (whole, fraction) = (size / unit, size % unit);
        let width = self.scale as usize;
        write!(f, "{sign}{whole}.{fraction:0width$}")
    }
}

/// An exact decimal number written as a JSON string, such as `"12.50"`:
/// amounts of yuan, so that 0.10 stays 0.10. A fee always comes out with
/// exactly two decimals (`"0.00"`, `"12.50"`); only a median of fees, which
/// can fall halfway between two fen, may carry a third (`"12.505"`). As
/// input it takes a fee: digits with no leading zero, then optionally a
/// point and one or two decimals (`"0"`, `"20"`, `"12.5"`, `"12.50"`), at
/// most 1000000. No sign, exponent, spaces or JSON number.
#[Scalar(name = "Decimal")]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(text) => Fee::parse_yuan(&text)
                .map(Decimal::from)
                .map_err(InputValueError::custom),
            // A JSON number is refused, not read: async-graphql hands it
            // over as a binary float, whose literal text is already lost,
            // so `12.345` or `0.1` could not be told apart from what the
            // client meant. Only a string carries the digits as written.
            Value::Number(number) => Err(InputValueError::custom(format!(
                "a Decimal is written as a string, e.g. \"12.50\", not as the number {number}"
            ))),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fee(text: &str) -> Fee {
        Fee::parse_yuan(text).unwrap()
    }

    fn parse(value: Value) -> Result<Decimal, String> {
        <Decimal as ScalarType>::parse(value)
            .map_err(|e| e.into_server_error(Default::default()).message)
    }

    fn string(text: &str) -> Value {
        Value::String(text.to_owned())
    }

    #[test]
    fn strings_round_trip_with_two_decimals() {
        for (input, output) in [
            ("0", "0.00"),
            ("20", "20.00"),
            ("12.5", "12.50"),
            ("12.50", "12.50"),
            ("0.10", "0.10"),
            ("0.1", "0.10"),
            ("1000000", "1000000.00"),
        ] {
            let decimal = parse(string(input)).unwrap();
            assert_eq!(decimal.to_value(), string(output), "{input}");
            assert_eq!(parse(decimal.to_value()), Ok(decimal), "{input}");
        }
    }

    #[test]
    fn a_fee_comes_back_as_the_fee_sent() {
        let sent = parse(string("0.10")).unwrap().fee().unwrap();
        assert_eq!(sent.fen(), 10);
        // Summed in fen, 0.1 + 0.2 is 0.3 exactly, as it never is in f64.
        let sum = Fee::from_fen(fee("0.1").fen() + fee("0.2").fen()).unwrap();
        assert_eq!(Decimal::from(sum).to_string(), "0.30");
    }

    #[test]
    fn refuses_what_is_not_a_fee() {
        for (bad, why) in [
            ("12.345", "at most two decimals"),
            ("12.", "followed by one or two digits"),
            (".5", "start with a digit"),
            ("-1", "only digits"),
            ("+1", "only digits"),
            ("1e3", "only digits"),
            (" 12", "only digits"),
            ("12 ", "only digits"),
            ("12\0", "only digits"),
            ("", "start with a digit"),
            ("1000000.01", "between 0 and 1000000 yuan"),
            ("99999999999999999999", "between 0 and 1000000 yuan"),
        ] {
            let message = parse(string(bad)).unwrap_err();
            assert!(message.contains(why), "{bad:?}: {message}");
        }
    }

    #[test]
    fn refuses_numbers_saying_to_send_a_string() {
        for number in [Value::from(12.5), Value::from(0), Value::from(0.1 + 0.2)] {
            let message = parse(number).unwrap_err();
            assert!(message.contains("written as a string"), "{message}");
        }
        assert!(parse(Value::Boolean(true)).is_err());
        assert!(parse(Value::Null).is_err());
    }

    #[test]
    fn a_midpoint_is_exact() {
        assert_eq!(Decimal::midpoint(fee("10"), fee("20")).to_string(), "15.00");
        assert_eq!(
            Decimal::midpoint(fee("0.01"), fee("0.02")).to_string(),
            "0.015"
        );
        assert_eq!(
            Decimal::midpoint(fee("0"), fee("0.01")).to_string(),
            "0.005"
        );
        assert_eq!(
            Decimal::midpoint(fee("12.5"), fee("12.5")).to_string(),
            "12.50"
        );
        assert!(Decimal::midpoint(fee("0"), fee("0.01")).fee().is_err());
    }
}
