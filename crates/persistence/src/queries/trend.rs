//! What the equalization index over time reads: every kept version of the
//! guides of some regions (their values as of any instant), and all their
//! evaluations, each in one statement whatever the number of periods.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use concord_domain::GuideStatus;
use concord_domain::RowKind;
use concord_domain::alignment::trend::Version;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::StoreError;
use crate::entity::{evaluation, row_revision, service_guide};
use crate::error::corrupt;

/// A guide's published values: time limit in working days, fee in fen.
pub type GuideFigures = (i32, i64);

/// The versions of each guide (region, matter) of `regions` (of `matter`
/// only, when given) that stood before `until`, oldest first. A version
/// that was not published has no figures. A version kept only as the one
/// before a change (seeded or imported rows) is taken to have stood since
/// the guide was created; a guide with no kept version stands as stored.
pub async fn guide_versions<C: ConnectionTrait>(
    conn: &C,
    regions: &[String],
    matter: Option<&str>,
    until: DateTime<Utc>,
) -> Result<HashMap<(String, String), Vec<Version<GuideFigures>>>, StoreError> {
    let mut guides = service_guide::Entity::find()
        .filter(service_guide::Column::RegionCode.is_in(regions.iter().cloned()));
    if let Some(matter) = matter {
        guides = guides.filter(service_guide::Column::MatterCode.eq(matter));
    }
    let guides = guides.all(conn).await?;
    let keys = match matter {
        Some(matter) => regions.iter().fold(Condition::any(), |any, region| {
            any.add(row_revision::Column::RowKey.eq(format!("{region}/{matter}")))
        }),
        None => regions.iter().fold(Condition::any(), |any, region| {
            any.add(row_revision::Column::RowKey.starts_with(format!("{region}/")))
        }),
    };
    let kept = row_revision::Entity::find()
        .filter(row_revision::Column::Kind.eq(RowKind::Guide.as_str()))
        .filter(row_revision::Column::ChangedAt.lt(until))
        .filter(keys)
        .order_by_asc(row_revision::Column::RowKey)
        .order_by_asc(row_revision::Column::Revision)
        .all(conn)
        .await?;
    let created: HashMap<(String, String), DateTime<Utc>> = guides
        .iter()
        .map(|g| ((g.region_code.clone(), g.matter_code.clone()), g.created_at))
        .collect();
    let mut versions: HashMap<(String, String), Vec<Version<GuideFigures>>> = HashMap::new();
    for row in kept {
        let Some((region, matter)) = row.row_key.split_once('/') else {
            return Err(corrupt(format!(
                "a guide's revision is keyed `{}`",
                row.row_key
            )));
        };
        let key = (region.to_owned(), matter.to_owned());
        let snapshot = &row.snapshot;
        let published = snapshot["status"].as_str() == Some(GuideStatus::Published.as_str());
        // Every guide snapshot holds both figures (`guide_snapshot`): a
        // published one without them is a fault, not a gap in the trend.
        let figures = if published {
            let days = snapshot["timeLimitDays"]
                .as_i64()
                .and_then(|days| i32::try_from(days).ok());
            Some(days.zip(snapshot["feeFen"].as_i64()).ok_or_else(|| {
                corrupt(format!(
                    "guide {} revision {}: the snapshot has no time limit and fee",
                    row.row_key, row.revision
                ))
            })?)
        } else {
            None
        };
        let since = match (&row.changed_by, created.get(&key)) {
            (None, Some(created)) => (*created).min(row.changed_at),
            _ => row.changed_at,
        };
        versions.entry(key).or_default().push(Version {
            since,
            revision: row.revision,
            value: figures,
        });
    }
    for guide in guides {
        let key = (guide.region_code.clone(), guide.matter_code.clone());
        if versions.contains_key(&key) {
            continue;
        }
        let since = guide.published_at.unwrap_or(guide.created_at);
        if since < until {
            let published = guide.status == GuideStatus::Published;
            versions.entry(key).or_default().push(Version {
                since,
                revision: guide.revision,
                value: published.then_some((guide.time_limit_days, guide.fee_fen.fen())),
            });
        }
    }
    Ok(versions)
}

/// Every evaluation of `regions` (of `matter` only, when given), of any
/// period.
pub async fn evaluations_of<C: ConnectionTrait>(
    conn: &C,
    regions: &[String],
    matter: Option<&str>,
) -> Result<Vec<evaluation::Model>, StoreError> {
    let mut select = evaluation::Entity::find()
        .filter(evaluation::Column::RegionCode.is_in(regions.iter().cloned()));
    if let Some(matter) = matter {
        select = select.filter(evaluation::Column::MatterCode.eq(matter));
    }
    Ok(select
        .order_by_asc(evaluation::Column::RegionCode)
        .order_by_asc(evaluation::Column::MatterCode)
        .order_by_asc(evaluation::Column::Period)
        .all(conn)
        .await?)
}
