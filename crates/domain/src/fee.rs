//! Fees are counted in fen (0.01 yuan) so that sums and comparisons are exact.

use std::fmt;

/// A non-negative fee in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fee(i64);

/// The largest fee a guide may state: one million yuan, far above any real
/// public-service charge, so a slip of the keyboard is caught.
const MAX_FEN: i64 = 100_000_000;

impl Fee {
    pub const FREE: Fee = Fee(0);

    pub fn from_fen(fen: i64) -> Result<Self, String> {
        if (0..=MAX_FEN).contains(&fen) {
            Ok(Self(fen))
        } else {
            Err(format!(
                "a fee must be between 0 and {} yuan",
                MAX_FEN / 100
            ))
        }
    }

    /// Parses a yuan amount such as `0`, `20` or `12.50`.
    pub fn parse_yuan(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || whole.len() > 9
            || !digits(whole)
            || fraction.len() > 2
            || !digits(fraction)
        {
            return Err(format!(
                "`{text}` is not an amount in yuan with at most two decimals (e.g. `0` or `12.50`)"
            ));
        }
        let whole: i64 = whole
            .parse()
            .map_err(|_| format!("`{text}` is too large"))?;
        let fraction: i64 = format!("{fraction:0<2}").parse().unwrap_or(0);
        Self::from_fen(whole * 100 + fraction)
    }

    /// Converts an API amount in yuan, rounding to the nearest fen.
    pub fn from_yuan(yuan: f64) -> Result<Self, String> {
        if !yuan.is_finite() {
            return Err("a fee must be a finite number of yuan".to_owned());
        }
        Self::from_fen((yuan * 100.0).round() as i64)
    }

    pub fn fen(self) -> i64 {
        self.0
    }

    pub fn yuan(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl fmt::Display for Fee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_yuan_amounts() {
        assert_eq!(Fee::parse_yuan("0").unwrap().fen(), 0);
        assert_eq!(Fee::parse_yuan("20").unwrap().fen(), 2000);
        assert_eq!(Fee::parse_yuan("12.5").unwrap().fen(), 1250);
        assert_eq!(Fee::parse_yuan(" 12.05 ").unwrap().fen(), 1205);
        assert_eq!(Fee::parse_yuan("12.05").unwrap().to_string(), "12.05");
    }

    #[test]
    fn refuses_bad_amounts() {
        for bad in ["", "-1", "1.234", "abc", "1e3", ".5", "10000000000"] {
            assert!(Fee::parse_yuan(bad).is_err(), "{bad}");
        }
        assert!(Fee::from_yuan(f64::NAN).is_err());
        assert!(Fee::from_yuan(-0.5).is_err());
        assert_eq!(Fee::from_yuan(0.1 + 0.2).unwrap().fen(), 30);
    }

    proptest::proptest! {
        #[test]
        fn printed_fees_parse_back(fen in 0i64..=MAX_FEN) {
            let fee = Fee::from_fen(fen).unwrap();
            proptest::prop_assert_eq!(Fee::parse_yuan(&fee.to_string()).unwrap(), fee);
        }
    }
}
