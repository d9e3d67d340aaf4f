//! Text search through the gram index against the plain scan it narrows
//! (kept below as the oracle, as it was before the index). Random titles
//! and names go in through the real write path, inserted and revised; random
//! terms (one character, Latin, mixed case, CJK, punctuation, `%`, `_`, `\`,
//! characters that fold differently per backend, terms longer than any
//! title) must find the same rows, in the same order and pages, with the
//! same count. And the index follows a revision, a sync and an import.
//!
//! PostgreSQL runs too when `CONCORD_TEST_POSTGRES_URL` is set; with
//! `CI=true` an unreachable PostgreSQL fails the test.

mod common;

use std::cell::RefCell;
use std::io::Write as _;

use chrono::Utc;
use concord_domain::{CategoryCode, MatterCode, StandardCode, StandardLevel, StandardStatus};
use concord_domain::{MatterDraft, StandardDraft};
use concord_persistence::DatabaseConnection;
use concord_persistence::changes::{self, IncomingChange};
use concord_persistence::entity::{service_matter, standard};
use concord_persistence::queries::{
    self, MatterFilter, Page, PageRequest, StandardFilter, Visibility,
};
use concord_persistence::search::{self, Searched};
use concord_persistence::write;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Statement, TransactionTrait,
};
use tokio::runtime::Runtime;

use common::PostgresDatabase;

// ---------------------------------------------------------------------------
// The oracle: the scan that served search before the index, without its
// one shortcut (leaving a term with no cased letters unfolded), so the
// shortcut is checked too: every title is folded, and so is the term.

fn text_matches<C: ColumnTrait>(columns: &[C], text: &str) -> Condition {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = format!("%{escaped}%");
    columns.iter().fold(Condition::any(), |any, column| {
        let haystack = Expr::expr(Func::lower(Expr::col((column.entity_name(), *column))));
        any.add(haystack.like(LikeExpr::new(pattern.clone()).escape('\\')))
    })
}

/// What each search is asked as: everything, the public view, and a
/// province administrator's (its own drafts too).
fn visibilities() -> [Visibility; 3] {
    [
        Visibility::All,
        Visibility::Public,
        Visibility::OwnDrafts {
            regions: vec!["110000".into()],
            zones: vec!["YRD".into()],
        },
    ]
}

async fn scanned_standards<C: ConnectionTrait>(
    conn: &C,
    text: &str,
    visibility: &Visibility,
) -> Vec<String> {
    let mut select = standard::Entity::find().filter(text_matches(
        &[
            standard::Column::TitleZh,
            standard::Column::TitleEn,
            standard::Column::Code,
        ],
        text.trim(),
    ));
    let not_draft = standard::Column::Status.ne(StandardStatus::Draft.as_str());
    match visibility {
        Visibility::All => {}
        Visibility::Public => select = select.filter(not_draft),
        Visibility::OwnDrafts { regions, zones } => {
            select = select.filter(
                Condition::any()
                    .add(not_draft)
                    .add(standard::Column::Origin.is_in(regions.iter().cloned()))
                    .add(standard::Column::IssuingZone.is_in(zones.iter().cloned())),
            );
        }
    }
    codes_in_order(conn, select, standard::Column::Code).await
}

async fn scanned_matters<C: ConnectionTrait>(conn: &C, text: &str) -> Vec<String> {
    let select = service_matter::Entity::find().filter(text_matches(
        &[
            service_matter::Column::NameZh,
            service_matter::Column::NameEn,
            service_matter::Column::Code,
        ],
        text.trim(),
    ));
    codes_in_order(conn, select, service_matter::Column::Code).await
}

/// The `code` of every row `select` finds, in code order.
async fn codes_in_order<C: ConnectionTrait, E: EntityTrait>(
    conn: &C,
    select: Select<E>,
    code: E::Column,
) -> Vec<String> {
    select
        .select_only()
        .column(code)
        .order_by_asc(code)
        .into_tuple()
        .all(conn)
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------
// What the index serves, page by page.

/// Every page of a search that `read` answers, small pages so that keyset
/// pagination is exercised: the codes in order, and the count the first
/// page reported.
async fn every_page<M, F: Future<Output = Page<M>>>(
    read: impl Fn(PageRequest<String>) -> F,
    code: fn(M) -> String,
) -> (Vec<String>, u64) {
    let (mut codes, mut after, mut total) = (Vec::new(), None, None);
    loop {
        let request = PageRequest {
            after: after.clone(),
            first: 7,
            count: total.is_none(),
        };
        let page = read(request).await;
        total.get_or_insert(page.total);
        codes.extend(page.items.into_iter().map(code));
        if !page.has_next {
            break;
        }
        after = codes.last().cloned();
    }
    (codes, total.unwrap_or_default())
}

async fn indexed_standards(
    db: &DatabaseConnection,
    text: &str,
    visibility: &Visibility,
) -> (Vec<String>, u64) {
    let filter = StandardFilter {
        text: Some(text.to_owned()),
        ..StandardFilter::default()
    };
    let filter = &filter;
    every_page(
        |request| async move {
            queries::standards(db, filter, visibility, request)
                .await
                .unwrap()
        },
        |row| row.code.to_string(),
    )
    .await
}

async fn indexed_matters(db: &DatabaseConnection, text: &str) -> (Vec<String>, u64) {
    let filter = MatterFilter {
        text: Some(text.to_owned()),
        ..MatterFilter::default()
    };
    let filter = &filter;
    every_page(
        |request| async move { queries::matters(db, filter, request).await.unwrap() },
        |row| row.code.to_string(),
    )
    .await
}

// ---------------------------------------------------------------------------
// Databases.

struct Db {
    db: DatabaseConnection,
    postgres: Option<PostgresDatabase>,
}

impl Db {
    async fn sqlite() -> Db {
        Db::open("sqlite::memory:", None).await
    }

    /// `None` without a PostgreSQL test server (see [`PostgresDatabase::create`]).
    async fn postgres(tag: &str) -> Option<Db> {
        let database = PostgresDatabase::create("concord_search", tag).await?;
        let url = database.url.clone();
        Some(Db::open(&url, Some(database)).await)
    }

    async fn open(url: &str, postgres: Option<PostgresDatabase>) -> Db {
        let (db, _) = common::seeded(url).await;
        Db { db, postgres }
    }

    async fn close(self) {
        common::close(self.db, self.postgres).await;
    }
}

// ---------------------------------------------------------------------------
// Random titles and terms.

/// Characters that titles and terms are made of: CJK, Latin in both cases,
/// digits, punctuation and LIKE's own metacharacters, and letters that
/// backends and Rust fold differently (Kelvin sign, dotted and dotless i,
/// sharp s, final sigma, full-width Latin).
const ALPHABET: &[char] = &[
    '服', '务', '规', '范', '就', '业', '社', '会', '保', '险', '第', '号', '（', '）', '、', ' ',
    'a', 'b', 'c', 'A', 'B', 'C', 's', 'S', 'k', 'K', 'i', 'I', 'İ', 'ı', '\u{212A}', 'ß', 'é',
    'É', 'Σ', 'σ', 'ς', 'Ａ', 'ａ', '%', '_', '\\', '-', '/', '1', '2', '\'',
];

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(ALPHABET), 0..=max)
        .prop_map(|chars| chars.into_iter().collect())
}

/// One write: a standard or a matter of a small pool of codes, so that
/// later writes revise earlier rows.
#[derive(Debug, Clone)]
struct Write {
    matter: bool,
    slot: u8,
    zh: String,
    en: String,
    draft: bool,
}

fn writes() -> impl Strategy<Value = Vec<Write>> {
    prop::collection::vec(
        (any::<bool>(), 0u8..16, text(10), text(10), any::<bool>()).prop_map(
            |(matter, slot, zh, en, draft)| Write {
                matter,
                slot,
                zh,
                en,
                draft,
            },
        ),
        1..6,
    )
}

/// How a term is made: a piece of a title just written, its case flipped
/// where `flips` says; a random string; or a title with more after it, so
/// longer than any title.
#[derive(Debug, Clone)]
enum TermSpec {
    Piece {
        of: usize,
        english: bool,
        start: usize,
        len: usize,
        flips: u16,
    },
    Random(String),
    Longer(String),
}

fn terms() -> impl Strategy<Value = Vec<TermSpec>> {
    let spec = prop_oneof![
        4 => (any::<usize>(), any::<bool>(), any::<usize>(), 1usize..5, any::<u16>()).prop_map(
            |(of, english, start, len, flips)| TermSpec::Piece { of, english, start, len, flips }
        ),
        2 => prop::collection::vec(prop::sample::select(ALPHABET), 1..4)
            .prop_map(|chars| TermSpec::Random(chars.into_iter().collect())),
        1 => text(30).prop_map(TermSpec::Longer),
    ];
    prop::collection::vec(spec, 1..6)
}

fn flip(c: char) -> String {
    if c.is_lowercase() {
        c.to_uppercase().collect()
    } else {
        c.to_lowercase().collect()
    }
}

fn term(spec: &TermSpec, writes: &[Write]) -> String {
    match spec {
        TermSpec::Piece {
            of,
            english,
            start,
            len,
            flips,
        } => {
            let write = &writes[of % writes.len()];
            let chars: Vec<char> = if *english { &write.en } else { &write.zh }
                .chars()
                .collect();
            if chars.is_empty() {
                return "服".to_owned();
            }
            let start = start % chars.len();
            chars[start..(start + len).min(chars.len())]
                .iter()
                .enumerate()
                .map(|(i, &c)| {
                    if flips >> (i % 16) & 1 == 1 {
                        flip(c)
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        }
        TermSpec::Random(text) => text.clone(),
        TermSpec::Longer(tail) => format!("{}{tail}", writes[0].zh),
    }
}

/// A national standard's code for an even slot, a local one of 110000
/// for an odd slot.
fn standard_code(slot: u8) -> StandardCode {
    let number = 90_000 + u32::from(slot);
    let code = if slot.is_multiple_of(2) {
        format!("GB/T {number}-2020")
    } else {
        format!("DB11/T {number}-2020")
    };
    StandardCode::try_from(code.as_str()).unwrap()
}

fn matter_code(slot: u8) -> MatterCode {
    MatterCode::try_from(format!("SEARCH-{}", char::from(b'A' + slot)).as_str()).unwrap()
}

fn standard_record(code: StandardCode, zh: &str, en: &str, draft: bool) -> StandardDraft {
    let level = if code.local_province().is_some() {
        StandardLevel::Local
    } else {
        StandardLevel::National
    };
    StandardDraft {
        title_en: en.to_owned(),
        status: if draft {
            StandardStatus::Draft
        } else {
            StandardStatus::InForce
        },
        illustrative: true,
        ..StandardDraft::new(code, zh.to_owned(), level)
    }
}

fn matter_record(code: MatterCode, zh: &str, en: &str) -> MatterDraft {
    MatterDraft {
        code,
        name_zh: zh.to_owned(),
        name_en: en.to_owned(),
        category: CategoryCode::try_from("EMPLOYMENT").unwrap(),
        national_item: None,
        standards: None,
        served_groups: None,
        illustrative: true,
    }
}

async fn store(db: &DatabaseConnection, writes: &[Write]) {
    let txn = db.begin().await.unwrap();
    let now = Utc::now();
    for w in writes {
        if w.matter {
            write::upsert_matter(&txn, &matter_record(matter_code(w.slot), &w.zh, &w.en), now)
                .await
                .unwrap();
        } else {
            let record = standard_record(standard_code(w.slot), &w.zh, &w.en, w.draft);
            write::upsert_standard(&txn, &record, now).await.unwrap();
        }
    }
    txn.commit().await.unwrap();
}

/// Runs the property on one database, created once: each case writes a few
/// rows (new ones, or revisions of earlier ones) and searches for a few
/// terms.
fn index_agrees_with_the_scan(runtime: &Runtime, db: &DatabaseConnection, cases: u32) {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let searched = RefCell::new(0usize);
    let result = runner.run(&(writes(), terms()), |(writes, specs)| {
        runtime.block_on(async {
            store(db, &writes).await;
            for spec in &specs {
                let term = term(spec, &writes);
                if term.trim().is_empty() {
                    continue;
                }
                for visibility in &visibilities() {
                    let expected = scanned_standards(db, &term, visibility).await;
                    let (found, total) = indexed_standards(db, &term, visibility).await;
                    prop_assert_eq!(&found, &expected, "standards, {:?}, {:?}", term, visibility);
                    prop_assert_eq!(total, expected.len() as u64, "count of {:?}", term);
                }
                let expected = scanned_matters(db, &term).await;
                let (found, total) = indexed_matters(db, &term).await;
                prop_assert_eq!(&found, &expected, "matters, {:?}", term);
                prop_assert_eq!(total, expected.len() as u64, "count of {:?}", term);
                *searched.borrow_mut() += usize::from(!expected.is_empty());
            }
            Ok(())
        })
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    assert!(
        *searched.borrow() > cases as usize,
        "only {} searches found a matter: the cases test little",
        searched.borrow()
    );
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn the_index_finds_what_the_scan_finds_on_sqlite() {
    let runtime = runtime();
    let db = runtime.block_on(Db::sqlite());
    index_agrees_with_the_scan(&runtime, &db.db, 200);
    runtime.block_on(db.close());
}

#[test]
fn the_index_finds_what_the_scan_finds_on_postgres() {
    let runtime = runtime();
    let Some(db) = runtime.block_on(Db::postgres("property")) else {
        return;
    };
    // Caught, so that a failure still drops the database.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        index_agrees_with_the_scan(&runtime, &db.db, 100)
    }));
    runtime.block_on(db.close());
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

// ---------------------------------------------------------------------------
// The index follows every path that changes a title.

async fn finds(db: &DatabaseConnection, text: &str) -> Vec<String> {
    indexed_standards(db, text, &Visibility::All).await.0
}

async fn follows_revision_sync_and_import(db: &DatabaseConnection) {
    let code = standard_code(200);
    let now = Utc::now();
    let txn = db.begin().await.unwrap();
    write::upsert_standard(
        &txn,
        &standard_record(code.clone(), "旧标题甲乙", "Old title", false),
        now,
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(finds(db, "甲乙").await, [code.to_string()]);
    assert_counts_hold(db, "a write").await;

    // A revision through the mutation.
    let admin = concord_auth::Principal {
        subject: Some("test".into()),
        role: Some(concord_auth::Role::NationalAdmin),
        region: None,
        zone: None,
    };
    let actor = concord_auth::authorize(
        &admin,
        concord_auth::Action::ReviseStandard,
        &concord_auth::Target::default(),
        &concord_auth::Node::default(),
    )
    .expect("a national admin may revise a national standard");
    concord_persistence::mutate::revise_standard(
        &concord_persistence::mutate::Permit { db, actor, now },
        standard_record(code.clone(), "新标题丙丁", "New heading", false),
        1,
    )
    .await
    .unwrap();
    assert_eq!(finds(db, "丙丁").await, [code.to_string()]);
    assert_eq!(finds(db, "heading").await, [code.to_string()]);
    assert!(finds(db, "甲乙").await.is_empty());
    assert!(finds(db, "old title").await.is_empty());
    assert_counts_hold(db, "a revision").await;

    // Two newer revisions from a peer, in one page, applied by sync: the
    // standard's key is indexed once, for the later one.
    let mut row = standard::Entity::find_by_id(code.as_str())
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let mut revised = |title: &str| {
        row.title_zh = title.into();
        row.revision += 1;
        let record = serde_json::json!({ "row": row, "matters": [] }).to_string();
        IncomingChange {
            kind: "STANDARD".into(),
            key: code.to_string(),
            revision: row.revision,
            record: Some(serde_json::value::RawValue::from_string(record).unwrap()),
        }
    };
    let page = [revised("中间标题子丑"), revised("同步标题戊己")];
    let txn = db.begin().await.unwrap();
    // Applied on a province node that does not own the standard.
    assert_eq!(
        changes::apply_page(&txn, &page, "650000", now)
            .await
            .unwrap(),
        2
    );
    txn.commit().await.unwrap();
    assert_eq!(finds(db, "戊己").await, [code.to_string()]);
    assert!(finds(db, "子丑").await.is_empty());
    assert!(finds(db, "丙丁").await.is_empty());
    assert_counts_hold(db, "a sync").await;
    // A key listed twice is cut again once.
    let txn = db.begin().await.unwrap();
    let retitled = standard::Entity::find_by_id(code.as_str())
        .one(&txn)
        .await
        .unwrap()
        .unwrap();
    standard::ActiveModel {
        title_zh: sea_orm::Set("重排标题寅卯".into()),
        ..retitled.into()
    }
    .update(&txn)
    .await
    .unwrap();
    let twice = [code.to_string(), code.to_string()];
    search::reindex(&txn, Searched::Standard, &twice)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(finds(db, "寅卯").await, [code.to_string()]);
    assert_counts_hold(db, "a key reindexed as listed twice").await;

    // An import.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("standards.json");
    let mut file = std::fs::File::create(&path).unwrap();
    write!(
        file,
        r#"{{ "standards": [ {{ "code": "{code}", "titleZh": "导入标题庚辛", "titleEn": "Imported", "level": "NATIONAL" }} ] }}"#
    )
    .unwrap();
    drop(file);
    concord_persistence::import::import_file(db, &path, None)
        .await
        .unwrap();
    assert_eq!(finds(db, "庚辛").await, [code.to_string()]);
    assert_eq!(finds(db, "IMPORTED").await, [code.to_string()]);
    assert!(finds(db, "戊己").await.is_empty());
    assert!(finds(db, "heading").await.is_empty());
    assert_counts_hold(db, "an import").await;
}

/// `text_gram_count` holds, for each gram of a kind, how many rows of
/// `text_gram` have it (a gram no row has any more may stay at zero).
async fn assert_counts_hold(db: &DatabaseConnection, after: &str) {
    let held = "SELECT kind, gram, COUNT(*) AS keys FROM text_gram GROUP BY kind, gram";
    let counted = "SELECT kind, gram, keys FROM text_gram_count WHERE keys <> 0";
    let sql = format!(
        "SELECT (SELECT COUNT(*) FROM ({held} EXCEPT {counted}) AS a) \
         + (SELECT COUNT(*) FROM ({counted} EXCEPT {held}) AS b) AS wrong"
    );
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    let wrong: i64 = row.try_get("", "wrong").unwrap();
    assert_eq!(wrong, 0, "grams miscounted after {after}");
}

#[tokio::test]
async fn the_index_follows_a_revision_a_sync_and_an_import_on_sqlite() {
    let db = Db::sqlite().await;
    follows_revision_sync_and_import(&db.db).await;
    db.close().await;
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL"
)]
async fn the_index_follows_a_revision_a_sync_and_an_import_on_postgres() {
    let Some(db) = Db::postgres("follow").await else {
        return;
    };
    let conn = db.db.clone();
    common::run_apart(
        async move { follows_revision_sync_and_import(&conn).await },
        db.close(),
    )
    .await;
}

/// A database stored before the index existed finds what it found: the
/// index is built when it is opened.
#[tokio::test]
async fn an_upgraded_database_gets_its_index() {
    let db = Db::sqlite().await;
    let before = scanned_standards(&db.db, "服务", &Visibility::All).await;
    assert!(!before.is_empty());
    db.db
        .execute_unprepared("DELETE FROM text_gram")
        .await
        .unwrap();
    assert!(finds(&db.db, "服务").await.is_empty());
    concord_persistence::migrate(&db.db).await.unwrap();
    assert_eq!(finds(&db.db, "服务").await, before);
    db.close().await;
}

/// A longer term whose every pair is common is served by the scan alone,
/// one with a rare pair by that pair's rows: both find what the scan finds.
#[tokio::test]
async fn common_and_rare_pairs_find_what_the_scan_finds() {
    let db = Db::sqlite().await;
    let txn = db.db.begin().await.unwrap();
    let now = Utc::now();
    for i in 0..2100u32 {
        let code = StandardCode::try_from(format!("GB/T {}-2020", 60_000 + i).as_str()).unwrap();
        let record = standard_record(code, &format!("通用服务规范 第{i}号"), "Common", i % 7 == 0);
        write::upsert_standard(&txn, &record, now).await.unwrap();
    }
    txn.commit().await.unwrap();
    for term in [
        "服务规范",
        "用服务规范 第",
        "规范 第20",
        "第2099号",
        "COMMON",
        "common x",
    ] {
        for visibility in &visibilities() {
            let expected = scanned_standards(&db.db, term, visibility).await;
            let (found, total) = indexed_standards(&db.db, term, visibility).await;
            assert_eq!(found, expected, "{term:?}, {visibility:?}");
            assert_eq!(total, expected.len() as u64, "count of {term:?}");
        }
    }
    db.close().await;
}
