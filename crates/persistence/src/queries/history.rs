//! What happened to rows: the versions kept of them, and the audit log.

use concord_domain::audit::{AuditEntry, KeptVersion};
use concord_domain::{AuditAction, RowKind};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select};

use crate::StoreError;
use crate::entity::{audit_entry, row_revision};

use super::{Page, PageRequest, count_of, records, records_page};

/// The kept versions of `kind`'s rows of `keys`, by key, oldest first.
pub async fn revisions<C: ConnectionTrait>(
    conn: &C,
    kind: RowKind,
    keys: &[String],
) -> Result<Vec<KeptVersion>, StoreError> {
    records(
        row_revision::Entity::find()
            .filter(row_revision::Column::Kind.eq(kind.as_str()))
            .filter(row_revision::Column::RowKey.is_in(keys.iter().cloned()))
            .order_by_asc(row_revision::Column::RowKey)
            .order_by_asc(row_revision::Column::Revision)
            .all(conn)
            .await?,
    )
}

/// What to list audit entries by. Every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only entries about rows this region owns.
    pub target_region: Option<String>,
    pub action: Option<AuditAction>,
    pub target_kind: Option<RowKind>,
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

/// Audit entries, newest first, paginated by id, each read into its domain
/// record.
pub async fn audit_log<C: ConnectionTrait>(
    conn: &C,
    filter: &AuditFilter,
    request: PageRequest<i64>,
) -> Result<Page<AuditEntry>, StoreError> {
    let mut select = audit_select(filter).order_by_desc(audit_entry::Column::Id);
    if let Some(after) = request.after {
        select = select.filter(audit_entry::Column::Id.lt(after));
    }
    records_page(
        conn,
        select,
        request.first,
        request.count.then(|| count_of(audit_select(filter))),
    )
    .await
}
