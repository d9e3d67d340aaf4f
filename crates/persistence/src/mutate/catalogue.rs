//! The catalogue: service matters and the national items they map to.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, EntityTrait};

use crate::entity::{national_item, service_matter, standard};
use crate::footprint::Topic;
use crate::write::{self, MatterRecord, NationalItemRecord, Outcome};

use super::{
    Actor, Change, Kind, MutationError, begin, check_revision, for_update, item_snapshot,
    keep_and_audit, matter_snapshot, touched,
};

/// Creates or updates a service matter of the catalogue.
pub async fn save_matter(
    db: &DatabaseConnection,
    actor: &Actor,
    record: MatterRecord,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> Result<service_matter::Model, MutationError> {
    let txn = begin(db).await?;
    if crate::entity::category::Entity::find_by_id(record.category.as_str())
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(MutationError::NotFound(format!(
            "category {}",
            record.category
        )));
    }
    if let Some((edition, number)) = record.national_item
        && national_item::Entity::find_by_id((edition, number))
            .one(&txn)
            .await?
            .is_none()
    {
        return Err(MutationError::NotFound(format!(
            "national item {edition}/{number}"
        )));
    }
    if let Some(standards) = &record.standards {
        for code in standards {
            if standard::Entity::find_by_id(code.as_str())
                .one(&txn)
                .await?
                .is_none()
            {
                return Err(MutationError::NotFound(format!("standard {code}")));
            }
        }
    }
    let stored = for_update(
        service_matter::Entity::find_by_id(record.code.as_str()),
        db.get_database_backend(),
    )
    .one(&txn)
    .await?;
    check_revision(stored.as_ref().map(|s| s.revision), expected)?;
    let outcome = write::upsert_matter(&txn, &record, now).await?;
    let after = service_matter::Entity::find_by_id(record.code.as_str())
        .one(&txn)
        .await?
        .ok_or_else(|| MutationError::NotFound("matter".into()))?;
    if outcome != Outcome::Unchanged {
        keep_and_audit(
            &txn,
            actor,
            Change {
                action: if stored.is_some() {
                    "UPDATE_MATTER"
                } else {
                    "CREATE_MATTER"
                },
                kind: Kind::Matter,
                key: after.code.clone(),
                owner: after.origin.clone(),
                before: stored.as_ref().map(|s| (s.revision, matter_snapshot(s))),
                after: (after.revision, matter_snapshot(&after)),
            },
            now,
        )
        .await?;
    }
    crate::version::commit_touching(txn, &touched(Topic::Catalogue)).await?;
    Ok(after)
}

/// Creates or updates an item of the national standard.
pub async fn save_national_item(
    db: &DatabaseConnection,
    actor: &Actor,
    record: NationalItemRecord,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> Result<national_item::Model, MutationError> {
    let txn = begin(db).await?;
    if crate::entity::national_edition::Entity::find_by_id(record.edition)
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(MutationError::NotFound(format!(
            "edition {}",
            record.edition
        )));
    }
    if crate::entity::category::Entity::find_by_id(record.category.as_str())
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(MutationError::NotFound(format!(
            "category {}",
            record.category
        )));
    }
    let id = (record.edition, record.number);
    let stored = for_update(
        national_item::Entity::find_by_id(id),
        db.get_database_backend(),
    )
    .one(&txn)
    .await?;
    check_revision(stored.as_ref().map(|s| s.revision), expected)?;
    let row = write::national_item_row(&record, now);
    let row = crate::write::put(&txn, stored.as_ref(), row, now).await?;
    keep_and_audit(
        &txn,
        actor,
        Change {
            action: if stored.is_some() {
                "UPDATE_NATIONAL_ITEM"
            } else {
                "CREATE_NATIONAL_ITEM"
            },
            kind: Kind::NationalItem,
            key: format!("{}/{}", row.edition, row.number),
            owner: row.origin.clone(),
            before: stored.as_ref().map(|s| (s.revision, item_snapshot(s))),
            after: (row.revision, item_snapshot(&row)),
        },
        now,
    )
    .await?;
    crate::version::commit_touching(txn, &touched(Topic::Catalogue)).await?;
    Ok(row)
}
