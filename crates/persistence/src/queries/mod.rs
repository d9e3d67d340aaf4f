//! The reads the API makes: filtered, keyset-paginated lists, and batch
//! look-ups by key for the DataLoaders. Every function here runs a fixed
//! number of statements, whatever the number of rows; a look-up by key
//! runs one per [`KEYS_PER_LIST`] keys, which only an import's checks of a
//! whole catalogue ever exceed.
//!
//! Its files, by concern: `catalogue` (regions, zones, categories, national
//! items, matters), `standards` (with collaborative standards, adoptions
//! and elevations), `guides` (with procedures), `evaluations`, `history`
//! (kept versions and the audit log) and `node` (readiness, sync peers);
//! `prepared` writes a page's statement so that PostgreSQL keeps its plan.
//! This file holds what they share: visibility and pagination.

mod catalogue;
mod evaluations;
mod guides;
mod history;
mod node;
mod prepared;
mod standards;
mod trend;

use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Func, Order, Query, QueryStatementBuilder, SelectStatement,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryResult,
    QuerySelect, QueryTrait, Select,
};

use crate::StoreError;
use crate::search::{Searched, Term};

pub(crate) use prepared::constant;

pub use catalogue::{
    MatterFilter, all_matters, categories, editions, matters, matters_by_codes, matters_serving,
    members_of_zones, national_items, national_items_by_keys, regions, regions_by_codes, zones,
    zones_by_codes,
};
pub(crate) use catalogue::{
    category_rows_by_codes, edition_rows_by_years, matter_rows_by_codes,
    national_item_rows_by_keys, region_rows_by_codes, zone_rows_by_codes,
};
pub use evaluations::{EvaluationFilter, EvaluationKey, evaluations, evaluations_in_period};
pub use guides::{
    GuideFilter, GuideJoins, GuideKey, GuideParent, JoinedGuide, guide_key, guide_pages, guides,
    guides_by_keys, procedure_keys, procedures_by_keys, published_guide_rows,
    published_guide_times, published_guides, published_procedure_rows,
};
pub(crate) use guides::{guide_rows_by_keys, procedure_rows_by_keys};
pub use history::{AuditFilter, audit_log, revisions};
pub use node::{ping, sync_peers};
pub(crate) use standards::standard_rows_by_codes;
pub use standards::{
    Collaborative, Elevation, StandardFilter, adoptions, collaborative_standards,
    collaborative_standards_by_codes, elevated_from, elevations, matter_links_of_standards,
    standard_links, standards, standards_by_codes, superseding,
};
pub use trend::{GuideFigures, evaluations_of, guide_versions};

/// The most keys one look-up binds in one statement. SQLite takes 32,766
/// parameters a statement and PostgreSQL 65,535; a key of two columns
/// binds two.
pub(crate) const KEYS_PER_LIST: usize = 10_000;

/// The rows of `select` whose `column` is one of `codes`: one statement per
/// [`KEYS_PER_LIST`] codes.
async fn by_codes<E, C>(
    conn: &C,
    select: Select<E>,
    column: E::Column,
    codes: &[String],
) -> Result<Vec<E::Model>, StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut rows = Vec::new();
    for chunk in codes.chunks(KEYS_PER_LIST) {
        rows.extend(
            select
                .clone()
                .filter(column.is_in(chunk.iter().cloned()))
                .all(conn)
                .await?,
        );
    }
    Ok(rows)
}

/// Each of `rows` read into its domain record; the first that does not
/// convert fails the read.
fn records<M, R>(rows: Vec<M>) -> Result<Vec<R>, StoreError>
where
    R: TryFrom<M, Error = StoreError>,
{
    rows.into_iter().map(R::try_from).collect()
}

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

/// `first` rows of `select`, each read into its domain record `R`, and
/// whether more follow; with `total` (a statement of one number, such as
/// [`count_of`]) when given.
pub(crate) async fn records_page<E, R, C>(
    conn: &C,
    select: Select<E>,
    first: u64,
    total: Option<SelectStatement>,
) -> Result<Page<R>, StoreError>
where
    E: EntityTrait,
    R: TryFrom<E::Model, Error = StoreError>,
    C: ConnectionTrait,
{
    page_of(conn, select.into_query(), first, total, |row| {
        R::try_from(E::Model::from_query_result(row, "")?)
    })
    .await
}

/// `first` rows of `query`, each read by `read`, and whether more follow;
/// with `total` (a statement of one number) as [`Page::total`] when given.
///
/// The total rides on the page's own statement, as a scalar subquery that
/// both backends evaluate once, so a counted page is one round trip, not
/// two. Only an empty page, which has no row to carry it, counts apart.
pub(crate) async fn page_of<T, C>(
    conn: &C,
    mut query: SelectStatement,
    first: u64,
    total: Option<SelectStatement>,
    read: impl Fn(&QueryResult) -> Result<T, StoreError>,
) -> Result<Page<T>, StoreError>
where
    C: ConnectionTrait,
{
    query.limit(first + 1);
    if let Some(total) = &total {
        query.expr_as(
            Expr::SubQuery(None, Box::new(total.clone().into_sub_query_statement())),
            Alias::new(PAGE_TOTAL),
        );
    }
    let rows = conn
        .query_all_raw(prepared::statement(conn.get_database_backend(), &query))
        .await?;
    let total = match (total, rows.first()) {
        (None, _) => 0,
        (Some(_), Some(row)) => {
            let total: i64 = row.try_get("", PAGE_TOTAL)?;
            u64::try_from(total)
                .map_err(|_| StoreError::Corrupt(format!("a count returned {total}")))?
        }
        (Some(total), None) => count(conn, total).await?,
    };
    let has_next = rows.len() as u64 > first;
    let items = rows
        .iter()
        .take(usize::try_from(first).unwrap_or(usize::MAX))
        .map(read)
        .collect::<Result<_, _>>()?;
    Ok(Page {
        items,
        has_next,
        total,
    })
}

/// The column that carries a page's total on each of its rows.
const PAGE_TOTAL: &str = "page_total";

/// The statement that counts the rows of `select`.
pub(crate) fn count_of<E: EntityTrait>(select: Select<E>) -> SelectStatement {
    Query::select()
        .expr(Func::count(Expr::col(Asterisk)))
        .from_subquery(select.into_query(), Alias::new("counted"))
        .to_owned()
}

/// `select`, over the table that `searched` names, narrowed to `term` when
/// there is one, in the order of the table's key and after `after`.
fn in_key_order<E: EntityTrait>(
    mut select: Select<E>,
    searched: Searched,
    term: Option<&Term>,
    after: Option<String>,
) -> Select<E> {
    let query = QuerySelect::query(&mut select);
    let key = match term {
        Some(term) => term.narrow(query, searched),
        None => searched.key_column(),
    };
    if let Some(after) = after {
        query.and_where(Expr::col(key.clone()).gt(after));
    }
    query.order_by(key, Order::Asc);
    select
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
    u64::try_from(total).map_err(|_| StoreError::Corrupt(format!("a count returned {total}")))
}
