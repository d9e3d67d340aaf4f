//! Reading the change log in order, a page at a time, as peers pull it.

use concord_domain::replication::LoggedChange;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::StoreError;
use crate::entity::change_log;
use crate::queries::{Page, PageRequest};

/// The log after `after`, in order, with the number of changes after
/// `after` when the request asks for it.
///
/// Counting the rest of the log reads all of it, on every page of a full
/// sync; so the count is taken only where nothing cheaper is exact. On the
/// last page the rest is the page. On SQLite the log is numbered without
/// gaps (`AUTOINCREMENT` hands out the next number, a rollback takes its
/// numbers back, and nothing deletes from the log), so the rest is the
/// last number minus `after`; a page whose numbers do not follow on from
/// `after` shows a gap, and is counted. PostgreSQL's sequences skip the
/// numbers of rolled-back transactions, so there it is always counted.
pub async fn feed<C: ConnectionTrait>(
    conn: &C,
    request: PageRequest<i64>,
) -> Result<Page<LoggedChange>, StoreError> {
    let after = request.after.unwrap_or(0);
    let remaining = change_log::Entity::find().filter(change_log::Column::Seq.gt(after));
    let mut items = remaining
        .clone()
        .order_by_asc(change_log::Column::Seq)
        .limit(request.first + 1)
        .all(conn)
        .await?;
    let has_next = items.len() as u64 > request.first;
    // Saturates: `items` cannot hold more than `usize::MAX` rows anyway.
    items.truncate(usize::try_from(request.first).unwrap_or(usize::MAX));
    let numbered_on = || {
        after >= 0
            && items
                .iter()
                .zip(after + 1..)
                .all(|(item, seq)| item.seq == seq)
    };
    let total = if !request.count {
        0
    } else if !has_next {
        items.len() as u64
    } else if conn.get_database_backend() == DbBackend::Sqlite && numbered_on() {
        let last: Option<i64> = change_log::Entity::find()
            .select_only()
            .column_as(change_log::Column::Seq.max(), "last")
            .into_tuple()
            .one(conn)
            .await?
            .flatten();
        last.map_or(0, |last| u64::try_from(last - after).unwrap_or(0))
    } else {
        sea_orm::PaginatorTrait::count(remaining, conn).await?
    };
    Ok(Page {
        items: items
            .into_iter()
            .map(LoggedChange::try_from)
            .collect::<Result<_, _>>()?,
        has_next,
        total,
    })
}
