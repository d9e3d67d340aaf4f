//! The catalogue: regions, zones, categories, national editions and their
//! items, and service matters, each read into the domain's record; the row
//! readers beside them serve the importer's and the exports' own work on
//! rows.

use std::collections::{HashMap, HashSet};

use concord_domain::catalogue::{Category, NationalEdition, NationalItem, ServiceMatter};
use concord_domain::geo::{Region, Zone};
use concord_domain::{ServedGroup, served_groups};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select};

use crate::StoreError;
use crate::entity::{
    category, national_edition, national_item, region, service_matter, standard_matter, zone,
    zone_member,
};
use crate::search::{Searched, Term};

use super::{Page, PageRequest, by_codes, count_of, in_key_order, records, records_page, term};

/// Every region, by code.
pub async fn regions<C: ConnectionTrait>(conn: &C) -> Result<Vec<Region>, StoreError> {
    records(
        region::Entity::find()
            .order_by_asc(region::Column::Code)
            .all(conn)
            .await?,
    )
}

/// The regions of `codes` that exist.
pub async fn regions_by_codes<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<Region>, StoreError> {
    records(region_rows_by_codes(conn, codes).await?)
}

/// The rows of the regions of `codes` that exist.
pub(crate) async fn region_rows_by_codes<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<region::Model>, StoreError> {
    by_codes(conn, region::Entity::find(), region::Column::Code, codes).await
}

/// Every zone, by code.
pub async fn zones<C: ConnectionTrait>(conn: &C) -> Result<Vec<Zone>, StoreError> {
    records(
        zone::Entity::find()
            .order_by_asc(zone::Column::Code)
            .all(conn)
            .await?,
    )
}

/// The zones of `codes` that exist.
pub async fn zones_by_codes<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<Zone>, StoreError> {
    records(zone_rows_by_codes(conn, codes).await?)
}

/// The rows of the zones of `codes` that exist.
pub(crate) async fn zone_rows_by_codes<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<zone::Model>, StoreError> {
    by_codes(conn, zone::Entity::find(), zone::Column::Code, codes).await
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

/// Every service category, by code.
pub async fn categories<C: ConnectionTrait>(conn: &C) -> Result<Vec<Category>, StoreError> {
    records(
        category::Entity::find()
            .order_by_asc(category::Column::Code)
            .all(conn)
            .await?,
    )
}

/// The rows of the categories of `codes` that exist.
pub(crate) async fn category_rows_by_codes<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<category::Model>, StoreError> {
    by_codes(
        conn,
        category::Entity::find(),
        category::Column::Code,
        codes,
    )
    .await
}

/// Every edition of the national standard, by year.
pub async fn editions<C: ConnectionTrait>(conn: &C) -> Result<Vec<NationalEdition>, StoreError> {
    records(
        national_edition::Entity::find()
            .order_by_asc(national_edition::Column::Edition)
            .all(conn)
            .await?,
    )
}

/// The rows of the editions of `years` that exist.
pub(crate) async fn edition_rows_by_years<C: ConnectionTrait>(
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
) -> Result<Vec<NationalItem>, StoreError> {
    let mut select = national_item::Entity::find();
    if let Some(edition) = edition {
        select = select.filter(national_item::Column::Edition.eq(edition));
    }
    records(
        select
            .order_by_asc(national_item::Column::Edition)
            .order_by_asc(national_item::Column::Number)
            .all(conn)
            .await?,
    )
}

/// The national items of `keys` (edition, number) that exist.
pub async fn national_items_by_keys<C: ConnectionTrait>(
    conn: &C,
    keys: &[(i32, i32)],
) -> Result<Vec<NationalItem>, StoreError> {
    records(national_item_rows_by_keys(conn, keys).await?)
}

/// The rows of the national items of `keys` (edition, number) that exist.
pub(crate) async fn national_item_rows_by_keys<C: ConnectionTrait>(
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
) -> Result<Page<ServiceMatter>, StoreError> {
    let term = term(conn, Searched::Matter, &filter.text).await?;
    let select = in_key_order(
        matter_select(filter, None),
        Searched::Matter,
        term.as_ref(),
        request.after,
    );
    // A search by a short term alone is counted from the index.
    let total = request.count.then(|| match &term {
        Some(term) if term.is_exact() && filter.only_text() => term.holding(Searched::Matter),
        _ => count_of(matter_select(filter, term.as_ref())),
    });
    records_page(conn, select, request.first, total).await
}

pub async fn matters_by_codes<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<ServiceMatter>, StoreError> {
    records(matter_rows_by_codes(conn, codes).await?)
}

pub(crate) async fn matter_rows_by_codes<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<service_matter::Model>, StoreError> {
    by_codes(
        conn,
        service_matter::Entity::find(),
        service_matter::Column::Code,
        codes,
    )
    .await
}

/// Every matter of the catalogue, by code.
pub async fn all_matters<C: ConnectionTrait>(conn: &C) -> Result<Vec<ServiceMatter>, StoreError> {
    records(
        service_matter::Entity::find()
            .order_by_asc(service_matter::Column::Code)
            .all(conn)
            .await?,
    )
}

/// The matters that serve `group`: those that list it themselves, and those
/// without a list of their own whose national item lists it. By code.
pub async fn matters_serving<C: ConnectionTrait>(
    conn: &C,
    group: ServedGroup,
) -> Result<Vec<ServiceMatter>, StoreError> {
    let matters = all_matters(conn).await?;
    let keys: Vec<(i32, i32)> = matters
        .iter()
        .filter(|matter| matter.served_groups.is_none())
        .filter_map(|matter| matter.national_item)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let items: HashMap<(i32, i32), Vec<ServedGroup>> = if keys.is_empty() {
        HashMap::new()
    } else {
        national_item_rows_by_keys(conn, &keys)
            .await?
            .into_iter()
            .map(|item| {
                (
                    (item.edition, item.number),
                    item.served_groups.map_or_else(Vec::new, |list| list.0),
                )
            })
            .collect()
    };
    let mut serving = Vec::new();
    for matter in matters {
        let own = matter.served_groups.as_deref();
        let item = matter.national_item.and_then(|key| items.get(&key));
        if served_groups(own, item.map(Vec::as_slice)).contains(&group) {
            serving.push(matter);
        }
    }
    Ok(serving)
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Statement};

    use crate::StoreError;
    use crate::test_support::seeded_database;

    #[tokio::test]
    async fn a_region_the_domain_refuses_fails_the_read_naming_the_column() {
        let db = seeded_database().await;
        assert!(super::regions(&db).await.is_ok());
        db.execute_raw(Statement::from_string(
            db.get_database_backend(),
            "UPDATE region SET origin = 'nowhere' WHERE code = '330000'",
        ))
        .await
        .unwrap();
        let error = super::regions(&db).await.unwrap_err();
        assert!(
            matches!(&error, StoreError::Corrupt(message) if message.contains("region 330000: origin")),
            "{error:?}"
        );
    }
}
