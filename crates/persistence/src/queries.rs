//! The reads the API makes: filtered, keyset-paginated lists, and batch
//! look-ups by key for the DataLoaders. Every function here runs a fixed
//! number of statements, whatever the number of rows or keys.

use std::collections::{HashMap, HashSet};

use concord_domain::{GuideStatus, StandardStatus};
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Func, IntoColumnRef, JoinType, Order, Query,
    QueryStatementBuilder, SelectStatement, UnionType,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
};

use crate::StoreError;
use crate::entity::{
    adoption, audit_entry, category, collaborative_target, elevation_proposal, evaluation,
    national_edition, national_item, operating_procedure, region, row_revision, service_guide,
    service_matter, standard, standard_matter, zone, zone_member,
};
use crate::search::{Searched, Term};

/// Which rows a caller may see beyond the published ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Visibility {
    /// Published guides and standards that are not drafts.
    #[default]
    Public,
    /// Also the drafts these regions own (by origin), and the draft
    /// collaborative standards of these zones.
    OwnDrafts {
        regions: Vec<String>,
        zones: Vec<String>,
    },
    /// Everything.
    All,
}

/// One page of a list, and what a Relay connection needs around it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
    /// Every matching row, when the request asked for the count; else 0.
    pub total: u64,
}

/// Where a page starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageRequest<K> {
    pub after: Option<K>,
    pub first: u64,
    /// Whether to count every matching row for [`Page::total`]: a full scan
    /// of the match, so only when the client asked for it.
    pub count: bool,
}

/// `first` rows of `select` and whether more follow; the rows of `counted`
/// counted when it is given.
pub(crate) async fn page<E, C>(
    conn: &C,
    select: Select<E>,
    first: u64,
    counted: Option<Select<E>>,
) -> Result<Page<E::Model>, StoreError>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let total = match counted {
        Some(counted) => counted.count(conn).await?,
        None => 0,
    };
    let mut items = select.limit(first + 1).all(conn).await?;
    let has_next = items.len() as u64 > first;
    items.truncate(first as usize);
    Ok(Page {
        items,
        has_next,
        total,
    })
}

/// The search term of a filter's text, unless it is blank.
async fn term<C: ConnectionTrait>(
    conn: &C,
    searched: Searched,
    text: &Option<String>,
) -> Result<Option<Term>, StoreError> {
    match text
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
    {
        Some(text) => Ok(Some(Term::prepare(conn, searched, text).await?)),
        None => Ok(None),
    }
}

/// The one number that `select` (a single-column, single-row count) returns.
async fn count<C: ConnectionTrait>(conn: &C, select: SelectStatement) -> Result<u64, StoreError> {
    let statement = conn.get_database_backend().build(&select);
    let row = conn
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| StoreError::Corrupt("a count returned no row".into()))?;
    let total: i64 = row.try_get_by_index(0)?;
    Ok(u64::try_from(total).unwrap_or_default())
}

pub async fn regions<C: ConnectionTrait>(conn: &C) -> Result<Vec<region::Model>, StoreError> {
    Ok(region::Entity::find()
        .order_by_asc(region::Column::Code)
        .all(conn)
        .await?)
}

pub async fn regions_by_codes<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<region::Model>, StoreError> {
    Ok(region::Entity::find()
        .filter(region::Column::Code.is_in(codes.iter().cloned()))
        .all(conn)
        .await?)
}

pub async fn zones<C: ConnectionTrait>(conn: &C) -> Result<Vec<zone::Model>, StoreError> {
    Ok(zone::Entity::find()
        .order_by_asc(zone::Column::Code)
        .all(conn)
        .await?)
}

pub async fn zones_by_codes<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<zone::Model>, StoreError> {
    Ok(zone::Entity::find()
        .filter(zone::Column::Code.is_in(codes.iter().cloned()))
        .all(conn)
        .await?)
}

/// Memberships of the given zones.
pub async fn members_of_zones<C: ConnectionTrait>(
    conn: &C,
    zones: &[String],
) -> Result<Vec<zone_member::Model>, StoreError> {
    Ok(zone_member::Entity::find()
        .filter(zone_member::Column::ZoneCode.is_in(zones.iter().cloned()))
        .order_by_asc(zone_member::Column::RegionCode)
        .all(conn)
        .await?)
}

pub async fn categories<C: ConnectionTrait>(conn: &C) -> Result<Vec<category::Model>, StoreError> {
    Ok(category::Entity::find()
        .order_by_asc(category::Column::Code)
        .all(conn)
        .await?)
}

pub async fn categories_by_codes<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<category::Model>, StoreError> {
    Ok(category::Entity::find()
        .filter(category::Column::Code.is_in(codes.iter().cloned()))
        .all(conn)
        .await?)
}

pub async fn editions<C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<national_edition::Model>, StoreError> {
    Ok(national_edition::Entity::find()
        .order_by_asc(national_edition::Column::Edition)
        .all(conn)
        .await?)
}

pub async fn editions_by_years<C: ConnectionTrait>(
    conn: &C,
    years: &[i32],
) -> Result<Vec<national_edition::Model>, StoreError> {
    Ok(national_edition::Entity::find()
        .filter(national_edition::Column::Edition.is_in(years.iter().copied()))
        .all(conn)
        .await?)
}

/// The national items of one edition, or of all editions.
pub async fn national_items<C: ConnectionTrait>(
    conn: &C,
    edition: Option<i32>,
) -> Result<Vec<national_item::Model>, StoreError> {
    let mut select = national_item::Entity::find();
    if let Some(edition) = edition {
        select = select.filter(national_item::Column::Edition.eq(edition));
    }
    Ok(select
        .order_by_asc(national_item::Column::Edition)
        .order_by_asc(national_item::Column::Number)
        .all(conn)
        .await?)
}

pub async fn national_items_by_keys<C: ConnectionTrait>(
    conn: &C,
    keys: &[(i32, i32)],
) -> Result<Vec<national_item::Model>, StoreError> {
    let editions: HashSet<i32> = keys.iter().map(|k| k.0).collect();
    let numbers: HashSet<i32> = keys.iter().map(|k| k.1).collect();
    let wanted: HashSet<(i32, i32)> = keys.iter().copied().collect();
    let rows = national_item::Entity::find()
        .filter(national_item::Column::Edition.is_in(editions))
        .filter(national_item::Column::Number.is_in(numbers))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|row| wanted.contains(&(row.edition, row.number)))
        .collect())
}

/// What to list service matters by. Every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct MatterFilter {
    pub category: Option<String>,
    pub standard: Option<String>,
    pub national_edition: Option<i32>,
    pub national_number: Option<i32>,
    pub text: Option<String>,
}

impl MatterFilter {
    /// Whether the filter has nothing but its text.
    fn only_text(&self) -> bool {
        self.category.is_none()
            && self.standard.is_none()
            && self.national_edition.is_none()
            && self.national_number.is_none()
    }
}

fn matter_select(filter: &MatterFilter, term: Option<&Term>) -> Select<service_matter::Entity> {
    let mut select = service_matter::Entity::find();
    if let Some(category) = &filter.category {
        select = select.filter(service_matter::Column::CategoryCode.eq(category.as_str()));
    }
    if let Some(edition) = filter.national_edition {
        select = select.filter(service_matter::Column::NationalEdition.eq(edition));
    }
    if let Some(number) = filter.national_number {
        select = select.filter(service_matter::Column::NationalNumber.eq(number));
    }
    if let Some(standard) = &filter.standard {
        select = select.filter(
            service_matter::Column::Code.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(standard_matter::Column::MatterCode)
                    .from(standard_matter::Entity)
                    .and_where(standard_matter::Column::StandardCode.eq(standard.as_str()))
                    .to_owned(),
            ),
        );
    }
    if let Some(term) = term {
        select = select.filter(term.matching(Searched::Matter));
    }
    select
}

pub async fn matters<C: ConnectionTrait>(
    conn: &C,
    filter: &MatterFilter,
    request: PageRequest<String>,
) -> Result<Page<service_matter::Model>, StoreError> {
    let term = term(conn, Searched::Matter, &filter.text).await?;
    let mut select =
        matter_select(filter, term.as_ref()).order_by_asc(service_matter::Column::Code);
    if let Some(after) = request.after {
        select = select.filter(service_matter::Column::Code.gt(after));
    }
    // A search by a short term alone is counted from the index.
    let from_index = term
        .as_ref()
        .filter(|term| request.count && term.is_exact() && filter.only_text());
    let counted =
        (request.count && from_index.is_none()).then(|| matter_select(filter, term.as_ref()));
    let mut page = page(conn, select, request.first, counted).await?;
    if let Some(term) = from_index {
        page.total = count(conn, term.holding(Searched::Matter)).await?;
    }
    Ok(page)
}

pub async fn matters_by_codes<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<service_matter::Model>, StoreError> {
    Ok(service_matter::Entity::find()
        .filter(service_matter::Column::Code.is_in(codes.iter().cloned()))
        .all(conn)
        .await?)
}

/// What to list standards by. Every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct StandardFilter {
    pub level: Option<String>,
    pub status: Option<String>,
    pub region: Option<String>,
    pub zone: Option<String>,
    pub category: Option<String>,
    pub matter: Option<String>,
    pub text: Option<String>,
}

/// The standards `visibility` shows, when it hides any. Only drafts are
/// ever hidden.
fn visible_standards(visibility: &Visibility) -> Option<Condition> {
    let not_draft = standard::Column::Status.ne(StandardStatus::Draft.as_str());
    match visibility {
        Visibility::All => None,
        Visibility::Public => Some(Condition::all().add(not_draft)),
        Visibility::OwnDrafts { regions, zones } => Some(
            Condition::any()
                .add(not_draft)
                .add(standard::Column::Origin.is_in(regions.iter().cloned()))
                .add(standard::Column::IssuingZone.is_in(zones.iter().cloned())),
        ),
    }
}

impl StandardFilter {
    /// Whether the filter has nothing but its text.
    fn only_text(&self) -> bool {
        self.level.is_none()
            && self.status.is_none()
            && self.region.is_none()
            && self.zone.is_none()
            && self.category.is_none()
            && self.matter.is_none()
    }
}

fn standard_select(
    filter: &StandardFilter,
    visibility: &Visibility,
    term: Option<&Term>,
) -> Select<standard::Entity> {
    let mut select = standard::Entity::find();
    if let Some(visible) = visible_standards(visibility) {
        select = select.filter(visible);
    }
    if let Some(level) = &filter.level {
        select = select.filter(standard::Column::Level.eq(level.as_str()));
    }
    if let Some(status) = &filter.status {
        select = select.filter(standard::Column::Status.eq(status.as_str()));
    }
    if let Some(region) = &filter.region {
        select = select.filter(standard::Column::IssuingRegion.eq(region.as_str()));
    }
    if let Some(zone) = &filter.zone {
        select = select.filter(standard::Column::IssuingZone.eq(zone.as_str()));
    }
    if let Some(matter) = &filter.matter {
        select = select.filter(
            standard::Column::Code.in_subquery(
                Query::select()
                    .column(standard_matter::Column::StandardCode)
                    .from(standard_matter::Entity)
                    .and_where(standard_matter::Column::MatterCode.eq(matter.as_str()))
                    .to_owned(),
            ),
        );
    }
    if let Some(category) = &filter.category {
        select = select.filter(
            standard::Column::Code.in_subquery(
                Query::select()
                    .column(standard_matter::Column::StandardCode)
                    .from(standard_matter::Entity)
                    .and_where(
                        standard_matter::Column::MatterCode.in_subquery(
                            Query::select()
                                .column(service_matter::Column::Code)
                                .from(service_matter::Entity)
                                .and_where(
                                    service_matter::Column::CategoryCode.eq(category.as_str()),
                                )
                                .to_owned(),
                        ),
                    )
                    .to_owned(),
            ),
        );
    }
    if let Some(term) = term {
        select = select.filter(term.matching(Searched::Standard));
    }
    select
}

pub async fn standards<C: ConnectionTrait>(
    conn: &C,
    filter: &StandardFilter,
    visibility: &Visibility,
    request: PageRequest<String>,
) -> Result<Page<standard::Model>, StoreError> {
    let term = term(conn, Searched::Standard, &filter.text).await?;
    let mut select =
        standard_select(filter, visibility, term.as_ref()).order_by_asc(standard::Column::Code);
    if let Some(after) = request.after {
        select = select.filter(standard::Column::Code.gt(after));
    }
    let from_index = term
        .as_ref()
        .filter(|term| request.count && term.is_exact() && filter.only_text());
    let counted = (request.count && from_index.is_none())
        .then(|| standard_select(filter, visibility, term.as_ref()));
    let mut page = page(conn, select, request.first, counted).await?;
    if let Some(term) = from_index {
        // The rows holding the term, less the drafts among them that the
        // caller may not see: an index range and a few drafts, instead of
        // a read of every matching row.
        let mut total = Expr::SubQuery(
            None,
            Box::new(term.holding(Searched::Standard).into_sub_query_statement()),
        );
        if let Some(visible) = visible_standards(visibility) {
            let hidden = Query::select()
                .expr(Expr::col(standard::Column::Code).count())
                .from(standard::Entity)
                .and_where(standard::Column::Status.eq(StandardStatus::Draft.as_str()))
                .and_where(standard::Column::Code.in_subquery(term.keys(Searched::Standard)))
                // Hidden is whatever the visibility does not show, NULL too.
                .and_where(Func::coalesce([Expr::from(visible), Expr::val(false)]).not())
                .to_owned();
            total = total.sub(Expr::SubQuery(
                None,
                Box::new(hidden.into_sub_query_statement()),
            ));
        }
        page.total = count(conn, Query::select().expr(total).to_owned()).await?;
    }
    Ok(page)
}

/// Standards by code, whatever their status: callers check visibility.
pub async fn standards_by_codes<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<standard::Model>, StoreError> {
    Ok(standard::Entity::find()
        .filter(standard::Column::Code.is_in(codes.iter().cloned()))
        .all(conn)
        .await?)
}

/// The standards that supersede any of `codes`.
pub async fn superseding<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<standard::Model>, StoreError> {
    Ok(standard::Entity::find()
        .filter(standard::Column::Supersedes.is_in(codes.iter().cloned()))
        .order_by_asc(standard::Column::Code)
        .all(conn)
        .await?)
}

/// Links between standards and the matters they govern, for either side.
pub async fn standard_links<C: ConnectionTrait>(
    conn: &C,
    standards: &[String],
    matters: &[String],
) -> Result<Vec<standard_matter::Model>, StoreError> {
    Ok(standard_matter::Entity::find()
        .filter(
            Condition::any()
                .add(standard_matter::Column::StandardCode.is_in(standards.iter().cloned()))
                .add(standard_matter::Column::MatterCode.is_in(matters.iter().cloned())),
        )
        .order_by_asc(standard_matter::Column::StandardCode)
        .order_by_asc(standard_matter::Column::MatterCode)
        .all(conn)
        .await?)
}

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
    let published = service_guide::Column::Status.eq(GuideStatus::Published.as_str());
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

pub async fn guides<C: ConnectionTrait>(
    conn: &C,
    filter: &GuideFilter,
    visibility: &Visibility,
    request: PageRequest<GuideKey>,
) -> Result<Page<service_guide::Model>, StoreError> {
    let mut select = guide_select(filter, visibility)
        .order_by_asc(service_guide::Column::RegionCode)
        .order_by_asc(service_guide::Column::MatterCode);
    if let Some((region, matter)) = &request.after {
        select = select.filter(after_guide(region, matter));
    }
    page(
        conn,
        select,
        request.first,
        request.count.then(|| guide_select(filter, visibility)),
    )
    .await
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
) -> Result<HashMap<String, Page<service_guide::Model>>, StoreError> {
    let mut pages: HashMap<String, Page<service_guide::Model>> = parents
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
    for found in conn.query_all_raw(backend.build(&union)).await? {
        let owner: String = found.try_get("", "page_owner")?;
        if let Some(page) = pages.get_mut(&owner) {
            if page.items.len() as u64 == request.first {
                page.has_next = true;
            } else {
                page.items
                    .push(service_guide::Model::from_query_result(&found, "")?);
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
                page.total = found.try_get::<i64>("", "page_total")? as u64;
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
) -> Result<Vec<service_guide::Model>, StoreError> {
    let regions: HashSet<&str> = keys.iter().map(|k| k.0.as_str()).collect();
    let matters: HashSet<&str> = keys.iter().map(|k| k.1.as_str()).collect();
    let wanted: HashSet<&GuideKey> = keys.iter().collect();
    let rows = visible_guides(service_guide::Entity::find(), visibility)
        .filter(service_guide::Column::RegionCode.is_in(regions))
        .filter(service_guide::Column::MatterCode.is_in(matters))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|row| wanted.contains(&(row.region_code.clone(), row.matter_code.clone())))
        .collect())
}

pub async fn procedures_by_keys<C: ConnectionTrait>(
    conn: &C,
    keys: &[GuideKey],
) -> Result<Vec<operating_procedure::Model>, StoreError> {
    let regions: HashSet<&str> = keys.iter().map(|k| k.0.as_str()).collect();
    let matters: HashSet<&str> = keys.iter().map(|k| k.1.as_str()).collect();
    let wanted: HashSet<&GuideKey> = keys.iter().collect();
    let rows = operating_procedure::Entity::find()
        .filter(operating_procedure::Column::RegionCode.is_in(regions))
        .filter(operating_procedure::Column::MatterCode.is_in(matters))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|row| wanted.contains(&(row.region_code.clone(), row.matter_code.clone())))
        .collect())
}

/// Whether the database answers, for readiness probes.
pub async fn ping(conn: &sea_orm::DatabaseConnection) -> Result<(), StoreError> {
    Ok(conn.ping().await?)
}

/// The kept versions of rows, for `(kind, key)` pairs, oldest first.
pub async fn revisions<C: ConnectionTrait>(
    conn: &C,
    kind: &str,
    keys: &[String],
) -> Result<Vec<row_revision::Model>, StoreError> {
    Ok(row_revision::Entity::find()
        .filter(row_revision::Column::Kind.eq(kind))
        .filter(row_revision::Column::RowKey.is_in(keys.iter().cloned()))
        .order_by_asc(row_revision::Column::RowKey)
        .order_by_asc(row_revision::Column::Revision)
        .all(conn)
        .await?)
}

/// What to list audit entries by. Every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only entries about rows this region owns.
    pub target_region: Option<String>,
    pub action: Option<String>,
    pub target_kind: Option<String>,
    pub target_key: Option<String>,
    pub subject: Option<String>,
}

fn audit_select(filter: &AuditFilter) -> Select<audit_entry::Entity> {
    let mut select = audit_entry::Entity::find();
    if let Some(region) = &filter.target_region {
        select = select.filter(audit_entry::Column::TargetRegion.eq(region.as_str()));
    }
    if let Some(action) = &filter.action {
        select = select.filter(audit_entry::Column::Action.eq(action.as_str()));
    }
    if let Some(kind) = &filter.target_kind {
        select = select.filter(audit_entry::Column::TargetKind.eq(kind.as_str()));
    }
    if let Some(key) = &filter.target_key {
        select = select.filter(audit_entry::Column::TargetKey.eq(key.as_str()));
    }
    if let Some(subject) = &filter.subject {
        select = select.filter(audit_entry::Column::Subject.eq(subject.as_str()));
    }
    select
}

/// Audit entries, newest first, paginated by id.
pub async fn audit_log<C: ConnectionTrait>(
    conn: &C,
    filter: &AuditFilter,
    request: PageRequest<i64>,
) -> Result<Page<audit_entry::Model>, StoreError> {
    let mut select = audit_select(filter).order_by_desc(audit_entry::Column::Id);
    if let Some(after) = request.after {
        select = select.filter(audit_entry::Column::Id.lt(after));
    }
    page(
        conn,
        select,
        request.first,
        request.count.then(|| audit_select(filter)),
    )
    .await
}

/// What to list evaluations by. Every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct EvaluationFilter {
    pub regions: Option<Vec<String>>,
    pub matter: Option<String>,
    pub period: Option<String>,
}

fn evaluation_select(filter: &EvaluationFilter) -> Select<evaluation::Entity> {
    let mut select = evaluation::Entity::find();
    if let Some(regions) = &filter.regions {
        select = select.filter(evaluation::Column::RegionCode.is_in(regions.iter().cloned()));
    }
    if let Some(matter) = &filter.matter {
        select = select.filter(evaluation::Column::MatterCode.eq(matter.as_str()));
    }
    if let Some(period) = &filter.period {
        select = select.filter(evaluation::Column::Period.eq(period.as_str()));
    }
    select
}

/// An evaluation's key: region, matter, period.
pub type EvaluationKey = (String, String, String);

/// Evaluations ordered by region, matter and period.
pub async fn evaluations<C: ConnectionTrait>(
    conn: &C,
    filter: &EvaluationFilter,
    request: PageRequest<EvaluationKey>,
) -> Result<Page<evaluation::Model>, StoreError> {
    let mut select = evaluation_select(filter)
        .order_by_asc(evaluation::Column::RegionCode)
        .order_by_asc(evaluation::Column::MatterCode)
        .order_by_asc(evaluation::Column::Period);
    if let Some((region, matter, period)) = request.after {
        select = select.filter(
            Condition::any()
                .add(evaluation::Column::RegionCode.gt(region.clone()))
                .add(
                    Condition::all()
                        .add(evaluation::Column::RegionCode.eq(region.clone()))
                        .add(evaluation::Column::MatterCode.gt(matter.clone())),
                )
                .add(
                    Condition::all()
                        .add(evaluation::Column::RegionCode.eq(region))
                        .add(evaluation::Column::MatterCode.eq(matter))
                        .add(evaluation::Column::Period.gt(period)),
                ),
        );
    }
    page(
        conn,
        select,
        request.first,
        request.count.then(|| evaluation_select(filter)),
    )
    .await
}

/// Published guides of the given regions, for the given matters (all
/// matters when `matters` is None), ordered by matter then region.
pub async fn published_guides<C: ConnectionTrait>(
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

/// Every matter of the catalogue, by code.
pub async fn all_matters<C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<service_matter::Model>, StoreError> {
    Ok(service_matter::Entity::find()
        .order_by_asc(service_matter::Column::Code)
        .all(conn)
        .await?)
}

/// The keys of the procedures of the given regions, of one matter or of all.
pub async fn procedure_keys<C: ConnectionTrait>(
    conn: &C,
    regions: Option<&[String]>,
    matter: Option<&str>,
) -> Result<Vec<GuideKey>, StoreError> {
    let mut select = operating_procedure::Entity::find()
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

/// Collaborative standards, of one zone or all, optionally in one status.
pub async fn collaborative_targets<C: ConnectionTrait>(
    conn: &C,
    zone: Option<&str>,
    status: Option<&str>,
) -> Result<Vec<collaborative_target::Model>, StoreError> {
    let mut select = collaborative_target::Entity::find();
    if let Some(zone) = zone {
        select = select.filter(collaborative_target::Column::ZoneCode.eq(zone));
    }
    if let Some(status) = status {
        select = select.filter(collaborative_target::Column::Status.eq(status));
    }
    Ok(select
        .order_by_asc(collaborative_target::Column::StandardCode)
        .all(conn)
        .await?)
}

/// Collaborative standards by code.
pub async fn collaborative_targets_by_codes<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<collaborative_target::Model>, StoreError> {
    Ok(collaborative_target::Entity::find()
        .filter(collaborative_target::Column::StandardCode.is_in(codes.iter().cloned()))
        .all(conn)
        .await?)
}

/// The members' decisions on the given collaborative standards.
pub async fn adoptions<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<adoption::Model>, StoreError> {
    Ok(adoption::Entity::find()
        .filter(adoption::Column::StandardCode.is_in(codes.iter().cloned()))
        .order_by_asc(adoption::Column::StandardCode)
        .order_by_asc(adoption::Column::RegionCode)
        .all(conn)
        .await?)
}

/// Elevation proposals, optionally of one standard or in one status, newest first.
pub async fn elevations<C: ConnectionTrait>(
    conn: &C,
    standard: Option<&str>,
    status: Option<&str>,
) -> Result<Vec<elevation_proposal::Model>, StoreError> {
    let mut select = elevation_proposal::Entity::find();
    if let Some(standard) = standard {
        select = select.filter(elevation_proposal::Column::StandardCode.eq(standard));
    }
    if let Some(status) = status {
        select = select.filter(elevation_proposal::Column::Status.eq(status));
    }
    Ok(select
        .order_by_desc(elevation_proposal::Column::Id)
        .all(conn)
        .await?)
}

/// Evaluations of the given regions in one period, optionally of one matter.
pub async fn evaluations_in_period<C: ConnectionTrait>(
    conn: &C,
    regions: Option<&[String]>,
    period: &str,
    matter: Option<&str>,
) -> Result<Vec<evaluation::Model>, StoreError> {
    let mut select = evaluation::Entity::find().filter(evaluation::Column::Period.eq(period));
    if let Some(regions) = regions {
        select = select.filter(evaluation::Column::RegionCode.is_in(regions.iter().cloned()));
    }
    if let Some(matter) = matter {
        select = select.filter(evaluation::Column::MatterCode.eq(matter));
    }
    Ok(select.all(conn).await?)
}

/// Every peer this node syncs from, with its checkpoint.
pub async fn sync_peers<C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<crate::entity::sync_peer::Model>, StoreError> {
    Ok(crate::entity::sync_peer::Entity::find()
        .order_by_asc(crate::entity::sync_peer::Column::Peer)
        .all(conn)
        .await?)
}
