//! A deterministic data set at scale, for the benchmark: at scale 1 the 33
//! regions, 500 matters, a published guide and procedure for every region ×
//! matter (16,500), 20,000 standards at revision 2 with both versions kept,
//! and 12 months of evaluations; scale N multiplies matters and standards.
//! Every row also enters the change log, so a peer can sync all of it.
//! Rows are flagged illustrative: none of this is real.

use chrono::{DateTime, NaiveDate, Utc};
use concord_domain::{
    Channel, Fee, GuideStatus, Origin, ProcedureStep, StandardLevel, StandardStatus,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set, TransactionTrait};
use serde_json::json;

use crate::entity::{
    ChannelList, StepList, TextList, change_log, evaluation, operating_procedure, region,
    row_revision, service_guide, service_matter, standard, standard_matter,
};
use crate::error::corrupt;
use crate::search::Searched;
use crate::{Progress, StoreError};

/// What the generator wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct BenchReport {
    pub matters: u64,
    pub guides: u64,
    pub standards: u64,
    pub evaluations: u64,
    pub changes: u64,
}

const CATEGORIES: [&str; 4] = [
    "EMPLOYMENT",
    "SOCIAL_INSURANCE",
    "SKILLS",
    "LABOUR_RELATIONS",
];
const MATERIALS: [&str; 8] = [
    "居民身份证",
    "社会保障卡",
    "申请表",
    "劳动合同",
    "户口簿",
    "近期免冠照片",
    "银行账户信息",
    "单位证明",
];
const MONTHS: usize = 12;

/// A small, fast, deterministic mixer (SplitMix64 finaliser).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Inserts rows in batches that keep under SQLite's bound-parameter limit.
async fn insert_all<A, C>(conn: &C, rows: Vec<A>, batch: usize) -> Result<(), StoreError>
where
    A: sea_orm::ActiveModelTrait + Send,
    C: ConnectionTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(batch).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

fn change(
    kind: &str,
    key: String,
    origin: &str,
    revision: i32,
    record: serde_json::Value,
    now: DateTime<Utc>,
) -> change_log::ActiveModel {
    change_log::ActiveModel {
        seq: sea_orm::NotSet,
        kind: Set(kind.to_owned()),
        row_key: Set(key),
        origin: Set(origin.to_owned()),
        revision: Set(revision),
        record: Set(Some(record)),
        committed_at: Set(now),
    }
}

fn to_json<T: serde::Serialize>(row: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(row).map_err(corrupt)
}

/// Fills an empty, migrated database. Refuses a database that already
/// holds matters, so it never mixes with real data.
pub async fn generate(db: &DatabaseConnection, scale: u32) -> Result<BenchReport, StoreError> {
    generate_reporting(db, scale, &()).await
}

/// [`generate`], reporting to `progress` the records written (matters,
/// standards, guides, procedures and evaluations).
pub async fn generate_reporting(
    db: &DatabaseConnection,
    scale: u32,
    progress: &dyn Progress,
) -> Result<BenchReport, StoreError> {
    let scale = scale.max(1) as usize;
    if service_matter::Entity::find().one(db).await?.is_some() {
        return Err(StoreError::Corrupt(
            "bench-data needs an empty database: this one already holds matters".into(),
        ));
    }
    crate::seed::seed_reference(db).await?;
    let regions: Vec<String> = region::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.code)
        .collect();
    let now = Utc::now();
    let national = Origin::National.as_str();
    let mut report = BenchReport::default();
    let matters = 500 * scale;
    let matter_code = |m: usize| format!("BENCH-M{m:05}");
    let standards = 20_000 * scale;
    let per_region = matters * (2 + MONTHS);
    progress.stage(
        "generating",
        Some((matters + standards + regions.len() * per_region) as u64),
    );

    // Matters first, then standards that link to them, then per-matter rows.
    let txn = db.begin().await?;
    let mut matter_rows = Vec::with_capacity(matters);
    let mut changes = Vec::new();
    for m in 0..matters {
        let row = service_matter::Model {
            code: matter_code(m),
            name_zh: format!("基准事项{m}"),
            name_en: format!("Benchmark matter {m}"),
            category_code: CATEGORIES[m % 4].to_owned(),
            national_edition: None,
            national_number: None,
            served_groups: None,
            origin: national.to_owned(),
            revision: 1,
            illustrative: true,
            created_at: now,
            updated_at: now,
        };
        changes.push(change(
            "MATTER",
            row.code.clone(),
            national,
            1,
            json!({ "row": to_json(&row)?, "standards": [] }),
            now,
        ));
        matter_rows.push(service_matter::ActiveModel::from(row));
    }
    insert_all(&txn, matter_rows, 1000).await?;
    report.matters = matters as u64;
    progress.advanced(matters as u64);

    let mut standard_rows = Vec::with_capacity(standards);
    let mut links = Vec::with_capacity(standards);
    let mut revisions = Vec::with_capacity(standards * 2);
    for s in 0..standards {
        let hash = mix(s as u64);
        let year = 2010 + (hash % 15) as i32;
        let region = &regions[s % regions.len()];
        let (code, level, issuing_region, origin) = match s % 10 {
            0 => (
                format!("GB/T {}-{year}", 50_000 + s),
                StandardLevel::National,
                None,
                national.to_owned(),
            ),
            1 => (
                format!("LD/T {}-{year}", 1000 + s),
                StandardLevel::Industry,
                None,
                national.to_owned(),
            ),
            _ => (
                format!("DB{}/T {}-{year}", &region[..2], 100_000 + s),
                StandardLevel::Local,
                Some(region.clone()),
                region.clone(),
            ),
        };
        let matter = matter_code(s % matters);
        let row = standard::Model {
            code: code.clone(),
            title_zh: format!(
                "{}服务规范 第{s}号",
                ["就业", "社会保险", "职业技能", "劳动关系"][s % 4]
            ),
            title_en: format!("Benchmark service specification {s}"),
            level: level.into(),
            status: StandardStatus::InForce.into(),
            issuing_region,
            issuing_zone: None,
            issued_on: NaiveDate::from_ymd_opt(year, 1 + (hash % 12) as u32, 1),
            effective_on: NaiveDate::from_ymd_opt(year, 1 + (hash % 12) as u32, 1),
            supersedes: None,
            review_on: None,
            elevated_from: None,
            note: String::new(),
            origin: origin.clone(),
            revision: 2,
            illustrative: true,
            created_at: now,
            updated_at: now,
        };
        for revision in 1..=2 {
            revisions.push(row_revision::ActiveModel {
                kind: Set("STANDARD".to_owned()),
                row_key: Set(code.clone()),
                revision: Set(revision),
                snapshot: Set(json!({ "titleZh": row.title_zh, "status": if revision == 1 { "DRAFT" } else { "IN_FORCE" } })),
                changed_by: Set(None),
                changed_at: Set(now),
            });
        }
        links.push(standard_matter::ActiveModel {
            standard_code: Set(code.clone()),
            matter_code: Set(matter.clone()),
        });
        changes.push(change(
            "STANDARD",
            code,
            &origin,
            2,
            json!({ "row": to_json(&row)?, "matters": [matter] }),
            now,
        ));
        standard_rows.push(standard::ActiveModel::from(row));
    }
    insert_all(&txn, standard_rows, 1000).await?;
    // One statement per kind cuts every row's grams, in the database.
    crate::search::rebuild(&txn, Searched::Matter).await?;
    crate::search::rebuild(&txn, Searched::Standard).await?;
    insert_all(&txn, links, 5000).await?;
    insert_all(&txn, revisions, 4000).await?;
    report.standards = standards as u64;
    report.changes += changes.len() as u64;
    insert_all(&txn, std::mem::take(&mut changes), 3000).await?;
    crate::version::commit(txn).await?;
    let mut done = matters + standards;
    progress.advanced(done as u64);

    // Guides, procedures and evaluations, one region per transaction so
    // memory stays flat at any scale. Region by region is also the order a
    // real node stores them in, as each province publishes or imports its
    // own catalogue: the tables' physical order then follows the region,
    // which is what the planner's correlation statistics see.
    let channels = [
        Channel::Counter,
        Channel::Online,
        Channel::Mobile,
        Channel::CrossProvince,
    ];
    for (r, region) in regions.iter().enumerate() {
        let txn = db.begin().await?;
        let mut guides = Vec::new();
        let mut procedures = Vec::new();
        let mut evaluations = Vec::new();
        for m in 0..matters {
            let hash = mix(((m as u64) << 8) | r as u64);
            let time_limit = 3 + (hash % 28) as i32;
            let material_count = 2 + (hash >> 8) as usize % 5;
            let materials: Vec<String> = (0..material_count)
                .map(|i| {
                    MATERIALS[(m + i * 3 + (hash >> 16) as usize % 2) % MATERIALS.len()].to_owned()
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let guide = service_guide::Model {
                region_code: region.clone(),
                matter_code: matter_code(m),
                time_limit_days: time_limit,
                fee_fen: if hash.is_multiple_of(17) {
                    Fee::whole_yuan(10)
                } else {
                    Fee::FREE
                }
                .into(),
                materials: TextList(materials),
                channels: ChannelList(
                    channels
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i < 2 || (hash >> (20 + i)) & 1 == 1)
                        .map(|(_, c)| *c)
                        .collect(),
                ),
                legal_basis: "《中华人民共和国社会保险法》".to_owned(),
                guarantee_level: None,
                status: GuideStatus::Published.into(),
                published_at: Some(now),
                origin: region.clone(),
                revision: 1,
                illustrative: true,
                created_at: now,
                updated_at: now,
            };
            let procedure = operating_procedure::Model {
                region_code: region.clone(),
                matter_code: matter_code(m),
                steps: StepList(vec![
                    ProcedureStep {
                        name: "受理".into(),
                        actor: "窗口工作人员".into(),
                        time_limit_days: 1,
                    },
                    ProcedureStep {
                        name: "审核".into(),
                        actor: "经办机构".into(),
                        time_limit_days: (time_limit - 2).max(0),
                    },
                    ProcedureStep {
                        name: "办结".into(),
                        actor: "经办机构".into(),
                        time_limit_days: 1,
                    },
                ]),
                status: GuideStatus::Published.into(),
                origin: region.clone(),
                revision: 1,
                illustrative: true,
                created_at: now,
                updated_at: now,
            };
            let key = format!("{region}/{}", matter_code(m));
            changes.push(change(
                "GUIDE",
                key.clone(),
                region,
                1,
                json!({ "row": to_json(&guide)? }),
                now,
            ));
            changes.push(change(
                "PROCEDURE",
                key.clone(),
                region,
                1,
                json!({ "row": to_json(&procedure)? }),
                now,
            ));
            for month in 0..MONTHS {
                let h = mix(hash ^ month as u64);
                let row = evaluation::Model {
                    region_code: region.clone(),
                    matter_code: matter_code(m),
                    period: format!("2025-{:02}", month + 1),
                    satisfaction: 80.0 + (h % 200) as f64 / 10.0,
                    cases_handled: 10 + (h >> 12) as i64 % 1000,
                    average_days: f64::from(time_limit) * (0.3 + ((h >> 24) % 60) as f64 / 100.0),
                    origin: region.clone(),
                    revision: 1,
                    illustrative: true,
                    created_at: now,
                    updated_at: now,
                };
                changes.push(change(
                    "EVALUATION",
                    format!("{key}/{}", row.period),
                    region,
                    1,
                    json!({ "row": to_json(&row)? }),
                    now,
                ));
                evaluations.push(evaluation::ActiveModel::from(row));
            }
            guides.push(service_guide::ActiveModel::from(guide));
            procedures.push(operating_procedure::ActiveModel::from(procedure));
        }
        report.guides += guides.len() as u64;
        report.evaluations += evaluations.len() as u64;
        report.changes += changes.len() as u64;
        insert_all(&txn, guides, 1000).await?;
        insert_all(&txn, procedures, 2000).await?;
        insert_all(&txn, evaluations, 2000).await?;
        insert_all(&txn, std::mem::take(&mut changes), 3000).await?;
        crate::version::commit(txn).await?;
        done += per_region;
        progress.advanced(done as u64);
    }
    crate::analyze(db).await?;
    Ok(report)
}
