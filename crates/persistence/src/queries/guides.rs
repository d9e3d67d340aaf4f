//! Service guides and operating procedures, each keyed by region and
//! matter, and the pages of guides under a parent.

use std::collections::{HashMap, HashSet};

use concord_domain::guide::{OperatingProcedure, ServiceGuide};
use concord_domain::{GuideStatus, MatterCode, RegionCode};
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Func, IntoColumnRef, JoinType, Order, Query, UnionType,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
};

use crate::StoreError;
use crate::entity::{operating_procedure, service_guide, service_matter, zone_member};

use super::{KEYS_PER_LIST, Page, PageRequest, Visibility, constant, count_of, page_of, records};

mod decoded;
mod joined;

pub use joined::{GuideJoins, JoinedGuide};

/// What to list service guides by. Every field narrows the list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct GuideFilter {
    pub region: Option<String>,
    /// Member regions of a zone, already resolved.
    pub regions: Option<Vec<String>>,
    pub matter: Option<String>,
    pub category: Option<String>,
    pub status: Option<String>,
}

fn visible_guides(
    select: Select<service_guide::Entity>,
    visibility: &Visibility,
) -> Select<service_guide::Entity> {
    let published = Expr::col((service_guide::Entity, service_guide::Column::Status))
        .eq(constant(GuideStatus::Published.as_str()));
    match visibility {
        Visibility::All => select,
        Visibility::Public => select.filter(published),
        Visibility::OwnDrafts { regions, .. } => select.filter(
            Condition::any()
                .add(published)
                .add(service_guide::Column::Origin.is_in(regions.iter().cloned())),
        ),
    }
}

fn guide_select(filter: &GuideFilter, visibility: &Visibility) -> Select<service_guide::Entity> {
    let mut select = visible_guides(service_guide::Entity::find(), visibility);
    if let Some(region) = &filter.region {
        select = select.filter(service_guide::Column::RegionCode.eq(region.as_str()));
    }
    if let Some(regions) = &filter.regions {
        select = select.filter(service_guide::Column::RegionCode.is_in(regions.iter().cloned()));
    }
    if let Some(matter) = &filter.matter {
        select = select.filter(service_guide::Column::MatterCode.eq(matter.as_str()));
    }
    if let Some(status) = &filter.status {
        select = select.filter(service_guide::Column::Status.eq(status.as_str()));
    }
    if let Some(category) = &filter.category {
        select = select.filter(
            service_guide::Column::MatterCode.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(service_matter::Column::Code)
                    .from(service_matter::Entity)
                    .and_where(service_matter::Column::CategoryCode.eq(category.as_str()))
                    .to_owned(),
            ),
        );
    }
    select
}

/// A guide's key: region code, then matter code.
pub type GuideKey = (String, String);

/// The key of a region's guide, or procedure, for a matter.
pub fn guide_key(region: &RegionCode, matter: &MatterCode) -> GuideKey {
    (region.to_string(), matter.to_string())
}

pub async fn guides<C: ConnectionTrait>(
    conn: &C,
    filter: &GuideFilter,
    visibility: &Visibility,
    request: PageRequest<GuideKey>,
    joins: GuideJoins,
) -> Result<Page<JoinedGuide>, StoreError> {
    let mut select = guide_select(filter, visibility)
        .order_by_asc(service_guide::Column::RegionCode)
        .order_by_asc(service_guide::Column::MatterCode);
    if let Some((region, matter)) = &request.after {
        select = select.filter(after_guide(region, matter));
    }
    let mut query = select.into_query();
    joins.join(&mut query, visibility);
    let total = request
        .count
        .then(|| count_of(guide_select(filter, visibility)));
    let reader = joins.reader();
    page_of(conn, query, request.first, total, |row| reader.read(row)).await
}

/// Whose guides a nested page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GuideParent {
    /// A region's own guides.
    Region,
    /// The guides of a zone's member regions.
    Zone,
    /// Every region's guide for a matter.
    Matter,
}

/// A page of guides for each of `parents` (region, zone or matter codes),
/// with at most two statements however many parents there are: one reads
/// every parent's page, each as its own index-ordered `LIMIT` arm of a
/// `UNION ALL`, and one counts every parent's rows when the count is asked
/// for. Every page starts after the same cursor, as a nested Relay
/// connection asks.
pub async fn guide_pages<C: ConnectionTrait>(
    conn: &C,
    parent: GuideParent,
    parents: &[String],
    filter: &GuideFilter,
    visibility: &Visibility,
    request: &PageRequest<GuideKey>,
    joins: GuideJoins,
) -> Result<HashMap<String, Page<JoinedGuide>>, StoreError> {
    let mut pages: HashMap<String, Page<JoinedGuide>> = parents
        .iter()
        .map(|code| {
            let empty = Page {
                items: Vec::new(),
                has_next: false,
                total: 0,
            };
            (code.clone(), empty)
        })
        .collect();
    let Some((first, rest)) = parents.split_first() else {
        return Ok(pages);
    };
    let backend = conn.get_database_backend();
    let arm = |code: &String| {
        let mut arm = owned_guides(parent, code, filter, visibility).into_query();
        if let Some((after_region, after_matter)) = &request.after {
            arm.and_where(after_guide(after_region, after_matter).into());
        }
        joins.join(&mut arm, visibility);
        arm.order_by(
            (service_guide::Entity, service_guide::Column::RegionCode),
            Order::Asc,
        )
        .order_by(
            (service_guide::Entity, service_guide::Column::MatterCode),
            Order::Asc,
        )
        .limit(request.first + 1);
        // An arm with its own ORDER BY and LIMIT must be a subquery in a
        // compound statement.
        Query::select()
            .column(Asterisk)
            .from_subquery(arm, Alias::new("arm"))
            .to_owned()
    };
    let mut union = arm(first);
    for code in rest {
        union.union(UnionType::All, arm(code));
    }
    let reader = joins.reader();
    for found in conn
        .query_all_raw(super::prepared::statement(backend, &union))
        .await?
    {
        let owner: String = found.try_get("", "page_owner")?;
        if let Some(page) = pages.get_mut(&owner) {
            if page.items.len() as u64 == request.first {
                page.has_next = true;
            } else {
                page.items.push(reader.read(&found)?);
            }
        }
    }
    if request.count {
        let mut counts = guide_select(filter, visibility).into_query();
        let owner = owner_column(parent, &mut counts);
        counts
            .clear_selects()
            .expr_as(Expr::col(owner.clone()), Alias::new("page_owner"))
            .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("page_total"))
            .and_where(Expr::col(owner.clone()).is_in(parents.iter().cloned()))
            .group_by_col(owner);
        for found in conn.query_all_raw(backend.build(&counts)).await? {
            let owner: String = found.try_get("", "page_owner")?;
            if let Some(page) = pages.get_mut(&owner) {
                let total: i64 = found.try_get("", "page_total")?;
                page.total = u64::try_from(total)
                    .map_err(|_| StoreError::Corrupt(format!("a count returned {total}")))?;
            }
        }
    }
    Ok(pages)
}

/// Joins what `parent` needs to `select` and names the column that holds
/// the parent's code.
fn owner_column(
    parent: GuideParent,
    select: &mut sea_orm::sea_query::SelectStatement,
) -> sea_orm::sea_query::ColumnRef {
    match parent {
        GuideParent::Region => {
            (service_guide::Entity, service_guide::Column::RegionCode).into_column_ref()
        }
        GuideParent::Matter => {
            (service_guide::Entity, service_guide::Column::MatterCode).into_column_ref()
        }
        GuideParent::Zone => {
            select.join(
                JoinType::InnerJoin,
                zone_member::Entity,
                Expr::col((zone_member::Entity, zone_member::Column::RegionCode))
                    .equals((service_guide::Entity, service_guide::Column::RegionCode)),
            );
            (zone_member::Entity, zone_member::Column::ZoneCode).into_column_ref()
        }
    }
}

/// The guides of one parent, with the parent's code as `page_owner`.
fn owned_guides(
    parent: GuideParent,
    code: &str,
    filter: &GuideFilter,
    visibility: &Visibility,
) -> Select<service_guide::Entity> {
    let mut select = guide_select(filter, visibility);
    let query = QuerySelect::query(&mut select);
    let owner = owner_column(parent, query);
    query
        .and_where(Expr::col(owner).eq(code))
        .expr_as(Expr::val(code), Alias::new("page_owner"));
    select
}

/// Guides after `(region, matter)` in key order.
fn after_guide(region: &str, matter: &str) -> Condition {
    Condition::any()
        .add(service_guide::Column::RegionCode.gt(region))
        .add(
            Condition::all()
                .add(service_guide::Column::RegionCode.eq(region))
                .add(service_guide::Column::MatterCode.gt(matter)),
        )
}

/// Guides by key that `visibility` lets the caller see.
pub async fn guides_by_keys<C: ConnectionTrait>(
    conn: &C,
    keys: &[GuideKey],
    visibility: &Visibility,
) -> Result<Vec<ServiceGuide>, StoreError> {
    records(guide_rows_by_keys(conn, keys, visibility).await?)
}

pub(crate) async fn guide_rows_by_keys<C: ConnectionTrait>(
    conn: &C,
    keys: &[GuideKey],
    visibility: &Visibility,
) -> Result<Vec<service_guide::Model>, StoreError> {
    by_guide_keys(
        conn,
        visible_guides(service_guide::Entity::find(), visibility),
        (
            service_guide::Column::RegionCode,
            service_guide::Column::MatterCode,
        ),
        keys,
        |row| (row.region_code.clone(), row.matter_code.clone()),
    )
    .await
}

/// The rows of `select` whose region and matter (in `columns`, read by
/// `key_of`) are one of `keys`, read a chunk of keys a statement: the
/// regions and matters of a chunk are matched, then the exact pairs kept.
async fn by_guide_keys<C: ConnectionTrait, E: EntityTrait>(
    conn: &C,
    select: Select<E>,
    columns: (E::Column, E::Column),
    keys: &[GuideKey],
    key_of: impl Fn(&E::Model) -> GuideKey,
) -> Result<Vec<E::Model>, StoreError> {
    let mut rows = Vec::new();
    for chunk in keys.chunks(KEYS_PER_LIST) {
        let regions: HashSet<&str> = chunk.iter().map(|k| k.0.as_str()).collect();
        let matters: HashSet<&str> = chunk.iter().map(|k| k.1.as_str()).collect();
        let wanted: HashSet<&GuideKey> = chunk.iter().collect();
        let read = select
            .clone()
            .filter(columns.0.is_in(regions))
            .filter(columns.1.is_in(matters))
            .all(conn)
            .await?;
        rows.extend(read.into_iter().filter(|row| wanted.contains(&key_of(row))));
    }
    Ok(rows)
}

/// The procedures `visibility` shows, when it hides any: as for guides,
/// drafts only to those who may read their region's drafts.
fn visible_procedures(visibility: &Visibility) -> Option<Condition> {
    let published = Expr::col((
        operating_procedure::Entity,
        operating_procedure::Column::Status,
    ))
    .eq(constant(GuideStatus::Published.as_str()));
    match visibility {
        Visibility::All => None,
        Visibility::Public => Some(Condition::all().add(published)),
        Visibility::OwnDrafts { regions, .. } => Some(
            Condition::any()
                .add(published)
                .add(operating_procedure::Column::Origin.is_in(regions.iter().cloned())),
        ),
    }
}

/// Procedures by key that `visibility` lets the caller see: as for guides,
/// drafts only for those who may read their region's drafts.
pub async fn procedures_by_keys<C: ConnectionTrait>(
    conn: &C,
    keys: &[GuideKey],
    visibility: &Visibility,
) -> Result<Vec<OperatingProcedure>, StoreError> {
    records(procedure_rows_by_keys(conn, keys, visibility).await?)
}

pub(crate) async fn procedure_rows_by_keys<C: ConnectionTrait>(
    conn: &C,
    keys: &[GuideKey],
    visibility: &Visibility,
) -> Result<Vec<operating_procedure::Model>, StoreError> {
    let mut select = operating_procedure::Entity::find();
    if let Some(visible) = visible_procedures(visibility) {
        select = select.filter(visible);
    }
    by_guide_keys(
        conn,
        select,
        (
            operating_procedure::Column::RegionCode,
            operating_procedure::Column::MatterCode,
        ),
        keys,
        |row| (row.region_code.clone(), row.matter_code.clone()),
    )
    .await
}

/// Published guides of the given regions, for the given matters (all
/// matters when `matters` is None), ordered by matter then region.
pub async fn published_guides<C: ConnectionTrait>(
    conn: &C,
    regions: &[String],
    matters: Option<&[String]>,
) -> Result<Vec<ServiceGuide>, StoreError> {
    records(published_guide_rows(conn, regions, matters).await?)
}

/// [`published_guides`] as rows, as a federation part carries them.
pub async fn published_guide_rows<C: ConnectionTrait>(
    conn: &C,
    regions: &[String],
    matters: Option<&[String]>,
) -> Result<Vec<service_guide::Model>, StoreError> {
    let mut select = service_guide::Entity::find()
        .filter(service_guide::Column::Status.eq(GuideStatus::Published.as_str()))
        .filter(service_guide::Column::RegionCode.is_in(regions.iter().cloned()));
    if let Some(matters) = matters {
        select = select.filter(service_guide::Column::MatterCode.is_in(matters.iter().cloned()));
    }
    Ok(select
        .order_by_asc(service_guide::Column::MatterCode)
        .order_by_asc(service_guide::Column::RegionCode)
        .all(conn)
        .await?)
}

/// The published procedures of `regions`, by region and matter, as rows,
/// as a federation part carries them.
pub async fn published_procedure_rows<C: ConnectionTrait>(
    conn: &C,
    regions: &[String],
) -> Result<Vec<operating_procedure::Model>, StoreError> {
    Ok(operating_procedure::Entity::find()
        .filter(operating_procedure::Column::Status.eq(GuideStatus::Published.as_str()))
        .filter(operating_procedure::Column::RegionCode.is_in(regions.iter().cloned()))
        .order_by_asc(operating_procedure::Column::RegionCode)
        .order_by_asc(operating_procedure::Column::MatterCode)
        .all(conn)
        .await?)
}

/// The keys of the published procedures of the given regions, of one
/// matter or of all.
pub async fn procedure_keys<C: ConnectionTrait>(
    conn: &C,
    regions: Option<&[String]>,
    matter: Option<&str>,
) -> Result<Vec<GuideKey>, StoreError> {
    let mut select = operating_procedure::Entity::find()
        .filter(operating_procedure::Column::Status.eq(GuideStatus::Published.as_str()))
        .select_only()
        .column(operating_procedure::Column::RegionCode)
        .column(operating_procedure::Column::MatterCode);
    if let Some(regions) = regions {
        select =
            select.filter(operating_procedure::Column::RegionCode.is_in(regions.iter().cloned()));
    }
    if let Some(matter) = matter {
        select = select.filter(operating_procedure::Column::MatterCode.eq(matter));
    }
    Ok(select.into_tuple::<(String, String)>().all(conn).await?)
}

/// When each region's published guides last changed: the newest
/// `updated_at` among them, for the regions that have any.
pub async fn published_guide_times<C: ConnectionTrait>(
    conn: &C,
    regions: &[String],
) -> Result<HashMap<String, chrono::DateTime<chrono::Utc>>, StoreError> {
    #[derive(FromQueryResult)]
    struct Newest {
        region_code: String,
        changed: chrono::DateTime<chrono::Utc>,
    }
    Ok(service_guide::Entity::find()
        .select_only()
        .column(service_guide::Column::RegionCode)
        .column_as(service_guide::Column::UpdatedAt.max(), "changed")
        .filter(service_guide::Column::Status.eq(GuideStatus::Published.as_str()))
        .filter(service_guide::Column::RegionCode.is_in(regions.iter().cloned()))
        .group_by(service_guide::Column::RegionCode)
        .into_model::<Newest>()
        .all(conn)
        .await?
        .into_iter()
        .map(|row| (row.region_code, row.changed))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::test_support::seeded_database;

    /// Each guide and procedure as the entities themselves read them, by
    /// column name.
    async fn as_stored<C: ConnectionTrait>(conn: &C, joined: &JoinedGuide) -> JoinedGuide {
        let key = guide_key(&joined.guide.region, &joined.guide.matter);
        let guide = service_guide::Entity::find_by_id(key.clone())
            .one(conn)
            .await
            .unwrap()
            .unwrap();
        let procedure = operating_procedure::Entity::find_by_id(key)
            .one(conn)
            .await
            .unwrap();
        JoinedGuide {
            guide: Arc::new(ServiceGuide::try_from(guide).unwrap()),
            procedure: Some(
                procedure.map(|row| Arc::new(OperatingProcedure::try_from(row).unwrap())),
            ),
        }
    }

    #[tokio::test]
    async fn pages_read_by_position_hold_the_rows_as_stored() {
        let db = seeded_database().await;
        let joins = GuideJoins { procedure: true };
        let request = PageRequest {
            after: None,
            first: 100,
            count: true,
        };
        let filter = GuideFilter::default();
        let flat = guides(&db, &filter, &Visibility::All, request.clone(), joins)
            .await
            .unwrap();
        let regions = ["330000".to_owned(), "440000".to_owned()];
        let nested = guide_pages(
            &db,
            GuideParent::Region,
            &regions,
            &filter,
            &Visibility::All,
            &request,
            joins,
        )
        .await
        .unwrap();
        let read: Vec<&JoinedGuide> = flat
            .items
            .iter()
            .chain(nested.values().flat_map(|page| &page.items))
            .collect();
        assert!(
            read.len() > flat.items.len(),
            "the nested pages read guides"
        );
        let mut with_procedure = 0;
        for joined in read {
            assert_eq!(*joined, as_stored(&db, joined).await);
            with_procedure += usize::from(matches!(joined.procedure, Some(Some(_))));
        }
        assert!(with_procedure > 0, "some guides have their procedure");
    }
}
