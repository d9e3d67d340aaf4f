//! The catalogue: service matters and the national items they map to.

use concord_domain::AuditAction;
use concord_domain::catalogue::{NationalItem, ServiceMatter};
use concord_domain::{CategoryCode, MatterDraft, NationalItemDraft};
use sea_orm::{DatabaseTransaction, EntityTrait};

use crate::entity::{national_item, service_matter, standard};
use crate::footprint::Topic;
use crate::write::{self, Outcome};

use super::{
    MutationError, Permit, begin, check_revision, commit_as, record_change, require,
    stored_for_update, touched,
};

/// Creates or updates a service matter of the catalogue.
pub async fn save_matter(
    permit: &Permit<'_>,
    record: MatterDraft,
    expected: Option<i32>,
) -> Result<ServiceMatter, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    let txn = begin(db).await?;
    require_category(&txn, &record.category).await?;
    if let Some((edition, number)) = record.national_item {
        require::<national_item::Entity>(&txn, (edition, number), || {
            format!("national item {edition}/{number}")
        })
        .await?;
    }
    for code in record.standards.iter().flatten() {
        require::<standard::Entity>(&txn, code.as_str(), || format!("standard {code}")).await?;
    }
    let stored = stored_for_update::<service_matter::Entity>(&txn, record.code.as_str()).await?;
    check_revision(stored.as_ref().map(|s| s.revision), expected)?;
    let outcome = write::upsert_matter(&txn, &record, now).await?;
    let after = service_matter::Entity::find_by_id(record.code.as_str())
        .one(&txn)
        .await?
        .ok_or_else(|| MutationError::NotFound("matter".into()))?;
    if outcome != Outcome::Unchanged {
        let action = if stored.is_some() {
            AuditAction::UpdateMatter
        } else {
            AuditAction::CreateMatter
        };
        record_change(&txn, actor, action, stored.as_ref(), &after, now).await?;
    }
    commit_as(txn, &touched(Topic::Catalogue), after).await
}

/// Creates or updates an item of the national standard, and returns it as
/// stored.
pub async fn save_national_item(
    permit: &Permit<'_>,
    record: NationalItemDraft,
    expected: Option<i32>,
) -> Result<NationalItem, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    let txn = begin(db).await?;
    require::<crate::entity::national_edition::Entity>(&txn, record.edition, || {
        format!("edition {}", record.edition)
    })
    .await?;
    require_category(&txn, &record.category).await?;
    let id = (record.edition, record.number);
    let stored = stored_for_update::<national_item::Entity>(&txn, id).await?;
    check_revision(stored.as_ref().map(|s| s.revision), expected)?;
    let row = write::national_item_row(&record, now);
    let row = crate::write::put(&txn, stored.as_ref(), row, now).await?;
    let action = if stored.is_some() {
        AuditAction::UpdateNationalItem
    } else {
        AuditAction::CreateNationalItem
    };
    record_change(&txn, actor, action, stored.as_ref(), &row, now).await?;
    // Read before the commit, so that a row the domain refuses is not kept.
    commit_as(txn, &touched(Topic::Catalogue), row).await
}

async fn require_category(
    txn: &DatabaseTransaction,
    category: &CategoryCode,
) -> Result<(), MutationError> {
    require::<crate::entity::category::Entity>(txn, category.as_str(), || {
        format!("category {category}")
    })
    .await
}
