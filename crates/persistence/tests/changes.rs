//! `changes::apply_page` against the rule it replaces: applying a peer's
//! changes one at a time, in order, with the per-change code the sync job
//! used before (kept below as the oracle). Random pages over a few keys
//! hit duplicate keys in a page, retractions and republishes, stale and
//! equal revisions, links to unknown codes and all eight kinds; the two
//! databases must end with the same rows, links and log. And `feed`: its
//! totals must be the true number of changes left.
//!
//! PostgreSQL runs too when `CONCORD_TEST_POSTGRES_URL` is set.

mod common;

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use concord_domain::replication::Conflict;
use concord_domain::{
    Channel, Decision, Fee, GuideStatus, ProcedureStep, ProposalStatus, StandardLevel,
    StandardStatus,
};
use concord_domain::{RowKind, Settlement};
use concord_persistence::changes::{self, IncomingChange, log_current, split_key};
use concord_persistence::conflicts;
use concord_persistence::entity::{
    ChannelList, StepList, TextList, adoption, baseline_exemption, change_log,
    collaborative_standard, elevation_proposal, evaluation, national_item, operating_procedure,
    row_revision, service_guide, service_matter, standard, standard_matter, sync_conflict,
};
use concord_persistence::queries::PageRequest;
use concord_persistence::{DatabaseConnection, StatementCounter, StoreError};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use serde_json::{Value, json};

use common::PostgresDatabase;

// ---------------------------------------------------------------------------
// The oracle: the per-change apply that `apply_page` replaced, with the
// error helper and the steps its kinds share written once.

fn corrupt(message: impl ToString) -> StoreError {
    StoreError::Corrupt(message.to_string())
}

fn row<T: serde::de::DeserializeOwned>(record: &Value) -> Result<T, StoreError> {
    serde_json::from_value(record["row"].clone())
        .map_err(|e| corrupt(format!("a peer sent a row this node cannot read: {e}")))
}

fn list(record: &Value, field: &str) -> Vec<String> {
    record[field]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A row's revision: an incoming version applies only over an older one.
trait Revised {
    fn revision(&self) -> i32;
}

macro_rules! revised {
    ($($model:ty),* $(,)?) => {
        $(impl Revised for $model {
            fn revision(&self) -> i32 {
                self.revision
            }
        })*
    };
}

revised!(
    service_matter::Model,
    standard::Model,
    service_guide::Model,
    operating_procedure::Model,
    national_item::Model,
    evaluation::Model,
    collaborative_standard::Model,
    adoption::Model,
    baseline_exemption::Model,
    elevation_proposal::Model,
);

async fn upsert_newer<C, A, M>(conn: &C, stored: Option<M>, incoming: M) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
    A: ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    M: IntoActiveModel<A> + Revised,
{
    match stored {
        None => {
            <A::Entity as EntityTrait>::insert(incoming.into_active_model())
                .exec_without_returning(conn)
                .await?;
            Ok(true)
        }
        Some(stored) if stored.revision() < incoming.revision() => {
            incoming
                .into_active_model()
                .reset_all()
                .update_without_returning(conn)
                .await?;
            Ok(true)
        }
        Some(_) => Ok(false),
    }
}

/// A guide's or procedure's key, from the parts of its log key.
fn guide_id(parts: &[&str]) -> (String, String) {
    (
        parts.first().copied().unwrap_or_default().to_owned(),
        parts.get(1).copied().unwrap_or_default().to_owned(),
    )
}

/// Deletes the row of `E` keyed `id` when it is older than a retraction at
/// `retracted`.
async fn retract_older<C: ConnectionTrait, E: EntityTrait>(
    conn: &C,
    id: (String, String),
    retracted: i32,
) -> Result<bool, StoreError>
where
    E::Model: Revised,
    (String, String): Into<<E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType>,
{
    match E::find_by_id(id.clone()).one(conn).await? {
        Some(stored) if stored.revision() < retracted => {
            E::delete_by_id(id).exec(conn).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Stores `record`, a row of `E`, over the stored row its `key` names when
/// it is newer (see [`upsert_newer`]).
async fn apply_row<C, E, A>(
    conn: &C,
    record: &Value,
    key: impl FnOnce(&E::Model) -> <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType,
) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
    E: EntityTrait,
    A: ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    E::Model: IntoActiveModel<A> + Revised + serde::de::DeserializeOwned,
{
    let incoming: E::Model = row(record)?;
    let stored = E::find_by_id(key(&incoming)).one(conn).await?;
    upsert_newer(conn, stored, incoming).await
}

/// [`apply_row`] for a matter or a standard (`standard_side`), keyed by its
/// `code`; when it applies, its links become those its record lists in
/// `field`.
async fn apply_linked<C, E, A>(
    conn: &C,
    record: &Value,
    standard_side: bool,
    field: &str,
    code: fn(&E::Model) -> String,
) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
    E: EntityTrait,
    E::PrimaryKey: sea_orm::PrimaryKeyTrait<ValueType = String>,
    A: ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    E::Model: IntoActiveModel<A> + Revised + serde::de::DeserializeOwned,
{
    let incoming: E::Model = row(record)?;
    let code = code(&incoming);
    let stored = E::find_by_id(code.clone()).one(conn).await?;
    let applied = upsert_newer(conn, stored, incoming).await?;
    if applied {
        set_links(conn, standard_side, &code, &list(record, field)).await?;
    }
    Ok(applied)
}

async fn set_links<C: ConnectionTrait>(
    conn: &C,
    standard_side: bool,
    code: &str,
    wanted: &[String],
) -> Result<(), StoreError> {
    let (own, other) = if standard_side {
        (
            standard_matter::Column::StandardCode,
            standard_matter::Column::MatterCode,
        )
    } else {
        (
            standard_matter::Column::MatterCode,
            standard_matter::Column::StandardCode,
        )
    };
    standard_matter::Entity::delete_many()
        .filter(own.eq(code))
        .filter(other.is_not_in(wanted.iter().cloned()))
        .exec(conn)
        .await?;
    for linked in wanted {
        let exists_here = if standard_side {
            service_matter::Entity::find_by_id(linked.as_str())
                .one(conn)
                .await?
                .is_some()
        } else {
            standard::Entity::find_by_id(linked.as_str())
                .one(conn)
                .await?
                .is_some()
        };
        let (standard_code, matter_code) = if standard_side {
            (code, linked.as_str())
        } else {
            (linked.as_str(), code)
        };
        let present =
            standard_matter::Entity::find_by_id((standard_code.to_owned(), matter_code.to_owned()))
                .one(conn)
                .await?
                .is_some();
        if exists_here && !present {
            standard_matter::Entity::insert(standard_matter::ActiveModel {
                standard_code: sea_orm::Set(standard_code.to_owned()),
                matter_code: sea_orm::Set(matter_code.to_owned()),
            })
            .exec_without_returning(conn)
            .await?;
        }
    }
    Ok(())
}

async fn apply_one<C: ConnectionTrait>(
    conn: &C,
    change: &IncomingChange,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Ok(kind) = change.kind.parse::<RowKind>() else {
        return Err(corrupt(format!(
            "a peer sent a change of unknown kind {}",
            change.kind
        )));
    };
    let parts = split_key(kind, &change.key)?;
    let record: Option<Value> = match &change.record {
        Some(raw) => Some(serde_json::from_str(raw.get()).map_err(corrupt)?),
        None => None,
    };
    let applied = match (&record, kind) {
        (None, RowKind::Guide) => {
            retract_older::<_, service_guide::Entity>(conn, guide_id(&parts), change.revision)
                .await?
        }
        (None, RowKind::Procedure) => {
            retract_older::<_, operating_procedure::Entity>(conn, guide_id(&parts), change.revision)
                .await?
        }
        (None, _) => false,
        (Some(record), RowKind::Matter) => {
            apply_linked::<_, service_matter::Entity, _>(conn, record, false, "standards", |m| {
                m.code.clone()
            })
            .await?
        }
        (Some(record), RowKind::Standard) => {
            apply_linked::<_, standard::Entity, _>(conn, record, true, "matters", |m| {
                m.code.clone()
            })
            .await?
        }
        (Some(record), RowKind::Guide) => {
            let incoming: service_guide::Model = row(record)?;
            let stored = service_guide::Entity::find_by_id((
                incoming.region_code.clone(),
                incoming.matter_code.clone(),
            ))
            .one(conn)
            .await?;
            // A guide a retraction deleted comes back only newer than that.
            let withdrawn_at = change_log::Entity::find()
                .filter(change_log::Column::Kind.eq("GUIDE"))
                .filter(change_log::Column::RowKey.eq(change.key.as_str()))
                .order_by_desc(change_log::Column::Revision)
                .one(conn)
                .await?
                .map(|entry| entry.revision);
            if stored.is_none() && withdrawn_at.is_some_and(|at| at >= incoming.revision) {
                false
            } else {
                upsert_newer(conn, stored, incoming).await?
            }
        }
        (Some(record), RowKind::Procedure) => {
            apply_row::<_, operating_procedure::Entity, _>(conn, record, |m| {
                (m.region_code.clone(), m.matter_code.clone())
            })
            .await?
        }
        (Some(record), RowKind::NationalItem) => {
            apply_row::<_, national_item::Entity, _>(conn, record, |m| (m.edition, m.number))
                .await?
        }
        (Some(record), RowKind::Evaluation) => {
            apply_row::<_, evaluation::Entity, _>(conn, record, |m| {
                (
                    m.region_code.clone(),
                    m.matter_code.clone(),
                    m.period.clone(),
                )
            })
            .await?
        }
        (Some(record), RowKind::CollaborativeStandard) => {
            apply_row::<_, collaborative_standard::Entity, _>(conn, record, |m| {
                m.standard_code.clone()
            })
            .await?
        }
        (Some(record), RowKind::Adoption) => {
            apply_row::<_, adoption::Entity, _>(conn, record, |m| {
                (m.standard_code.clone(), m.region_code.clone())
            })
            .await?
        }
        (Some(record), RowKind::Exemption) => {
            apply_row::<_, baseline_exemption::Entity, _>(conn, record, |m| {
                (m.region_code.clone(), m.matter_code.clone(), m.valid_from)
            })
            .await?
        }
        (Some(record), RowKind::Elevation) => {
            // A proposal's id is each node's own: keep the stored one, or
            // let this node give one.
            let mut incoming: elevation_proposal::Model = row(record)?;
            let stored = elevation_proposal::Entity::find()
                .filter(
                    elevation_proposal::Column::StandardCode.eq(incoming.standard_code.as_str()),
                )
                .filter(elevation_proposal::Column::Number.eq(incoming.number))
                .one(conn)
                .await?;
            match stored {
                None => {
                    let mut row = incoming.into_active_model();
                    row.id = sea_orm::NotSet;
                    elevation_proposal::Entity::insert(row)
                        .exec_without_returning(conn)
                        .await?;
                    true
                }
                Some(stored) => {
                    incoming.id = stored.id;
                    upsert_newer(conn, Some(stored), incoming).await?
                }
            }
        }
    };
    if applied {
        match kind {
            RowKind::Guide | RowKind::Procedure if record.is_none() => {
                change_log::ActiveModel {
                    seq: sea_orm::NotSet,
                    kind: sea_orm::Set(kind.as_str().to_owned()),
                    row_key: sea_orm::Set(change.key.clone()),
                    origin: sea_orm::Set(parts.first().copied().unwrap_or_default().to_owned()),
                    revision: sea_orm::Set(change.revision),
                    record: sea_orm::Set(None),
                    committed_at: sea_orm::Set(now),
                }
                .insert(conn)
                .await?;
            }
            _ => {
                log_current(conn, kind, &parts, now).await?;
                // A relay passes on every linked code as it was sent, known
                // here or not, so that a node further on links it.
                let field = match kind {
                    RowKind::Matter => Some("standards"),
                    RowKind::Standard => Some("matters"),
                    _ => None,
                };
                if let (Some(field), Some(record)) = (field, &record) {
                    let sent: BTreeSet<String> = list(record, field).into_iter().collect();
                    relay_as_sent(conn, field, sent).await?;
                }
            }
        }
    }
    Ok(applied)
}

/// Replaces the link list of the log's last record with `sent`.
async fn relay_as_sent<C: ConnectionTrait>(
    conn: &C,
    field: &str,
    sent: BTreeSet<String>,
) -> Result<(), StoreError> {
    let last = change_log::Entity::find()
        .order_by_desc(change_log::Column::Seq)
        .one(conn)
        .await?
        .ok_or_else(|| corrupt("the log is empty"))?;
    // A withheld record (a draft standard) stays withheld.
    let Some(mut record) = last.record.clone() else {
        return Ok(());
    };
    if let Some(object) = record.as_object_mut() {
        object.insert(field.to_owned(), json!(sent));
    }
    let mut entry = last.into_active_model();
    entry.record = sea_orm::Set(Some(record));
    entry.update(conn).await?;
    Ok(())
}

/// Every row of `entity` in `db`, ordered by `columns`.
macro_rules! ordered {
    ($db:expr, $entity:ident by $($column:ident),+) => {
        $entity::Entity::find()
            $(.order_by_asc($entity::Column::$column))+
            .all($db)
            .await
            .unwrap()
    };
}

// ---------------------------------------------------------------------------
// Databases.

/// A migrated database with the reference data, its timestamps pinned so
/// that two such databases start equal. Dropped by [`Node::close`].
struct Node {
    db: DatabaseConnection,
    statements: StatementCounter,
    postgres: Option<PostgresDatabase>,
}

fn pinned() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-06-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

impl Node {
    async fn sqlite() -> Node {
        Node::open("sqlite::memory:", None).await
    }

    /// A node on a new database of the PostgreSQL test server. The tests
    /// that ask for one run only with a server, so having none fails them.
    async fn postgres(tag: &str) -> Node {
        let database = PostgresDatabase::create("concord_apply", tag)
            .await
            .expect("CONCORD_TEST_POSTGRES_URL names the test server");
        let url = database.url.clone();
        Node::open(&url, Some(database)).await
    }

    async fn open(url: &str, postgres: Option<PostgresDatabase>) -> Node {
        let (db, statements) = common::seeded(url).await;
        national_item::Entity::update_many()
            .col_expr(national_item::Column::CreatedAt, Expr::value(pinned()))
            .col_expr(national_item::Column::UpdatedAt, Expr::value(pinned()))
            .exec(&db)
            .await
            .unwrap();
        standard::Entity::update_many()
            .col_expr(standard::Column::CreatedAt, Expr::value(pinned()))
            .col_expr(standard::Column::UpdatedAt, Expr::value(pinned()))
            .exec(&db)
            .await
            .unwrap();
        Node {
            db,
            statements,
            postgres,
        }
    }

    async fn close(self) {
        common::close(self.db, self.postgres).await;
    }

    /// Applies `pages` one change at a time; returns how many applied.
    async fn apply_one_by_one(&self, pages: &[Vec<IncomingChange>], now: DateTime<Utc>) -> u64 {
        let mut applied = 0;
        for page in pages {
            let txn = self.db.begin().await.unwrap();
            for change in page {
                applied += u64::from(apply_one(&txn, change, now).await.unwrap());
            }
            txn.commit().await.unwrap();
        }
        applied
    }

    /// Applies `page` in one transaction on the node that owns the rows of
    /// `origin`; returns how many applied.
    async fn apply_as(&self, origin: &str, page: &[IncomingChange], now: DateTime<Utc>) -> u64 {
        let txn = self.db.begin().await.unwrap();
        let applied = changes::apply_page(&txn, page, origin, now).await.unwrap();
        txn.commit().await.unwrap();
        applied
    }

    /// This node's log after `after`, as a peer reading its feed gets it.
    async fn feed_after(&self, after: i64) -> Vec<IncomingChange> {
        change_log::Entity::find()
            .filter(change_log::Column::Seq.gt(after))
            .order_by_asc(change_log::Column::Seq)
            .all(&self.db)
            .await
            .unwrap()
            .into_iter()
            .map(|entry| IncomingChange {
                kind: entry.kind,
                key: entry.row_key,
                revision: entry.revision,
                record: entry
                    .record
                    .map(|r| serde_json::value::RawValue::from_string(r.to_string()).unwrap()),
            })
            .collect()
    }

    async fn conflicts(&self) -> Vec<sync_conflict::Model> {
        ordered!(&self.db, sync_conflict by LoserRevision)
    }

    /// Applies `pages` a page at a time; returns how many applied.
    async fn apply_by_page(&self, pages: &[Vec<IncomingChange>], now: DateTime<Utc>) -> u64 {
        let mut applied = 0;
        for page in pages {
            let txn = self.db.begin().await.unwrap();
            applied += changes::apply_page(&txn, page, BYSTANDER, now)
                .await
                .unwrap();
            txn.commit().await.unwrap();
        }
        applied
    }

    /// Everything replicated, in key order, and the log after `seen`, in
    /// log order.
    async fn snapshot(&self, seen: i64) -> String {
        let db = &self.db;
        let links: Vec<(String, String)> =
            ordered!(db, standard_matter by StandardCode, MatterCode)
                .into_iter()
                .map(|l| (l.standard_code, l.matter_code))
                .collect();
        let log: Vec<_> = change_log::Entity::find()
            .order_by_asc(change_log::Column::Seq)
            .filter(change_log::Column::Seq.gt(seen))
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|c| {
                (
                    c.kind,
                    c.row_key,
                    c.origin,
                    c.revision,
                    c.record,
                    c.committed_at,
                )
            })
            .collect();
        format!(
            "national items {:#?}\nmatters {:#?}\nstandards {:#?}\nlinks {links:#?}\nguides {:#?}\nprocedures {:#?}\nevaluations {:#?}\ncollaborative {:#?}\nadoptions {:#?}\nlog {log:#?}",
            ordered!(db, national_item by Edition, Number),
            ordered!(db, service_matter by Code),
            ordered!(db, standard by Code),
            ordered!(db, service_guide by RegionCode, MatterCode),
            ordered!(db, operating_procedure by RegionCode, MatterCode),
            ordered!(db, evaluation by RegionCode, MatterCode, Period),
            ordered!(db, collaborative_standard by StandardCode),
            ordered!(db, adoption by StandardCode, RegionCode),
        )
    }
}

// ---------------------------------------------------------------------------
// Changes.

fn change(kind: RowKind, key: &str, revision: i32, record: Option<Value>) -> IncomingChange {
    IncomingChange {
        kind: kind.as_str().to_owned(),
        key: key.to_owned(),
        revision,
        record: record.map(|r| serde_json::value::to_raw_value(&r).unwrap()),
    }
}

fn at(nanos: i64) -> DateTime<Utc> {
    pinned() + TimeDelta::nanoseconds(nanos)
}

fn matter(code: &str, revision: i32, standards: &[&str], time: DateTime<Utc>) -> IncomingChange {
    let row = service_matter::Model {
        code: code.to_owned(),
        name_zh: format!("事项{code}"),
        name_en: format!("Matter {code} r{revision}"),
        category_code: "EMPLOYMENT".to_owned(),
        national_edition: Some(2023),
        national_number: Some(revision),
        served_groups: None,
        origin: "100000".to_owned(),
        revision,
        illustrative: true,
        created_at: pinned(),
        updated_at: time,
    };
    change(
        RowKind::Matter,
        code,
        revision,
        Some(json!({ "row": row, "standards": standards })),
    )
}

fn standard(
    code: &str,
    revision: i32,
    status: &str,
    matters: &[&str],
    time: DateTime<Utc>,
) -> IncomingChange {
    let row = standard::Model {
        code: code.to_owned(),
        title_zh: format!("标准{code}"),
        title_en: format!("Standard {code} r{revision}"),
        level: StandardLevel::Local.into(),
        status: status.parse::<StandardStatus>().unwrap().into(),
        issuing_region: Some("330000".to_owned()),
        issuing_zone: (revision % 2 == 0).then(|| "YRD".to_owned()),
        issued_on: NaiveDate::from_ymd_opt(2020 + revision % 5, 3, 1),
        effective_on: None,
        supersedes: None,
        review_on: None,
        elevated_from: None,
        note: String::new(),
        origin: "330000".to_owned(),
        revision,
        illustrative: true,
        created_at: pinned(),
        updated_at: time,
    };
    change(
        RowKind::Standard,
        code,
        revision,
        Some(json!({ "row": row, "matters": matters })),
    )
}

fn guide(
    region: &str,
    matter: &str,
    revision: i32,
    published: bool,
    time: DateTime<Utc>,
) -> IncomingChange {
    let row = service_guide::Model {
        region_code: region.to_owned(),
        matter_code: matter.to_owned(),
        time_limit_days: 10 + revision,
        fee_fen: Fee::from_fen(i64::from(revision.rem_euclid(10_000)) * 100)
            .unwrap()
            .into(),
        materials: TextList(vec!["居民身份证".into(), format!("r{revision}")]),
        channels: ChannelList(vec![Channel::Online]),
        legal_basis: "《社会保险法》".to_owned(),
        guarantee_level: None,
        status: if published {
            GuideStatus::Published
        } else {
            GuideStatus::Draft
        }
        .into(),
        published_at: published.then_some(time),
        origin: region.to_owned(),
        revision,
        illustrative: true,
        created_at: pinned(),
        updated_at: time,
    };
    change(
        RowKind::Guide,
        &format!("{region}/{matter}"),
        revision,
        Some(json!({ "row": row })),
    )
}

fn retraction(region: &str, matter: &str, revision: i32) -> IncomingChange {
    change(
        RowKind::Guide,
        &format!("{region}/{matter}"),
        revision,
        None,
    )
}

fn procedure(region: &str, matter: &str, revision: i32, time: DateTime<Utc>) -> IncomingChange {
    let row = operating_procedure::Model {
        region_code: region.to_owned(),
        matter_code: matter.to_owned(),
        steps: StepList(vec![ProcedureStep {
            name: format!("受理 r{revision}"),
            actor: "窗口".to_owned(),
            time_limit_days: revision,
        }]),
        status: GuideStatus::Published.into(),
        origin: region.to_owned(),
        revision,
        illustrative: true,
        created_at: pinned(),
        updated_at: time,
    };
    change(
        RowKind::Procedure,
        &format!("{region}/{matter}"),
        revision,
        Some(json!({ "row": row })),
    )
}

fn national(number: i32, revision: i32, time: DateTime<Utc>) -> IncomingChange {
    let row = national_item::Model {
        edition: 2023,
        number,
        name_zh: format!("项目{number}"),
        name_en: format!("Item {number} r{revision}"),
        category_code: "SKILLS".to_owned(),
        area_zh: "劳有所得".to_owned(),
        served_group: String::new(),
        served_groups: None,
        content: format!("r{revision}"),
        baseline_standard: String::new(),
        funding_responsibility: String::new(),
        lead_department: String::new(),
        max_time_limit_days: Some(revision),
        max_fee_fen: None,
        required_channels: (revision % 2 == 1).then(|| ChannelList(vec![Channel::Online])),
        origin: "100000".to_owned(),
        revision,
        illustrative: true,
        created_at: pinned(),
        updated_at: time,
    };
    change(
        RowKind::NationalItem,
        &format!("2023/{number}"),
        revision,
        Some(json!({ "row": row })),
    )
}

fn evaluation(
    region: &str,
    matter: &str,
    period: &str,
    revision: i32,
    time: DateTime<Utc>,
) -> IncomingChange {
    let row = evaluation::Model {
        region_code: region.to_owned(),
        matter_code: matter.to_owned(),
        period: period.to_owned(),
        satisfaction: 80.0 + f64::from(revision) / 3.0,
        cases_handled: 10 * i64::from(revision),
        average_days: 1.1 * f64::from(revision),
        origin: region.to_owned(),
        revision,
        illustrative: true,
        created_at: pinned(),
        updated_at: time,
    };
    change(
        RowKind::Evaluation,
        &format!("{region}/{matter}/{period}"),
        revision,
        Some(json!({ "row": row })),
    )
}

fn collaborative(code: &str, revision: i32, time: DateTime<Utc>) -> IncomingChange {
    let row = collaborative_standard::Model {
        standard_code: code.to_owned(),
        zone_code: "YRD".to_owned(),
        status: if revision % 3 == 0 {
            ProposalStatus::InForce
        } else {
            ProposalStatus::Proposed
        }
        .into(),
        max_time_limit_days: Some(revision),
        materials: None,
        required_channels: Some(ChannelList(vec![Channel::Online])),
        origin: "330000".to_owned(),
        revision,
        illustrative: true,
        created_at: pinned(),
        updated_at: time,
    };
    change(
        RowKind::CollaborativeStandard,
        code,
        revision,
        Some(json!({ "row": row })),
    )
}

fn adoption(code: &str, region: &str, revision: i32, time: DateTime<Utc>) -> IncomingChange {
    let row = adoption::Model {
        standard_code: code.to_owned(),
        region_code: region.to_owned(),
        decision: if revision % 2 == 0 {
            Decision::Adopted
        } else {
            Decision::Pending
        }
        .into(),
        reason: None,
        decided_by: (revision % 2 == 0).then(|| "someone".to_owned()),
        decided_at: (revision % 2 == 0).then_some(time),
        origin: region.to_owned(),
        revision,
        illustrative: true,
        created_at: pinned(),
        updated_at: time,
    };
    change(
        RowKind::Adoption,
        &format!("{code}/{region}"),
        revision,
        Some(json!({ "row": row })),
    )
}

/// SplitMix64: small, deterministic, good enough to pick test cases.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn some<'a>(&mut self, items: &[&'a str]) -> Vec<&'a str> {
        items
            .iter()
            .copied()
            .filter(|_| self.below(3) == 0)
            .collect()
    }
}

const MATTERS: [&str; 4] = ["T-M1", "T-M2", "T-M3", "T-M4"];
const STANDARDS: [&str; 4] = [
    "DB33/T 1-2024",
    "DB33/T 2-2024",
    "GB/T 3-2024",
    "GB/T 33531-2017",
];
/// Codes linked to but never sent.
const UNKNOWN: [&str; 2] = ["T-NOWHERE", "GB/T 999-1999"];
const REGIONS: [&str; 3] = ["330000", "320000", "310000"];

/// The node these pages are applied on: a province node that owns none of
/// their rows, so that every change applies by revision alone.
const BYSTANDER: &str = "650000";
const PERIODS: [&str; 2] = ["2025-01", "2025-02"];

/// Random changes that one-at-a-time application accepts: rows only refer
/// to matters, standards and collaborative standards sent before (or
/// already stored: those are never deleted).
struct Feed {
    dice: Dice,
    matters: BTreeSet<&'static str>,
    standards: BTreeSet<&'static str>,
    targets: BTreeSet<&'static str>,
    clock: i64,
    /// Revisions start past everything earlier seeds stored, then drift
    /// up slowly, so a key sees newer, equal and older revisions.
    base: i32,
}

impl Feed {
    fn new(seed: u64) -> Self {
        Feed {
            dice: Dice(seed),
            matters: BTreeSet::new(),
            // A reference standard, present before any change.
            standards: BTreeSet::from(["GB/T 33531-2017"]),
            targets: BTreeSet::new(),
            clock: 0,
            base: seed as i32 * 1000,
        }
    }

    fn change(&mut self) -> IncomingChange {
        let dice = &mut self.dice;
        // Nanoseconds: PostgreSQL keeps microseconds only.
        self.clock += 1 + dice.below(5_000) as i64;
        let time = at(self.clock);
        self.base += i32::from(dice.below(3) == 0);
        let revision = self.base + dice.below(4) as i32;
        let linkable: Vec<&str> = STANDARDS.iter().chain(&UNKNOWN).copied().collect();
        let mattering: Vec<&str> = MATTERS.iter().chain(&UNKNOWN).copied().collect();
        let matters: Vec<&str> = self.matters.iter().copied().collect();
        let standards: Vec<&str> = self.standards.iter().copied().collect();
        let targets: Vec<&str> = self.targets.iter().copied().collect();
        loop {
            match dice.below(12) {
                0 | 1 => {
                    let code = dice.pick(&MATTERS);
                    self.matters.insert(code);
                    return matter(code, revision, &dice.some(&linkable), time);
                }
                2 | 3 => {
                    let code = dice.pick(&STANDARDS);
                    self.standards.insert(code);
                    let status = ["DRAFT", "IN_FORCE", "IN_FORCE"][dice.below(3)];
                    return standard(code, revision, status, &dice.some(&mattering), time);
                }
                4 | 5 if !matters.is_empty() => {
                    let (region, matter) = (dice.pick(&REGIONS), dice.pick(&matters));
                    return match dice.below(4) {
                        0 => retraction(region, matter, revision),
                        1 => guide(region, matter, revision, false, time),
                        _ => guide(region, matter, revision, true, time),
                    };
                }
                6 if !matters.is_empty() => {
                    return procedure(dice.pick(&REGIONS), dice.pick(&matters), revision, time);
                }
                7 if !matters.is_empty() => {
                    let (region, matter) = (dice.pick(&REGIONS), dice.pick(&matters));
                    return evaluation(region, matter, dice.pick(&PERIODS), revision, time);
                }
                8 => return national(1 + dice.below(2) as i32 * 40, revision, time),
                9 if !standards.is_empty() => {
                    let code = dice.pick(&standards);
                    self.targets.insert(code);
                    return collaborative(code, revision, time);
                }
                10 if !targets.is_empty() => {
                    let code = dice.pick(&targets);
                    return adoption(code, dice.pick(&REGIONS), revision, time);
                }
                11 => {
                    // A record-less change of a kind that is never retracted.
                    let code = dice.pick(&STANDARDS);
                    return change(RowKind::Standard, code, revision, None);
                }
                _ => {}
            }
        }
    }

    /// A few pages of random sizes: some of one change, some of many.
    fn pages(&mut self) -> Vec<Vec<IncomingChange>> {
        let largest = [1, 4, 16, 64][self.dice.below(4)];
        (0..1 + self.dice.below(4))
            .map(|_| {
                let size = 1 + self.dice.below(largest);
                (0..size).map(|_| self.change()).collect()
            })
            .collect()
    }
}

async fn last_seq(node: &Node) -> i64 {
    change_log::Entity::find()
        .select_only()
        .column_as(change_log::Column::Seq.max(), "seq")
        .into_tuple::<Option<i64>>()
        .one(&node.db)
        .await
        .unwrap()
        .flatten()
        .unwrap_or(0)
}

async fn same_as_one_at_a_time(one: &Node, paged: &Node, rounds: u64) {
    let now = at(123_456_789);
    let (mut sent, mut applied_in_all) = (0, 0);
    let mut seen = 0;
    for seed in 1..=rounds {
        let mut feed = Feed::new(seed);
        for _ in 0..3 {
            let pages = feed.pages();
            let expected = one.apply_one_by_one(&pages, now).await;
            let applied = paged.apply_by_page(&pages, now).await;
            let (want, got) = (one.snapshot(seen).await, paged.snapshot(seen).await);
            if want != got {
                let diff: Vec<String> = want
                    .lines()
                    .zip(got.lines())
                    .enumerate()
                    .filter(|(_, (w, g))| w != g)
                    .take(10)
                    .map(|(n, (w, g))| {
                        format!("line {n}:\n  one at a time: {w}\n  by page:       {g}")
                    })
                    .collect();
                panic!(
                    "seed {seed}: the databases differ after {pages:#?}\n{}",
                    diff.join("\n")
                );
            }
            assert_eq!(applied, expected, "seed {seed}: applied counts");
            seen = last_seq(one).await;
            sent += pages.iter().map(Vec::len).sum::<usize>() as u64;
            applied_in_all += applied;
        }
    }
    assert!(
        applied_in_all * 3 > sent,
        "only {applied_in_all} of {sent} changes applied: the cases test little"
    );
}

#[tokio::test]
async fn a_page_applies_as_its_changes_would_one_at_a_time_on_sqlite() {
    let (one, paged) = (Node::sqlite().await, Node::sqlite().await);
    same_as_one_at_a_time(&one, &paged, 120).await;
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL"
)]
async fn a_page_applies_as_its_changes_would_one_at_a_time_on_postgres() {
    let one = Node::postgres("one").await;
    let paged = Node::postgres("paged").await;
    let test = {
        let one = Node {
            db: one.db.clone(),
            statements: one.statements.clone(),
            postgres: None,
        };
        let paged = Node {
            db: paged.db.clone(),
            statements: paged.statements.clone(),
            postgres: None,
        };
        async move { same_as_one_at_a_time(&one, &paged, 40).await }
    };
    common::run_apart(test, async {
        one.close().await;
        paged.close().await;
    })
    .await;
}

// ---------------------------------------------------------------------------
// Examples, each with what it must leave.

async fn log_tail(node: &Node, n: usize) -> Vec<(String, String, i32, Option<Value>)> {
    let mut log: Vec<_> = change_log::Entity::find()
        .order_by_desc(change_log::Column::Seq)
        .all(&node.db)
        .await
        .unwrap()
        .into_iter()
        .take(n)
        .map(|c| (c.kind, c.row_key, c.revision, c.record))
        .collect();
    log.reverse();
    log
}

/// Zhejiang's guide for `T-M1`, the one the tests below write, as stored.
async fn stored_guide(node: &Node) -> Option<service_guide::Model> {
    service_guide::Entity::find_by_id(("330000".to_owned(), "T-M1".to_owned()))
        .one(&node.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_retraction_and_a_republish_in_one_page_end_as_the_later_says() {
    let node = Node::sqlite().await;
    let t = at(1);
    let first = vec![
        matter("T-M1", 1, &[], t),
        guide("330000", "T-M1", 1, true, t),
    ];
    assert_eq!(node.apply_by_page(&[first], t).await, 2);

    let page = vec![
        retraction("330000", "T-M1", 2),
        guide("330000", "T-M1", 3, true, t),
        // Nothing of 320000 here to retract.
        retraction("320000", "T-M1", 5),
    ];
    assert_eq!(node.apply_by_page(&[page], t).await, 2);
    assert_eq!(stored_guide(&node).await.map(|g| g.revision), Some(3));
    let log = log_tail(&node, 2).await;
    assert_eq!(
        (log[0].1.as_str(), log[0].2, log[0].3.is_none()),
        ("330000/T-M1", 2, true)
    );
    assert_eq!(
        (
            log[1].2,
            log[1].3.as_ref().unwrap()["row"]["revision"].clone()
        ),
        (3, json!(3))
    );

    let page = vec![
        guide("330000", "T-M1", 4, true, t),
        retraction("330000", "T-M1", 5),
    ];
    assert_eq!(node.apply_by_page(&[page], t).await, 2);
    assert_eq!(stored_guide(&node).await.map(|g| g.revision), None);
    let log = log_tail(&node, 1).await;
    assert_eq!((log[0].2, log[0].3.is_none()), (5, true));
    node.close().await;
}

#[tokio::test]
async fn repeated_keys_apply_in_order_and_stale_ones_not_at_all() {
    let node = Node::sqlite().await;
    let t = at(1);
    let page = vec![
        matter("T-M1", 2, &[], t),
        matter("T-M1", 3, &[], at(2)),
        matter("T-M1", 3, &[], at(3)),
        matter("T-M1", 1, &[], at(4)),
        national(1, 1, t),
        national(1, 2, t),
    ];
    assert_eq!(node.apply_by_page(&[page], t).await, 3);
    let stored = service_matter::Entity::find_by_id("T-M1")
        .one(&node.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.revision, stored.updated_at), (3, at(2)));
    let log = log_tail(&node, 3).await;
    let revisions: Vec<_> = log
        .iter()
        .map(|(kind, _, r, _)| (kind.as_str(), *r))
        .collect();
    assert_eq!(
        revisions,
        [("MATTER", 2), ("MATTER", 3), ("NATIONAL_ITEM", 2)],
        "each applied change is relayed, in page order"
    );
    assert_eq!(
        log[0].3.as_ref().unwrap()["row"]["name_en"],
        "Matter T-M1 r2"
    );
    node.close().await;
}

#[tokio::test]
async fn links_name_only_codes_known_here_and_relays_keep_every_code() {
    let node = Node::sqlite().await;
    let t = at(1);
    let page = vec![
        // The new standard comes later in the page: unknown at this point.
        matter("T-M1", 1, &["GB/T 33531-2017", "T-NEW", "GB/T 999-1999"], t),
        standard("T-NEW", 1, "IN_FORCE", &["T-M2"], t),
        matter("T-M2", 1, &["T-NEW"], t),
    ];
    assert_eq!(node.apply_by_page(&[page], t).await, 3);
    let links: Vec<_> = standard_matter::Entity::find()
        .filter(standard_matter::Column::MatterCode.starts_with("T-"))
        .order_by_asc(standard_matter::Column::StandardCode)
        .all(&node.db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.standard_code, l.matter_code))
        .collect();
    assert_eq!(
        links,
        [
            ("GB/T 33531-2017".to_owned(), "T-M1".to_owned()),
            ("T-NEW".to_owned(), "T-M2".to_owned())
        ]
    );
    // The relayed records name every code as sent: a node further on that
    // knows GB/T 999-1999 links it.
    let log = log_tail(&node, 3).await;
    assert_eq!(
        log[0].3.as_ref().unwrap()["standards"],
        json!(["GB/T 33531-2017", "GB/T 999-1999", "T-NEW"])
    );
    assert_eq!(log[1].3.as_ref().unwrap()["matters"], json!(["T-M2"]));
    assert_eq!(log[2].3.as_ref().unwrap()["standards"], json!(["T-NEW"]));
    node.close().await;
}

#[tokio::test]
async fn a_change_of_an_unknown_kind_or_a_key_that_is_not_its_row_is_refused() {
    let node = Node::sqlite().await;
    let t = at(1);
    let unknown = change(RowKind::Matter, "T-M1", 1, None);
    let unknown = IncomingChange {
        kind: "WIDGET".into(),
        ..unknown
    };
    let error = changes::apply_page(&node.db, &[unknown], BYSTANDER, t)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("invalid"), "{error}");
    let mut wrong = matter("T-M1", 1, &[], t);
    wrong.key = "T-M2".into();
    assert!(
        changes::apply_page(&node.db, &[wrong], BYSTANDER, t)
            .await
            .is_err()
    );
    node.close().await;
}

#[tokio::test]
async fn statements_do_not_grow_with_the_page() {
    let node = Node::sqlite().await;
    let t = at(1);
    let setup: Vec<_> = MATTERS.iter().map(|m| matter(m, 1, &[], t)).collect();
    node.apply_by_page(&[setup], t).await;
    let page = |size: usize, revision: i32| -> Vec<IncomingChange> {
        (0..size)
            .map(|i| {
                let period = format!("P{i:04}");
                evaluation(REGIONS[i % 3], MATTERS[i % 4], &period, revision, t)
            })
            .collect()
    };
    for (size, revision) in [(1000, 1), (1000, 2), (10, 3)] {
        let before = node.statements.get();
        let applied = node.apply_by_page(&[page(size, revision)], t).await;
        let statements = node.statements.get() - before;
        assert_eq!(applied, size as u64);
        // BEGIN and COMMIT, lookups of 250 keys each, one upsert, one log insert.
        assert!(
            statements <= 2 + size.div_ceil(250) as u64 + 2,
            "{statements} statements for {size} changes"
        );
    }
    node.close().await;
}

// ---------------------------------------------------------------------------
// The feed's totals.

async fn remaining(node: &Node, after: i64) -> u64 {
    use sea_orm::PaginatorTrait;
    change_log::Entity::find()
        .filter(change_log::Column::Seq.gt(after))
        .count(&node.db)
        .await
        .unwrap()
}

/// Pages through the whole log `first` at a time, checking every total;
/// returns the changes read.
async fn read_feed(node: &Node, first: u64) -> u64 {
    let (mut after, mut read) = (None, 0);
    loop {
        let request = PageRequest {
            after,
            first,
            count: true,
        };
        let page = changes::feed(&node.db, request).await.unwrap();
        let truth = remaining(node, after.unwrap_or(0)).await;
        assert_eq!(page.total, truth, "the total after {after:?}");
        read += page.items.len() as u64;
        if !page.has_next {
            return read;
        }
        after = page.items.last().map(|item| item.seq);
    }
}

async fn feed_totals_are_what_is_left(node: Node) {
    let t = at(1);
    let page: Vec<_> = (0..23)
        .map(|i| matter(&format!("T-F{i:02}"), 1, &[], t))
        .collect();
    node.apply_by_page(&[page], t).await;
    let all = remaining(&node, 0).await;
    for first in [1, 4, 23, 1000] {
        assert_eq!(read_feed(&node, first).await, all);
    }
    let uncounted = changes::feed(
        &node.db,
        PageRequest {
            after: None,
            first: 5,
            count: false,
        },
    )
    .await
    .unwrap();
    assert_eq!((uncounted.items.len(), uncounted.total), (5, 0));

    // A hole that Concord never makes (a row deleted by hand): the pages
    // that show it are counted.
    let hole = change_log::Entity::find()
        .order_by_desc(change_log::Column::Seq)
        .one(&node.db)
        .await
        .unwrap()
        .unwrap()
        .seq
        - 10;
    change_log::Entity::delete_by_id(hole)
        .exec(&node.db)
        .await
        .unwrap();
    let page = changes::feed(
        &node.db,
        PageRequest {
            after: Some(hole - 3),
            first: 5,
            count: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(page.total, remaining(&node, hole - 3).await);
    node.close().await;
}

#[tokio::test]
async fn feed_totals_are_what_is_left_on_sqlite() {
    feed_totals_are_what_is_left(Node::sqlite().await).await;
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL"
)]
async fn feed_totals_are_what_is_left_on_postgres() {
    feed_totals_are_what_is_left(Node::postgres("feed").await).await;
}

#[test]
fn a_key_with_the_wrong_parts_is_refused_not_padded() {
    assert_eq!(
        split_key(RowKind::Guide, "330000/SI-CARD").unwrap(),
        ["330000", "SI-CARD"]
    );
    assert_eq!(
        split_key(RowKind::Adoption, "DB31/T 310950-2026/330000").unwrap(),
        ["DB31/T 310950-2026", "330000"]
    );
    assert_eq!(
        split_key(RowKind::Standard, "GB/T 33531-2017").unwrap(),
        ["GB/T 33531-2017"]
    );
    for (kind, key) in [
        (RowKind::Guide, "330000"),
        (RowKind::Guide, "330000/SI-CARD/extra"),
        (RowKind::Guide, "/SI-CARD"),
        (RowKind::Evaluation, "330000/SI-CARD"),
        (RowKind::Adoption, "DB31"),
        (RowKind::Matter, ""),
    ] {
        assert!(split_key(kind, key).is_err(), "{kind:?} `{key}`");
    }
}

// ---------------------------------------------------------------------------
// Ownership: a node's own rows, and the verdicts about them.

/// A guide of Zhejiang at `revision` whose content says who wrote it.
fn written(by: &str, revision: i32, time: DateTime<Utc>) -> IncomingChange {
    let mut change = guide("330000", "T-M1", revision, true, time);
    let mut record: Value = serde_json::from_str(change.record.as_ref().unwrap().get()).unwrap();
    record["row"]["legal_basis"] = json!(format!("written by {by}"));
    change.record = Some(serde_json::value::RawValue::from_string(record.to_string()).unwrap());
    change
}

async fn guide_basis(node: &Node) -> (i32, String) {
    let row = stored_guide(node).await.unwrap();
    (row.revision, row.legal_basis)
}

#[tokio::test]
async fn a_nodes_own_rows_are_never_overwritten_and_the_losing_version_is_kept() {
    let zhejiang = Node::sqlite().await;
    // The row arrives from the hub before this node wrote it: creating is
    // not overwriting.
    let t = at(1);
    zhejiang
        .apply_as(
            "330000",
            &[matter("T-M1", 1, &[], t), written("330000", 1, t)],
            t,
        )
        .await;
    let seen = last_seq(&zhejiang).await;

    // The hub's revision 2 of it loses, newer as it is; the conflict is
    // kept and announced, and this node's version is stamped again as
    // revision 3, past the loser, so that it replaces the loser everywhere.
    let hub = written("hub", 2, at(2));
    assert_eq!(
        zhejiang
            .apply_as("330000", std::slice::from_ref(&hub), at(3))
            .await,
        0
    );
    let ours = (3, "written by 330000".to_owned());
    assert_eq!(guide_basis(&zhejiang).await, ours);
    let conflicts = zhejiang.conflicts().await;
    assert_eq!(conflicts.len(), 1);
    let conflict = &conflicts[0];
    assert_eq!((conflict.winner_revision, conflict.loser_revision), (3, 2));
    assert_eq!(conflict.origin, "330000");
    assert_eq!(
        conflict.loser_record.as_ref().unwrap()["row"]["legal_basis"],
        "written by hub"
    );
    assert!(conflict.resolution.is_none());
    let log = zhejiang.feed_after(seen).await;
    let logged: Vec<_> = log
        .iter()
        .map(|c| (c.kind.as_str(), c.key.as_str(), c.revision))
        .collect();
    assert_eq!(
        logged,
        [("GUIDE", "330000/T-M1", 3), ("CONFLICT", "330000/T-M1", 3)]
    );
    let verdict: Value = serde_json::from_str(log[1].record.as_ref().unwrap().get()).unwrap();
    assert_eq!(
        verdict["winner"]["record"]["row"]["legal_basis"],
        "written by 330000"
    );
    assert_eq!(verdict["loser"]["revision"], 2);
    let history = sea_orm::PaginatorTrait::count(
        row_revision::Entity::find().filter(row_revision::Column::RowKey.eq("330000/T-M1")),
        &zhejiang.db,
    )
    .await
    .unwrap();
    assert_eq!(history, 2, "revisions 1 and 3 are kept");

    // The same version again, and this node's own versions coming back
    // through a relay, change nothing.
    let seen = last_seq(&zhejiang).await;
    zhejiang
        .apply_as(
            "330000",
            &[hub, written("330000", 1, t), log[0].clone()],
            at(4),
        )
        .await;
    assert_eq!(zhejiang.conflicts().await.len(), 1);
    assert_eq!(last_seq(&zhejiang).await, seen);

    // Another version at the stored revision loses too: never overwritten
    // by different content at the same revision.
    zhejiang
        .apply_as("330000", &[written("hub", 3, at(5))], at(6))
        .await;
    assert_eq!(zhejiang.conflicts().await.len(), 2);
    assert_eq!(
        guide_basis(&zhejiang).await,
        (4, "written by 330000".into())
    );
    zhejiang.close().await;
}

#[tokio::test]
async fn an_older_version_is_an_echo_only_if_this_node_logged_it() {
    let zhejiang = Node::sqlite().await;
    let (first, second) = (written("330000", 1, at(1)), written("330000", 2, at(2)));
    zhejiang
        .apply_as(
            "330000",
            &[matter("T-M1", 1, &[], at(1)), first.clone()],
            at(1),
        )
        .await;
    // Revision 2 of its own comes through a node that kept it (a restore).
    zhejiang.apply_as(BYSTANDER, &[second], at(2)).await;
    assert_eq!(guide_basis(&zhejiang).await.0, 2);
    // Its revision 1 again: logged here, so an echo.
    zhejiang.apply_as("330000", &[first], at(3)).await;
    assert!(zhejiang.conflicts().await.is_empty());
    // A revision 1 it never wrote: the hub's, on an old copy. It loses.
    zhejiang
        .apply_as("330000", &[written("hub", 1, at(4))], at(5))
        .await;
    let conflicts = zhejiang.conflicts().await;
    assert_eq!(conflicts.len(), 1);
    assert_eq!(
        (conflicts[0].winner_revision, conflicts[0].loser_revision),
        (2, 1)
    );
    zhejiang.close().await;
}

#[tokio::test]
async fn every_replica_takes_the_origins_verdict_and_its_settlement() {
    let (zhejiang, jiangsu, shanghai) = (
        Node::sqlite().await,
        Node::sqlite().await,
        Node::sqlite().await,
    );
    let t = at(1);
    for node in [&zhejiang, &jiangsu, &shanghai] {
        node.apply_as(
            BYSTANDER,
            &[matter("T-M1", 1, &[], t), written("330000", 1, t)],
            t,
        )
        .await;
    }
    let (z0, j0) = (last_seq(&zhejiang).await, last_seq(&jiangsu).await);
    // The hub's revision 2 reaches Jiangsu first, which takes it: not its row.
    let hub = written("hub", 2, at(2));
    assert_eq!(
        jiangsu
            .apply_as("320000", std::slice::from_ref(&hub), at(3))
            .await,
        1
    );
    assert_eq!(guide_basis(&jiangsu).await, (2, "written by hub".into()));
    // Zhejiang rules, and its verdict reaches Jiangsu: the origin's version
    // is installed there, and the conflict listed.
    zhejiang
        .apply_as("330000", std::slice::from_ref(&hub), at(3))
        .await;
    let verdict = zhejiang.feed_after(z0).await;
    assert_eq!(jiangsu.apply_as("320000", &verdict, at(4)).await, 2);
    assert_eq!(guide_basis(&jiangsu).await, (3, "written by 330000".into()));
    assert_eq!(jiangsu.conflicts().await.len(), 1);
    // The loser arriving again by another path stays out.
    jiangsu.apply_as("320000", &[hub], at(5)).await;
    assert_eq!(guide_basis(&jiangsu).await.0, 3);
    assert_eq!(
        changes::checksums(&jiangsu.db).await.unwrap(),
        changes::checksums(&zhejiang.db).await.unwrap()
    );

    // Zhejiang's administrator keeps the hub's version: it becomes
    // revision 4, past every version any node holds.
    let admin = concord_auth::Principal {
        subject: Some("zj-admin".into()),
        role: Some(concord_auth::Role::ProvinceAdmin),
        region: Some("330000".try_into().unwrap()),
        zone: None,
    };
    let region = concord_domain::RegionCode::try_from("330000").unwrap();
    let actor = concord_auth::authorize(
        &admin,
        concord_auth::Action::ResolveSyncConflict,
        &concord_auth::Target {
            region: Some(&region),
            ..Default::default()
        },
        &concord_auth::Node {
            region: Some(region.clone()),
        },
    )
    .unwrap();
    let permit = concord_persistence::mutate::Permit {
        db: &zhejiang.db,
        actor,
        now: at(6),
    };
    let conflict = &zhejiang.conflicts().await[0];
    let key = conflicts::ConflictKey::of(&Conflict::try_from(conflict.clone()).unwrap());
    let stale = conflicts::settle(&permit, &key, Settlement::Loser, 0).await;
    assert!(matches!(
        stale,
        Err(concord_persistence::mutate::MutationError::Conflict { current: 3 })
    ));
    let z1 = last_seq(&zhejiang).await;
    let settled = conflicts::settle(&permit, &key, Settlement::Loser, 3)
        .await
        .unwrap();
    assert_eq!(settled.resolution, Some(Settlement::Loser));
    assert_eq!(guide_basis(&zhejiang).await, (4, "written by hub".into()));
    let settlement = zhejiang.feed_after(z1).await;
    assert_eq!(
        settlement
            .iter()
            .map(|c| c.kind.as_str())
            .collect::<Vec<_>>(),
        ["GUIDE", "RESOLUTION"]
    );
    jiangsu.apply_as("320000", &settlement, at(7)).await;
    assert_eq!(guide_basis(&jiangsu).await, (4, "written by hub".into()));
    assert!(jiangsu.conflicts().await[0].resolution.is_some());

    // Shanghai hears of the settlement before the conflict, through
    // Jiangsu's relay; the conflict, when it comes, stays settled.
    let relayed = jiangsu.feed_after(j0).await;
    let (conflict, rest): (Vec<_>, Vec<_>) =
        relayed.into_iter().partition(|c| c.kind == "CONFLICT");
    shanghai.apply_as("310000", &rest, at(8)).await;
    shanghai.apply_as("310000", &conflict, at(9)).await;
    assert_eq!(guide_basis(&shanghai).await, (4, "written by hub".into()));
    for node in [&jiangsu, &shanghai] {
        assert_eq!(
            changes::checksums(&node.db).await.unwrap(),
            changes::checksums(&zhejiang.db).await.unwrap()
        );
    }
    for node in [zhejiang, jiangsu, shanghai] {
        node.close().await;
    }
}
