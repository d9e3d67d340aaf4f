//! Loading files into a database: counts, revisions, references and
//! rollback.

use std::path::PathBuf;

use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use tempfile::TempDir;

use super::{CATALOGUE, GUIDES};
use crate::entity::{
    operating_procedure, service_guide, service_matter, standard, standard_matter,
};
use crate::import::{Counts, ImportError, ImportKind, ImportReport, import_file};
use crate::test_support::{linked_standards, seeded_database};

pub(super) fn write_file(dir: &TempDir, name: &str, text: &str) -> PathBuf {
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

pub(super) fn counts(inserted: u64, updated: u64, unchanged: u64) -> Counts {
    Counts {
        inserted,
        updated,
        unchanged,
    }
}

#[tokio::test]
async fn a_good_file_loads_and_loads_again_unchanged() {
    let db = seeded_database().await;
    let dir = TempDir::new().unwrap();
    let path = write_file(&dir, "catalogue.json", CATALOGUE);

    let first = import_file(&db, &path, None).await.unwrap();
    let once = counts(1, 0, 0);
    assert_eq!(
        first,
        ImportReport {
            national_items: Counts::default(),
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
    assert_eq!(
        linked_standards(&db, "EMP-TEST-ONE").await,
        ["DB33/T 9999-2025", "GB/T 33527"]
    );
    let local = standard::Entity::find_by_id("DB33/T 9999-2025")
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (local.origin.as_str(), local.issuing_region.as_deref()),
        ("330000", Some("330000"))
    );
    let guide = service_guide::Entity::find_by_id(("330000".to_owned(), "EMP-TEST-ONE".to_owned()))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            guide.origin.as_str(),
            guide.fee_fen.fen(),
            guide.illustrative
        ),
        ("330000", 1250, false)
    );
    assert!(guide.published_at.is_some());

    let before = rows(&db).await;
    let version = crate::version::current(&db).await.unwrap();
    let again = import_file(&db, &path, None).await.unwrap();
    assert_eq!(
        crate::version::current(&db).await.unwrap(),
        version,
        "an import that changed nothing leaves the data version, so no cached answer goes"
    );
    let unchanged = counts(0, 0, 1);
    assert_eq!(
        again,
        ImportReport {
            national_items: Counts::default(),
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
    let procedure =
        operating_procedure::Entity::find_by_id(("330000".to_owned(), "EMP-TEST-ONE".to_owned()))
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
    let db = seeded_database().await;
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
    let db = seeded_database().await;
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
    let db = seeded_database().await;
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
            "line 5, column 128: matters[2].nationalNumber: national item 99 of the 2023 edition is neither in this file nor in the database",
            "line 8, column 106: standards[0].supersedes: standard `DB33/T 1-2010` is neither in this file nor in the database",
            "line 8, column 85: standards[0].issuingZone: zone `XYZ` is not in the database",
            "line 11, column 17: guides[0].region: region `330100` is not in the database",
            "line 12, column 85: guides[1].timeLimitDays: the stored operating procedure takes 4 working days, more than 1: import the procedure too, with steps that fit",
        ]
    );
}

#[tokio::test]
async fn a_procedure_must_fit_its_stored_guide() {
    let db = seeded_database().await;
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
    let db = seeded_database().await;
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
    let guide = include_str!("../../../../../docs/import.md");
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/examples/");
    let db = seeded_database().await;
    let mut loaded = Vec::new();
    // Each example is introduced by its path, then shown in a fenced block.
    for (at, _) in guide.match_indices("`docs/examples/") {
        let rest = &guide[at + "`docs/examples/".len()..];
        let name = &rest[..rest.find('`').unwrap()];
        let fence = rest.find("```").unwrap();
        let body = &rest[fence..];
        let body = &body[body.find('\n').unwrap() + 1..];
        let shown = &body[..body.find("```").unwrap()];
        let path = PathBuf::from(examples).join(name);
        let file = std::fs::read_to_string(&path).unwrap();
        assert_eq!(shown, file, "docs/import.md shows {name} as it is");
        let report = import_file(&db, &path, None)
            .await
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        loaded.push((name.to_owned(), report));
    }
    let total = |name: &str, kind: ImportKind| {
        let (_, report) = loaded.iter().find(|(n, _)| n == name).unwrap();
        report.counts(kind).total()
    };
    assert_eq!(
        loaded.len(),
        6,
        "one example of each kind, and one JSON file"
    );
    assert_eq!(
        total("national-items-2023.csv", ImportKind::NationalItems),
        2
    );
    assert_eq!(total("matters.csv", ImportKind::Matters), 2);
    assert_eq!(total("standards.csv", ImportKind::Standards), 1);
    assert_eq!(total("guides-330000.csv", ImportKind::Guides), 2);
    assert_eq!(total("procedures-330000.csv", ImportKind::Procedures), 1);
    assert_eq!(
        ImportKind::ALL.map(|kind| total("catalogue.json", kind)),
        [1, 1, 1, 1, 1]
    );
}

#[tokio::test]
async fn file_level_errors_say_what_to_do() {
    let db = seeded_database().await;
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
