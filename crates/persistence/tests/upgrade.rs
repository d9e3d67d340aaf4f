//! A database an earlier release made keeps its rows through the migrations
//! that came after it: here a zone's collaborative standard and a member's
//! adoption of it, across the rename of `collaborative_target` to
//! `collaborative_standard`.

// Only the PostgreSQL database of `common` is needed: the databases here
// start unmigrated, so its seeded ones go unused.
#[allow(dead_code)]
mod common;

use chrono::Utc;
use concord_domain::{StandardCode, StandardDraft, StandardLevel, ZoneCode};
use concord_migrations::{Migrator, MigratorTrait};
use concord_persistence::entity::{adoption, collaborative_standard};
use concord_persistence::{ConnectOptions, DatabaseConnection, write};
use sea_orm::sea_query::{Alias, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, ExecResult};

use common::PostgresDatabase;

const CODE: &str = "DB31/T 310099-2026";

/// Inserts one row into `table`, whichever name the schema gives it now.
async fn insert(
    db: &DatabaseConnection,
    table: &str,
    row: &[(&str, SimpleExpr)],
) -> Result<ExecResult, DbErr> {
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new(table))
        .columns(row.iter().map(|(column, _)| Alias::new(*column)))
        .values_panic(row.iter().map(|(_, value)| value.clone()));
    db.execute_raw(db.get_database_backend().build(&insert))
        .await
}

async fn upgrade_keeps_collaborative_standards(url: &str) {
    let (db, _) = concord_persistence::connect(&ConnectOptions::new(url))
        .await
        .unwrap();
    let earlier = Migrator::migrations().len() - 1;
    Migrator::up(&db, Some(u32::try_from(earlier).unwrap()))
        .await
        .unwrap();
    concord_persistence::seed::seed_reference(&db)
        .await
        .unwrap();
    let now = Utc::now();
    let draft = StandardDraft {
        issuing_zone: Some(ZoneCode::try_from("YRD").unwrap()),
        ..StandardDraft::new(
            StandardCode::try_from(CODE).unwrap(),
            "长三角协同标准".into(),
            StandardLevel::Regional,
        )
    };
    write::upsert_standard(&db, &draft, now).await.unwrap();
    let owned = |origin: &str| {
        [
            ("origin", origin.into()),
            ("revision", 1.into()),
            ("illustrative", false.into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ]
    };
    let mut target = vec![
        ("standard_code", CODE.into()),
        ("zone_code", "YRD".into()),
        ("status", "PROPOSED".into()),
        ("max_time_limit_days", 5.into()),
    ];
    target.extend(owned("310000"));
    insert(&db, "collaborative_target", &target).await.unwrap();
    let mut decision = vec![
        ("standard_code", CODE.into()),
        ("region_code", "320000".into()),
        ("decision", "ADOPTED".into()),
    ];
    decision.extend(owned("320000"));
    insert(&db, "adoption", &decision).await.unwrap();

    Migrator::up(&db, None).await.unwrap();

    let standards = collaborative_standard::Entity::find()
        .all(&db)
        .await
        .unwrap();
    let kept: Vec<(&str, &str, Option<i32>)> = standards
        .iter()
        .map(|row| {
            (
                row.standard_code.as_str(),
                row.zone_code.as_str(),
                row.max_time_limit_days,
            )
        })
        .collect();
    assert_eq!(kept, [(CODE, "YRD", Some(5))]);
    let adoptions = adoption::Entity::find().all(&db).await.unwrap();
    assert_eq!(adoptions.len(), 1);
    assert_eq!(adoptions[0].region_code, "320000");

    // The adoptions' foreign key follows the table to its new name: an
    // adoption of a standard that is not a collaborative one is refused.
    let mut stray = vec![
        ("standard_code", "DB31/T 310098-2026".into()),
        ("region_code", "330000".into()),
        ("decision", "ADOPTED".into()),
    ];
    stray.extend(owned("330000"));
    let refused = insert(&db, "adoption", &stray).await;
    assert!(refused.is_err(), "a stray adoption was kept");
    db.close().await.unwrap();
}

#[tokio::test]
async fn an_earlier_sqlite_database_keeps_its_collaborative_standards() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("earlier.db").display()
    );
    upgrade_keeps_collaborative_standards(&url).await;
}

#[tokio::test]
async fn an_earlier_postgres_database_keeps_its_collaborative_standards() {
    let Some(database) = PostgresDatabase::create("concord_upgrade", "collab").await else {
        return;
    };
    let url = database.url.clone();
    common::run_apart(
        async move { upgrade_keeps_collaborative_standards(&url).await },
        database.drop(),
    )
    .await;
}
