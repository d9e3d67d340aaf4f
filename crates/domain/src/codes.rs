//! Codes that identify catalogue rows. Each parses once at the edge and is
//! trusted afterwards; a parse error says what is wrong in words a person can act on.

use std::fmt;

use crate::enums::StandardLevel;

/// Why a code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CodeError(String);

impl CodeError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

macro_rules! string_code {
    ($name:ident) => {
        impl $name {
            /// The code as written in the catalogue.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = CodeError;
            fn try_from(value: String) -> Result<Self, CodeError> {
                Self::try_from(value.as_str())
            }
        }

        impl From<$name> for String {
            fn from(code: $name) -> String {
                code.0
            }
        }

        // Hashes and compares as its text, so maps keyed by codes are
        // looked up by `&str`.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
    };
}

/// First two digits of every provincial-level division in GB/T 2260.
const PROVINCE_PREFIXES: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// A GB/T 2260 administrative division code such as `330000` (Zhejiang).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);
string_code!(RegionCode);

impl RegionCode {
    /// The provincial-level division this code belongs to (`510800` → `510000`).
    pub fn province(&self) -> RegionCode {
        RegionCode(format!("{}0000", &self.0[..2]))
    }
}

impl TryFrom<&str> for RegionCode {
    type Error = CodeError;
    fn try_from(raw: &str) -> Result<Self, CodeError> {
        if raw.len() != 6 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::new(format!(
                "region code `{raw}` must be exactly 6 digits (GB/T 2260, e.g. `330000`)"
            )));
        }
        let bytes = raw.as_bytes();
        let prefix = (bytes[0] - b'0') * 10 + (bytes[1] - b'0');
        if !PROVINCE_PREFIXES.contains(&prefix) {
            return Err(CodeError::new(format!(
                "region code `{raw}` does not start with a provincial-level prefix of GB/T 2260"
            )));
        }
        Ok(Self(raw.to_owned()))
    }
}

/// A regional collaboration zone such as `YRD`: 2 to 8 capital letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ZoneCode(String);
string_code!(ZoneCode);

impl TryFrom<&str> for ZoneCode {
    type Error = CodeError;
    fn try_from(raw: &str) -> Result<Self, CodeError> {
        if (2..=8).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(CodeError::new(format!(
                "zone code `{raw}` must be 2 to 8 capital letters (e.g. `YRD`)"
            )))
        }
    }
}

fn upper_snake(kind: &str, raw: &str, example: &str) -> Result<(), CodeError> {
    let ok = (2..=40).contains(&raw.len())
        && raw.starts_with(|c: char| c.is_ascii_uppercase())
        && raw
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(CodeError::new(format!(
            "{kind} code `{raw}` must be 2 to 40 capital letters, digits, `_` or `-`, starting with a letter (e.g. `{example}`)"
        )))
    }
}

/// A service-area category such as `SOCIAL_INSURANCE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CategoryCode(String);
string_code!(CategoryCode);

impl TryFrom<&str> for CategoryCode {
    type Error = CodeError;
    fn try_from(raw: &str) -> Result<Self, CodeError> {
        upper_snake("category", raw, "SOCIAL_INSURANCE").map(|()| Self(raw.to_owned()))
    }
}

/// A service matter of the HR&SS matter list, such as `SI-PENSION-TRANSFER`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MatterCode(String);
string_code!(MatterCode);

impl TryFrom<&str> for MatterCode {
    type Error = CodeError;
    fn try_from(raw: &str) -> Result<Self, CodeError> {
        upper_snake("matter", raw, "SI-PENSION-TRANSFER").map(|()| Self(raw.to_owned()))
    }
}

/// Who may change a row: a region's authority, or the nation's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    National,
    Region(RegionCode),
}

impl Origin {
    /// How the nation is written where a region code is expected, as in
    /// national government data sets.
    pub const NATIONAL_CODE: &'static str = "100000";

    pub fn as_str(&self) -> &str {
        match self {
            Origin::National => Self::NATIONAL_CODE,
            Origin::Region(code) => code.as_str(),
        }
    }
}

impl TryFrom<&str> for Origin {
    type Error = CodeError;
    fn try_from(raw: &str) -> Result<Self, CodeError> {
        if raw == Self::NATIONAL_CODE {
            Ok(Origin::National)
        } else {
            RegionCode::try_from(raw).map(Origin::Region)
        }
    }
}

/// The issuer part of a standard code: what comes before the number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issuer {
    /// `GB` (mandatory), `GB/T` (recommended) or `GB/Z` (guidance).
    National,
    /// A sector prefix such as `LD/T` (human resources and social security).
    Industry(String),
    /// `DB` with a province (`DB33`) or city (`DB5108`) code.
    Local { division: String },
    /// `T/` and the issuing body (`T/CQTSHRA`).
    Group(String),
    /// `Q/` and the enterprise or agency.
    Internal(String),
}

/// A Chinese standard code such as `GB/T 33531-2017`, `DB5108/T 54-2024` or
/// `T/CQTSHRA 006-2024`. The year may be absent in an undated reference
/// (`GB/T 33527`), which cites whichever edition is current.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StandardCode(String);
string_code!(StandardCode);

const CODE_EXAMPLES: &str =
    "`GB/T 33531-2017`, `LD/T 01-2020`, `DB33/T 2030-2018` or `T/CQTSHRA 006-2024`";

impl StandardCode {
    /// The issuer, which the grammar has already checked.
    pub fn issuer(&self) -> Issuer {
        let head = self.0.split(' ').next().unwrap_or_default();
        let base = head.trim_end_matches("/T").trim_end_matches("/Z");
        if base == "GB" {
            Issuer::National
        } else if let Some(division) = base.strip_prefix("DB") {
            Issuer::Local {
                division: division.to_owned(),
            }
        } else if let Some(body) = head.strip_prefix("T/") {
            Issuer::Group(body.to_owned())
        } else if let Some(body) = head.strip_prefix("Q/") {
            Issuer::Internal(body.to_owned())
        } else {
            Issuer::Industry(head.to_owned())
        }
    }

    /// The year of the edition, when the code is dated.
    pub fn year(&self) -> Option<u16> {
        let (_, tail) = self.0.rsplit_once('-')?;
        tail.parse().ok()
    }

    /// The province whose `DB` prefix the code carries.
    pub fn local_province(&self) -> Option<RegionCode> {
        match self.issuer() {
            Issuer::Local { division } => RegionCode::try_from(format!("{division:0<6}"))
                .ok()
                .map(|code| code.province()),
            _ => None,
        }
    }

    /// The node that owns a standard of `level` with this code, and alone
    /// may change it: the province a local standard's code names; else the
    /// nation, for national, industry, group and internal standards, and
    /// for a zone's regional ones (a zone has no node of its own).
    pub fn owner(&self, level: StandardLevel) -> Origin {
        match (level, self.local_province()) {
            (StandardLevel::Local, Some(province)) => Origin::Region(province),
            _ => Origin::National,
        }
    }

    /// Whether a standard of `level` may carry this code: national standards
    /// are `GB`, industry standards a sector prefix, local and regional ones
    /// `DB`, group ones `T/`, internal ones `Q/`.
    pub fn fits_level(&self, level: StandardLevel) -> bool {
        matches!(
            (self.issuer(), level),
            (Issuer::National, StandardLevel::National)
                | (Issuer::Industry(_), StandardLevel::Industry)
                | (
                    Issuer::Local { .. },
                    StandardLevel::Local | StandardLevel::Regional
                )
                | (Issuer::Group(_), StandardLevel::Group)
                | (Issuer::Internal(_), StandardLevel::Internal)
        )
    }
}

fn malformed(raw: &str, why: &str) -> CodeError {
    CodeError::new(format!(
        "standard code `{raw}` is malformed: {why} (expected e.g. {CODE_EXAMPLES})"
    ))
}

fn check_issuer(raw: &str, head: &str) -> Result<(), CodeError> {
    let (base, suffix) = match head.split_once('/') {
        Some((base, rest)) if rest == "T" || rest == "Z" => (base, Some(rest)),
        Some(("T" | "Q", body)) => {
            let ok = (2..=16).contains(&body.len())
                && body
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            return if ok {
                Ok(())
            } else {
                Err(malformed(
                    raw,
                    &format!("the body in `{head}` must be 2 to 16 capital letters or digits"),
                ))
            };
        }
        Some(_) => {
            return Err(malformed(
                raw,
                &format!("`{head}` may only end in `/T` or `/Z`"),
            ));
        }
        None => (head, None),
    };
    if let Some(division) = base.strip_prefix("DB") {
        if !(division.len() == 2 || division.len() == 4)
            || !division.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(malformed(
                raw,
                &format!(
                    "`{base}` must be `DB` followed by a 2-digit province or 4-digit city code"
                ),
            ));
        }
        if RegionCode::try_from(format!("{division:0<6}").as_str()).is_err() {
            return Err(malformed(
                raw,
                &format!("`{division}` in `{base}` is not a GB/T 2260 division"),
            ));
        }
        return Ok(());
    }
    if base == "GB" {
        return Ok(());
    }
    let sector = base.len() == 2 && base.bytes().all(|b| b.is_ascii_uppercase());
    if sector && suffix != Some("Z") {
        Ok(())
    } else {
        Err(malformed(
            raw,
            &format!(
                "`{head}` is not a known prefix (GB, a two-letter sector such as LD, DB.., T/.., Q/..)"
            ),
        ))
    }
}

impl TryFrom<&str> for StandardCode {
    type Error = CodeError;
    fn try_from(raw: &str) -> Result<Self, CodeError> {
        let Some((head, number)) = raw.split_once(' ') else {
            return Err(malformed(
                raw,
                "a space must separate the prefix from the number",
            ));
        };
        check_issuer(raw, head)?;
        let (serial, year) = match number.split_once('-') {
            Some((serial, year)) => (serial, Some(year)),
            None => (number, None),
        };
        let (main, part) = match serial.split_once('.') {
            Some((main, part)) => (main, Some(part)),
            None => (serial, None),
        };
        let digits = |s: &str, max: usize| {
            !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(main, 8) {
            return Err(malformed(
                raw,
                &format!("the number `{main}` must be 1 to 8 digits"),
            ));
        }
        if let Some(part) = part
            && !digits(part, 3)
        {
            return Err(malformed(
                raw,
                &format!("the part `{part}` must be 1 to 3 digits"),
            ));
        }
        if let Some(year) = year {
            let valid = year.len() == 4
                && year
                    .parse::<u16>()
                    .is_ok_and(|y| (1950..=2100).contains(&y));
            if !valid {
                return Err(malformed(
                    raw,
                    &format!("the year `{year}` must be four digits between 1950 and 2100"),
                ));
            }
        }
        Ok(Self(raw.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes() {
        assert!(RegionCode::try_from("330000").is_ok());
        assert!(RegionCode::try_from("810000").is_ok());
        let short = RegionCode::try_from("33000").unwrap_err().to_string();
        assert!(short.contains("exactly 6 digits"), "{short}");
        assert!(RegionCode::try_from("33000a").is_err());
        let unknown = RegionCode::try_from("990000").unwrap_err().to_string();
        assert!(unknown.contains("prefix"), "{unknown}");
        assert_eq!(
            RegionCode::try_from("510800").unwrap().province().as_str(),
            "510000"
        );
    }

    #[test]
    fn zone_category_and_matter_codes() {
        assert!(ZoneCode::try_from("YRD").is_ok());
        assert!(ZoneCode::try_from("yrd").is_err());
        assert!(ZoneCode::try_from("Y").is_err());
        assert!(CategoryCode::try_from("SOCIAL_INSURANCE").is_ok());
        assert!(CategoryCode::try_from("social").is_err());
        assert!(MatterCode::try_from("SI-PENSION-TRANSFER").is_ok());
        assert!(MatterCode::try_from("1ABC").is_err());
        assert!(MatterCode::try_from("A B").is_err());
    }

    #[test]
    fn origins() {
        assert_eq!(Origin::try_from("100000").unwrap(), Origin::National);
        assert_eq!(Origin::try_from("330000").unwrap().as_str(), "330000");
        assert!(Origin::try_from("000000").is_err());
    }

    #[test]
    fn a_local_standard_belongs_to_the_province_its_code_names() {
        let local = StandardCode::try_from("DB5108/T 54-2024").unwrap();
        assert_eq!(
            local.owner(StandardLevel::Local),
            Origin::Region(RegionCode::try_from("510000").unwrap())
        );
        // A zone's regional standard carries a `DB` code too, but no node
        // of a province owns it.
        assert_eq!(local.owner(StandardLevel::Regional), Origin::National);
        let national = StandardCode::try_from("GB/T 33531-2017").unwrap();
        assert_eq!(national.owner(StandardLevel::National), Origin::National);
    }

    #[test]
    fn real_standard_codes_parse() {
        for code in [
            "GB/T 33531-2017",
            "GB/T 33527",
            "GB/T 31596.1-2015",
            "GB 2626-2019",
            "LD/T 01-2020",
            "DB33/T 2030-2018",
            "DB5108/T 54-2024",
            "DB31/T 310001-2020",
            "T/CQTSHRA 006-2024",
            "Q/HRSS 1-2023",
        ] {
            assert!(StandardCode::try_from(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn malformed_standard_codes_say_why() {
        let cases = [
            ("DB33T", "space"),
            ("DB33/X 1-2020", "may only end"),
            ("DB3/T 1-2020", "2-digit province"),
            ("DB99/T 1-2020", "not a GB/T 2260 division"),
            ("GB/T ABC-2017", "number"),
            ("GB/T 1.x-2017", "part"),
            ("GB/T 1-17", "year"),
            ("GB/T 1-2017-", "year"),
            ("XYZ/T 1-2017", "not a known prefix"),
            ("T/a 1-2020", "body"),
            ("", "space"),
        ];
        for (code, needle) in cases {
            let message = StandardCode::try_from(code).unwrap_err().to_string();
            assert!(message.contains(needle), "{code}: {message}");
        }
    }

    #[test]
    fn issuer_level_and_province() {
        let local = StandardCode::try_from("DB5108/T 54-2024").unwrap();
        assert_eq!(local.local_province().unwrap().as_str(), "510000");
        assert!(local.fits_level(StandardLevel::Local));
        assert!(!local.fits_level(StandardLevel::National));
        assert_eq!(local.year(), Some(2024));
        let national = StandardCode::try_from("GB/T 33527").unwrap();
        assert_eq!(national.year(), None);
        assert!(national.fits_level(StandardLevel::National));
        let industry = StandardCode::try_from("LD/T 01-2020").unwrap();
        assert_eq!(industry.issuer(), Issuer::Industry("LD/T".into()));
        assert!(industry.fits_level(StandardLevel::Industry));
        let group = StandardCode::try_from("T/CQTSHRA 006-2024").unwrap();
        assert!(group.fits_level(StandardLevel::Group));
        assert!(!group.fits_level(StandardLevel::Local));
    }
}
