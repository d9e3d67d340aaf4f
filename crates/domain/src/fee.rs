//! Fees are counted in fen (0.01 yuan) so that sums and comparisons are exact.

use std::fmt;

/// A non-negative fee in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fee(i64);

/// The largest fee a guide may state: one million yuan, far above any real
/// public-service charge, so a slip of the keyboard is caught.
const MAX_FEN: i64 = 100_000_000;

/// Digits before the point that can still be within [`MAX_FEN`]; a longer
/// number is refused before it is parsed, so it cannot overflow.
const MAX_WHOLE_DIGITS: usize = 7;

impl Fee {
    pub const FREE: Fee = Fee(0);

    /// A fee of whole yuan; any `u16` of them is within [`MAX_FEN`].
    pub fn whole_yuan(yuan: u16) -> Self {
        Self(i64::from(yuan) * 100)
    }

    pub fn from_fen(fen: i64) -> Result<Self, String> {
        if (0..=MAX_FEN).contains(&fen) {
            Ok(Self(fen))
        } else {
            Err(too_large())
        }
    }

    /// Parses an amount in yuan such as `0`, `20`, `12.5` or `12.50`: the
    /// one grammar of a fee wherever one comes in (the API's `Decimal`, a
    /// CSV cell, a JSON import). It is a JSON number's grammar without a
    /// sign, an exponent or more than two decimals: digits with no leading
    /// zero, then optionally a point and one or two digits. Nothing else is
    /// taken, not even surrounding spaces, so what is stored is exactly
    /// what was written.
    pub fn parse_yuan(text: &str) -> Result<Self, String> {
        // Quoted short: a refusal need not echo a megabyte back.
        let quoted = || {
            let mut quoted: String = text
                .chars()
                .take(24)
                .collect::<String>()
                .escape_debug()
                .to_string();
            if text.chars().nth(24).is_some() {
                quoted.push('…');
            }
            quoted
        };
        let bad = |why: &str| {
            Err(format!(
                "`{}` is not an amount in yuan: {why} (write e.g. `0`, `20` or `12.50`)",
                quoted()
            ))
        };
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || !fraction.is_none_or(digits) {
            return bad(
                "it may hold only digits and one point (no sign, exponent, space or separator)",
            );
        }
        if whole.is_empty() {
            return bad("it must start with a digit");
        }
        if whole.len() > 1 && whole.starts_with('0') {
            return bad("a leading zero is allowed only before the point");
        }
        let fraction = match fraction {
            None => "",
            Some("") => return bad("a point must be followed by one or two digits"),
            Some(fraction) if fraction.len() > 2 => {
                return bad("a fee has at most two decimals (whole fen)");
            }
            Some(fraction) => fraction,
        };
        if whole.len() > MAX_WHOLE_DIGITS {
            return bad(&too_large());
        }
        // Both parts are short runs of ASCII digits, so these cannot fail.
        let whole: i64 = whole.parse().map_err(|_| too_large())?;
        let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| too_large())?;
        Self::from_fen(whole * 100 + fraction).or_else(|why| bad(&why))
    }

    pub fn fen(self) -> i64 {
        self.0
    }
}

fn too_large() -> String {
    format!("a fee must be between 0 and {} yuan", MAX_FEN / 100)
}

/// Yuan with exactly two decimals (`12.50`, `0.00`), which
/// [`Fee::parse_yuan`] reads back to the same fee.
impl fmt::Display for Fee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fen(text: &str) -> i64 {
        Fee::parse_yuan(text).unwrap().fen()
    }

    #[test]
    fn parses_yuan_amounts() {
        assert_eq!(fen("0"), 0);
        assert_eq!(fen("0.0"), 0);
        assert_eq!(fen("20"), 2000);
        assert_eq!(fen("12.5"), 1250);
        assert_eq!(fen("12.50"), 1250);
        assert_eq!(fen("12.05"), 1205);
        assert_eq!(fen("0.10"), 10);
        assert_eq!(fen("1000000"), MAX_FEN);
        assert_eq!(fen("1000000.00"), MAX_FEN);
    }

    #[test]
    fn whole_yuan_are_fees_up_to_the_largest_u16() {
        assert_eq!(Fee::whole_yuan(0), Fee::FREE);
        assert_eq!(Fee::whole_yuan(20).fen(), fen("20"));
        let most = Fee::whole_yuan(u16::MAX).fen();
        assert_eq!(Fee::from_fen(most).unwrap().fen(), most);
    }

    #[test]
    fn prints_exactly_two_decimals() {
        assert_eq!(Fee::parse_yuan("0.1").unwrap().to_string(), "0.10");
        assert_eq!(Fee::parse_yuan("12.05").unwrap().to_string(), "12.05");
        assert_eq!(Fee::parse_yuan("20").unwrap().to_string(), "20.00");
        assert_eq!(Fee::FREE.to_string(), "0.00");
    }

    #[test]
    fn sums_of_tenths_are_exact() {
        // 0.1 + 0.2 is 0.30000000000000004 in binary floating point.
        let sum = fen("0.1") + fen("0.2");
        assert_eq!(Fee::from_fen(sum).unwrap(), Fee::parse_yuan("0.3").unwrap());
        let ten_dimes: i64 = (0..10).map(|_| fen("0.10")).sum();
        assert_eq!(Fee::from_fen(ten_dimes).unwrap().to_string(), "1.00");
    }

    #[test]
    fn refuses_bad_amounts_saying_why() {
        let only = "only digits and one point";
        for (bad, why) in [
            ("", "start with a digit"),
            (".5", "start with a digit"),
            ("12.", "followed by one or two digits"),
            ("1.234", "at most two decimals"),
            ("12.345", "at most two decimals"),
            ("012", "leading zero"),
            ("00.5", "leading zero"),
            ("-1", only),
            ("+1", only),
            ("-0", only),
            ("1e3", only),
            ("1E2", only),
            ("12.5e0", only),
            (" 12.05", only),
            ("12.05 ", only),
            ("12 ", only),
            ("\t1", only),
            ("1\0", only),
            ("12.5\0", only),
            ("12,50", only),
            ("12.5.0", only),
            ("1_000", only),
            ("０.5", only),
            ("１２", only),
            ("NaN", only),
            ("inf", only),
        ] {
            let message = Fee::parse_yuan(bad).unwrap_err();
            assert!(message.contains(why), "{bad:?}: {message}");
        }
    }

    #[test]
    fn quotes_a_long_refusal_short() {
        let long = "1".repeat(10_000) + "x";
        let message = Fee::parse_yuan(&long).unwrap_err();
        assert!(message.len() < 200, "{message}");
        assert!(message.contains("111…"), "{message}");
    }

    #[test]
    fn refuses_amounts_above_the_maximum() {
        for bad in [
            "1000000.01",
            "1000001",
            "10000000000",
            "99999999999999999999999",
        ] {
            let message = Fee::parse_yuan(bad).unwrap_err();
            assert!(
                message.contains("between 0 and 1000000 yuan"),
                "{bad}: {message}"
            );
        }
        assert!(Fee::from_fen(-1).is_err());
        assert!(Fee::from_fen(MAX_FEN + 1).is_err());
    }

    proptest::proptest! {
        #[test]
        fn printed_fees_parse_back(fen in 0i64..=MAX_FEN) {
            let fee = Fee::from_fen(fen).unwrap();
            proptest::prop_assert_eq!(Fee::parse_yuan(&fee.to_string()).unwrap(), fee);
        }
    }
}
