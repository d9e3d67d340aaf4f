//! Fuzzing the edge parsers of the domain: the code grammar (regions, zones,
//! categories, matters, origins, standards) and fees. Each target replays the
//! committed corpus (`tests/corpus/`), then runs generated cases: arbitrary
//! text, text in the grammar's alphabet, valid codes from a generator that
//! follows the grammar as documented, and near-valid mutations of both.
//!
//! Whatever the input, a parser must not panic; what it accepts must print
//! back to the same text and parse to the same value; what it refuses must
//! say which input and why.
//!
//! `CONCORD_FUZZ_SCALE` multiplies the budget and `PROPTEST_RNG_SEED` sets
//! the seed (printed with `--nocapture`, and with any failure).

use std::fmt::{Debug, Display};

use concord_domain::codes::Issuer;
use concord_domain::{
    CategoryCode, CodeError, Fee, MatterCode, Origin, RegionCode, StandardCode, StandardLevel,
    ZoneCode,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// The first two digits of GB/T 2260's provincial-level divisions, written
/// out again from the standard as the oracle for region codes.
const PROVINCES: [&str; 34] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

fn corpus_codes() -> Vec<String> {
    serde_json::from_str(include_str!("corpus/codes.json")).expect("corpus/codes.json")
}

#[derive(serde::Deserialize)]
struct FeeCorpus {
    text: Vec<String>,
}

fn corpus_fees() -> FeeCorpus {
    serde_json::from_str(include_str!("corpus/fees.json")).expect("corpus/fees.json")
}

// ---------------------------------------------------------------------------
// Codes

/// A refusal names the kind of code and quotes the input, then says why.
fn says_why(error: &CodeError, kind: &str, raw: &str) -> Result<(), TestCaseError> {
    let message = error.to_string();
    let opening = format!("{kind} code `{raw}`");
    prop_assert!(
        message.starts_with(&opening) && message.len() > opening.len() + 10,
        "{kind} refused {raw:?} with {message:?}"
    );
    Ok(())
}

/// Parses `raw` as a `T`: an accepted code is the input itself, prints back
/// to it and parses again to an equal code; a refused one says why.
fn round_trip<T>(kind: &str, raw: &str) -> Result<Option<T>, TestCaseError>
where
    T: for<'s> TryFrom<&'s str, Error = CodeError> + Display + Debug + PartialEq + Clone,
    String: From<T>,
{
    match T::try_from(raw) {
        Ok(code) => {
            let printed = code.to_string();
            prop_assert_eq!(&printed, raw, "{} accepted and changed it", kind);
            prop_assert_eq!(T::try_from(printed.as_str()), Ok(code.clone()));
            prop_assert_eq!(String::from(code.clone()), raw);
            Ok(Some(code))
        }
        Err(error) => {
            says_why(&error, kind, raw)?;
            Ok(None)
        }
    }
}

fn is_upper_snake(raw: &str) -> bool {
    (2..=40).contains(&raw.len())
        && raw.starts_with(|c: char| c.is_ascii_uppercase())
        && raw
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Every parser of the grammar on one input.
fn check_code(raw: &str) -> Result<(), TestCaseError> {
    let region = round_trip::<RegionCode>("region", raw)?;
    let six_digits = raw.len() == 6 && raw.bytes().all(|b| b.is_ascii_digit());
    let expected = six_digits && PROVINCES.contains(&&raw[..2]);
    prop_assert_eq!(region.is_some(), expected, "region code {:?}", raw);
    if let Some(region) = &region {
        let province = region.province();
        prop_assert_eq!(&province.as_str()[..2], &raw[..2]);
        prop_assert!(province.as_str().ends_with("0000"));
        prop_assert_eq!(
            RegionCode::try_from(province.as_str()),
            Ok(province.clone())
        );
    }

    match Origin::try_from(raw) {
        Ok(Origin::National) => prop_assert_eq!(raw, Origin::NATIONAL_CODE),
        Ok(Origin::Region(code)) => prop_assert_eq!(Some(code), region),
        Err(error) => {
            prop_assert!(region.is_none() && raw != Origin::NATIONAL_CODE);
            says_why(&error, "region", raw)?;
        }
    }

    let zone = round_trip::<ZoneCode>("zone", raw)?;
    let expected = (2..=8).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_uppercase());
    prop_assert_eq!(zone.is_some(), expected, "zone code {:?}", raw);
    let category = round_trip::<CategoryCode>("category", raw)?;
    prop_assert_eq!(
        category.is_some(),
        is_upper_snake(raw),
        "category {:?}",
        raw
    );
    let matter = round_trip::<MatterCode>("matter", raw)?;
    prop_assert_eq!(matter.is_some(), is_upper_snake(raw), "matter {:?}", raw);

    if let Some(code) = round_trip::<StandardCode>("standard", raw)? {
        check_standard(&code)?;
    }
    Ok(())
}

/// What an accepted standard code tells: an issuer that fits a level, a
/// year where the code is dated, a province where it is local.
fn check_standard(code: &StandardCode) -> Result<(), TestCaseError> {
    let raw = code.as_str();
    prop_assert!(raw.is_ascii(), "{raw:?}");
    let fitting = StandardLevel::ALL
        .iter()
        .filter(|level| code.fits_level(**level))
        .count();
    prop_assert!(fitting >= 1, "{raw:?} fits no level");
    match code.year() {
        Some(year) => {
            prop_assert!((1950..=2100).contains(&year) && raw.ends_with(&year.to_string()))
        }
        None => prop_assert!(!raw.contains('-'), "{raw:?} has a year that year() misses"),
    }
    let issuer = code.issuer();
    let province = code.local_province();
    match &issuer {
        Issuer::Local { division } => {
            let province = province.ok_or_else(|| TestCaseError::fail("no province"))?;
            prop_assert_eq!(&province.as_str()[..2], &division[..2]);
            let prefix = format!("DB{division}");
            prop_assert!(
                raw.starts_with(&prefix),
                "{raw:?} is not issued by {prefix}"
            );
        }
        _ => prop_assert!(province.is_none(), "{raw:?}: {issuer:?} has a province"),
    }
    Ok(())
}

/// Valid standard codes as the grammar documents them, each with the issuer
/// and year it must report.
fn standard_code() -> impl Strategy<Value = (String, Issuer, Option<u16>)> {
    let province = proptest::sample::select(PROVINCES.as_slice());
    let suffix = prop_oneof![Just(""), Just("/T")];
    let issuer = prop_oneof![
        prop_oneof![Just("GB"), Just("GB/T"), Just("GB/Z")]
            .prop_map(|head| (head.to_owned(), Issuer::National)),
        ("[A-Z]{2}", suffix.clone())
            .prop_filter("GB and DB are not sectors", |(sector, _)| {
                sector != "GB" && sector != "DB"
            })
            .prop_map(|(sector, suffix)| {
                let head = format!("{sector}{suffix}");
                (head.clone(), Issuer::Industry(head))
            }),
        (province, prop::option::of("[0-9]{2}"), suffix).prop_map(|(province, city, suffix)| {
            let division = format!("{province}{}", city.unwrap_or_default());
            (format!("DB{division}{suffix}"), Issuer::Local { division })
        }),
        "[A-Z0-9]{2,16}".prop_map(|body| (format!("T/{body}"), Issuer::Group(body))),
        "[A-Z0-9]{2,16}".prop_map(|body| (format!("Q/{body}"), Issuer::Internal(body))),
    ];
    (
        issuer,
        "[0-9]{1,8}",
        prop::option::of("[0-9]{1,3}"),
        prop::option::of(1950u16..=2100),
    )
        .prop_map(|((head, issuer), number, part, year)| {
            let part = part.map(|part| format!(".{part}")).unwrap_or_default();
            let dated = year.map(|year| format!("-{year}")).unwrap_or_default();
            (format!("{head} {number}{part}{dated}"), issuer, year)
        })
}

/// Valid codes of every kind.
fn valid_code() -> impl Strategy<Value = String> {
    prop_oneof![
        (proptest::sample::select(PROVINCES.as_slice()), "[0-9]{4}")
            .prop_map(|(province, rest)| format!("{province}{rest}")),
        "[A-Z]{2,8}",
        "[A-Z][A-Z0-9_-]{1,39}",
        standard_code().prop_map(|(code, _, _)| code),
    ]
}

#[test]
fn fuzz_codes_corpus() {
    for raw in corpus_codes() {
        if let Err(failure) = check_code(&raw) {
            panic!("corpus code {raw:?}: {failure}");
        }
    }
}

#[test]
fn fuzz_codes() {
    let seeds = corpus_codes();
    let input = prop_oneof![
        2 => any::<String>(),
        2 => "[A-Z0-9/ .\\-_]{0,24}",
        1 => valid_code(),
        4 => concord_fuzz::mutated(seeds),
        4 => valid_code().prop_flat_map(|code| concord_fuzz::mutated(vec![code])),
    ];
    concord_fuzz::run("codes", 5000, input, |raw| check_code(&raw));
}

#[test]
fn fuzz_valid_standard_codes() {
    concord_fuzz::run(
        "standard-codes",
        2000,
        standard_code(),
        |(raw, issuer, year)| {
            let code = StandardCode::try_from(raw.as_str())
                .map_err(|error| TestCaseError::fail(format!("{raw:?} refused: {error}")))?;
            prop_assert_eq!(code.issuer(), issuer);
            prop_assert_eq!(code.year(), year);
            check_code(&raw)
        },
    );
}

// ---------------------------------------------------------------------------
// Fees

/// The most a fee may be, in fen (one million yuan).
const MAX_FEN: i64 = 100_000_000;

/// `Fee::parse_yuan` on one input, against an oracle that shares no code
/// with it: an amount is a JSON number as serde_json reads one, with no
/// sign, exponent or surrounding space and at most two decimals, up to one
/// million yuan. An accepted amount is the number written, to the fen, and
/// prints with two decimals as something that parses back to it.
fn check_fee_text(text: &str) -> Result<(), TestCaseError> {
    let grammar = !text.contains(|c: char| c.is_whitespace() || "+-eE".contains(c))
        && serde_json::from_str::<serde_json::Number>(text).is_ok()
        && text
            .split_once('.')
            .is_none_or(|(_, fraction)| fraction.len() <= 2);
    // Eleven significant digits at most in range: f64 holds them exactly enough.
    let value = || text.parse::<f64>().expect("a decimal number");
    match Fee::parse_yuan(text) {
        Ok(fee) => {
            prop_assert!(grammar, "accepted {:?}", text);
            prop_assert_eq!(fee.fen(), (value() * 100.0).round() as i64, "{:?}", text);
            prop_assert!((0..=MAX_FEN).contains(&fee.fen()));
            let printed = fee.to_string();
            prop_assert_eq!(printed.split_once('.').map(|(_, f)| f.len()), Some(2));
            prop_assert_eq!(Fee::parse_yuan(&printed), Ok(fee));
        }
        Err(message) => {
            prop_assert!(!message.trim().is_empty(), "{text:?}");
            prop_assert!(
                !message.contains('\0'),
                "the message quotes a NUL: {message:?}"
            );
            prop_assert!(
                !grammar || value() > 1_000_000.0,
                "refused {text:?}: {message}"
            );
        }
    }
    Ok(())
}

#[test]
fn fuzz_fees_corpus() {
    for text in &corpus_fees().text {
        if let Err(failure) = check_fee_text(text) {
            panic!("corpus fee {text:?}: {failure}");
        }
    }
}

#[test]
fn fuzz_fee_texts() {
    let seeds = corpus_fees().text;
    let input = prop_oneof![
        any::<String>(),
        "[0-9 .+-]{0,14}",
        "[0-9]{1,10}(\\.[0-9]{0,3})?",
        concord_fuzz::mutated(seeds),
    ];
    concord_fuzz::run("fee-texts", 5000, input, |text| check_fee_text(&text));
}
