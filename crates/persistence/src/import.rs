//! `concord import FILE`: loading service matters, standards, service guides
//! and operating procedures from a CSV or JSON file (formats in
//! `docs/import.md`).
//!
//! A file is checked whole before anything is written, and every problem is
//! collected with the line and column where it was written: a file with any
//! problem loads nothing. [`parse`] does the checks that need only the text;
//! [`import_file`] adds the ones that need the database (do the codes a
//! record refers to exist?) and then applies every record in one
//! transaction through [`crate::write`].

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::hash::Hash;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::string::FromUtf8Error;

use chrono::{DateTime, NaiveDate, Utc};
use concord_domain::guide::MAX_STEPS;
use concord_domain::{
    CategoryCode, Channel, CodeError, Fee, GuideDraft, GuideStatus, MatterCode, NAME_MAX, NOTE_MAX,
    ProcedureStep, RegionCode, StandardCode, StandardLevel, StandardStatus, ZoneCode, check_issuer,
    optional_text, required_text, validate_steps,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::StoreError;
use crate::changes::Replica;
use crate::queries::{self, Visibility};
use crate::write::{self, GuideRecord, MatterRecord, Outcome, ProcedureRecord, StandardRecord};

/// What an import file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImportKind {
    Matters,
    Standards,
    Guides,
    Procedures,
}

impl ImportKind {
    /// Every kind, in the order a file's records are applied: each kind may
    /// refer to the ones before it.
    pub const ALL: [ImportKind; 4] = [
        ImportKind::Matters,
        ImportKind::Standards,
        ImportKind::Guides,
        ImportKind::Procedures,
    ];

    /// The kind's name, as in `--kind` and the keys of a JSON file.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Matters => "matters",
            ImportKind::Standards => "standards",
            ImportKind::Guides => "guides",
            ImportKind::Procedures => "procedures",
        }
    }

    /// The kind a file's name announces: `guides.csv`, or the kind followed
    /// by `-`, `_` or `.` and anything (`guides-330000.csv`).
    fn of_file(path: &Path) -> Option<ImportKind> {
        let stem = path.file_stem()?.to_str()?.to_ascii_lowercase();
        Self::ALL.into_iter().find(|kind| {
            stem.strip_prefix(kind.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', '_', '.']))
        })
    }
}

impl fmt::Display for ImportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a kind of import.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a kind of import: use matters, standards, guides or procedures")]
pub struct ParseKindError(String);

impl FromStr for ImportKind {
    type Err = ParseKindError;
    fn from_str(value: &str) -> Result<Self, ParseKindError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value)
            .ok_or_else(|| ParseKindError(value.to_owned()))
    }
}

/// How an import file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// UTF-8 CSV with a header row; one kind of record per file.
    Csv,
    /// A JSON object with any of the keys `matters`, `standards`, `guides`
    /// and `procedures`.
    Json,
}

impl Format {
    /// The format a file's extension announces: `.csv` or `.json`, in any case.
    pub fn of(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?;
        if extension.eq_ignore_ascii_case("csv") {
            Some(Format::Csv)
        } else if extension.eq_ignore_ascii_case("json") {
            Some(Format::Json)
        } else {
            None
        }
    }
}

/// One thing wrong with an import file, and where.
///
/// `line` is 1-based; in a CSV file line 1 is the header. `column` is the
/// CSV column's name, or in a JSON file the 1-based character column of the
/// offending value (whose path, such as `guides[2].timeLimitDays`, then opens
/// the message). It is empty when the problem concerns a whole line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column.is_empty() {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            write!(
                f,
                "line {}, column {}: {}",
                self.line, self.column, self.message
            )
        }
    }
}

/// Why an import loaded nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read `{}`", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is neither a .csv nor a .json file: import reads CSV (.csv) and JSON (.json)", .path.display())]
    UnsupportedFormat { path: PathBuf },
    #[error(
        "cannot tell what `{}` holds: name the file after its kind (matters.csv, standards.csv, guides.csv, procedures.csv, or e.g. guides-330000.csv) or pass --kind",
        .path.display()
    )]
    UnknownKind { path: PathBuf },
    #[error("{}", list_problems(.0))]
    Invalid(Vec<Problem>),
    #[error("the import failed in the database and was rolled back: nothing was loaded")]
    Store(#[from] StoreError),
}

fn list_problems(problems: &[Problem]) -> String {
    let count = match problems.len() {
        1 => "1 problem".to_owned(),
        n => format!("{n} problems"),
    };
    let mut text = format!("the file was refused, nothing was loaded ({count}):");
    for problem in problems {
        text.push('\n');
        text.push_str(&problem.to_string());
    }
    text
}

/// How many records of one kind an import inserted, updated and left unchanged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl Counts {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Inserted => self.inserted += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
        }
    }

    fn total(self) -> u64 {
        self.inserted + self.updated + self.unchanged
    }
}

/// What an import did, per kind of record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub matters: Counts,
    pub standards: Counts,
    pub guides: Counts,
    pub procedures: Counts,
}

impl ImportReport {
    /// The counts of one kind.
    pub fn counts(&self, kind: ImportKind) -> Counts {
        match kind {
            ImportKind::Matters => self.matters,
            ImportKind::Standards => self.standards,
            ImportKind::Guides => self.guides,
            ImportKind::Procedures => self.procedures,
        }
    }

    fn counts_mut(&mut self, kind: ImportKind) -> &mut Counts {
        match kind {
            ImportKind::Matters => &mut self.matters,
            ImportKind::Standards => &mut self.standards,
            ImportKind::Guides => &mut self.guides,
            ImportKind::Procedures => &mut self.procedures,
        }
    }
}

/// One line per kind the file held, such as `guides: 3 inserted, 1 updated, 0 unchanged`.
impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines = ImportKind::ALL
            .into_iter()
            .map(|kind| (kind, self.counts(kind)))
            .filter(|(_, counts)| counts.total() > 0)
            .map(|(kind, c)| {
                format!(
                    "{kind}: {} inserted, {} updated, {} unchanged",
                    c.inserted, c.updated, c.unchanged
                )
            })
            .peekable();
        if lines.peek().is_none() {
            return f.write_str("the file held no records");
        }
        f.write_str(&lines.collect::<Vec<_>>().join("\n"))
    }
}

/// One checked record of an import file.
#[derive(Debug, Clone)]
pub struct Record {
    pub entry: Entry,
    /// Where the record and its fields were written, for the problems found
    /// later against the database.
    places: Places,
}

/// The data of a record, ready for [`crate::write`].
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Matter(MatterRecord),
    Standard(StandardRecord),
    Guide(GuideRecord),
    Procedure(ProcedureRecord),
}

impl Entry {
    pub fn kind(&self) -> ImportKind {
        match self {
            Entry::Matter(_) => ImportKind::Matters,
            Entry::Standard(_) => ImportKind::Standards,
            Entry::Guide(_) => ImportKind::Guides,
            Entry::Procedure(_) => ImportKind::Procedures,
        }
    }
}

/// Loads `path` into the database: all of it in one transaction, or, when
/// any record has a problem, nothing.
///
/// The format comes from the extension (`.csv`, `.json`). A CSV file holds
/// one kind of record: `kind` when given, else the kind its name starts with
/// (`guides.csv`, `guides-330000.csv`). A JSON file names its kinds by its
/// keys; `kind`, when given, is the only key it may carry.
pub async fn import_file(
    db: &DatabaseConnection,
    path: &Path,
    kind: Option<ImportKind>,
) -> Result<ImportReport, ImportError> {
    let format = Format::of(path).ok_or_else(|| ImportError::UnsupportedFormat {
        path: path.to_owned(),
    })?;
    let kind = match format {
        Format::Csv => Some(kind.or_else(|| ImportKind::of_file(path)).ok_or_else(|| {
            ImportError::UnknownKind {
                path: path.to_owned(),
            }
        })?),
        Format::Json => kind,
    };
    // One read before any database work: nothing else is waiting on this
    // task, so a blocking read costs nothing.
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.to_owned(),
        source,
    })?;
    let text =
        String::from_utf8(bytes).map_err(|error| ImportError::Invalid(vec![not_utf8(&error)]))?;
    let parsed = parse_all(kind, format, &text);

    let txn = db.begin().await.map_err(StoreError::from)?;
    match load(&txn, parsed, Utc::now()).await {
        Ok(report) => {
            crate::version::commit(txn)
                .await
                .map_err(StoreError::from)?;
            crate::analyze(db).await?;
            Ok(report)
        }
        Err(error) => {
            if let Err(rollback) = txn.rollback().await {
                tracing::warn!(error = %rollback, "rolling back a refused import failed");
            }
            Err(error)
        }
    }
}

/// Reads and checks the records of an import file's `text`, without the
/// database: syntax, unknown and missing fields, every value through the
/// domain's rules, duplicate keys, and the agreement of records in the same
/// file. Returns the records in the order they are applied (matters,
/// standards, guides, procedures), or every problem found.
///
/// `kind` is required for CSV, which holds one kind of record; for JSON it
/// limits the keys the file may carry.
pub fn parse(
    kind: Option<ImportKind>,
    format: Format,
    text: &str,
) -> Result<Vec<Record>, Vec<Problem>> {
    let parsed = parse_all(kind, format, text);
    if parsed.problems.is_empty() {
        Ok(parsed.records)
    } else {
        Err(parsed.problems)
    }
}

fn not_utf8(error: &FromUtf8Error) -> Problem {
    let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
    Problem {
        line: valid.iter().filter(|byte| **byte == b'\n').count() + 1,
        column: String::new(),
        message: "the file is not UTF-8 text: save it as UTF-8 (in Excel, as \"CSV UTF-8\")"
            .to_owned(),
    }
}

// ---------------------------------------------------------------------------
// Where things were written

/// Where a record, a field or a list item was written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum At {
    /// A CSV line, the column unless the whole line is meant, and the
    /// 1-based position in a `;` list.
    Csv {
        line: usize,
        column: Option<String>,
        item: Option<usize>,
    },
    /// A JSON value's line and character column, and its path from the top.
    Json {
        line: usize,
        column: usize,
        path: String,
    },
}

impl At {
    fn line(line: usize) -> At {
        At::Csv {
            line,
            column: None,
            item: None,
        }
    }

    /// The line this place is on.
    fn line_number(&self) -> usize {
        match self {
            At::Csv { line, .. } | At::Json { line, .. } => *line,
        }
    }

    /// The field `name` of the record written here: in CSV its column on
    /// this line; in JSON this place with the field's path, the best there
    /// is when the field itself was left out.
    fn field(&self, name: &str) -> At {
        match self {
            At::Csv { line, .. } => At::Csv {
                line: *line,
                column: Some(name.to_owned()),
                item: None,
            },
            At::Json { line, column, path } => At::Json {
                line: *line,
                column: *column,
                path: format!("{path}.{}", camel(name)),
            },
        }
    }

    /// The `index`th (0-based) item of the list written here.
    fn item(&self, index: usize) -> At {
        match self {
            At::Csv { line, column, .. } => At::Csv {
                line: *line,
                column: column.clone(),
                item: Some(index + 1),
            },
            At::Json { line, column, path } => At::Json {
                line: *line,
                column: *column,
                path: format!("{path}[{index}]"),
            },
        }
    }

    /// How a field is named in this format: snake_case in CSV, camelCase in JSON.
    fn name(&self, field: &str) -> String {
        match self {
            At::Csv { .. } => field.to_owned(),
            At::Json { .. } => camel(field),
        }
    }

    fn problem(&self, message: impl fmt::Display) -> Problem {
        match self {
            At::Csv { line, column, item } => Problem {
                line: *line,
                column: column.clone().unwrap_or_default(),
                message: match item {
                    Some(item) => format!("item {item}: {message}"),
                    None => message.to_string(),
                },
            },
            At::Json { line, column, path } => Problem {
                line: *line,
                column: column.to_string(),
                message: if path.is_empty() {
                    message.to_string()
                } else {
                    format!("{path}: {message}")
                },
            },
        }
    }
}

/// Where a record and each of its fields and list items were written.
#[derive(Debug, Clone)]
struct Places {
    record: At,
    fields: HashMap<String, At>,
    items: HashMap<String, Vec<At>>,
}

impl Places {
    fn new(record: At) -> Self {
        Self {
            record,
            fields: HashMap::new(),
            items: HashMap::new(),
        }
    }

    fn field(&self, name: &str) -> At {
        self.fields
            .get(name)
            .cloned()
            .unwrap_or_else(|| self.record.field(name))
    }

    fn item(&self, name: &str, index: usize) -> At {
        self.items
            .get(name)
            .and_then(|items| items.get(index))
            .cloned()
            .unwrap_or_else(|| self.field(name).item(index))
    }
}

/// Line starts of a JSON text, to turn the byte offset of a value into a
/// line and a character column.
struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(index, _)| index + 1))
            .collect();
        Self { text, starts }
    }

    /// The place of `raw`, which must have been parsed from this text:
    /// its bytes lie inside the text, so the difference of the addresses is
    /// its offset.
    fn at(&self, raw: &RawValue, path: String) -> At {
        let offset = (raw.get().as_ptr() as usize)
            .checked_sub(self.text.as_ptr() as usize)
            .filter(|offset| *offset <= self.text.len())
            .unwrap_or(0);
        let line = self.starts.partition_point(|start| *start <= offset);
        let start = self.starts[line - 1];
        let column = self.text[start..offset].chars().count() + 1;
        At::Json { line, column, path }
    }

    /// Converts serde_json's 1-based line and byte column into a place.
    fn at_error(&self, error: &serde_json::Error) -> At {
        let line = error.line().clamp(1, self.starts.len());
        let start = self.starts[line - 1];
        let end = self.starts.get(line).copied().unwrap_or(self.text.len());
        let column = self.text[start..end]
            .char_indices()
            .take_while(|(index, _)| *index < error.column())
            .count()
            .max(1);
        At::Json {
            line,
            column,
            path: String::new(),
        }
    }
}

/// serde_json's message without the position it appends.
fn json_message(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    message
        .strip_suffix(&suffix)
        .map(str::to_owned)
        .unwrap_or(message)
}

/// A JSON object's members in the order written, duplicates included, each
/// value kept as raw text so that its position is known.
struct Members<'t>(Vec<(String, &'t RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Members<'de>, M::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Fields and values

/// A field of a kind of record: its snake_case name (the CSV column; JSON
/// uses the camelCase form) and whether it is required.
struct Field {
    name: &'static str,
    required: bool,
}

const fn required(name: &'static str) -> Field {
    Field {
        name,
        required: true,
    }
}

const fn optional(name: &'static str) -> Field {
    Field {
        name,
        required: false,
    }
}

const MATTER_FIELDS: &[Field] = &[
    required("code"),
    required("name_zh"),
    optional("name_en"),
    required("category"),
    optional("national_edition"),
    optional("national_number"),
    optional("standards"),
    optional("illustrative"),
];

const STANDARD_FIELDS: &[Field] = &[
    required("code"),
    required("title_zh"),
    optional("title_en"),
    required("level"),
    optional("status"),
    optional("issuing_region"),
    optional("issuing_zone"),
    optional("issued_on"),
    optional("effective_on"),
    optional("supersedes"),
    optional("note"),
    optional("matters"),
    optional("illustrative"),
];

const GUIDE_FIELDS: &[Field] = &[
    required("region"),
    required("matter"),
    required("time_limit_days"),
    optional("fee"),
    required("materials"),
    required("channels"),
    optional("legal_basis"),
    optional("guarantee_level"),
    optional("status"),
    optional("illustrative"),
];

/// A CSV procedure is written one step per row.
const PROCEDURE_ROW_FIELDS: &[Field] = &[
    required("region"),
    required("matter"),
    required("step"),
    required("name"),
    required("actor"),
    required("time_limit_days"),
    optional("illustrative"),
];

/// A JSON procedure is one object with its steps in an array.
const PROCEDURE_FIELDS: &[Field] = &[
    required("region"),
    required("matter"),
    required("steps"),
    optional("illustrative"),
];

const STEP_FIELDS: &[Field] = &[
    required("name"),
    required("actor"),
    required("time_limit_days"),
];

fn fields_of(kind: ImportKind, format: Format) -> &'static [Field] {
    match (kind, format) {
        (ImportKind::Matters, _) => MATTER_FIELDS,
        (ImportKind::Standards, _) => STANDARD_FIELDS,
        (ImportKind::Guides, _) => GUIDE_FIELDS,
        (ImportKind::Procedures, Format::Csv) => PROCEDURE_ROW_FIELDS,
        (ImportKind::Procedures, Format::Json) => PROCEDURE_FIELDS,
    }
}

fn field_list(fields: &[Field], at: &At) -> String {
    fields
        .iter()
        .map(|field| at.name(field.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A field's value as written.
#[derive(Clone, Copy)]
enum Value<'t> {
    /// A CSV cell, trimmed.
    Cell(&'t str),
    /// A JSON value, with the text it was parsed from to locate list items.
    Json(&'t RawValue, &'t Lines<'t>),
}

impl Value<'_> {
    /// An empty CSV cell or a JSON `null`, which count as left out.
    fn is_blank(self) -> bool {
        match self {
            Value::Cell(cell) => cell.is_empty(),
            Value::Json(raw, _) => raw.get() == "null",
        }
    }

    fn text(self) -> Result<String, String> {
        match self {
            Value::Cell(cell) => Ok(cell.to_owned()),
            Value::Json(raw, _) => serde_json::from_str::<String>(raw.get())
                .map(|text| text.trim().to_owned())
                .map_err(|_| "must be a string".to_owned()),
        }
    }

    fn integer(self) -> Result<i64, String> {
        match self {
            Value::Cell(cell) => cell
                .parse()
                .map_err(|_| format!("`{cell}` is not a whole number")),
            Value::Json(raw, _) => {
                serde_json::from_str(raw.get()).map_err(|_| "must be a whole number".to_owned())
            }
        }
    }

    fn boolean(self) -> Result<bool, String> {
        match self {
            Value::Cell(cell) if cell.eq_ignore_ascii_case("true") => Ok(true),
            Value::Cell(cell) if cell.eq_ignore_ascii_case("false") => Ok(false),
            Value::Cell(cell) => Err(format!("`{cell}` must be true or false")),
            Value::Json(raw, _) => {
                serde_json::from_str(raw.get()).map_err(|_| "must be true or false".to_owned())
            }
        }
    }

    /// An amount in yuan: a CSV cell, or a JSON number or string. A JSON
    /// number is read from its text, so `12.50` is exact.
    fn amount(self) -> Result<Fee, String> {
        let text = match self {
            Value::Json(raw, _)
                if serde_json::from_str::<serde_json::Number>(raw.get()).is_ok() =>
            {
                raw.get().to_owned()
            }
            other => other.text()?,
        };
        Fee::parse_yuan(&text)
    }
}

/// The column of an input field the domain names (`issuingRegion` is
/// `issuing_region`), as the places of a record know its fields.
fn column(field: &str) -> String {
    let mut column = String::with_capacity(field.len() + 4);
    for c in field.chars() {
        if c.is_ascii_uppercase() {
            column.push('_');
            column.push(c.to_ascii_lowercase());
        } else {
            column.push(c);
        }
    }
    column
}

fn code_value<T>(value: Value<'_>) -> Result<T, String>
where
    T: for<'s> TryFrom<&'s str, Error = CodeError>,
{
    code_text(&value.text()?)
}

fn code_text<T>(text: &str) -> Result<T, String>
where
    T: for<'s> TryFrom<&'s str, Error = CodeError>,
{
    T::try_from(text).map_err(|error| error.to_string())
}

fn one_of<T>(value: Value<'_>) -> Result<T, String>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    value
        .text()?
        .parse()
        .map_err(|error: T::Err| error.to_string())
}

fn whole<T: TryFrom<i64>>(value: Value<'_>) -> Result<T, String> {
    let number = value.integer()?;
    T::try_from(number).map_err(|_| format!("`{number}` is out of range"))
}

fn name(value: Value<'_>) -> Result<String, String> {
    required_text("", &value.text()?, NAME_MAX).map_err(|error| error.message)
}

/// An English name or title, which may be empty where none is known.
fn english(value: Value<'_>) -> Result<String, String> {
    optional_text("", &value.text()?, NAME_MAX).map_err(|error| error.message)
}

fn note(value: Value<'_>) -> Result<String, String> {
    optional_text("", &value.text()?, NOTE_MAX).map_err(|error| error.message)
}

fn date(value: Value<'_>) -> Result<NaiveDate, String> {
    let text = value.text()?;
    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a date written YYYY-MM-DD"))
}

/// Marks a value whose problem has been recorded.
#[derive(Debug)]
struct Reported;

/// The fields of one record (or one step), with where each was written and
/// the problems found in them.
struct Fields<'t> {
    values: HashMap<&'static str, Value<'t>>,
    places: Places,
    problems: Vec<Problem>,
}

impl<'t> Fields<'t> {
    fn new(record: At) -> Self {
        Self {
            values: HashMap::new(),
            places: Places::new(record),
            problems: Vec::new(),
        }
    }

    fn insert(&mut self, name: &'static str, value: Value<'t>, at: At) {
        self.values.insert(name, value);
        self.places.fields.insert(name.to_owned(), at);
    }

    fn report(&mut self, at: At, message: impl fmt::Display) {
        self.problems.push(at.problem(message));
    }

    fn name(&self, field: &str) -> String {
        self.places.record.name(field)
    }

    /// The trimmed text of a field, for keys: `None` when it is left out or
    /// not text (which is reported elsewhere).
    fn key(&self, name: &str) -> Option<String> {
        let value = self.values.get(name).filter(|value| !value.is_blank())?;
        value.text().ok().filter(|text| !text.is_empty())
    }

    /// A field that may be left out (absent, blank or null).
    fn optional<T>(
        &mut self,
        name: &'static str,
        convert: impl FnOnce(Value<'t>) -> Result<T, String>,
    ) -> Result<Option<T>, Reported> {
        match self.values.get(name).copied() {
            None => Ok(None),
            Some(value) if value.is_blank() => Ok(None),
            Some(value) => match convert(value) {
                Ok(converted) => Ok(Some(converted)),
                Err(message) => {
                    self.report(self.places.field(name), message);
                    Err(Reported)
                }
            },
        }
    }

    /// A field that must have a value. A missing column or member has been
    /// reported once for the whole file or object, so it is not reported
    /// again here.
    fn required<T>(
        &mut self,
        name: &'static str,
        convert: impl FnOnce(Value<'t>) -> Result<T, String>,
    ) -> Result<T, Reported> {
        let Some(value) = self.values.get(name).copied() else {
            return Err(Reported);
        };
        if value.is_blank() {
            self.report(self.places.field(name), "must not be empty");
            return Err(Reported);
        }
        self.optional(name, convert)?.ok_or(Reported)
    }

    /// A list: `;`-separated in a CSV cell (a blank cell is an empty list),
    /// a JSON array of strings (`null` counts as left out). Every bad item is
    /// reported.
    fn list<T>(
        &mut self,
        name: &'static str,
        convert: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<Vec<T>>, Reported> {
        let Some(value) = self.values.get(name).copied() else {
            return Ok(None);
        };
        let at = self.places.field(name);
        let texts: Vec<(String, At)> = match value {
            Value::Cell(cell) => cell
                .split(';')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .enumerate()
                .map(|(index, item)| (item.to_owned(), at.item(index)))
                .collect(),
            Value::Json(raw, _) if raw.get() == "null" => return Ok(None),
            Value::Json(raw, lines) => {
                let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(raw.get()) else {
                    self.report(at, "must be a list (a JSON array of strings)");
                    return Err(Reported);
                };
                let path = match &at {
                    At::Json { path, .. } => path.clone(),
                    At::Csv { .. } => String::new(),
                };
                let mut texts = Vec::with_capacity(items.len());
                let mut ok = true;
                for (index, item) in items.into_iter().enumerate() {
                    let item_at = lines.at(item, format!("{path}[{index}]"));
                    match serde_json::from_str::<String>(item.get()) {
                        Ok(text) => texts.push((text.trim().to_owned(), item_at)),
                        Err(_) => {
                            self.report(item_at, "must be a string");
                            ok = false;
                        }
                    }
                }
                if !ok {
                    return Err(Reported);
                }
                texts
            }
        };
        let mut items = Vec::with_capacity(texts.len());
        let mut ok = true;
        for (text, item_at) in &texts {
            match convert(text) {
                Ok(item) => items.push(item),
                Err(message) => {
                    self.report(item_at.clone(), message);
                    ok = false;
                }
            }
        }
        self.places.items.insert(
            name.to_owned(),
            texts.into_iter().map(|(_, item_at)| item_at).collect(),
        );
        if ok { Ok(Some(items)) } else { Err(Reported) }
    }

    /// A required list: a missing column or member has been reported already.
    fn required_list<T>(
        &mut self,
        name: &'static str,
        convert: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Vec<T>, Reported> {
        if !self.values.contains_key(name) {
            return Err(Reported);
        }
        match self.list(name, convert)? {
            Some(items) => Ok(items),
            None => {
                self.report(self.places.field(name), "must not be empty");
                Err(Reported)
            }
        }
    }

    /// Reports every item listed twice.
    fn distinct<T: Eq + Hash + fmt::Display>(
        &mut self,
        name: &'static str,
        list: Option<Vec<T>>,
    ) -> Result<Option<Vec<T>>, Reported> {
        let Some(items) = &list else {
            return Ok(list);
        };
        let mut seen = HashSet::new();
        let mut ok = true;
        for (index, item) in items.iter().enumerate() {
            if !seen.insert(item) {
                self.report(
                    self.places.item(name, index),
                    format!("`{item}` is listed twice"),
                );
                ok = false;
            }
        }
        if ok { Ok(list) } else { Err(Reported) }
    }

    fn illustrative(&mut self) -> Result<bool, Reported> {
        self.optional("illustrative", Value::boolean)
            .map(Option::unwrap_or_default)
    }
}

// ---------------------------------------------------------------------------
// Records of each kind

fn matter(f: &mut Fields<'_>) -> Option<MatterRecord> {
    let code = f.required("code", code_value::<MatterCode>);
    let name_zh = f.required("name_zh", name);
    let name_en = f
        .optional("name_en", english)
        .map(Option::unwrap_or_default);
    let category = f.required("category", code_value::<CategoryCode>);
    let edition = f.optional("national_edition", whole::<i32>);
    let number = f.optional("national_number", whole::<i32>);
    let national_item = match (edition, number) {
        (Ok(Some(edition)), Ok(Some(number))) => Ok(Some((edition, number))),
        (Ok(None), Ok(None)) => Ok(None),
        (Ok(Some(_)), Ok(None)) => {
            let message = format!(
                "is required with {} (give both or neither)",
                f.name("national_edition")
            );
            f.report(f.places.field("national_number"), message);
            Err(Reported)
        }
        (Ok(None), Ok(Some(_))) => {
            let message = format!(
                "is required with {} (give both or neither)",
                f.name("national_number")
            );
            f.report(f.places.field("national_edition"), message);
            Err(Reported)
        }
        _ => Err(Reported),
    };
    let standards = f
        .list("standards", code_text::<StandardCode>)
        .and_then(|list| f.distinct("standards", list));
    let illustrative = f.illustrative();
    Some(MatterRecord {
        code: code.ok()?,
        name_zh: name_zh.ok()?,
        name_en: name_en.ok()?,
        category: category.ok()?,
        national_item: national_item.ok()?,
        standards: standards.ok()?,
        illustrative: illustrative.ok()?,
    })
}

fn standard(f: &mut Fields<'_>) -> Option<StandardRecord> {
    let code = f.required("code", code_value::<StandardCode>);
    let title_zh = f.required("title_zh", name);
    let title_en = f
        .optional("title_en", english)
        .map(Option::unwrap_or_default);
    let level = f.required("level", one_of::<StandardLevel>);
    let status = f
        .optional("status", one_of::<StandardStatus>)
        .map(|status| status.unwrap_or(StandardStatus::InForce));
    let mut issuing_region = f.optional("issuing_region", code_value::<RegionCode>);
    let issuing_zone = f.optional("issuing_zone", code_value::<ZoneCode>);
    let issued_on = f.optional("issued_on", date);
    let effective_on = f.optional("effective_on", date);
    let supersedes = f.optional("supersedes", code_value::<StandardCode>);
    let note = f.optional("note", note).map(Option::unwrap_or_default);
    let matters = f
        .list("matters", code_text::<MatterCode>)
        .and_then(|list| f.distinct("matters", list));
    let illustrative = f.illustrative();

    let mut consistent = true;
    if let (Ok(code), Ok(level), Ok(region), Ok(zone)) =
        (&code, &level, &issuing_region, &issuing_zone)
    {
        match check_issuer(code, *level, region.as_ref(), zone.as_ref()) {
            Err(errors) => {
                for error in errors {
                    f.report(f.places.field(&column(&error.field)), error.message);
                }
                consistent = false;
            }
            // A local standard is issued in the province its `DB` code names.
            Ok(()) if *level == StandardLevel::Local && region.is_none() => {
                issuing_region = Ok(code.local_province());
            }
            Ok(()) => {}
        }
    }
    if let (Ok(Some(issued)), Ok(Some(effective))) = (&issued_on, &effective_on)
        && effective < issued
    {
        let message = format!("is before {} ({issued})", f.name("issued_on"));
        f.report(f.places.field("effective_on"), message);
        consistent = false;
    }
    if let (Ok(code), Ok(Some(superseded))) = (&code, &supersedes)
        && code == superseded
    {
        f.report(
            f.places.field("supersedes"),
            "a standard cannot supersede itself",
        );
        consistent = false;
    }
    if !consistent {
        return None;
    }
    Some(StandardRecord {
        code: code.ok()?,
        title_zh: title_zh.ok()?,
        title_en: title_en.ok()?,
        level: level.ok()?,
        status: status.ok()?,
        issuing_region: issuing_region.ok()?,
        issuing_zone: issuing_zone.ok()?,
        issued_on: issued_on.ok()?,
        effective_on: effective_on.ok()?,
        supersedes: supersedes.ok()?,
        note: note.ok()?,
        matters: matters.ok()?,
        illustrative: illustrative.ok()?,
    })
}

fn guide(f: &mut Fields<'_>) -> Option<GuideRecord> {
    let region = f.required("region", code_value::<RegionCode>);
    let matter = f.required("matter", code_value::<MatterCode>);
    let time_limit_days = f.required("time_limit_days", whole::<i32>);
    let fee = f
        .optional("fee", Value::amount)
        .map(|fee| fee.unwrap_or(Fee::FREE));
    let materials = f.required_list("materials", |item| Ok(item.to_owned()));
    let channels = f.required_list("channels", |item| {
        item.parse::<Channel>().map_err(|error| error.to_string())
    });
    let legal_basis = f
        .optional("legal_basis", Value::text)
        .map(Option::unwrap_or_default);
    let guarantee_level = f.optional("guarantee_level", Value::text);
    let status = f
        .optional("status", one_of::<GuideStatus>)
        .map(|status| status.unwrap_or(GuideStatus::Published));
    let illustrative = f.illustrative();

    // The guide's rules run on every field that was read; one that was not
    // has been reported, and stands in with a value the rules accept.
    let draft = GuideDraft {
        time_limit_days: time_limit_days.as_ref().copied().unwrap_or(1),
        fee: fee.as_ref().copied().unwrap_or(Fee::FREE),
        materials: materials.as_ref().cloned().unwrap_or_default(),
        channels: channels
            .as_ref()
            .cloned()
            .unwrap_or_else(|_| vec![Channel::Counter]),
        legal_basis: legal_basis.as_ref().cloned().unwrap_or_default(),
        guarantee_level: guarantee_level.as_ref().cloned().unwrap_or_default(),
    };
    let guide = match draft.validated() {
        Ok(guide) => Some(guide),
        Err(errors) => {
            for error in errors {
                // `materials[2]` names an item, `timeLimitDays` a field.
                let at = match error.field.split_once('[') {
                    Some((field, rest)) => {
                        let index = rest.trim_end_matches(']').parse().unwrap_or(0);
                        f.places.item(&snake(field), index)
                    }
                    None => f.places.field(&snake(&error.field)),
                };
                f.report(at, error.message);
            }
            None
        }
    };
    let all_read = time_limit_days.is_ok()
        && fee.is_ok()
        && materials.is_ok()
        && channels.is_ok()
        && legal_basis.is_ok()
        && guarantee_level.is_ok();
    if !all_read {
        return None;
    }
    Some(GuideRecord {
        region: region.ok()?,
        matter: matter.ok()?,
        guide: guide?,
        status: status.ok()?,
        illustrative: illustrative.ok()?,
    })
}

/// A procedure whose steps have been read but not yet checked against its
/// guide's time limit, which may come later in the file.
struct PendingProcedure {
    region: RegionCode,
    matter: MatterCode,
    illustrative: bool,
    steps: Vec<ProcedureStep>,
    /// Where each step was written (a CSV row, or a JSON object).
    step_places: Vec<Places>,
    places: Places,
}

impl PendingProcedure {
    fn key(&self) -> (&str, &str) {
        (self.region.as_str(), self.matter.as_str())
    }

    /// Checks the steps, within `time_limit_days` when the guide is known.
    fn finish(self, time_limit_days: Option<i32>) -> Result<Record, Vec<Problem>> {
        match validate_steps(&self.steps, time_limit_days) {
            Ok(steps) => Ok(Record {
                entry: Entry::Procedure(ProcedureRecord {
                    region: self.region,
                    matter: self.matter,
                    steps,
                    illustrative: self.illustrative,
                }),
                places: self.places,
            }),
            Err(errors) => Err(errors
                .into_iter()
                .map(|error| {
                    // `steps[1].name` names a step's field, `steps` the whole list.
                    let step_field = error.field.strip_prefix("steps[").and_then(|rest| {
                        let (index, field) = rest.split_once("].")?;
                        let places = self.step_places.get(index.parse::<usize>().ok()?)?;
                        Some(places.field(&snake(field)))
                    });
                    step_field
                        .unwrap_or_else(|| self.places.field("steps"))
                        .problem(error.message)
                })
                .collect()),
        }
    }
}

/// The fields of one step, whether a CSV row or a JSON object.
fn step(f: &mut Fields<'_>) -> Option<ProcedureStep> {
    let name = f.required("name", Value::text);
    let actor = f.required("actor", Value::text);
    let time_limit_days = f.required("time_limit_days", whole::<i32>);
    Some(ProcedureStep {
        name: name.ok()?,
        actor: actor.ok()?,
        time_limit_days: time_limit_days.ok()?,
    })
}

fn json_procedure(f: &mut Fields<'_>) -> Option<PendingProcedure> {
    let region = f.required("region", code_value::<RegionCode>);
    let matter = f.required("matter", code_value::<MatterCode>);
    let illustrative = f.illustrative();
    let steps_at = f.places.field("steps");
    let steps = match f.values.get("steps").copied() {
        None => None,
        Some(value) if value.is_blank() => {
            f.report(steps_at, "must not be empty");
            None
        }
        // CSV procedures are read row by row (`group_steps`), never here.
        Some(Value::Cell(_)) => None,
        Some(Value::Json(raw, lines)) => {
            let path = match &steps_at {
                At::Json { path, .. } => path.clone(),
                At::Csv { .. } => String::new(),
            };
            match serde_json::from_str::<Vec<&RawValue>>(raw.get()) {
                Err(_) => {
                    f.report(steps_at, "must be a list (a JSON array of steps)");
                    None
                }
                Ok(items) => {
                    let mut steps = Vec::with_capacity(items.len());
                    let mut places = Vec::with_capacity(items.len());
                    let mut all_read = true;
                    for (index, item) in items.into_iter().enumerate() {
                        let fields = json_fields(
                            lines,
                            item,
                            format!("{path}[{index}]"),
                            STEP_FIELDS,
                            &mut f.problems,
                        );
                        let Some(mut fields) = fields else {
                            all_read = false;
                            continue;
                        };
                        let read = step(&mut fields);
                        f.problems.append(&mut fields.problems);
                        match read {
                            Some(read) => {
                                steps.push(read);
                                places.push(fields.places);
                            }
                            None => all_read = false,
                        }
                    }
                    all_read.then_some((steps, places))
                }
            }
        }
    };
    let (steps, step_places) = steps?;
    Some(PendingProcedure {
        region: region.ok()?,
        matter: matter.ok()?,
        illustrative: illustrative.ok()?,
        steps,
        step_places,
        places: f.places.clone(),
    })
}

// ---------------------------------------------------------------------------
// Reading a whole file

/// What reading a file produced: the good records, every problem, and the
/// keys the file declares.
#[derive(Default)]
struct Parsed {
    records: Vec<Record>,
    problems: Vec<Problem>,
    declared: Declared,
}

/// The keys a file declares, whether or not their records have problems, so
/// that a reference to a record with a problem of its own is not reported
/// as missing as well. Each key maps to the line that declares it.
#[derive(Default)]
struct Declared(HashMap<(ImportKind, String, String), usize>);

impl Declared {
    fn has(&self, kind: ImportKind, first: &str, second: &str) -> bool {
        self.0
            .contains_key(&(kind, first.to_owned(), second.to_owned()))
    }
}

impl Parsed {
    /// Records that the file declares a record of `kind` with `key` at `at`,
    /// reporting a key declared before. Returns whether the key was new.
    fn declare(&mut self, kind: ImportKind, key: (String, String), at: At) -> bool {
        let line = at.line_number();
        let (first, second) = &key;
        let described = match kind {
            ImportKind::Matters => format!("matter `{first}`"),
            ImportKind::Standards => format!("standard `{first}`"),
            ImportKind::Guides => format!("the guide of region {first} for `{second}`"),
            ImportKind::Procedures => format!("the procedure of region {first} for `{second}`"),
        };
        match self.declared.0.get(&(kind, first.clone(), second.clone())) {
            Some(before) => {
                self.problems
                    .push(at.problem(format!("{described} is already on line {before}")));
                false
            }
            None => {
                self.declared.0.insert((kind, key.0, key.1), line);
                true
            }
        }
    }

    /// Declares the key of a record read from `fields`, and keeps the record
    /// unless its key was declared before. Returns whether the key was new.
    fn add(&mut self, kind: ImportKind, fields: &mut Fields<'_>, entry: Option<Entry>) -> bool {
        self.problems.append(&mut fields.problems);
        let (key, key_field) = match kind {
            ImportKind::Matters | ImportKind::Standards => {
                (fields.key("code").map(|code| (code, String::new())), "code")
            }
            ImportKind::Guides | ImportKind::Procedures => {
                (fields.key("region").zip(fields.key("matter")), "matter")
            }
        };
        let fresh = match key {
            Some(key) => self.declare(kind, key, fields.places.field(key_field)),
            None => true,
        };
        if let (true, Some(entry)) = (fresh, entry) {
            self.records.push(Record {
                entry,
                places: fields.places.clone(),
            });
        }
        fresh
    }
}

fn parse_all(kind: Option<ImportKind>, format: Format, text: &str) -> Parsed {
    // Excel writes a byte-order mark at the start of "CSV UTF-8".
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parsed = Parsed::default();
    let mut pending = Vec::new();
    match (format, kind) {
        (Format::Csv, Some(kind)) => read_csv(kind, text, &mut parsed, &mut pending),
        (Format::Csv, None) => parsed.problems.push(At::line(1).problem(
            "a CSV file holds one kind of record: say which (matters, standards, guides or procedures)",
        )),
        (Format::Json, only) => {
            let lines = Lines::new(text);
            read_json(only, &lines, &mut parsed, &mut pending);
        }
    }
    finish_procedures(&mut parsed, pending);
    check_links(&mut parsed);
    // Apply in kind order, so that references resolve; file order within a kind.
    parsed.records.sort_by_key(|record| record.entry.kind());
    parsed.problems.sort_by_key(|problem| problem.line);
    parsed
}

fn read_csv(
    kind: ImportKind,
    text: &str,
    parsed: &mut Parsed,
    pending: &mut Vec<PendingProcedure>,
) {
    let spec = fields_of(kind, Format::Csv);
    let mut reader = csv::ReaderBuilder::new()
        // Rows of the wrong length are reported here, with the others.
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(error) => {
            parsed
                .problems
                .push(At::line(1).problem(format!("the header cannot be read: {error}")));
            return;
        }
    };
    let header_at = At::line(1);
    let mut columns = Vec::with_capacity(headers.len());
    for header in &headers {
        let known = spec.iter().find(|field| field.name == header);
        let repeated = known.is_some_and(|field| columns.contains(&Some(field.name)));
        if known.is_none() {
            parsed
                .problems
                .push(header_at.field(header).problem(format!(
                    "unknown column (the columns of {kind} are {})",
                    field_list(spec, &header_at)
                )));
        } else if repeated {
            parsed
                .problems
                .push(header_at.field(header).problem("the column appears twice"));
        }
        columns.push(known.filter(|_| !repeated).map(|field| field.name));
    }
    for field in spec.iter().filter(|field| field.required) {
        if !columns.contains(&Some(field.name)) {
            parsed.problems.push(
                header_at.problem(format!("the required column `{}` is missing", field.name)),
            );
        }
    }

    let mut rows = Vec::new();
    for row in reader.records() {
        match row {
            Ok(row) => {
                let line = row
                    .position()
                    .map_or(0, |position| position.line() as usize);
                if row.len() == headers.len() {
                    rows.push((line, row));
                } else {
                    parsed.problems.push(At::line(line).problem(format!(
                        "has {} fields, but the header has {}",
                        row.len(),
                        headers.len()
                    )));
                }
            }
            Err(error) => {
                let line = error
                    .position()
                    .map_or(0, |position| position.line() as usize);
                parsed
                    .problems
                    .push(At::line(line).problem(format!("cannot be read: {error}")));
            }
        }
    }
    let fields = rows.iter().map(|(line, row)| {
        let mut fields = Fields::new(At::line(*line));
        for (column, cell) in columns.iter().zip(row) {
            if let Some(name) = *column {
                fields.insert(name, Value::Cell(cell), At::line(*line).field(name));
            }
        }
        fields
    });
    if kind == ImportKind::Procedures {
        group_steps(fields.collect(), parsed, pending);
    } else {
        for mut fields in fields {
            let entry = build(kind, &mut fields);
            parsed.add(kind, &mut fields, entry);
        }
    }
}

/// A matter, standard or guide from its fields.
fn build(kind: ImportKind, fields: &mut Fields<'_>) -> Option<Entry> {
    match kind {
        ImportKind::Matters => matter(fields).map(Entry::Matter),
        ImportKind::Standards => standard(fields).map(Entry::Standard),
        ImportKind::Guides => guide(fields).map(Entry::Guide),
        // Procedures are written differently in each format; see their readers.
        ImportKind::Procedures => None,
    }
}

/// One row of a CSV procedure: one step.
struct StepRow<'t> {
    fields: Fields<'t>,
    region: Result<RegionCode, Reported>,
    matter: Result<MatterCode, Reported>,
    position: Result<i64, Reported>,
    step: Option<ProcedureStep>,
    illustrative: Result<bool, Reported>,
}

impl StepRow<'_> {
    fn line(&self) -> usize {
        self.fields.places.record.line_number()
    }
}

/// Gathers CSV rows into procedures by region and matter, and checks that
/// each procedure numbers its steps 1 to n.
fn group_steps<'t>(
    rows: Vec<Fields<'t>>,
    parsed: &mut Parsed,
    pending: &mut Vec<PendingProcedure>,
) {
    let mut groups: Vec<((String, String), Vec<StepRow<'t>>)> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for mut fields in rows {
        let region = fields.required("region", code_value::<RegionCode>);
        let matter = fields.required("matter", code_value::<MatterCode>);
        // Bounded by the most steps a procedure may have, so that the gaps
        // reported below are few.
        let position = fields.required("step", |value| {
            whole::<i64>(value).and_then(|step| {
                if (1..=MAX_STEPS as i64).contains(&step) {
                    Ok(step)
                } else {
                    Err(format!(
                        "must be between 1 and {MAX_STEPS} (a procedure has at most {MAX_STEPS} steps)"
                    ))
                }
            })
        });
        let read_step = step(&mut fields);
        let illustrative = fields.illustrative();
        let Some(key) = fields.key("region").zip(fields.key("matter")) else {
            // Without its region and matter a row belongs to no procedure.
            parsed.problems.append(&mut fields.problems);
            continue;
        };
        let slot = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(StepRow {
            fields,
            region,
            matter,
            position,
            step: read_step,
            illustrative,
        });
    }

    for (key, mut rows) in groups {
        for row in &mut rows {
            parsed.problems.append(&mut row.fields.problems);
        }
        let first = &rows[0];
        parsed.declare(
            ImportKind::Procedures,
            key,
            first.fields.places.field("matter"),
        );
        let mut ok = rows.iter().all(|row| {
            row.region.is_ok()
                && row.matter.is_ok()
                && row.position.is_ok()
                && row.step.is_some()
                && row.illustrative.is_ok()
        });

        let mut lines_by_position: HashMap<i64, usize> = HashMap::new();
        for row in &rows {
            let Ok(position) = row.position else { continue };
            match lines_by_position.get(&position) {
                Some(line) => {
                    parsed
                        .problems
                        .push(row.fields.places.field("step").problem(format!(
                            "step {position} of this procedure is already on line {line}"
                        )));
                    ok = false;
                }
                None => {
                    lines_by_position.insert(position, row.line());
                }
            }
        }
        let highest = lines_by_position.keys().copied().max().unwrap_or(0);
        let missing: Vec<String> = (1..=highest)
            .filter(|position| !lines_by_position.contains_key(position))
            .map(|position| position.to_string())
            .collect();
        if !missing.is_empty() {
            parsed
                .problems
                .push(first.fields.places.field("step").problem(format!(
                    "the steps of a procedure are numbered 1, 2, 3... without gaps; missing: {}",
                    missing.join(", ")
                )));
            ok = false;
        }
        let first_illustrative = first.illustrative.as_ref().ok().copied();
        for row in &rows[1..] {
            if let (Some(first_value), Ok(value)) = (first_illustrative, &row.illustrative)
                && first_value != *value
            {
                parsed
                    .problems
                    .push(row.fields.places.field("illustrative").problem(format!(
                        "differs from line {}: the rows of one procedure must agree",
                        first.line()
                    )));
                ok = false;
            }
        }
        if !ok {
            continue;
        }

        rows.sort_by_key(|row| row.position.as_ref().copied().unwrap_or(0));
        let first = &rows[0];
        let mut places = Places::new(first.fields.places.record.clone());
        for field in ["region", "matter", "illustrative"] {
            places
                .fields
                .insert(field.to_owned(), first.fields.places.field(field));
        }
        // Problems with the steps as a whole point at the first row's `step`.
        places
            .fields
            .insert("steps".to_owned(), first.fields.places.field("step"));
        let (Ok(region), Ok(matter), Ok(illustrative)) =
            (&first.region, &first.matter, &first.illustrative)
        else {
            continue;
        };
        pending.push(PendingProcedure {
            region: region.clone(),
            matter: matter.clone(),
            illustrative: *illustrative,
            steps: rows.iter().filter_map(|row| row.step.clone()).collect(),
            step_places: rows.iter().map(|row| row.fields.places.clone()).collect(),
            places,
        });
    }
}

/// Reads a JSON object's members against `spec`, reporting unknown, repeated
/// and missing ones. `None` when the value is not an object.
fn json_fields<'t>(
    lines: &'t Lines<'t>,
    raw: &'t RawValue,
    path: String,
    spec: &[Field],
    problems: &mut Vec<Problem>,
) -> Option<Fields<'t>> {
    let at = lines.at(raw, path.clone());
    let Ok(members) = serde_json::from_str::<Members>(raw.get()) else {
        problems.push(at.problem("must be an object"));
        return None;
    };
    let mut fields = Fields::new(at.clone());
    for (key, value) in members.0 {
        let value_at = lines.at(value, format!("{path}.{key}"));
        match spec.iter().find(|field| camel(field.name) == key) {
            None => problems.push(value_at.problem(format!(
                "unknown field (the fields are {})",
                field_list(spec, &at)
            ))),
            Some(field) if fields.values.contains_key(field.name) => {
                problems.push(value_at.problem("is given twice"));
            }
            Some(field) => fields.insert(field.name, Value::Json(value, lines), value_at),
        }
    }
    for field in spec.iter().filter(|field| field.required) {
        if !fields.values.contains_key(field.name) {
            problems.push(at.problem(format!(
                "the required field `{}` is missing",
                camel(field.name)
            )));
        }
    }
    Some(fields)
}

fn read_json<'t>(
    only: Option<ImportKind>,
    lines: &'t Lines<'t>,
    parsed: &mut Parsed,
    pending: &mut Vec<PendingProcedure>,
) {
    let top = match serde_json::from_str::<Members>(lines.text) {
        Ok(top) => top,
        Err(error) if error.is_data() => {
            parsed.problems.push(lines.at_error(&error).problem(
                "the file must be a JSON object with any of the keys matters, standards, guides and procedures",
            ));
            return;
        }
        Err(error) => {
            parsed
                .problems
                .push(lines.at_error(&error).problem(json_message(&error)));
            return;
        }
    };
    let mut seen = HashSet::new();
    for (key, raw) in top.0 {
        let at = lines.at(raw, key.clone());
        let Ok(kind) = key.parse::<ImportKind>() else {
            parsed.problems.push(at.problem(
                "unknown key (a file may carry matters, standards, guides and procedures)",
            ));
            continue;
        };
        if !seen.insert(kind) {
            parsed.problems.push(at.problem("is given twice"));
            continue;
        }
        if let Some(only) = only
            && only != kind
        {
            parsed.problems.push(at.problem(format!(
                "this import was asked for {only} only (--kind {only})"
            )));
            continue;
        }
        let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(raw.get()) else {
            parsed
                .problems
                .push(at.problem("must be a list (a JSON array of objects)"));
            continue;
        };
        let spec = fields_of(kind, Format::Json);
        for (index, item) in items.into_iter().enumerate() {
            let Some(mut fields) = json_fields(
                lines,
                item,
                format!("{key}[{index}]"),
                spec,
                &mut parsed.problems,
            ) else {
                continue;
            };
            if kind == ImportKind::Procedures {
                // A procedure waits for the guides before it is checked.
                let procedure = json_procedure(&mut fields);
                if parsed.add(kind, &mut fields, None)
                    && let Some(procedure) = procedure
                {
                    pending.push(procedure);
                }
            } else {
                let entry = build(kind, &mut fields);
                parsed.add(kind, &mut fields, entry);
            }
        }
    }
}

/// Checks each procedure's steps, against its guide's time limit when the
/// guide is in the same file.
fn finish_procedures(parsed: &mut Parsed, pending: Vec<PendingProcedure>) {
    let limits: HashMap<(&str, &str), i32> = parsed
        .records
        .iter()
        .filter_map(|record| match &record.entry {
            Entry::Guide(guide) => Some((
                (guide.region.as_str(), guide.matter.as_str()),
                guide.guide.time_limit_days,
            )),
            _ => None,
        })
        .collect();
    let mut finished = Vec::with_capacity(pending.len());
    for procedure in pending {
        let limit = limits.get(&procedure.key()).copied();
        finished.push(procedure.finish(limit));
    }
    for result in finished {
        match result {
            Ok(record) => parsed.records.push(record),
            Err(mut problems) => parsed.problems.append(&mut problems),
        }
    }
}

/// A file that lists both a matter's standards and a standard's matters must
/// say the same link on both sides, or applying it would depend on order.
fn check_links(parsed: &mut Parsed) {
    let mut matter_lists: HashMap<&str, (HashSet<&str>, usize)> = HashMap::new();
    let mut standard_lists: HashMap<&str, (HashSet<&str>, usize)> = HashMap::new();
    for record in &parsed.records {
        match &record.entry {
            Entry::Matter(MatterRecord {
                code,
                standards: Some(list),
                ..
            }) => {
                let list = list.iter().map(StandardCode::as_str).collect();
                matter_lists.insert(code.as_str(), (list, record.places.record.line_number()));
            }
            Entry::Standard(StandardRecord {
                code,
                matters: Some(list),
                ..
            }) => {
                let list = list.iter().map(MatterCode::as_str).collect();
                standard_lists.insert(code.as_str(), (list, record.places.record.line_number()));
            }
            _ => {}
        }
    }
    let mut problems = Vec::new();
    for record in &parsed.records {
        let (field, own, list, other_lists, noun) = match &record.entry {
            Entry::Matter(MatterRecord {
                code,
                standards: Some(list),
                ..
            }) => (
                "standards",
                code.as_str(),
                list.iter().map(StandardCode::as_str).collect::<Vec<_>>(),
                &standard_lists,
                "standard",
            ),
            Entry::Standard(StandardRecord {
                code,
                matters: Some(list),
                ..
            }) => (
                "matters",
                code.as_str(),
                list.iter().map(MatterCode::as_str).collect(),
                &matter_lists,
                "matter",
            ),
            _ => continue,
        };
        for (index, other) in list.into_iter().enumerate() {
            if let Some((their_list, line)) = other_lists.get(other)
                && !their_list.contains(own)
            {
                problems.push(record.places.item(field, index).problem(format!(
                    "{noun} `{other}` (line {line}) does not list `{own}`: a file that lists links on both sides must agree"
                )));
            }
        }
    }
    parsed.problems.append(&mut problems);
}

// ---------------------------------------------------------------------------
// Against the database

/// Checks the references of a parsed file, then applies it.
async fn load(
    txn: &impl ConnectionTrait,
    parsed: Parsed,
    now: DateTime<Utc>,
) -> Result<ImportReport, ImportError> {
    let (found, stored_standards) = check_references(txn, &parsed).await?;
    let mut problems = parsed.problems;
    problems.extend(found);
    if !problems.is_empty() {
        problems.sort_by_key(|problem| problem.line);
        return Err(ImportError::Invalid(problems));
    }
    Ok(apply(txn, &parsed.records, &stored_standards, now).await?)
}

/// Reports every code a record refers to that is neither in the file nor in
/// the database, a matter whose national item is in another category, and a
/// procedure that would outlast its stored guide (or a guide its stored
/// procedure). Returns the problems, and which of the standards the file
/// mentions are stored already.
async fn check_references(
    conn: &impl ConnectionTrait,
    parsed: &Parsed,
) -> Result<(Vec<Problem>, HashSet<String>), StoreError> {
    use ImportKind::{Guides, Matters, Procedures, Standards};
    let declared = &parsed.declared;

    let mut regions = BTreeSet::new();
    let mut zones = BTreeSet::new();
    let mut categories = BTreeSet::new();
    let mut items = BTreeSet::new();
    let mut matters = BTreeSet::new();
    let mut standards = BTreeSet::new();
    let mut guide_keys = BTreeSet::new();
    let mut procedure_keys = BTreeSet::new();
    for record in &parsed.records {
        match &record.entry {
            Entry::Matter(matter) => {
                categories.insert(matter.category.to_string());
                items.extend(matter.national_item);
                standards.extend(matter.standards.iter().flatten().map(ToString::to_string));
            }
            Entry::Standard(standard) => {
                standards.insert(standard.code.to_string());
                standards.extend(standard.supersedes.iter().map(ToString::to_string));
                matters.extend(standard.matters.iter().flatten().map(ToString::to_string));
                regions.extend(standard.issuing_region.iter().map(ToString::to_string));
                zones.extend(standard.issuing_zone.iter().map(ToString::to_string));
            }
            Entry::Guide(guide) => {
                regions.insert(guide.region.to_string());
                matters.insert(guide.matter.to_string());
                let key = (guide.region.to_string(), guide.matter.to_string());
                if !declared.has(Procedures, &key.0, &key.1) {
                    procedure_keys.insert(key);
                }
            }
            Entry::Procedure(procedure) => {
                regions.insert(procedure.region.to_string());
                matters.insert(procedure.matter.to_string());
                let key = (procedure.region.to_string(), procedure.matter.to_string());
                if !declared.has(Guides, &key.0, &key.1) {
                    guide_keys.insert(key);
                }
            }
        }
    }

    // A catalogue's codes number in the hundreds, well inside the databases'
    // limits on bound parameters, so each look-up is one statement.
    let list = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>();
    let keys = |set: &BTreeSet<(String, String)>| set.iter().cloned().collect::<Vec<_>>();
    let stored_regions: HashSet<String> = queries::regions_by_codes(conn, &list(&regions))
        .await?
        .into_iter()
        .map(|row| row.code)
        .collect();
    let stored_zones: HashSet<String> = queries::zones_by_codes(conn, &list(&zones))
        .await?
        .into_iter()
        .map(|row| row.code)
        .collect();
    let stored_categories: HashSet<String> = queries::categories_by_codes(conn, &list(&categories))
        .await?
        .into_iter()
        .map(|row| row.code)
        .collect();
    let stored_items: HashMap<(i32, i32), String> =
        queries::national_items_by_keys(conn, &items.into_iter().collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|row| ((row.edition, row.number), row.category_code))
            .collect();
    let stored_matters: HashSet<String> = queries::matters_by_codes(conn, &list(&matters))
        .await?
        .into_iter()
        .map(|row| row.code)
        .collect();
    let stored_standards: HashSet<String> = queries::standards_by_codes(conn, &list(&standards))
        .await?
        .into_iter()
        .map(|row| row.code)
        .collect();
    let stored_guides: HashMap<(String, String), i32> =
        queries::guides_by_keys(conn, &keys(&guide_keys), &Visibility::All)
            .await?
            .into_iter()
            .map(|row| ((row.region_code, row.matter_code), row.time_limit_days))
            .collect();
    let stored_procedures: HashMap<(String, String), i32> =
        queries::procedures_by_keys(conn, &keys(&procedure_keys))
            .await?
            .into_iter()
            .map(|row| {
                let total = row.steps.0.iter().map(|step| step.time_limit_days).sum();
                ((row.region_code, row.matter_code), total)
            })
            .collect();

    let matter_known =
        |code: &str| declared.has(Matters, code, "") || stored_matters.contains(code);
    let standard_known =
        |code: &str| declared.has(Standards, code, "") || stored_standards.contains(code);
    let mut problems = Vec::new();
    let mut report = |at: At, message: String| problems.push(at.problem(message));
    for record in &parsed.records {
        let places = &record.places;
        match &record.entry {
            Entry::Matter(matter) => {
                if !stored_categories.contains(matter.category.as_str()) {
                    report(
                        places.field("category"),
                        format!("category `{}` is not in the database", matter.category),
                    );
                }
                if let Some((edition, number)) = matter.national_item {
                    match stored_items.get(&(edition, number)) {
                        None => report(
                            places.field("national_number"),
                            format!(
                                "national item {number} of the {edition} edition is not in the database"
                            ),
                        ),
                        Some(category) if category != matter.category.as_str() => report(
                            places.field("national_number"),
                            format!(
                                "national item {number} of the {edition} edition is in category {category}, not {}",
                                matter.category
                            ),
                        ),
                        Some(_) => {}
                    }
                }
                for (index, code) in matter.standards.iter().flatten().enumerate() {
                    if !standard_known(code.as_str()) {
                        report(
                            places.item("standards", index),
                            format!(
                                "standard `{code}` is neither in this file nor in the database"
                            ),
                        );
                    }
                }
            }
            Entry::Standard(standard) => {
                for (index, code) in standard.matters.iter().flatten().enumerate() {
                    if !matter_known(code.as_str()) {
                        report(
                            places.item("matters", index),
                            format!("matter `{code}` is neither in this file nor in the database"),
                        );
                    }
                }
                if let Some(code) = &standard.supersedes
                    && !standard_known(code.as_str())
                {
                    report(
                        places.field("supersedes"),
                        format!("standard `{code}` is neither in this file nor in the database"),
                    );
                }
                if let Some(region) = &standard.issuing_region
                    && !stored_regions.contains(region.as_str())
                {
                    report(
                        places.field("issuing_region"),
                        format!("region `{region}` is not in the database"),
                    );
                }
                if let Some(zone) = &standard.issuing_zone
                    && !stored_zones.contains(zone.as_str())
                {
                    report(
                        places.field("issuing_zone"),
                        format!("zone `{zone}` is not in the database"),
                    );
                }
            }
            Entry::Guide(guide) => {
                if !stored_regions.contains(guide.region.as_str()) {
                    report(
                        places.field("region"),
                        format!("region `{}` is not in the database", guide.region),
                    );
                }
                if !matter_known(guide.matter.as_str()) {
                    report(
                        places.field("matter"),
                        format!(
                            "matter `{}` is neither in this file nor in the database",
                            guide.matter
                        ),
                    );
                }
                let key = (guide.region.to_string(), guide.matter.to_string());
                let limit = guide.guide.time_limit_days;
                if let Some(total) = stored_procedures.get(&key)
                    && *total > limit
                {
                    report(
                        places.field("time_limit_days"),
                        format!(
                            "the stored operating procedure takes {total} working days, more than {limit}: import the procedure too, with steps that fit"
                        ),
                    );
                }
            }
            Entry::Procedure(procedure) => {
                if !stored_regions.contains(procedure.region.as_str()) {
                    report(
                        places.field("region"),
                        format!("region `{}` is not in the database", procedure.region),
                    );
                }
                if !matter_known(procedure.matter.as_str()) {
                    report(
                        places.field("matter"),
                        format!(
                            "matter `{}` is neither in this file nor in the database",
                            procedure.matter
                        ),
                    );
                }
                let key = (procedure.region.to_string(), procedure.matter.to_string());
                if let Some(limit) = stored_guides.get(&key)
                    && let Err(errors) = validate_steps(&procedure.steps, Some(*limit))
                {
                    for error in errors {
                        report(places.field("steps"), error.message);
                    }
                }
            }
        }
    }
    Ok((problems, stored_standards))
}

/// Writes every record, in order, and counts what each write did.
async fn apply(
    conn: &impl ConnectionTrait,
    records: &[Record],
    stored_standards: &HashSet<String>,
    now: DateTime<Utc>,
) -> Result<ImportReport, StoreError> {
    // The link table has foreign keys to both matters and standards, and
    // matters are written first, so a matter cannot link to a standard that
    // this same file creates. Such a link is written with the new standard
    // instead (`check_links` has made sure a standard that lists its
    // matters lists this one too).
    let new_standards: HashSet<&str> = records
        .iter()
        .filter_map(|record| match &record.entry {
            Entry::Standard(standard) if !stored_standards.contains(standard.code.as_str()) => {
                Some(standard.code.as_str())
            }
            _ => None,
        })
        .collect();
    let mut listed_by: HashMap<&str, Vec<MatterCode>> = HashMap::new();
    for record in records {
        if let Entry::Matter(matter) = &record.entry {
            for code in matter.standards.iter().flatten() {
                if new_standards.contains(code.as_str()) {
                    listed_by
                        .entry(code.as_str())
                        .or_default()
                        .push(matter.code.clone());
                }
            }
        }
    }

    let mut report = ImportReport::default();
    for record in records {
        let before = kept_version(conn, &record.entry).await?;
        let outcome = match &record.entry {
            Entry::Matter(matter) => match &matter.standards {
                Some(list)
                    if list
                        .iter()
                        .any(|code| new_standards.contains(code.as_str())) =>
                {
                    let stored = list
                        .iter()
                        .filter(|code| !new_standards.contains(code.as_str()))
                        .cloned()
                        .collect();
                    let record = MatterRecord {
                        standards: Some(stored),
                        ..matter.clone()
                    };
                    write::upsert_matter(conn, &record, now).await?
                }
                _ => write::upsert_matter(conn, matter, now).await?,
            },
            Entry::Standard(standard) => {
                match (&standard.matters, listed_by.get(standard.code.as_str())) {
                    (None, Some(matters)) => {
                        let record = StandardRecord {
                            matters: Some(matters.clone()),
                            ..standard.clone()
                        };
                        write::upsert_standard(conn, &record, now).await?
                    }
                    _ => write::upsert_standard(conn, standard, now).await?,
                }
            }
            Entry::Guide(guide) => write::upsert_guide(conn, guide, now).await?,
            Entry::Procedure(procedure) => write::upsert_procedure(conn, procedure, now).await?,
        };
        if outcome != Outcome::Unchanged {
            // An imported revision keeps the version it replaced, as a
            // mutation's does.
            if let Some((kind, key, after)) = kept_version(conn, &record.entry).await? {
                let before = before.map(|(_, _, version)| version);
                crate::mutate::keep_versions(conn, kind, &key, before, after, IMPORTED_BY, now)
                    .await?;
            }
            // Imported rows replicate like any other change.
            let (kind, parts) = match &record.entry {
                Entry::Matter(m) => (Replica::Matter, vec![m.code.to_string()]),
                Entry::Standard(s) => (Replica::Standard, vec![s.code.to_string()]),
                Entry::Guide(g) => (
                    Replica::Guide,
                    vec![g.region.to_string(), g.matter.to_string()],
                ),
                Entry::Procedure(p) => (
                    Replica::Procedure,
                    vec![p.region.to_string(), p.matter.to_string()],
                ),
            };
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            crate::changes::log_current(conn, kind, &parts, now).await?;
        }
        report.counts_mut(record.entry.kind()).add(outcome);
    }
    Ok(report)
}

/// Who the history credits with an imported revision.
const IMPORTED_BY: &str = "concord import";

/// A history-keeping row of `entry` as stored now: its kind, its key, and
/// its revision with the content its history keeps. `None` for a matter
/// (matters keep no history) or a row not stored yet.
async fn kept_version(
    conn: &impl ConnectionTrait,
    entry: &Entry,
) -> Result<Option<(crate::mutate::Kind, String, (i32, serde_json::Value))>, StoreError> {
    use sea_orm::EntityTrait;

    use crate::entity::{operating_procedure, service_guide, standard};
    use crate::mutate::{self, Kind};
    let key = |region: &RegionCode, matter: &MatterCode| (region.to_string(), matter.to_string());
    Ok(match entry {
        Entry::Matter(_) => None,
        Entry::Guide(guide) => service_guide::Entity::find_by_id(key(&guide.region, &guide.matter))
            .one(conn)
            .await?
            .map(|row| {
                let version = (row.revision, mutate::guide_snapshot(&row));
                (
                    Kind::Guide,
                    format!("{}/{}", guide.region, guide.matter),
                    version,
                )
            }),
        Entry::Procedure(procedure) => {
            operating_procedure::Entity::find_by_id(key(&procedure.region, &procedure.matter))
                .one(conn)
                .await?
                .map(|row| {
                    let version = (row.revision, mutate::procedure_snapshot(&row));
                    let key = format!("{}/{}", procedure.region, procedure.matter);
                    (Kind::Procedure, key, version)
                })
        }
        Entry::Standard(record) => {
            match standard::Entity::find_by_id(record.code.as_str())
                .one(conn)
                .await?
            {
                Some(row) => {
                    let matters = mutate::matter_links(conn, record.code.as_str()).await?;
                    let version = (row.revision, mutate::standard_snapshot(&row, &matters));
                    Some((Kind::Standard, record.code.to_string(), version))
                }
                None => None,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use sea_orm::{EntityTrait, PaginatorTrait};
    use tempfile::TempDir;

    use super::*;
    use crate::entity::{
        operating_procedure, service_guide, service_matter, standard, standard_matter,
    };

    fn entries(kind: Option<ImportKind>, format: Format, text: &str) -> Vec<Entry> {
        parse(kind, format, text)
            .unwrap_or_else(|problems| panic!("{problems:#?}"))
            .into_iter()
            .map(|record| record.entry)
            .collect()
    }

    fn problems(kind: Option<ImportKind>, format: Format, text: &str) -> Vec<String> {
        match parse(kind, format, text) {
            Ok(records) => panic!("no problems in {records:#?}"),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        }
    }

    fn csv(kind: ImportKind, text: &str) -> Vec<String> {
        problems(Some(kind), Format::Csv, text)
    }

    fn json(text: &str) -> Vec<String> {
        problems(None, Format::Json, text)
    }

    #[test]
    fn the_kind_and_format_come_from_the_file_name() {
        let kind = |name: &str| ImportKind::of_file(Path::new(name));
        assert_eq!(kind("guides.csv"), Some(ImportKind::Guides));
        assert_eq!(kind("data/Guides-330000.CSV"), Some(ImportKind::Guides));
        assert_eq!(kind("procedures_zj.csv"), Some(ImportKind::Procedures));
        assert_eq!(kind("matters.2025.csv"), Some(ImportKind::Matters));
        assert_eq!(kind("standardsx.csv"), None);
        assert_eq!(kind("catalogue.csv"), None);
        assert_eq!(Format::of(Path::new("a.JSON")), Some(Format::Json));
        assert_eq!(Format::of(Path::new("a.csv")), Some(Format::Csv));
        assert_eq!(Format::of(Path::new("a.xlsx")), None);
        assert_eq!("guides".parse::<ImportKind>(), Ok(ImportKind::Guides));
        assert!("guide".parse::<ImportKind>().is_err());
    }

    const GUIDES: &str = "\
region,matter,time_limit_days,fee,materials,channels,legal_basis,status
330000,EMP-EMPLOYMENT-REGISTRATION,5,,居民身份证;劳动合同,ONLINE;COUNTER,《就业促进法》,
320000,EMP-EMPLOYMENT-REGISTRATION,3,12.50,居民身份证,ONLINE,,DRAFT
";

    #[test]
    fn a_guides_csv_is_read_with_its_defaults() {
        // Excel's "CSV UTF-8" starts with a byte-order mark.
        let text = format!("\u{feff}{GUIDES}");
        let entries = entries(Some(ImportKind::Guides), Format::Csv, &text);
        let [Entry::Guide(first), Entry::Guide(second)] = entries.as_slice() else {
            panic!("{entries:#?}");
        };
        assert_eq!(first.region.as_str(), "330000");
        assert_eq!(first.guide.fee, Fee::FREE);
        assert_eq!(first.guide.materials, ["居民身份证", "劳动合同"]);
        assert_eq!(first.guide.channels, [Channel::Counter, Channel::Online]);
        assert_eq!(first.status, GuideStatus::Published);
        assert!(!first.illustrative);
        assert_eq!(second.guide.fee.fen(), 1250);
        assert_eq!(second.status, GuideStatus::Draft);
    }

    #[test]
    fn a_fee_follows_the_one_grammar_of_amounts() {
        let text = "\
region,matter,time_limit_days,fee,materials,channels
330000,EMP-A,5,12.,身份证,COUNTER
330000,EMP-B,5,12.345,身份证,COUNTER
330000,EMP-C,5,-1,身份证,COUNTER
330000,EMP-D,5,1e3,身份证,COUNTER
";
        let refused = csv(ImportKind::Guides, text);
        assert_eq!(refused.len(), 4, "{refused:#?}");
        for (problem, why) in refused.iter().zip([
            "`12.` is not an amount in yuan: a point must be followed by one or two digits",
            "`12.345` is not an amount in yuan: a fee has at most two decimals",
            "`-1` is not an amount in yuan: it may hold only digits",
            "`1e3` is not an amount in yuan: it may hold only digits",
        ]) {
            assert!(
                problem.contains("column fee") && problem.contains(why),
                "{problem}"
            );
        }
        // A JSON number is read from its text: exact, and under the same grammar.
        let number = |fee: &str| {
            format!(
                r#"{{ "guides": [{{ "region": "330000", "matter": "EMP-A", "timeLimitDays": 5,
                    "fee": {fee}, "materials": [], "channels": ["ONLINE"] }}] }}"#
            )
        };
        let entries = entries(None, Format::Json, &number("0.10"));
        let [Entry::Guide(guide)] = entries.as_slice() else {
            panic!("{entries:#?}");
        };
        assert_eq!(guide.guide.fee.to_string(), "0.10");
        for bad in ["12.345", "1e3", "-0", "\"12.\""] {
            let refused = json(&number(bad));
            assert!(
                refused.len() == 1 && refused[0].contains("is not an amount in yuan"),
                "{bad}: {refused:#?}"
            );
        }
    }

    #[test]
    fn a_bad_guides_csv_names_each_line_and_column() {
        let text = "\
region,matter,time_limit_days,materials,channels
330000,EMP-A,5,身份证,COUNTER
330000,EMP-B,0,身份证,COUNTER
330000,EMP-C,5,身份证,COUNTER;FAX
";
        assert_eq!(
            csv(ImportKind::Guides, text),
            [
                "line 3, column time_limit_days: must be between 1 and 250 working days",
                "line 4, column channels: item 2: `FAX` is not one of COUNTER, ONLINE, MOBILE, CROSS_PROVINCE",
            ]
        );
    }

    #[test]
    fn csv_headers_and_row_lengths_are_checked() {
        let text = "\
region,matter,time_limt_days,materials,channels
330000,EMP-A,5,身份证,COUNTER
330000,EMP-B,5,身份证
330000,EMP-C,5,身份证,COUNTER,
";
        assert_eq!(
            csv(ImportKind::Guides, text),
            [
                "line 1, column time_limt_days: unknown column (the columns of guides are region, matter, time_limit_days, fee, materials, channels, legal_basis, guarantee_level, status, illustrative)",
                "line 1: the required column `time_limit_days` is missing",
                "line 3: has 4 fields, but the header has 5",
                "line 4: has 6 fields, but the header has 5",
            ]
        );
        let unnamed = problems(None, Format::Csv, GUIDES);
        assert_eq!(unnamed.len(), 1);
        assert!(unnamed[0].starts_with("line 1: a CSV file holds one kind"));
    }

    #[test]
    fn a_matters_csv_is_read_and_checked() {
        let text = "\
code,name_zh,name_en,category,national_edition,national_number,standards,illustrative
EMP-TEST-ONE,测试一,Test one,EMPLOYMENT,2023,2,GB/T 33532; GB/T 33527,false
EMP-TEST-TWO,测试二,Test two,EMPLOYMENT,,,,TRUE
";
        let entries = entries(Some(ImportKind::Matters), Format::Csv, text);
        let [Entry::Matter(one), Entry::Matter(two)] = entries.as_slice() else {
            panic!("{entries:#?}");
        };
        assert_eq!(one.national_item, Some((2023, 2)));
        let standards: Vec<&str> = one
            .standards
            .iter()
            .flatten()
            .map(StandardCode::as_str)
            .collect();
        assert_eq!(standards, ["GB/T 33532", "GB/T 33527"]);
        // A blank cell in a present column is an empty list: it clears the links.
        assert_eq!(
            (two.national_item, two.standards.as_deref()),
            (None, Some(&[][..]))
        );
        assert!(two.illustrative);

        let bad = "\
code,name_zh,name_en,category,national_edition,national_number,standards
EMP-TEST-ONE,测试一,Test one,EMPLOYMENT,2023,,
emp-bad,测试二,Test two,EMPLOYMENT,,,GB/T 33527;GB/T 33527
EMP-TEST-ONE,,Test three,EMPLOYMENT,,x,
";
        assert_eq!(
            csv(ImportKind::Matters, bad),
            [
                "line 2, column national_number: is required with national_edition (give both or neither)",
                "line 3, column code: matter code `emp-bad` must be 2 to 40 capital letters, digits, `_` or `-`, starting with a letter (e.g. `SI-PENSION-TRANSFER`)",
                "line 3, column standards: item 2: `GB/T 33527` is listed twice",
                "line 4, column name_zh: must not be empty",
                "line 4, column national_number: `x` is not a whole number",
                "line 4, column code: matter `EMP-TEST-ONE` is already on line 2",
            ]
        );
    }

    #[test]
    fn a_standards_csv_is_read_and_checked() {
        let text = "\
code,title_zh,title_en,level,status,issuing_region,issuing_zone,issued_on,effective_on,supersedes,note,matters
DB33/T 9999-2025,测试标准,,LOCAL,,,,2025-01-02,2025-02-01,,,EMP-TEST-ONE
T/TEST 1-2025,团体标准,Group,GROUP,DRAFT,,,,,,a note,
";
        let entries = entries(Some(ImportKind::Standards), Format::Csv, text);
        let [Entry::Standard(local), Entry::Standard(group)] = entries.as_slice() else {
            panic!("{entries:#?}");
        };
        // A local standard is issued in the province of its `DB` code.
        assert_eq!(
            local.issuing_region.as_ref().map(RegionCode::as_str),
            Some("330000")
        );
        assert_eq!(local.status, StandardStatus::InForce);
        assert_eq!(local.effective_on, NaiveDate::from_ymd_opt(2025, 2, 1));
        assert_eq!(
            (group.status, group.note.as_str()),
            (StandardStatus::Draft, "a note")
        );

        let bad = "\
code,title_zh,level,issuing_region,issuing_zone,issued_on,effective_on,supersedes
GB/T 1-2020,国标,LOCAL,,,,,
DB33/T 1-2020,地标,LOCAL,510000,,,,
DB33/T 2-2020,地标,LOCAL,,YRD,2020-05-01,2020-04-01,DB33/T 2-2020
DB33/T 3-2020,地标,REGIONAL,,YRD,2020-13-01,,
DB33/T 4-2020,地标,PROVINCIAL,,,,,
DB31/T 5-2020,区标,REGIONAL,,,,,
";
        let found = csv(ImportKind::Standards, bad);
        let places: Vec<&str> = found
            .iter()
            .map(|p| p.split(':').next().unwrap_or_default())
            .collect();
        assert_eq!(
            places,
            [
                "line 2, column level",
                "line 3, column issuing_region",
                "line 4, column issuing_zone",
                "line 4, column effective_on",
                "line 4, column supersedes",
                "line 5, column issued_on",
                "line 6, column level",
                "line 7, column issuing_zone",
            ]
        );
        assert!(found[0].contains("`GB/T 1-2020` cannot be the code of a LOCAL standard"));
        assert!(found[1].contains("`DB33/T 1-2020` is a standard of 330000, not of 510000"));
        assert!(found[3].ends_with("is before issued_on (2020-05-01)"));
        assert!(found[5].ends_with("`2020-13-01` is not a date written YYYY-MM-DD"));
        assert!(found[6].ends_with(
            "`PROVINCIAL` is not one of NATIONAL, INDUSTRY, LOCAL, REGIONAL, GROUP, INTERNAL"
        ));
        assert!(found[7].ends_with("a regional standard needs the zone that issues it"));
    }

    #[test]
    fn a_procedures_csv_groups_its_rows_by_region_and_matter() {
        let text = "\
region,matter,step,name,actor,time_limit_days
330000,EMP-TEST-ONE,2,审核,经办机构,2
330000,EMP-TEST-ONE,1,受理,窗口,1
320000,EMP-TEST-ONE,1,受理,窗口,1
";
        let entries = entries(Some(ImportKind::Procedures), Format::Csv, text);
        let [Entry::Procedure(zhejiang), Entry::Procedure(jiangsu)] = entries.as_slice() else {
            panic!("{entries:#?}");
        };
        assert_eq!(zhejiang.region.as_str(), "330000");
        let names: Vec<&str> = zhejiang.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["受理", "审核"]);
        assert_eq!(jiangsu.steps.len(), 1);

        let bad = "\
region,matter,step,name,actor,time_limit_days
330000,EMP-TEST-ONE,1,受理,窗口,1
330000,EMP-TEST-ONE,3,审核,经办机构,2
320000,EMP-TEST-ONE,1,受理,窗口,1
320000,EMP-TEST-ONE,1,审核,,3
310000,EMP-TEST-ONE,1,受理,窗口,300
";
        assert_eq!(
            csv(ImportKind::Procedures, bad),
            [
                "line 2, column step: the steps of a procedure are numbered 1, 2, 3... without gaps; missing: 2",
                "line 5, column actor: must not be empty",
                "line 5, column step: step 1 of this procedure is already on line 4",
                "line 6, column time_limit_days: must be between 0 and 250 working days",
            ]
        );
    }

    /// Found by fuzzing: every position below a step's number was listed
    /// as missing, so a step numbered in the billions took minutes and
    /// gigabytes to refuse.
    #[test]
    fn a_step_number_past_the_most_steps_is_refused_at_once() {
        let text = "\
region,matter,step,name,actor,time_limit_days
330000,EMP-TEST-ONE,1,受理,窗口,1
330000,EMP-TEST-ONE,31,审核,经办机构,1
330000,EMP-TEST-ONE,9223372036854775807,办结,经办机构,1
";
        assert_eq!(
            csv(ImportKind::Procedures, text),
            [
                "line 3, column step: must be between 1 and 30 (a procedure has at most 30 steps)",
                "line 4, column step: must be between 1 and 30 (a procedure has at most 30 steps)",
            ]
        );
    }

    const CATALOGUE: &str = r#"{
  "matters": [
    {
      "code": "EMP-TEST-ONE",
      "nameZh": "测试一",
      "nameEn": "Test one",
      "category": "EMPLOYMENT",
      "nationalEdition": 2023,
      "nationalNumber": 2,
      "standards": ["GB/T 33527", "DB33/T 9999-2025"]
    }
  ],
  "procedures": [
    {
      "region": "330000",
      "matter": "EMP-TEST-ONE",
      "steps": [
        { "name": "受理", "actor": "窗口", "timeLimitDays": 1 },
        { "name": "审核", "actor": "经办机构", "timeLimitDays": 2 }
      ]
    }
  ],
  "guides": [
    {
      "region": "330000",
      "matter": "EMP-TEST-ONE",
      "timeLimitDays": 5,
      "fee": 12.5,
      "materials": ["居民身份证"],
      "channels": ["ONLINE", "COUNTER"],
      "guaranteeLevel": null
    }
  ],
  "standards": [
    {
      "code": "DB33/T 9999-2025",
      "titleZh": "测试标准",
      "level": "LOCAL",
      "matters": ["EMP-TEST-ONE"]
    }
  ]
}"#;

    #[test]
    fn a_json_file_carries_every_kind_in_the_order_they_apply() {
        let entries = entries(None, Format::Json, CATALOGUE);
        let kinds: Vec<ImportKind> = entries.iter().map(Entry::kind).collect();
        assert_eq!(kinds, ImportKind::ALL);
        let Entry::Guide(guide) = &entries[2] else {
            panic!("{entries:#?}");
        };
        assert_eq!(guide.guide.fee.fen(), 1250);
        assert_eq!(guide.guide.guarantee_level, None);

        let only = problems(Some(ImportKind::Guides), Format::Json, CATALOGUE);
        assert_eq!(
            only,
            [
                "line 2, column 14: matters: this import was asked for guides only (--kind guides)",
                "line 13, column 17: procedures: this import was asked for guides only (--kind guides)",
                "line 34, column 16: standards: this import was asked for guides only (--kind guides)",
            ]
        );
    }

    #[test]
    fn a_json_problem_points_at_the_value() {
        let text = r#"{
  "guides": [
    {
      "region": "330000",
      "matter": "EMP-TEST-ONE",
      "timeLimitDays": 0,
      "materials": [],
      "channels": ["COUNTER", "FAX"]
    }
  ]
}"#;
        assert_eq!(
            json(text),
            [
                "line 6, column 24: guides[0].timeLimitDays: must be between 1 and 250 working days",
                "line 8, column 31: guides[0].channels[1]: `FAX` is not one of COUNTER, ONLINE, MOBILE, CROSS_PROVINCE",
            ]
        );

        // Columns count characters, not bytes.
        let text = r#"{"matters": [
    {"nameZh": "测试", "nameEn": 7, "code": "EMP-X", "category": "EMPLOYMENT", "nationalNumber": "2"}
]}"#;
        assert_eq!(
            json(text),
            [
                "line 2, column 32: matters[0].nameEn: must be a string",
                "line 2, column 96: matters[0].nationalNumber: must be a whole number",
            ]
        );
    }

    #[test]
    fn json_structure_problems_are_reported() {
        let text = r#"{
  "guides": [
    { "region": "330000", "matterr": "EMP-TEST-ONE", "timeLimitDays": 5, "materials": [], "channels": ["ONLINE"] },
    [],
    { "region": "330000", "matter": "EMP-TEST-ONE", "timeLimitDays": 5, "materials": [], "channels": ["ONLINE"] },
    { "region": "330000", "matter": "EMP-TEST-ONE", "timeLimitDays": 5, "materials": [], "channels": ["ONLINE"] }
  ],
  "matter": []
}"#;
        assert_eq!(
            json(text),
            [
                "line 3, column 38: guides[0].matterr: unknown field (the fields are region, matter, timeLimitDays, fee, materials, channels, legalBasis, guaranteeLevel, status, illustrative)",
                "line 3, column 5: guides[0]: the required field `matter` is missing",
                "line 4, column 5: guides[1]: must be an object",
                "line 6, column 37: guides[3].matter: the guide of region 330000 for `EMP-TEST-ONE` is already on line 5",
                "line 8, column 13: matter: unknown key (a file may carry matters, standards, guides and procedures)",
            ]
        );

        let syntax = json("{\n  \"guides\": [\n    { \"region\": \"330000\", }\n  ]\n}");
        assert_eq!(syntax, ["line 3, column 27: key must be a string"]);
        let not_an_object = json("[]");
        assert_eq!(
            not_an_object,
            [
                "line 1, column 1: the file must be a JSON object with any of the keys matters, standards, guides and procedures"
            ]
        );
    }

    #[test]
    fn steps_must_fit_a_guide_in_the_same_file() {
        let text = r#"{
  "guides": [
    { "region": "330000", "matter": "EMP-TEST-ONE", "timeLimitDays": 2, "materials": [], "channels": ["ONLINE"] }
  ],
  "procedures": [
    {
      "region": "330000",
      "matter": "EMP-TEST-ONE",
      "steps": [
        { "name": "受理", "actor": "窗口", "timeLimitDays": 1 },
        { "name": " ", "actor": "经办机构", "timeLimitDays": 2 }
      ]
    },
    {
      "region": "320000",
      "matter": "EMP-TEST-ONE",
      "steps": [
        { "name": "受理", "actor": "窗口", "timeLimitDays": 1 },
        { "name": "审核", "actor": "经办机构", "timeLimitDays": 2 }
      ]
    },
    {
      "region": "330000",
      "matter": "EMP-TEST-ONE",
      "steps": [
        { "name": "受理", "actor": "窗口", "timeLimitDays": 1 },
        { "name": "审核", "actor": "经办机构", "timeLimitDays": 2 }
      ]
    }
  ]
}"#;
        // The 320000 procedure has no guide in this file: it is checked
        // against the database on import.
        assert_eq!(
            json(text),
            [
                "line 11, column 19: procedures[0].steps[1].name: must not be empty",
                "line 24, column 17: procedures[2].matter: the procedure of region 330000 for `EMP-TEST-ONE` is already on line 8",
            ]
        );
        let over = r#"{
  "guides": [
    { "region": "330000", "matter": "EMP-TEST-ONE", "timeLimitDays": 2, "materials": [], "channels": ["ONLINE"] }
  ],
  "procedures": [
    {
      "region": "330000",
      "matter": "EMP-TEST-ONE",
      "steps": [{ "name": "受理", "actor": "窗口", "timeLimitDays": 1 }, { "name": "审核", "actor": "经办机构", "timeLimitDays": 2 }]
    }
  ]
}"#;
        assert_eq!(
            json(over),
            [
                "line 9, column 16: procedures[0].steps: the steps take 3 working days, more than the guide's 2"
            ]
        );
    }

    #[test]
    fn links_listed_on_both_sides_must_agree() {
        let text = r#"{
  "matters": [
    { "code": "EMP-TEST-ONE", "nameZh": "测试一", "nameEn": "Test one", "category": "EMPLOYMENT", "standards": [] }
  ],
  "standards": [
    { "code": "GB/T 33527", "titleZh": "公共就业服务总则", "level": "NATIONAL", "matters": ["EMP-TEST-ONE"] }
  ]
}"#;
        assert_eq!(
            json(text),
            [
                "line 6, column 85: standards[0].matters[0]: matter `EMP-TEST-ONE` (line 3) does not list `GB/T 33527`: a file that lists links on both sides must agree"
            ]
        );
    }

    // -----------------------------------------------------------------------
    // Against a database

    async fn database() -> DatabaseConnection {
        let (db, _) = crate::connect(&crate::ConnectOptions::new("sqlite::memory:"))
            .await
            .unwrap();
        crate::migrate(&db).await.unwrap();
        crate::seed::seed(&db).await.unwrap();
        db
    }

    fn write_file(dir: &TempDir, name: &str, text: &str) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The number of rows in each table an import writes.
    async fn rows(db: &DatabaseConnection) -> [u64; 5] {
        [
            service_matter::Entity::find().count(db).await.unwrap(),
            standard::Entity::find().count(db).await.unwrap(),
            standard_matter::Entity::find().count(db).await.unwrap(),
            service_guide::Entity::find().count(db).await.unwrap(),
            operating_procedure::Entity::find().count(db).await.unwrap(),
        ]
    }

    fn counts(inserted: u64, updated: u64, unchanged: u64) -> Counts {
        Counts {
            inserted,
            updated,
            unchanged,
        }
    }

    #[tokio::test]
    async fn a_good_file_loads_and_loads_again_unchanged() {
        let db = database().await;
        let dir = TempDir::new().unwrap();
        let path = write_file(&dir, "catalogue.json", CATALOGUE);

        let first = import_file(&db, &path, None).await.unwrap();
        let once = counts(1, 0, 0);
        assert_eq!(
            first,
            ImportReport {
                matters: once,
                standards: once,
                guides: once,
                procedures: once,
            }
        );
        assert_eq!(
            first.to_string(),
            "matters: 1 inserted, 0 updated, 0 unchanged\nstandards: 1 inserted, 0 updated, 0 unchanged\nguides: 1 inserted, 0 updated, 0 unchanged\nprocedures: 1 inserted, 0 updated, 0 unchanged"
        );
        // The matter's link to a standard the same file creates is written too.
        let mut links: Vec<String> =
            queries::standard_links(&db, &[], &["EMP-TEST-ONE".to_owned()])
                .await
                .unwrap()
                .into_iter()
                .map(|link| link.standard_code)
                .collect();
        links.sort();
        assert_eq!(links, ["DB33/T 9999-2025", "GB/T 33527"]);
        let local = standard::Entity::find_by_id("DB33/T 9999-2025")
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (local.origin.as_str(), local.issuing_region.as_deref()),
            ("330000", Some("330000"))
        );
        let guide =
            service_guide::Entity::find_by_id(("330000".to_owned(), "EMP-TEST-ONE".to_owned()))
                .one(&db)
                .await
                .unwrap()
                .unwrap();
        assert_eq!(
            (guide.origin.as_str(), guide.fee_fen, guide.illustrative),
            ("330000", 1250, false)
        );
        assert!(guide.published_at.is_some());

        let before = rows(&db).await;
        let again = import_file(&db, &path, None).await.unwrap();
        let unchanged = counts(0, 0, 1);
        assert_eq!(
            again,
            ImportReport {
                matters: unchanged,
                standards: unchanged,
                guides: unchanged,
                procedures: unchanged,
            }
        );
        assert_eq!(rows(&db).await, before);
        let matter = service_matter::Entity::find_by_id("EMP-TEST-ONE")
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        let local = standard::Entity::find_by_id("DB33/T 9999-2025")
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        let procedure = operating_procedure::Entity::find_by_id((
            "330000".to_owned(),
            "EMP-TEST-ONE".to_owned(),
        ))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            [matter.revision, local.revision, procedure.revision],
            [1, 1, 1]
        );
    }

    #[tokio::test]
    async fn a_changed_row_bumps_its_revision() {
        let db = database().await;
        let dir = TempDir::new().unwrap();
        let text = "\
region,matter,time_limit_days,materials,channels
150000,EMP-EMPLOYMENT-REGISTRATION,5,居民身份证,COUNTER
620000,EMP-EMPLOYMENT-REGISTRATION,5,居民身份证,COUNTER
";
        let path = write_file(&dir, "guides-north.csv", text);
        assert_eq!(
            import_file(&db, &path, None).await.unwrap().guides,
            counts(2, 0, 0)
        );

        let changed = text.replacen(",5,", ",4,", 1);
        let path = write_file(&dir, "guides-north.csv", &changed);
        assert_eq!(
            import_file(&db, &path, None).await.unwrap().guides,
            counts(0, 1, 1)
        );
        let revision = |region: &str| {
            let key = (region.to_owned(), "EMP-EMPLOYMENT-REGISTRATION".to_owned());
            let db = &db;
            async move {
                let row = service_guide::Entity::find_by_id(key)
                    .one(db)
                    .await
                    .unwrap()
                    .unwrap();
                (
                    row.revision,
                    row.time_limit_days,
                    row.created_at < row.updated_at,
                )
            }
        };
        assert_eq!(revision("150000").await, (2, 4, true));
        assert_eq!(revision("620000").await, (1, 5, false));
    }

    #[tokio::test]
    async fn a_file_with_one_bad_row_loads_nothing() {
        let db = database().await;
        let dir = TempDir::new().unwrap();
        let before = rows(&db).await;

        // A problem only the database can reveal: the matter does not exist.
        let text = "\
region,matter,time_limit_days,materials,channels
150000,EMP-EMPLOYMENT-REGISTRATION,5,居民身份证,COUNTER
620000,EMP-NO-SUCH-MATTER,5,居民身份证,COUNTER
630000,EMP-EMPLOYMENT-REGISTRATION,5,居民身份证,COUNTER
";
        let path = write_file(&dir, "guides.csv", text);
        let Err(ImportError::Invalid(problems)) = import_file(&db, &path, None).await else {
            panic!("the file was loaded");
        };
        assert_eq!(
            problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "line 3, column matter: matter `EMP-NO-SUCH-MATTER` is neither in this file nor in the database"
            ]
        );
        assert_eq!(rows(&db).await, before);

        // A problem in the text, in a file whose matters come before it.
        let bad = CATALOGUE.replace(r#""timeLimitDays": 5"#, r#""timeLimitDays": 500"#);
        let path = write_file(&dir, "catalogue.json", &bad);
        let error = import_file(&db, &path, None).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "the file was refused, nothing was loaded (1 problem):\nline 27, column 24: guides[0].timeLimitDays: must be between 1 and 250 working days"
        );
        assert_eq!(rows(&db).await, before);
    }

    #[tokio::test]
    async fn references_are_checked_against_the_database() {
        let db = database().await;
        let dir = TempDir::new().unwrap();
        let text = r#"{
  "matters": [
    { "code": "EMP-TEST-ONE", "nameZh": "一", "nameEn": "One", "category": "NOPE", "standards": ["GB/T 99999-2020"] },
    { "code": "EMP-TEST-TWO", "nameZh": "二", "nameEn": "Two", "category": "SKILLS", "nationalEdition": 2023, "nationalNumber": 1 },
    { "code": "EMP-TEST-SIX", "nameZh": "六", "nameEn": "Six", "category": "SKILLS", "nationalEdition": 2023, "nationalNumber": 99 }
  ],
  "standards": [
    { "code": "DB33/T 1-2020", "titleZh": "地标", "level": "REGIONAL", "issuingZone": "XYZ", "supersedes": "DB33/T 1-2010" }
  ],
  "guides": [
    { "region": "330100", "matter": "EMP-TEST-TWO", "timeLimitDays": 5, "materials": [], "channels": ["ONLINE"] },
    { "region": "330000", "matter": "EMP-EMPLOYMENT-REGISTRATION", "timeLimitDays": 1, "materials": [], "channels": ["ONLINE"] }
  ]
}"#;
        let path = write_file(&dir, "references.json", text);
        let Err(ImportError::Invalid(problems)) = import_file(&db, &path, None).await else {
            panic!("the file was loaded");
        };
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "line 3, column 75: matters[0].category: category `NOPE` is not in the database",
                "line 3, column 97: matters[0].standards[0]: standard `GB/T 99999-2020` is neither in this file nor in the database",
                "line 4, column 128: matters[1].nationalNumber: national item 1 of the 2023 edition is in category EMPLOYMENT, not SKILLS",
                "line 5, column 128: matters[2].nationalNumber: national item 99 of the 2023 edition is not in the database",
                "line 8, column 106: standards[0].supersedes: standard `DB33/T 1-2010` is neither in this file nor in the database",
                "line 8, column 85: standards[0].issuingZone: zone `XYZ` is not in the database",
                "line 11, column 17: guides[0].region: region `330100` is not in the database",
                "line 12, column 85: guides[1].timeLimitDays: the stored operating procedure takes 4 working days, more than 1: import the procedure too, with steps that fit",
            ]
        );
    }

    #[tokio::test]
    async fn a_procedure_must_fit_its_stored_guide() {
        let db = database().await;
        let dir = TempDir::new().unwrap();
        let guides = "\
region,matter,time_limit_days,materials,channels
150000,EMP-EMPLOYMENT-REGISTRATION,3,居民身份证,COUNTER
";
        import_file(&db, &write_file(&dir, "guides.csv", guides), None)
            .await
            .unwrap();
        let procedures = "\
region,matter,step,name,actor,time_limit_days,illustrative
150000,EMP-EMPLOYMENT-REGISTRATION,1,受理,窗口,2,true
150000,EMP-EMPLOYMENT-REGISTRATION,2,审核,经办机构,3,true
";
        let path = write_file(&dir, "steps.csv", procedures);
        let Err(ImportError::Invalid(problems)) =
            import_file(&db, &path, Some(ImportKind::Procedures)).await
        else {
            panic!("the file was loaded");
        };
        assert_eq!(
            problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["line 2, column step: the steps take 5 working days, more than the guide's 3"]
        );
        let fitting = procedures.replace(",3,true", ",1,true");
        let path = write_file(&dir, "steps.csv", &fitting);
        let report = import_file(&db, &path, Some(ImportKind::Procedures))
            .await
            .unwrap();
        assert_eq!(report.procedures, counts(1, 0, 0));
        let stored = operating_procedure::Entity::find_by_id((
            "150000".to_owned(),
            "EMP-EMPLOYMENT-REGISTRATION".to_owned(),
        ))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
        assert!(stored.illustrative);
    }

    #[tokio::test]
    async fn a_database_error_rolls_everything_back() {
        use sea_orm::ConnectionTrait;
        let db = database().await;
        db.execute_unprepared(
            "CREATE TRIGGER refuse_guides BEFORE INSERT ON service_guide BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        .await
        .unwrap();
        let before = rows(&db).await;
        let dir = TempDir::new().unwrap();
        let path = write_file(&dir, "catalogue.json", CATALOGUE);
        let error = import_file(&db, &path, None).await.unwrap_err();
        assert!(matches!(error, ImportError::Store(_)), "{error:?}");
        // The matter and the standard were written before the guide failed.
        assert_eq!(rows(&db).await, before);
    }

    /// The examples in `docs/import.md` load into a seeded database, so
    /// the guide stays true.
    #[tokio::test]
    async fn the_documented_examples_load() {
        let guide = include_str!("../../../docs/import.md");
        let block = |fence: &str| {
            let start = guide.find(fence).map(|at| at + fence.len()).unwrap();
            let end = guide[start..].find("```").unwrap();
            guide[start..start + end].to_owned()
        };
        let db = database().await;
        let dir = TempDir::new().unwrap();
        let guides = write_file(&dir, "guides-330000.csv", &block("```csv\n"));
        let report = import_file(&db, &guides, None).await.unwrap();
        assert_eq!(report.guides.total(), 2);
        let catalogue = write_file(&dir, "catalogue.json", &block("```json\n"));
        let report = import_file(&db, &catalogue, None).await.unwrap();
        assert_eq!(
            ImportKind::ALL.map(|kind| report.counts(kind).total()),
            [1, 1, 1, 1]
        );
    }

    #[tokio::test]
    async fn file_level_errors_say_what_to_do() {
        let db = database().await;
        let dir = TempDir::new().unwrap();
        let sheet = write_file(&dir, "guides.xlsx", "");
        let error = import_file(&db, &sheet, None).await.unwrap_err();
        assert!(
            matches!(error, ImportError::UnsupportedFormat { .. }),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains("import reads CSV (.csv) and JSON (.json)")
        );

        let text = GUIDES
            .replace("330000", "150000")
            .replace("320000", "620000");
        let unnamed = write_file(&dir, "catalogue.csv", &text);
        let error = import_file(&db, &unnamed, None).await.unwrap_err();
        assert!(error.to_string().contains("or pass --kind"), "{error}");
        let report = import_file(&db, &unnamed, Some(ImportKind::Guides))
            .await
            .unwrap();
        assert_eq!(report.guides, counts(2, 0, 0));

        let missing = dir.path().join("matters.csv");
        let error = import_file(&db, &missing, None).await.unwrap_err();
        assert!(matches!(error, ImportError::Io { .. }), "{error:?}");

        // 居民 in GBK, as a Chinese Excel saves "CSV" by default.
        let path = dir.path().join("matters.csv");
        std::fs::write(&path, b"code,name_zh\nEMP-X,\xbe\xd3\xc3\xf1\n").unwrap();
        let Err(ImportError::Invalid(problems)) = import_file(&db, &path, None).await else {
            panic!("a GBK file was accepted");
        };
        assert_eq!(problems[0].line, 2);
        assert!(problems[0].message.contains("not UTF-8"));
    }
}
