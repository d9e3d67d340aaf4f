//! An import with more rows of a kind than one statement can bind (SQLite
//! takes 32,766 parameters, PostgreSQL 65,535): it loads whole, loads again
//! unchanged, and a change of every guide is counted, kept in history and
//! logged once per row.
//!
//! PostgreSQL runs too when `CONCORD_TEST_POSTGRES_URL` is set; with
//! `CI=true` a missing one fails the test.

mod common;

use concord_persistence::DatabaseConnection;
use concord_persistence::entity::{
    change_log, operating_procedure, row_revision, service_guide, service_matter, standard,
    standard_matter,
};
use concord_persistence::import::{Counts, ImportError, ImportReport, import_file};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use common::PostgresDatabase;

const MATTERS: usize = 1_500;
/// 18 columns a row: 72,000 parameters in all.
const STANDARDS: usize = 4_000;
const REGIONS: [&str; 3] = ["330000", "320000", "440000"];
/// A guide and a procedure per matter and region: 4,500 guides of 16
/// columns are 72,000 parameters.
const GUIDES: usize = MATTERS * REGIONS.len();
/// More codes than one SQLite statement can bind.
const UNKNOWN_STANDARDS: usize = 33_000;

/// The file: every matter, every standard listing one matter, and a guide
/// and a procedure per matter and region with the time limit `days`.
fn file(days: i32) -> String {
    let matter = |m: usize| format!("EMP-BULK-{m:05}");
    let matters: Vec<_> = (0..MATTERS)
        .map(|m| {
            json!({
                "code": matter(m),
                "nameZh": format!("批量事项{m}"),
                "nameEn": format!("Bulk matter {m}"),
                "category": "EMPLOYMENT",
            })
        })
        .collect();
    let standards: Vec<_> = (0..STANDARDS)
        .map(|s| {
            json!({
                "code": format!("DB33/T {}-2025", 10_000 + s),
                "titleZh": format!("批量标准{s}"),
                "level": "LOCAL",
                "matters": [matter(s % MATTERS)],
            })
        })
        .collect();
    let mut guides = Vec::new();
    let mut procedures = Vec::new();
    for region in REGIONS {
        for m in 0..MATTERS {
            guides.push(json!({
                "region": region,
                "matter": matter(m),
                "timeLimitDays": days,
                "materials": ["居民身份证"],
                "channels": ["ONLINE", "COUNTER"],
            }));
            procedures.push(json!({
                "region": region,
                "matter": matter(m),
                "steps": [
                    { "name": "受理", "actor": "窗口", "timeLimitDays": 1 },
                    { "name": "审核", "actor": "经办机构", "timeLimitDays": 2 },
                ],
            }));
        }
    }
    // One long line, as an export may be written.
    json!({
        "matters": matters,
        "standards": standards,
        "guides": guides,
        "procedures": procedures,
    })
    .to_string()
}

fn counts(inserted: usize, updated: usize, unchanged: usize) -> Counts {
    Counts {
        inserted: inserted as u64,
        updated: updated as u64,
        unchanged: unchanged as u64,
    }
}

async fn count<E: EntityTrait>(db: &DatabaseConnection) -> u64
where
    E::Model: Sync,
{
    E::find().count(db).await.unwrap()
}

async fn logged(db: &DatabaseConnection, kind: &str) -> u64 {
    change_log::Entity::find()
        .filter(change_log::Column::Kind.eq(kind))
        .count(db)
        .await
        .unwrap()
}

async fn kept(db: &DatabaseConnection, kind: &str) -> u64 {
    row_revision::Entity::find()
        .filter(row_revision::Column::Kind.eq(kind))
        .count(db)
        .await
        .unwrap()
}

async fn imports_beyond_one_statement(db: &DatabaseConnection) {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("bulk.json");
    std::fs::write(&path, file(10)).unwrap();
    let matters_before = count::<service_matter::Entity>(db).await;
    let standards_before = count::<standard::Entity>(db).await;

    let first = import_file(db, &path, None).await.unwrap();
    assert_eq!(
        first,
        ImportReport {
            national_items: Counts::default(),
            matters: counts(MATTERS, 0, 0),
            standards: counts(STANDARDS, 0, 0),
            guides: counts(GUIDES, 0, 0),
            procedures: counts(GUIDES, 0, 0),
        }
    );
    assert_eq!(
        count::<service_matter::Entity>(db).await,
        matters_before + MATTERS as u64
    );
    assert_eq!(
        count::<standard::Entity>(db).await,
        standards_before + STANDARDS as u64
    );
    let bulk_links = standard_matter::Entity::find()
        .filter(standard_matter::Column::MatterCode.starts_with("EMP-BULK-"))
        .count(db)
        .await
        .unwrap();
    assert_eq!(bulk_links, STANDARDS as u64);
    assert_eq!(count::<service_guide::Entity>(db).await, GUIDES as u64);
    assert_eq!(
        count::<operating_procedure::Entity>(db).await,
        GUIDES as u64
    );
    assert_eq!(logged(db, "GUIDE").await, GUIDES as u64);
    assert_eq!(kept(db, "GUIDE").await, GUIDES as u64);

    let again = import_file(db, &path, None).await.unwrap();
    assert_eq!(again.guides, counts(0, 0, GUIDES));
    assert_eq!(again.standards, counts(0, 0, STANDARDS));
    assert!(!again.changed());
    assert_eq!(logged(db, "GUIDE").await, GUIDES as u64);

    std::fs::write(&path, file(12)).unwrap();
    let changed = import_file(db, &path, None).await.unwrap();
    assert_eq!(changed.guides, counts(0, GUIDES, 0));
    assert_eq!(changed.procedures, counts(0, 0, GUIDES));
    let revised = service_guide::Entity::find()
        .filter(service_guide::Column::Revision.eq(2))
        .filter(service_guide::Column::TimeLimitDays.eq(12))
        .count(db)
        .await
        .unwrap();
    assert_eq!(revised, GUIDES as u64);
    // The first version was kept when it was imported; the second joins it.
    assert_eq!(kept(db, "GUIDE").await, 2 * GUIDES as u64);
    assert_eq!(logged(db, "GUIDE").await, 2 * GUIDES as u64);

    // The checks look up every code a file names, more than one statement
    // can bind: each unknown standard is reported, and nothing loads.
    let unknown: Vec<String> = (0..UNKNOWN_STANDARDS)
        .map(|s| format!("DB33/T {}-2024", 20_000 + s))
        .collect();
    let naming = json!({ "matters": [{
        "code": "EMP-BULK-NAMING",
        "nameZh": "引用事项",
        "nameEn": "A matter naming many standards",
        "category": "EMPLOYMENT",
        "standards": unknown,
    }] });
    std::fs::write(&path, naming.to_string()).unwrap();
    match import_file(db, &path, None).await {
        Err(ImportError::Invalid(problems)) => {
            assert_eq!(problems.len(), UNKNOWN_STANDARDS);
            assert!(problems.iter().all(|p| {
                p.message
                    .contains("is neither in this file nor in the database")
            }));
        }
        other => panic!("expected every unknown standard reported, got {other:?}"),
    }
    assert_eq!(
        count::<service_matter::Entity>(db).await,
        matters_before + MATTERS as u64
    );
}

#[tokio::test]
async fn an_import_beyond_one_statement_loads_on_sqlite() {
    let dir = tempfile::TempDir::new().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("bulk.db").display());
    imports_beyond_one_statement(&common::seeded(&url).await.0).await;
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL"
)]
async fn an_import_beyond_one_statement_loads_on_postgres() {
    let Some(database) = PostgresDatabase::create("concord_import_bulk", "bulk").await else {
        return;
    };
    let (db, _) = common::seeded(&database.url).await;
    let conn = db.clone();
    common::run_apart(
        async move { imports_beyond_one_statement(&conn).await },
        common::close(db, Some(database)),
    )
    .await;
}
