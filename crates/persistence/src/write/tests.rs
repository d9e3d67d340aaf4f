use chrono::Duration;
use concord_domain::{CategoryCode, Channel, Fee, StandardCode, StandardLevel, StandardStatus};

use super::*;
use crate::test_support::{linked_standards, seeded_database};

fn matter(code: &str) -> MatterDraft {
    MatterDraft {
        code: MatterCode::try_from(code).unwrap(),
        name_zh: "测试事项".into(),
        name_en: "Test matter".into(),
        category: CategoryCode::try_from("EMPLOYMENT").unwrap(),
        national_item: None,
        standards: None,
        served_groups: None,
        illustrative: false,
    }
}

fn guide(status: GuideStatus) -> GuideRecord {
    GuideRecord {
        region: RegionCode::try_from("330000").unwrap(),
        matter: MatterCode::try_from("TEST-MATTER").unwrap(),
        guide: GuideDraft {
            time_limit_days: 5,
            fee: Fee::FREE,
            materials: vec!["居民身份证".into()],
            channels: vec![Channel::Counter],
            legal_basis: String::new(),
            guarantee_level: None,
        },
        status,
        illustrative: false,
    }
}

#[tokio::test]
async fn an_upsert_inserts_then_updates_only_on_change() {
    let db = seeded_database().await;
    let t0 = Utc::now();
    let t1 = t0 + Duration::seconds(1);
    let record = matter("TEST-MATTER");
    assert_eq!(
        upsert_matter(&db, &record, t0).await.unwrap(),
        Outcome::Inserted
    );
    assert_eq!(
        upsert_matter(&db, &record, t1).await.unwrap(),
        Outcome::Unchanged
    );
    let renamed = MatterDraft {
        name_en: "Renamed".into(),
        ..record
    };
    assert_eq!(
        upsert_matter(&db, &renamed, t1).await.unwrap(),
        Outcome::Updated
    );
    let row = service_matter::Entity::find_by_id("TEST-MATTER")
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.revision, row.name_en.as_str()), (2, "Renamed"));
    assert_eq!((row.created_at, row.updated_at), (t0, t1));
    assert_eq!(row.origin, Origin::NATIONAL_CODE);
}

#[tokio::test]
async fn links_are_replaced_only_when_listed() {
    let db = seeded_database().await;
    let now = Utc::now();
    let standard = |code: &str| StandardCode::try_from(code).unwrap();
    let listed = MatterDraft {
        standards: Some(vec![standard("GB/T 33527"), standard("GB/T 33531-2017")]),
        ..matter("TEST-MATTER")
    };
    upsert_matter(&db, &listed, now).await.unwrap();
    assert_eq!(
        linked_standards(&db, "TEST-MATTER").await,
        ["GB/T 33527", "GB/T 33531-2017"]
    );

    // Without a list the links stay; with a different one they follow it
    // and the matter's revision counts the change.
    let unlisted = matter("TEST-MATTER");
    assert_eq!(
        upsert_matter(&db, &unlisted, now).await.unwrap(),
        Outcome::Unchanged
    );
    let fewer = MatterDraft {
        standards: Some(vec![standard("GB/T 33531-2017")]),
        ..matter("TEST-MATTER")
    };
    assert_eq!(
        upsert_matter(&db, &fewer, now).await.unwrap(),
        Outcome::Updated
    );
    assert_eq!(
        linked_standards(&db, "TEST-MATTER").await,
        ["GB/T 33531-2017"]
    );

    // The standard's side sets the standard's links, whatever the matter listed.
    let record = StandardDraft {
        title_en: "Public employment service - general principles".into(),
        status: StandardStatus::InForce,
        note: "cited by GB/T 33531-2017; committee SAC/TC292".into(),
        matters: Some(vec![MatterCode::try_from("TEST-MATTER").unwrap()]),
        ..StandardDraft::new(
            standard("GB/T 33527"),
            "公共就业服务总则".into(),
            StandardLevel::National,
        )
    };
    assert_eq!(
        upsert_standard(&db, &record, now).await.unwrap(),
        Outcome::Updated
    );
    assert_eq!(
        linked_standards(&db, "TEST-MATTER").await,
        ["GB/T 33527", "GB/T 33531-2017"]
    );
    let row = standard::Entity::find_by_id("GB/T 33527")
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.revision, 2);
    assert_eq!(row.origin, Origin::NATIONAL_CODE);
}

#[tokio::test]
async fn a_local_standard_belongs_to_its_province() {
    let db = seeded_database().await;
    let record = StandardDraft {
        issuing_region: Some(RegionCode::try_from("510000").unwrap()),
        ..StandardDraft::new(
            StandardCode::try_from("DB5108/T 99-2025").unwrap(),
            "测试".into(),
            StandardLevel::Local,
        )
    };
    upsert_standard(&db, &record, Utc::now()).await.unwrap();
    let row = standard::Entity::find_by_id("DB5108/T 99-2025")
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.origin, "510000");
}

#[tokio::test]
async fn publishing_a_guide_stamps_it() {
    let db = seeded_database().await;
    let t0 = Utc::now();
    let t1 = t0 + Duration::seconds(1);
    let t2 = t1 + Duration::seconds(1);
    upsert_matter(&db, &matter("TEST-MATTER"), t0)
        .await
        .unwrap();
    let key = ("330000".to_owned(), "TEST-MATTER".to_owned());
    let stored = async || {
        service_guide::Entity::find_by_id(key.clone())
            .one(&db)
            .await
            .unwrap()
            .unwrap()
    };

    upsert_guide(&db, &guide(GuideStatus::Draft), t0)
        .await
        .unwrap();
    let draft = stored().await;
    assert_eq!(
        (draft.published_at, draft.origin.as_str()),
        (None, "330000")
    );

    upsert_guide(&db, &guide(GuideStatus::Published), t1)
        .await
        .unwrap();
    assert_eq!(stored().await.published_at, Some(t1));

    // An edit of a published guide keeps the date it was published.
    let mut edited = guide(GuideStatus::Published);
    edited.guide.time_limit_days = 4;
    assert_eq!(
        upsert_guide(&db, &edited, t2).await.unwrap(),
        Outcome::Updated
    );
    let row = stored().await;
    assert_eq!((row.published_at, row.revision), (Some(t1), 3));
}

#[tokio::test]
async fn a_procedure_is_compared_step_by_step() {
    let db = seeded_database().await;
    let now = Utc::now();
    upsert_matter(&db, &matter("TEST-MATTER"), now)
        .await
        .unwrap();
    let step = |days| ProcedureStep {
        name: "受理".into(),
        actor: "窗口".into(),
        time_limit_days: days,
    };
    let record = ProcedureRecord {
        region: RegionCode::try_from("330000").unwrap(),
        matter: MatterCode::try_from("TEST-MATTER").unwrap(),
        steps: vec![step(1), step(2)],
        status: GuideStatus::Published,
        illustrative: false,
    };
    assert_eq!(
        upsert_procedure(&db, &record, now).await.unwrap(),
        Outcome::Inserted
    );
    assert_eq!(
        upsert_procedure(&db, &record, now).await.unwrap(),
        Outcome::Unchanged
    );
    let changed = ProcedureRecord {
        steps: vec![step(1), step(1)],
        ..record
    };
    assert_eq!(
        upsert_procedure(&db, &changed, now).await.unwrap(),
        Outcome::Updated
    );
}
