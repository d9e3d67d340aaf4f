//! `concord import FILE`: loading national items, service matters,
//! standards, service guides and operating procedures from a CSV or JSON
//! file (formats in `docs/import.md`).
//!
//! A file is checked whole before anything is written, and every problem is
//! collected with the line and column where it was written: a file with any
//! problem loads nothing. [`parse()`] does the checks that need only the text;
//! [`import_file`] adds the ones that need the database (do the codes a
//! record refers to exist?) and then applies every record in one
//! transaction through [`crate::write`].
//!
//! The stages have a file each: `parse` reads a whole file into records,
//! using `positions` (where each value was written), `fields` (the readers
//! of each field's value) and `records` (one record of each kind);
//! `references` checks what the records refer to; `apply` writes them.

use std::fmt;
use std::hash::Hash;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::string::FromUtf8Error;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};

use concord_domain::{MatterDraft, NationalItemDraft, StandardDraft};

use crate::write::{GuideRecord, Outcome, ProcedureRecord};
use crate::{Progress, StoreError};

mod apply;
mod fields;
mod parse;
mod positions;
mod records;
mod references;
#[cfg(test)]
mod tests;

use apply::apply;
use parse::{Parsed, parse_all};
use positions::Places;
use references::check_references;

/// What an import file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImportKind {
    NationalItems,
    Matters,
    Standards,
    Guides,
    Procedures,
}

impl ImportKind {
    /// Every kind, in the order a file's records are applied: each kind may
    /// refer to the ones before it.
    pub const ALL: [ImportKind; 5] = [
        ImportKind::NationalItems,
        ImportKind::Matters,
        ImportKind::Standards,
        ImportKind::Guides,
        ImportKind::Procedures,
    ];

    /// The kind's name, as in `--kind` and the start of a CSV file's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::NationalItems => "national-items",
            ImportKind::Matters => "matters",
            ImportKind::Standards => "standards",
            ImportKind::Guides => "guides",
            ImportKind::Procedures => "procedures",
        }
    }

    /// The kind's key in a JSON file: its name in camelCase, as fields are.
    pub fn json_key(self) -> &'static str {
        match self {
            ImportKind::NationalItems => "nationalItems",
            other => other.as_str(),
        }
    }

    /// The kind a file's name announces: `guides.csv`, or the kind followed
    /// by `-`, `_` or `.` and anything (`guides-330000.csv`). National items
    /// may be written `national-items` or `national_items`.
    fn of_file(path: &Path) -> Option<ImportKind> {
        let stem = path.file_stem()?.to_str()?.to_ascii_lowercase().replacen(
            "national_items",
            "national-items",
            1,
        );
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
#[error(
    "`{0}` is not a kind of import: use national-items, matters, standards, guides or procedures"
)]
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
    /// A JSON object with any of the keys `nationalItems`, `matters`,
    /// `standards`, `guides` and `procedures`.
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
        "cannot tell what `{}` holds: name the file after its kind (national-items.csv, matters.csv, standards.csv, guides.csv, procedures.csv, or e.g. guides-330000.csv) or pass --kind",
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
    pub national_items: Counts,
    pub matters: Counts,
    pub standards: Counts,
    pub guides: Counts,
    pub procedures: Counts,
}

impl ImportReport {
    /// Whether the import inserted or updated any row.
    pub fn changed(&self) -> bool {
        [
            self.national_items,
            self.matters,
            self.standards,
            self.guides,
            self.procedures,
        ]
        .iter()
        .any(|counts| counts.inserted + counts.updated > 0)
    }

    /// The counts of one kind.
    pub fn counts(&self, kind: ImportKind) -> Counts {
        match kind {
            ImportKind::NationalItems => self.national_items,
            ImportKind::Matters => self.matters,
            ImportKind::Standards => self.standards,
            ImportKind::Guides => self.guides,
            ImportKind::Procedures => self.procedures,
        }
    }

    fn counts_mut(&mut self, kind: ImportKind) -> &mut Counts {
        match kind {
            ImportKind::NationalItems => &mut self.national_items,
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
    NationalItem(NationalItemDraft),
    Matter(MatterDraft),
    Standard(StandardDraft),
    Guide(GuideRecord),
    Procedure(ProcedureRecord),
}

impl Entry {
    pub fn kind(&self) -> ImportKind {
        match self {
            Entry::NationalItem(_) => ImportKind::NationalItems,
            Entry::Matter(_) => ImportKind::Matters,
            Entry::Standard(_) => ImportKind::Standards,
            Entry::Guide(_) => ImportKind::Guides,
            Entry::Procedure(_) => ImportKind::Procedures,
        }
    }
}

/// Loads `path` into the database: all of it in one transaction, or, when
/// any record has a problem, nothing. See [`import_file_reporting`].
pub async fn import_file(
    db: &DatabaseConnection,
    path: &Path,
    kind: Option<ImportKind>,
) -> Result<ImportReport, ImportError> {
    import_file_reporting(db, path, kind, &()).await
}

/// Loads `path` into the database: all of it in one transaction, or, when
/// any record has a problem, nothing. Reports its stages to `progress`:
/// reading and checking the file, then writing it, in records.
///
/// The format comes from the extension (`.csv`, `.json`). A CSV file holds
/// one kind of record: `kind` when given, else the kind its name starts with
/// (`guides.csv`, `guides-330000.csv`). A JSON file names its kinds by its
/// keys; `kind`, when given, is the only key it may carry.
pub async fn import_file_reporting(
    db: &DatabaseConnection,
    path: &Path,
    kind: Option<ImportKind>,
    progress: &dyn Progress,
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
    progress.stage("checking", None);
    // One read before any database work: nothing else is waiting on this
    // task, so a blocking read costs nothing. The parse takes the text: a
    // CSV file's is dropped once read, a JSON file's with the places of its
    // values.
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.to_owned(),
        source,
    })?;
    let text =
        String::from_utf8(bytes).map_err(|error| ImportError::Invalid(vec![not_utf8(&error)]))?;
    let parsed = parse_all(kind, format, text);

    let txn = db.begin().await.map_err(StoreError::from)?;
    let cache = widen_cache(&txn).await?;
    // Rows are logged as written, not read back: at the precision that
    // PostgreSQL keeps, the logged times are the stored ones.
    let now = Utc::now().trunc_subsecs(6);
    let loaded = load(&txn, parsed, now, progress).await;
    let loaded = match restore_cache(&txn, cache).await {
        Ok(()) => loaded,
        Err(error) => loaded.and(Err(error.into())),
    };
    match loaded {
        Ok(report) if report.changed() => {
            crate::version::commit(txn)
                .await
                .map_err(StoreError::from)?;
            crate::analyze(db).await?;
            Ok(report)
        }
        // Nothing changed: the data version stays, so that no reader
        // drops a cached answer for nothing.
        Ok(report) => {
            txn.commit().await.map_err(StoreError::from)?;
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

/// The page cache an import's SQLite connection keeps, in KiB: room for
/// the search grams, the rows and their indexes as they are written. With
/// SQLite's default of 2 MB, a bulk load spills pages to the WAL before it
/// commits and reads them back for the next insert: a third of the time of
/// a scale-1 import in `perf`. The cache grows only as pages are used.
const IMPORT_CACHE_KIB: i64 = 1024 * 1024;

/// On SQLite, gives the import's connection [`IMPORT_CACHE_KIB`] of page
/// cache; returns the size to restore (as `PRAGMA cache_size` writes it)
/// before the connection goes back to the pool.
async fn widen_cache(txn: &impl ConnectionTrait) -> Result<Option<i64>, StoreError> {
    if txn.get_database_backend() != DbBackend::Sqlite {
        return Ok(None);
    }
    let statement = Statement::from_string(DbBackend::Sqlite, "PRAGMA cache_size");
    let row = txn
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| StoreError::Corrupt("PRAGMA cache_size returned no row".into()))?;
    let before = row.try_get_by_index::<i64>(0)?;
    txn.execute_unprepared(&format!("PRAGMA cache_size = -{IMPORT_CACHE_KIB}"))
        .await?;
    Ok(Some(before))
}

/// Puts back the page cache that [`widen_cache`] replaced.
async fn restore_cache(txn: &impl ConnectionTrait, before: Option<i64>) -> Result<(), StoreError> {
    if let Some(before) = before {
        txn.execute_unprepared(&format!("PRAGMA cache_size = {before}"))
            .await?;
    }
    Ok(())
}

/// Reads and checks the records of an import file's `text`, without the
/// database: syntax, unknown and missing fields, every value through the
/// domain's rules, duplicate keys, and the agreement of records in the same
/// file. Returns the records in the order they are applied (national items,
/// matters, standards, guides, procedures), or every problem found.
///
/// `kind` is required for CSV, which holds one kind of record; for JSON it
/// limits the keys the file may carry.
pub fn parse(
    kind: Option<ImportKind>,
    format: Format,
    text: &str,
) -> Result<Vec<Record>, Vec<Problem>> {
    let parsed = parse_all(kind, format, text.to_owned());
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

/// Checks the references of a parsed file, then applies it.
async fn load(
    txn: &impl ConnectionTrait,
    parsed: Parsed,
    now: DateTime<Utc>,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    let (found, stored_standards) = check_references(txn, &parsed).await?;
    let Parsed {
        records,
        mut problems,
        ..
    } = parsed;
    problems.extend(found);
    if !problems.is_empty() {
        problems.sort_by_key(|problem| problem.line);
        return Err(ImportError::Invalid(problems));
    }
    progress.stage("writing", Some(records.len() as u64));
    Ok(apply(txn, records, &stored_standards, now, progress).await?)
}
