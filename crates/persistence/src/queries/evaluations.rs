//! Evaluations of a region's service of a matter, by period.

use concord_domain::Evaluation;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select,
};

use crate::StoreError;
use crate::entity::evaluation;

use super::{Page, PageRequest, count_of, records_page};

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

/// Evaluations ordered by region, matter and period, each read into its
/// domain record.
pub async fn evaluations<C: ConnectionTrait>(
    conn: &C,
    filter: &EvaluationFilter,
    request: PageRequest<EvaluationKey>,
) -> Result<Page<Evaluation>, StoreError> {
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
    records_page(
        conn,
        select,
        request.first,
        request.count.then(|| count_of(evaluation_select(filter))),
    )
    .await
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
