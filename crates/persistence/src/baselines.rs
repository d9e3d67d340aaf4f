//! What the domain's baseline rules read from storage: a matter's national
//! item's baseline (the item's record's), and the exemption in force for a
//! region and matter. A guide's values are its record's
//! (`ServiceGuide::values`). The report
//! (`baselineViolations`) and the refusal to publish both read them from
//! here, so they apply one rule to the same figures.

use chrono::NaiveDate;
use concord_domain::catalogue::NationalItem;
use concord_domain::{Baseline, Exemption};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::StoreError;
use crate::entity::{baseline_exemption, national_item, service_matter};

/// The baseline of the national item a matter implements, if it has one.
pub async fn baseline_of_matter<C: ConnectionTrait>(
    conn: &C,
    matter: &str,
) -> Result<Option<Baseline>, StoreError> {
    let Some(matter) = service_matter::Entity::find_by_id(matter).one(conn).await? else {
        return Ok(None);
    };
    let Some(key) = matter.national_edition.zip(matter.national_number) else {
        return Ok(None);
    };
    national_item::Entity::find_by_id(key)
        .one(conn)
        .await?
        .map(|item| NationalItem::try_from(item).map(|item| item.baseline))
        .transpose()
}

/// The exemptions of the given regions (all when None), by region, matter
/// and first day.
pub async fn exemptions<C: ConnectionTrait>(
    conn: &C,
    regions: Option<&[String]>,
    matter: Option<&str>,
) -> Result<Vec<Exemption>, StoreError> {
    let mut select = baseline_exemption::Entity::find();
    if let Some(regions) = regions {
        select =
            select.filter(baseline_exemption::Column::RegionCode.is_in(regions.iter().cloned()));
    }
    if let Some(matter) = matter {
        select = select.filter(baseline_exemption::Column::MatterCode.eq(matter));
    }
    select
        .order_by_asc(baseline_exemption::Column::RegionCode)
        .order_by_asc(baseline_exemption::Column::MatterCode)
        .order_by_asc(baseline_exemption::Column::ValidFrom)
        .all(conn)
        .await?
        .into_iter()
        .map(Exemption::try_from)
        .collect()
}

/// The exemption for `region` and `matter` in force on `today`, if any.
pub async fn exemption_covering<C: ConnectionTrait>(
    conn: &C,
    region: &str,
    matter: &str,
    today: NaiveDate,
) -> Result<Option<Exemption>, StoreError> {
    Ok(exemptions(conn, Some(&[region.to_owned()]), Some(matter))
        .await?
        .into_iter()
        .find(|exemption| exemption.in_force(today)))
}
