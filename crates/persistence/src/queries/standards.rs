//! Standards and their links to matters, and what regions decide on them
//! together: collaborative standards, adoptions, elevation proposals.

use chrono::{DateTime, Utc};
use concord_domain::standard::Standard;
use concord_domain::workflow::Adoption;
use concord_domain::{
    ElevationStatus, ElevationTarget, ProposalStatus, StandardCode, StandardStatus, Targets,
    ZoneCode,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query, QueryStatementBuilder, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    Select,
};

use crate::StoreError;
use crate::entity::{
    adoption, collaborative_standard, elevation_proposal, service_matter, standard, standard_matter,
};
use crate::search::{Searched, Term};

use super::{
    Page, PageRequest, Visibility, by_codes, constant, count_of, in_key_order, records,
    records_page, term,
};

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
    /// Only standards whose review date has passed as of the day given
    /// (`true`), or only those not due (`false`: none set, or not passed).
    pub due_for_review: Option<(bool, chrono::NaiveDate)>,
}

/// The standards `visibility` shows, when it hides any. Only drafts are
/// ever hidden.
fn visible_standards(visibility: &Visibility) -> Option<Condition> {
    let not_draft = Expr::col((standard::Entity, standard::Column::Status))
        .ne(constant(StandardStatus::Draft.as_str()));
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
            && self.due_for_review.is_none()
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
    match filter.due_for_review {
        Some((true, today)) => select = select.filter(standard::Column::ReviewOn.lt(today)),
        Some((false, today)) => {
            select = select.filter(
                Condition::any()
                    .add(standard::Column::ReviewOn.is_null())
                    .add(standard::Column::ReviewOn.gte(today)),
            );
        }
        None => {}
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
) -> Result<Page<Standard>, StoreError> {
    let term = term(conn, Searched::Standard, &filter.text).await?;
    let select = in_key_order(
        standard_select(filter, visibility, None),
        Searched::Standard,
        term.as_ref(),
        request.after,
    );
    let total = request.count.then(|| match &term {
        Some(term) if term.is_exact() && filter.only_text() => {
            counted_in_index(term, visibility, conn.get_database_backend())
        }
        _ => count_of(standard_select(filter, visibility, term.as_ref())),
    });
    records_page(conn, select, request.first, total).await
}

/// How many standards the caller may see hold `term`'s gram: the rows
/// holding it, less the drafts among them that the caller may not see. An
/// index range and a few drafts, instead of a read of every matching row.
fn counted_in_index(term: &Term, visibility: &Visibility, backend: DbBackend) -> SelectStatement {
    let mut total = Expr::SubQuery(
        None,
        Box::new(term.holding(Searched::Standard).into_sub_query_statement()),
    );
    if let Some(visible) = visible_standards(visibility) {
        let mut drafts = Expr::col((standard::Entity, standard::Column::Status))
            .eq(constant(StandardStatus::Draft.as_str()));
        if backend == DbBackend::Sqlite {
            // SQLite plans from each index's average rows a value (Concord
            // builds it without per-value samples: .cargo/config.toml), and
            // a status has few values, so it would scan every standard;
            // told that drafts are rare, it reads them through their index.
            drafts = Func::cust("unlikely").arg(drafts).into();
        }
        let hidden = Query::select()
            .expr(Expr::col(standard::Column::Code).count())
            .from(standard::Entity)
            .and_where(drafts)
            // Driven by the drafts, which are few, rather than by every
            // row that holds the gram.
            .and_where(Expr::exists(term.held_by(Searched::Standard)))
            // Hidden is whatever the visibility does not show, NULL too.
            .and_where(Func::coalesce([Expr::from(visible), constant(false)]).not())
            .to_owned();
        total = total.sub(Expr::SubQuery(
            None,
            Box::new(hidden.into_sub_query_statement()),
        ));
    }
    Query::select().expr(total).to_owned()
}

/// Standards by code, whatever their status: callers check visibility.
pub async fn standards_by_codes<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<Standard>, StoreError> {
    records(standard_rows_by_codes(conn, codes).await?)
}

pub(crate) async fn standard_rows_by_codes<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<standard::Model>, StoreError> {
    by_codes(
        conn,
        standard::Entity::find(),
        standard::Column::Code,
        codes,
    )
    .await
}

/// The standards that supersede any of `codes`.
pub async fn superseding<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<Standard>, StoreError> {
    records(
        standard::Entity::find()
            .filter(standard::Column::Supersedes.is_in(codes.iter().cloned()))
            .order_by_asc(standard::Column::Code)
            .all(conn)
            .await?,
    )
}

/// The standards that accepted elevations raised from these.
pub async fn elevated_from<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<Standard>, StoreError> {
    records(
        standard::Entity::find()
            .filter(standard::Column::ElevatedFrom.is_in(codes.iter().cloned()))
            .order_by_asc(standard::Column::Code)
            .all(conn)
            .await?,
    )
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

/// The matters each of `standards` governs, as `(standard, matter)` code
/// pairs ordered by standard, then matter: the links alone, one statement
/// a [`KEYS_PER_LIST`](super::KEYS_PER_LIST) standards, read from the
/// link table's key. A page takes the matters themselves from those it
/// keeps: joined here, PostgreSQL hashed every matter of the catalogue to
/// find a page's fifty (2 ms a page at ten times the data).
pub async fn matter_links_of_standards<C: ConnectionTrait>(
    conn: &C,
    standards: &[String],
) -> Result<Vec<(String, String)>, StoreError> {
    let mut pairs = Vec::new();
    for chunk in standards.chunks(super::KEYS_PER_LIST) {
        let rows = standard_matter::Entity::find()
            .filter(standard_matter::Column::StandardCode.is_in(chunk.iter().cloned()))
            .order_by_asc(standard_matter::Column::StandardCode)
            .order_by_asc(standard_matter::Column::MatterCode)
            .all(conn)
            .await?;
        pairs.extend(
            rows.into_iter()
                .map(|link| (link.standard_code, link.matter_code)),
        );
    }
    Ok(pairs)
}

/// Collaborative standards, of one zone or all, optionally in one status,
/// each read once into its domain values.
pub async fn collaborative_standards<C: ConnectionTrait>(
    conn: &C,
    zone: Option<&str>,
    status: Option<ProposalStatus>,
) -> Result<Vec<Collaborative>, StoreError> {
    let mut select = collaborative_standard::Entity::find();
    if let Some(zone) = zone {
        select = select.filter(collaborative_standard::Column::ZoneCode.eq(zone));
    }
    if let Some(status) = status {
        select = select.filter(collaborative_standard::Column::Status.eq(status.as_str()));
    }
    select
        .order_by_asc(collaborative_standard::Column::StandardCode)
        .all(conn)
        .await?
        .into_iter()
        .map(Collaborative::try_from)
        .collect()
}

/// Collaborative standards by code, each read once into its domain values.
pub async fn collaborative_standards_by_codes<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<Collaborative>, StoreError> {
    by_codes(
        conn,
        collaborative_standard::Entity::find(),
        collaborative_standard::Column::StandardCode,
        codes,
    )
    .await?
    .into_iter()
    .map(Collaborative::try_from)
    .collect()
}

/// The members' decisions on the given collaborative standards.
pub async fn adoptions<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<Adoption>, StoreError> {
    records(
        adoption::Entity::find()
            .filter(adoption::Column::StandardCode.is_in(codes.iter().cloned()))
            .order_by_asc(adoption::Column::StandardCode)
            .order_by_asc(adoption::Column::RegionCode)
            .all(conn)
            .await?,
    )
}

/// A zone's collaborative standard, read once from its row: its codes,
/// status and targets parsed, so that a stored value that does not parse
/// is a storage fault here rather than in whichever field shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Collaborative {
    /// The REGIONAL standard's code.
    pub standard: StandardCode,
    pub zone: ZoneCode,
    pub status: ProposalStatus,
    pub targets: Targets,
    pub revision: i32,
    pub illustrative: bool,
}

impl TryFrom<collaborative_standard::Model> for Collaborative {
    type Error = StoreError;

    fn try_from(row: collaborative_standard::Model) -> Result<Self, StoreError> {
        let fault = |field: &str, error: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!(
                "collaborative standard {}: {field}: {error}",
                row.standard_code
            ))
        };
        let required_channels = row.required_channels.map_or_else(Vec::new, |list| list.0);
        Ok(Self {
            standard: StandardCode::try_from(row.standard_code.as_str())
                .map_err(|e| fault("standard_code", &e))?,
            zone: ZoneCode::try_from(row.zone_code.as_str()).map_err(|e| fault("zone_code", &e))?,
            status: *row.status,
            targets: Targets {
                max_time_limit_days: row.max_time_limit_days,
                materials: row.materials.as_ref().map(|m| m.0.clone()),
                required_channels,
            },
            revision: row.revision,
            illustrative: row.illustrative,
        })
    }
}

/// An elevation proposal, read once from its row: its codes and states
/// parsed, so that a stored value that does not parse is a storage fault
/// here rather than in whichever field shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Elevation {
    /// This node's number for the proposal.
    pub id: i64,
    pub standard: StandardCode,
    /// Its place among its standard's proposals, from 1.
    pub number: i32,
    pub target: ElevationTarget,
    pub rationale: String,
    pub status: ElevationStatus,
    pub proposed_by: String,
    pub decided_by: Option<String>,
    /// The standard its acceptance created.
    pub elevated: Option<StandardCode>,
    /// Whether the local standard stays in force beside that one.
    pub keep_local: bool,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<elevation_proposal::Model> for Elevation {
    type Error = StoreError;

    fn try_from(row: elevation_proposal::Model) -> Result<Self, StoreError> {
        let id = row.id;
        let fault = |field: &str, error: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!("elevation proposal {id}: {field}: {error}"))
        };
        Ok(Self {
            id,
            standard: StandardCode::try_from(row.standard_code.as_str())
                .map_err(|e| fault("standard_code", &e))?,
            number: row.number,
            target: *row.target_level,
            rationale: row.rationale,
            status: *row.status,
            proposed_by: row.proposed_by,
            decided_by: row.decided_by,
            elevated: row
                .elevated_code
                .as_deref()
                .map(StandardCode::try_from)
                .transpose()
                .map_err(|e| fault("elevated_code", &e))?,
            keep_local: row.keep_local,
            revision: row.revision,
            illustrative: row.illustrative,
            created_at: row.created_at,
        })
    }
}

/// Elevation proposals, optionally of one standard or in one status, newest first.
pub async fn elevations<C: ConnectionTrait>(
    conn: &C,
    standard: Option<&str>,
    status: Option<&str>,
) -> Result<Vec<Elevation>, StoreError> {
    let mut select = elevation_proposal::Entity::find();
    if let Some(standard) = standard {
        select = select.filter(elevation_proposal::Column::StandardCode.eq(standard));
    }
    if let Some(status) = status {
        select = select.filter(elevation_proposal::Column::Status.eq(status));
    }
    select
        .order_by_desc(elevation_proposal::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(Elevation::try_from)
        .collect()
}
