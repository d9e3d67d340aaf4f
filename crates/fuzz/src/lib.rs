//! What Concord's fuzz targets share: their budget and seed from the
//! environment, the committed corpus each replays before it generates, and
//! near-valid mutations of text and of JSON ([`json`]).
//!
//! Test support only: crates list it under `[dev-dependencies]`, and it
//! depends on proptest and serde_json alone.

pub mod json;

use std::fmt::Debug;
use std::hash::{BuildHasher, RandomState};
use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed, TestCaseError, TestRunner};

/// How many times its default number of generated cases each target runs:
/// the targets differ a hundredfold in the cost of a case, so one factor
/// gives each a budget in proportion.
pub const SCALE_VAR: &str = "CONCORD_FUZZ_SCALE";
/// The seed of the generated cases (proptest's own variable); random when unset.
pub const SEED_VAR: &str = "PROPTEST_RNG_SEED";

fn from_env<T: std::str::FromStr>(name: &str) -> Option<T> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a whole number")),
    )
}

/// Runs `test` on `default_cases` times `CONCORD_FUZZ_SCALE` (else 1)
/// values of `strategy`, from the seed in `PROPTEST_RNG_SEED` (else a random
/// one), after replaying the failures saved in
/// `proptest-regressions/{target}.txt`. The seed is printed, so that a
/// failure can be run again (the cases before it are the same whatever the
/// budget); a failure saves its seed to that file, to be committed with the
/// fix.
pub fn run<S: Strategy>(
    target: &str,
    default_cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let scale: u32 = from_env(SCALE_VAR).unwrap_or(1);
    let cases = default_cases.saturating_mul(scale);
    let seed = from_env(SEED_VAR).unwrap_or_else(|| RandomState::new().hash_one(target));
    eprintln!("fuzz {target}: {cases} cases ({SCALE_VAR}={scale}), {SEED_VAR}={seed}");
    // The regressions file is named per target, relative to the package
    // (the tests' working directory); proptest wants it for the whole run.
    let regressions: &'static str =
        Box::leak(format!("proptest-regressions/{target}.txt").into_boxed_str());
    let mut runner = TestRunner::new(Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..Config::default()
    });
    if let Err(failure) = runner.run(&strategy, test) {
        panic!("fuzz {target} failed with {SEED_VAR}={seed}: {failure}");
    }
}

/// The files of a committed corpus directory, by name, each with its bytes.
/// A missing or empty directory is a broken checkout, not an empty corpus.
pub fn corpus(dir: impl AsRef<Path>) -> Vec<(String, Vec<u8>)> {
    let dir = dir.as_ref();
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot read the corpus {}: {error}", dir.display()));
    let mut files: Vec<(String, Vec<u8>)> = entries
        .map(|entry| {
            let path = entry.expect("a corpus entry").path();
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
            let name = path
                .file_name()
                .and_then(|name| name.to_str())
                .expect("corpus file names are UTF-8")
                .to_owned();
            (name, bytes)
        })
        .collect();
    assert!(!files.is_empty(), "the corpus {} is empty", dir.display());
    files.sort();
    files
}

/// Characters that trip parsers: controls, separators and quotes of CSV and
/// JSON, Unicode spaces and marks, a byte-order mark, digits and letters
/// that are not ASCII, a character outside the Basic Multilingual Plane.
pub const TRICKY: &[char] = &[
    '\0',
    '\t',
    '\n',
    '\r',
    '\u{7f}',
    ' ',
    '\u{a0}',
    '\u{3000}',
    '\u{200b}',
    '\u{feff}',
    '"',
    '\'',
    ',',
    ';',
    '.',
    '-',
    '+',
    '/',
    '\\',
    '{',
    '}',
    '[',
    ']',
    ':',
    '_',
    '$',
    '%',
    '#',
    'e',
    'E',
    '0',
    '9',
    'A',
    'Z',
    'a',
    'z',
    'é',
    '\u{301}',
    '字',
    '１',
    '٣',
    'Ⅻ',
    '😀',
    '\u{10ffff}',
];

/// Numbers where parsers and conversions go wrong: signs, exponents,
/// overflow of 32 and 64 bits, precision beyond `f64`, non-ASCII digits.
pub const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-1",
    "+1",
    "00",
    "1.",
    ".5",
    "0.005",
    "1e3",
    "1E-2",
    "1e400",
    "NaN",
    "inf",
    "0x10",
    "2147483647",
    "2147483648",
    "-2147483649",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999999999",
    "0.1000000000000000055511151231257827",
    "1000000.005",
    "１２",
];

/// A text to put into another: a tricky character (often NUL, which C
/// strings and PostgreSQL refuse), a run of one (now and then thousands
/// long: brackets that deep overflow a recursive parser), any character, a
/// few printable ASCII ones, or an odd number.
pub fn piece() -> impl Strategy<Value = String> {
    let run = prop_oneof![4 => 2..400usize, 1 => 400..10_000usize];
    prop_oneof![
        1 => Just("\0".to_owned()),
        3 => proptest::sample::select(TRICKY).prop_map(String::from),
        1 => (proptest::sample::select(TRICKY), run)
            .prop_map(|(c, n)| std::iter::repeat_n(c, n).collect()),
        2 => any::<char>().prop_map(String::from),
        2 => "[ -~]{1,6}",
        2 => proptest::sample::select(NUMBERS).prop_map(str::to_owned),
    ]
}

/// One change to a text. Positions count characters and wrap around the
/// text's length, so that any number is a position in any text.
#[derive(Debug, Clone)]
pub enum Edit {
    Insert(usize, String),
    Remove(usize, usize),
    Replace(usize, String),
    /// Repeats the characters between the two positions `n` times more.
    Repeat(usize, usize, usize),
    Truncate(usize),
}

/// A random [`Edit`].
pub fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), piece()).prop_map(|(at, text)| Edit::Insert(at, text)),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Remove(a, b)),
        3 => (any::<usize>(), piece()).prop_map(|(at, text)| Edit::Replace(at, text)),
        1 => (any::<usize>(), any::<usize>(), 1..4usize)
            .prop_map(|(a, b, n)| Edit::Repeat(a, b, n)),
        1 => any::<usize>().prop_map(Edit::Truncate),
    ]
}

/// `text` with `edits` applied in turn, on character boundaries.
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    // A position between characters, 0..=len.
    let at = |position: &usize, len: usize| position % (len + 1);
    for edit in edits {
        let len = chars.len();
        match edit {
            Edit::Insert(position, text) => {
                let at = at(position, len);
                chars.splice(at..at, text.chars());
            }
            Edit::Remove(a, b) => {
                let (a, b) = (at(a, len), at(b, len));
                chars.drain(a.min(b)..a.max(b));
            }
            Edit::Replace(position, text) if len > 0 => {
                let at = position % len;
                chars.splice(at..=at, text.chars());
            }
            Edit::Replace(_, text) => chars.extend(text.chars()),
            Edit::Repeat(a, b, times) => {
                let (a, b) = (at(a, len), at(b, len));
                let run: Vec<char> = chars[a.min(b)..a.max(b)].to_vec();
                let end = a.max(b);
                chars.splice(end..end, run.repeat(*times));
            }
            Edit::Truncate(position) => chars.truncate(at(position, len)),
        }
    }
    chars.into_iter().collect()
}

/// One of `seeds` with one to four edits: near-valid input, which reaches
/// further into a parser than random text does.
pub fn mutated<T: Clone + Debug + AsRef<str> + 'static>(
    seeds: Vec<T>,
) -> impl Strategy<Value = String> {
    (
        proptest::sample::select(seeds),
        proptest::collection::vec(edit(), 1..=4),
    )
        .prop_map(|(seed, edits)| apply(seed.as_ref(), &edits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_to_character_boundaries() {
        let text = "a字😀b";
        let edits = [
            Edit::Insert(1, "-".into()),
            Edit::Replace(2, "X".into()),
            Edit::Repeat(0, 2, 2),
        ];
        assert_eq!(apply(text, &edits[..1]), "a-字😀b");
        assert_eq!(apply(text, &edits[..2]), "a-X😀b");
        assert_eq!(apply(text, &edits), "a-a-a-X😀b");
        assert_eq!(apply(text, &[Edit::Truncate(2)]), "a字");
        assert_eq!(apply(text, &[Edit::Remove(7, 1)]), "a😀b");
        assert_eq!(apply("", &[Edit::Replace(3, "x".into())]), "x");
    }
}
