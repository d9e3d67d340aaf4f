//! Fuzzing `concord import`: the CSV and JSON readers, then whole files
//! against a real (in-memory) SQLite database seeded as `concord serve`
//! seeds it.
//!
//! The committed corpus (`tests/corpus/import/`) is replayed first: every
//! file whose name says `refused` must be refused, every other must load,
//! and load again unchanged. Then generated files: the corpus mutated with
//! knowledge of its structure (CSV cells, rows and columns removed, copied
//! or replaced with odd values; JSON members and items removed, duplicated,
//! renamed or replaced), then as text, then re-encoded (a byte-order mark,
//! CRLF, UTF-16, Latin-1, a stray byte), and plain random text and bytes.
//!
//! Whatever the file, the import must not panic; a refused file gets
//! problems on lines it has, with a message, in line order, and leaves every
//! table as it was; a loaded file loads again with nothing changed.
//!
//! `CONCORD_FUZZ_SCALE` multiplies the budget and `PROPTEST_RNG_SEED` sets
//! the seed (printed with `--nocapture`, and with any failure).

use std::cell::RefCell;
use std::path::Path;

use concord_fuzz::json::{self, JsonEdit};
use concord_fuzz::{NUMBERS, TRICKY};
use concord_persistence::import::{self, Format, ImportError, ImportKind, Problem};
use concord_persistence::{ConnectOptions, DatabaseConnection};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use sea_orm::{ConnectionTrait, Statement};
use tokio::runtime::Runtime;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/import");

/// Names that tell `import` what a file holds, for random text.
const NAMES: &[&str] = &[
    "matters.csv",
    "standards.csv",
    "guides.csv",
    "procedures.csv",
    "catalogue.json",
];

/// An import file and the `--kind` it is imported with.
#[derive(Debug, Clone)]
struct File {
    name: String,
    bytes: Vec<u8>,
    kind: Option<ImportKind>,
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    concord_fuzz::corpus(CORPUS)
}

/// The corpus files that are UTF-8, as text to mutate.
fn texts() -> Vec<(String, String)> {
    corpus()
        .into_iter()
        .filter_map(|(name, bytes)| Some((name, String::from_utf8(bytes).ok()?)))
        .collect()
}

/// What `import` reads a file as: its format, and the kind of a CSV file
/// (`--kind`, else the start of its name).
fn reading(name: &str, kind: Option<ImportKind>) -> (Option<ImportKind>, Format) {
    let format = Format::of(Path::new(name)).expect("fuzzed files are .csv or .json");
    let kind = match format {
        Format::Csv => kind.or_else(|| name.split(['-', '_', '.']).next()?.parse().ok()),
        Format::Json => kind,
    };
    (kind, format)
}

// ---------------------------------------------------------------------------
// Values that break rules

/// Texts that a cell or a JSON string may hold: codes and enumerations that
/// exist, almost exist or do not; dates that do not; lists with repeats;
/// texts at and past their limits; numbers out of every range.
fn odd_text() -> impl Strategy<Value = String> {
    const VALUES: &[&str] = &[
        "",
        " ",
        "330000",
        "990000",
        "100000",
        "150000",
        "EMP-EMPLOYMENT-REGISTRATION",
        "SI-PENSION-TRANSFER",
        "EMP-NO-SUCH-MATTER",
        "emp-employment-registration",
        "GB/T 33527",
        "GB/T 33527-2017",
        "DB33/T 1-2020",
        "DB99/T 1-2020",
        "YRD",
        "XYZ",
        "EMPLOYMENT",
        "NOPE",
        "NATIONAL",
        "LOCAL",
        "REGIONAL",
        "local",
        "DRAFT",
        "PUBLISHED",
        "SUPERSEDED",
        "COUNTER",
        "COUNTER;COUNTER",
        "ONLINE;FAX",
        ";;",
        "居民身份证;居民身份证",
        "TRUE",
        "maybe",
        "2024-02-29",
        "2023-02-29",
        "2024-13-01",
        "0000-01-01",
        "+10000-01-01",
        "2024-1-1",
        "12.345",
        "250",
        "251",
        "1,5",
    ];
    prop_oneof![
        4 => proptest::sample::select(VALUES).prop_map(str::to_owned),
        2 => proptest::sample::select(NUMBERS).prop_map(str::to_owned),
        2 => concord_fuzz::piece(),
        1 => (proptest::sample::select(TRICKY), 199..=202usize)
            .prop_map(|(c, n)| std::iter::repeat_n(c, n).collect()),
        1 => Just("长".repeat(2001)),
        1 => proptest::collection::vec("[A-Z]{1,3}", 29..=32).prop_map(|items| items.join(";")),
    ]
}

// ---------------------------------------------------------------------------
// CSV, cell by cell

/// One change to a CSV file's rows (the header is row 0). Indices wrap.
#[derive(Debug, Clone)]
enum CsvEdit {
    Set(usize, usize, String),
    Copy((usize, usize), (usize, usize)),
    RemoveColumn(usize),
    CopyColumn(usize),
    RemoveRow(usize),
    CopyRow(usize),
    DropLastCell(usize),
    AddCell(usize, String),
}

fn csv_edit() -> impl Strategy<Value = CsvEdit> {
    let at = || (any::<usize>(), any::<usize>());
    prop_oneof![
        6 => (any::<usize>(), any::<usize>(), odd_text()).prop_map(|(r, c, v)| CsvEdit::Set(r, c, v)),
        2 => (at(), at()).prop_map(|(from, to)| CsvEdit::Copy(from, to)),
        // Another row's value in the same column: valid, or a duplicate.
        2 => (at(), any::<usize>()).prop_map(|((row, column), to)| {
            CsvEdit::Copy((row, column), (to, column))
        }),
        1 => any::<usize>().prop_map(CsvEdit::RemoveColumn),
        1 => any::<usize>().prop_map(CsvEdit::CopyColumn),
        1 => any::<usize>().prop_map(CsvEdit::RemoveRow),
        2 => any::<usize>().prop_map(CsvEdit::CopyRow),
        1 => any::<usize>().prop_map(CsvEdit::DropLastCell),
        1 => (any::<usize>(), odd_text()).prop_map(|(r, v)| CsvEdit::AddCell(r, v)),
    ]
}

fn edit_csv(text: &str, edits: &[CsvEdit], crlf: bool) -> String {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .filter_map(Result::ok)
        .map(|row| row.iter().map(str::to_owned).collect())
        .collect();
    for edit in edits {
        if rows.is_empty() {
            break;
        }
        let n = rows.len();
        match edit {
            CsvEdit::Set(r, c, value) => {
                let row = &mut rows[r % n];
                if !row.is_empty() {
                    let len = row.len();
                    row[c % len].clone_from(value);
                }
            }
            CsvEdit::Copy((fr, fc), (tr, tc)) => {
                let from = &rows[fr % n];
                if from.is_empty() || rows[tr % n].is_empty() {
                    continue;
                }
                let value = from[fc % from.len()].clone();
                let to = &mut rows[tr % n];
                let len = to.len();
                to[tc % len] = value;
            }
            CsvEdit::RemoveColumn(c) => {
                let width = rows[0].len().max(1);
                for row in &mut rows {
                    if c % width < row.len() {
                        row.remove(c % width);
                    }
                }
            }
            CsvEdit::CopyColumn(c) => {
                let width = rows[0].len().max(1);
                for row in &mut rows {
                    if let Some(cell) = row.get(c % width).cloned() {
                        row.push(cell);
                    }
                }
            }
            CsvEdit::RemoveRow(r) => {
                rows.remove(r % n);
            }
            CsvEdit::CopyRow(r) => {
                let row = rows[r % n].clone();
                rows.push(row);
            }
            CsvEdit::DropLastCell(r) => {
                rows[r % n].pop();
            }
            CsvEdit::AddCell(r, value) => rows[r % n].push(value.clone()),
        }
    }
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(if crlf {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        })
        .from_writer(Vec::new());
    for row in &rows {
        writer.write_record(row).expect("writing to memory");
    }
    String::from_utf8(writer.into_inner().expect("writing to memory")).expect("UTF-8 cells")
}

// ---------------------------------------------------------------------------
// JSON, member by member

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    const KEYS: &[&str] = &[
        "code",
        "matters",
        "guides",
        "steps",
        "timeLimitDays",
        "time_limit_days",
        "Code",
        "region ",
        "",
        "__proto__",
    ];
    json::edit(json::odd(odd_text().boxed()), KEYS)
}

// ---------------------------------------------------------------------------
// Whole files

/// A few edits of a kind, or often none, so that some files stay valid
/// and reach the database.
fn few<S: Strategy<Value: Clone>>(edit: S) -> impl Strategy<Value = Vec<S::Value>> {
    prop_oneof![
        2 => Just(Vec::new()),
        3 => proptest::collection::vec(edit, 1..4),
    ]
}

/// A corpus file changed: by its structure, then maybe as text.
fn near_valid() -> impl Strategy<Value = (String, String)> {
    (
        proptest::sample::select(texts()),
        few(csv_edit()),
        few(json_edit()),
        any::<bool>(),
        prop_oneof![3 => Just(Vec::new()), 1 => few(concord_fuzz::edit())],
    )
        .prop_map(|((name, text), csv_edits, json_edits, crlf, text_edits)| {
            let structured = if name.ends_with(".csv") {
                edit_csv(&text, &csv_edits, crlf)
            } else {
                json::apply(&text, &json_edits)
            };
            (name, concord_fuzz::apply(&structured, &text_edits))
        })
}

/// A file's text: near-valid mostly, else random text with a name.
fn text_file() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        6 => near_valid(),
        1 => (proptest::sample::select(NAMES), any::<String>())
            .prop_map(|(name, text)| (name.to_owned(), text)),
        1 => (proptest::sample::select(NAMES), "[a-z0-9_,;\"\\n{}\\[\\]: -]{0,200}")
            .prop_map(|(name, text)| (name.to_owned(), text)),
    ]
}

fn kind_flag() -> impl Strategy<Value = Option<ImportKind>> {
    prop_oneof![
        6 => Just(None),
        1 => proptest::sample::select(ImportKind::ALL.as_slice()).prop_map(Some),
    ]
}

/// How a text is written to disk.
#[derive(Debug, Clone)]
enum Encoding {
    Utf8,
    ByteOrderMark,
    Utf16,
    /// Characters up to U+00FF as one byte each, the rest as `?`.
    Latin1,
    /// A byte that cannot start or continue UTF-8 where it stands.
    StrayByte(usize, u8),
}

fn encode(text: &str, encoding: &Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Utf8 => text.as_bytes().to_vec(),
        Encoding::ByteOrderMark => ["\u{feff}", text].concat().into_bytes(),
        Encoding::Utf16 => std::iter::once(0xfeff)
            .chain(text.encode_utf16())
            .flat_map(u16::to_le_bytes)
            .collect(),
        Encoding::Latin1 => text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect(),
        Encoding::StrayByte(at, byte) => {
            let mut bytes = text.as_bytes().to_vec();
            let at = at % (bytes.len() + 1);
            bytes.insert(at, *byte);
            bytes
        }
    }
}

fn file() -> impl Strategy<Value = File> {
    let encoding = prop_oneof![
        8 => Just(Encoding::Utf8),
        1 => Just(Encoding::ByteOrderMark),
        1 => Just(Encoding::Utf16),
        1 => Just(Encoding::Latin1),
        1 => (any::<usize>(), 0x80..=0xffu8).prop_map(|(at, byte)| Encoding::StrayByte(at, byte)),
    ];
    prop_oneof![
        8 => (text_file(), encoding, kind_flag()).prop_map(|((name, text), encoding, kind)| File {
            name,
            bytes: encode(&text, &encoding),
            kind,
        }),
        1 => (proptest::sample::select(NAMES), any::<Vec<u8>>(), kind_flag()).prop_map(
            |(name, bytes, kind)| File {
                name: name.to_owned(),
                bytes,
                kind,
            }
        ),
    ]
}

// ---------------------------------------------------------------------------
// The checks

/// A refusal's problems: at least one, each on a line the file has, with a
/// message, in line order.
fn check_problems(problems: &[Problem], bytes: &[u8]) -> Result<(), TestCaseError> {
    let lines = bytes.iter().filter(|byte| **byte == b'\n').count() + 1;
    prop_assert!(!problems.is_empty(), "refused without a problem");
    for problem in problems {
        prop_assert!(
            (1..=lines).contains(&problem.line),
            "`{problem}` is not on one of the {lines} lines"
        );
        prop_assert!(
            !problem.message.trim().is_empty(),
            "`{problem}` says nothing"
        );
        let opening = format!("line {}", problem.line);
        prop_assert!(problem.to_string().starts_with(&opening), "`{problem}`");
    }
    prop_assert!(
        problems.is_sorted_by_key(|problem| problem.line),
        "problems out of line order"
    );
    Ok(())
}

/// `import::parse` on a file's text, without a database.
fn check_parse(name: &str, text: &str, kind: Option<ImportKind>) -> Result<(), TestCaseError> {
    let (kind, format) = reading(name, kind);
    match import::parse(kind, format, text) {
        Ok(records) => {
            // A CSV file holds its kind only; a JSON file imported with
            // `--kind` may hold only that kind.
            if let Some(kind) = kind {
                prop_assert!(records.iter().all(|record| record.entry.kind() == kind));
            }
        }
        Err(problems) => check_problems(&problems, text.as_bytes())?,
    }
    Ok(())
}

/// Every row of every table, by table, to tell whether an import wrote:
/// each table as one text, a line per row, which SQLite writes itself
/// (read through sea-orm, the seeded rows took most of the time). SQLite's
/// own tables are left out: a load refreshes the planner's statistics.
type Snapshot = Vec<(String, String)>;

async fn snapshot(db: &DatabaseConnection) -> Snapshot {
    let backend = db.get_database_backend();
    let query = |sql: String| db.query_all_raw(Statement::from_string(backend, sql));
    let tables = query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            .to_owned(),
    )
    .await
    .expect("list the tables");
    let mut snapshot = Vec::with_capacity(tables.len());
    for table in tables {
        let name: String = table.try_get("", "name").expect("a table name");
        let columns: Vec<String> = query(format!("SELECT name FROM pragma_table_info('{name}')"))
            .await
            .expect("list the columns")
            .into_iter()
            .map(|column| {
                let column: String = column.try_get("", "name").expect("a column name");
                format!("quote(\"{column}\")")
            })
            .collect();
        let rows = query(format!(
            "SELECT coalesce(group_concat(line, char(10)), '') AS text FROM (SELECT {} AS line FROM \"{name}\" ORDER BY 1)",
            columns.join(" || ',' || ")
        ))
        .await
        .expect("read a table");
        let text: String = rows[0].try_get("", "text").expect("the rows as text");
        snapshot.push((name, text));
    }
    snapshot
}

/// The tables whose rows differ between two snapshots, with the rows that
/// differ.
fn changed_tables(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    before
        .iter()
        .zip(after)
        .filter(|((_, a), (_, b))| a != b)
        .map(|((table, a), (_, b))| {
            let gone: Vec<&str> = a
                .lines()
                .filter(|row| !b.lines().any(|r| r == *row))
                .collect();
            let new: Vec<&str> = b
                .lines()
                .filter(|row| !a.lines().any(|r| r == *row))
                .collect();
            format!("{table} (was {gone:?}, is {new:?})")
        })
        .collect()
}

/// A database that files are imported into, with its rows as they stand.
struct Target {
    db: DatabaseConnection,
    rows: Snapshot,
}

impl Target {
    async fn new(db: DatabaseConnection) -> Target {
        let rows = snapshot(&db).await;
        Target { db, rows }
    }
}

/// `import::import_file` on a file written to `dir`: a refusal changes
/// nothing; a load, repeated, changes nothing more.
async fn check_import(
    target: &mut Target,
    dir: &Path,
    file: &File,
) -> Result<Outcome, TestCaseError> {
    let db = &target.db;
    let path = dir.join(&file.name);
    std::fs::write(&path, &file.bytes).expect("write the file");
    match import::import_file(db, &path, file.kind).await {
        Ok(_) => {
            let loaded = snapshot(db).await;
            let again = import::import_file(db, &path, file.kind).await;
            let Ok(again) = again else {
                return Err(TestCaseError::fail(format!(
                    "loaded once, refused the second time: {}",
                    again.unwrap_err()
                )));
            };
            for kind in ImportKind::ALL {
                let counts = again.counts(kind);
                prop_assert_eq!(
                    (counts.inserted, counts.updated),
                    (0, 0),
                    "the second load changed {}",
                    kind
                );
            }
            target.rows = snapshot(db).await;
            // A load commits through the data version even when it changed
            // no row, so only the version's own bookkeeping may move.
            let changed: Vec<String> = changed_tables(&loaded, &target.rows)
                .into_iter()
                .filter(|table| {
                    !table.starts_with("data_version ") && !table.starts_with("data_change ")
                })
                .collect();
            prop_assert!(changed.is_empty(), "the second load wrote to {changed:?}");
            Ok(Outcome::Loaded)
        }
        Err(ImportError::Invalid(problems)) => {
            check_problems(&problems, &file.bytes)?;
            let changed = changed_tables(&target.rows, &snapshot(db).await);
            prop_assert!(changed.is_empty(), "a refused file wrote to {changed:?}");
            Ok(Outcome::Refused)
        }
        Err(ImportError::UnknownKind { .. }) if reading(&file.name, file.kind).0.is_none() => {
            Ok(Outcome::Refused)
        }
        Err(error) => Err(TestCaseError::fail(format!("{error} ({error:?})"))),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Loaded,
    Refused,
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// A fresh database at `url`, migrated and seeded like a new node's.
async fn database(url: &str) -> DatabaseConnection {
    let (db, _) = concord_persistence::connect(&ConnectOptions::new(url))
        .await
        .expect("open SQLite");
    concord_persistence::migrate(&db).await.expect("migrate");
    concord_persistence::seed::seed(&db).await.expect("seed");
    db
}

#[test]
fn fuzz_import_corpus() {
    let runtime = runtime();
    let dir = tempfile::tempdir().expect("a temporary directory");
    // Each file goes into a fresh copy of one seeded database: seeding
    // takes longer than copying.
    let seeded = dir.path().join("seeded.db");
    runtime.block_on(async {
        let db = database(&format!("sqlite://{}", seeded.display())).await;
        db.close().await.expect("close the seeded database");
    });
    for (index, (name, bytes)) in corpus().into_iter().enumerate() {
        let expected = if name.contains("refused") {
            Outcome::Refused
        } else {
            Outcome::Loaded
        };
        if let Ok(text) = std::str::from_utf8(&bytes)
            && let Err(failure) = check_parse(&name, text, None)
        {
            panic!("{name}: {failure}");
        }
        let copy = dir.path().join(format!("{index}.db"));
        std::fs::copy(&seeded, &copy).expect("copy the seeded database");
        let url = format!("sqlite://{}", copy.display());
        let file = File {
            name: name.clone(),
            bytes,
            kind: None,
        };
        let outcome = runtime.block_on(async {
            let (db, _) = concord_persistence::connect(&ConnectOptions::new(url))
                .await
                .expect("open the copy");
            let mut target = Target::new(db).await;
            let outcome = check_import(&mut target, dir.path(), &file).await;
            target.db.close().await.expect("close the copy");
            outcome
        });
        match outcome {
            Ok(outcome) => assert_eq!(outcome, expected, "{name}"),
            Err(failure) => panic!("{name}: {failure}"),
        }
    }
}

#[test]
fn fuzz_import_parse() {
    concord_fuzz::run(
        "import-parse",
        2000,
        (text_file(), kind_flag()),
        |((name, text), kind)| check_parse(&name, &text, kind),
    );
}

#[test]
fn fuzz_import_files() {
    let runtime = runtime();
    let target = runtime.block_on(async { Target::new(database("sqlite::memory:").await).await });
    // The runner takes a shared closure; the cases run one at a time.
    let target = RefCell::new(target);
    let dir = tempfile::tempdir().expect("a temporary directory");
    concord_fuzz::run("import-files", 100, file(), |file| {
        runtime
            .block_on(check_import(&mut target.borrow_mut(), dir.path(), &file))
            .map(drop)
    });
}
