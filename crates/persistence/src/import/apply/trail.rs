//! What an import owes besides its rows: the versions it replaces, kept as
//! history, and its change log entries, written in bulk.
//!
//! The kept versions are written a chunk at a time, each chunk right after
//! its rows, as a mutation writes history after locking its row. The log
//! comes last, after every row: appending takes the log's lock, which
//! PostgreSQL holds to the end of the transaction, and a mutation takes it
//! after its row, so an import that took it before a row could deadlock
//! with one. Until then each entry is held as its record's JSON text, a
//! fraction of the memory of the parsed value.

use chrono::{DateTime, Utc};
use concord_domain::RowKind;
use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::StoreError;
use crate::changes::LogEntry;
use crate::entity::row_revision;

use super::IMPORTED_BY;

/// Log entries appended a statement batch at a time, so that only one
/// batch is held as the statements' values.
const ENTRIES_PER_APPEND: usize = 10_000;

/// The versions of the chunk being written, and the log entries the import
/// owes, in the order of its records.
#[derive(Default)]
pub(super) struct Trail {
    history: Vec<row_revision::Model>,
    log: Vec<Logged>,
}

/// A change log entry: a row's kind, key, origin and revision, and its
/// record as JSON text (none: a retraction).
struct Logged {
    kind: RowKind,
    key: Box<str>,
    origin: Box<str>,
    revision: i32,
    record: Option<Box<str>>,
}

impl Trail {
    /// Keeps the version a changed row replaces, unless kept already, and
    /// the one it makes, as a mutation's does.
    pub(super) fn keep(
        &mut self,
        kind: RowKind,
        key: &str,
        before: Option<(i32, Value)>,
        after: (i32, Value),
        now: DateTime<Utc>,
    ) {
        let before = before.map(|(revision, snapshot)| (revision, snapshot, None));
        let after = (after.0, after.1, Some(IMPORTED_BY.to_owned()));
        for (revision, snapshot, changed_by) in before.into_iter().chain([after]) {
            self.history.push(row_revision::Model {
                kind: kind.as_str().to_owned(),
                row_key: key.to_owned(),
                revision,
                snapshot,
                changed_by,
                changed_at: now,
            });
        }
    }

    /// Imported rows replicate like any other change.
    pub(super) fn log(
        &mut self,
        kind: RowKind,
        key: String,
        origin: &str,
        revision: i32,
        record: Option<Value>,
    ) -> Result<(), StoreError> {
        let record = record
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        self.log.push(Logged {
            kind,
            key: key.into_boxed_str(),
            origin: origin.into(),
            revision,
            record: record.map(String::into_boxed_str),
        });
        Ok(())
    }

    /// Writes the versions kept since the last call: once the rows they
    /// belong to are written.
    pub(super) async fn write_history<C: ConnectionTrait>(
        &mut self,
        conn: &C,
    ) -> Result<(), StoreError> {
        crate::changes::keep_versions(conn, std::mem::take(&mut self.history)).await
    }

    /// Appends the log entries, in the order they were made: once every
    /// row is written.
    pub(super) async fn write_log<C: ConnectionTrait>(
        self,
        conn: &C,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut logged = self.log.into_iter().enumerate().peekable();
        while logged.peek().is_some() {
            let mut batch: Vec<_> = logged.by_ref().take(ENTRIES_PER_APPEND).collect();
            let entries = batch
                .iter_mut()
                .map(|(at, logged)| LogEntry {
                    at: *at,
                    kind: logged.kind.as_str(),
                    origin: logged.origin.to_string(),
                    revision: logged.revision,
                    record: logged.record.take().map(String::from),
                    key: &logged.key,
                })
                .collect();
            crate::changes::append_to_log(conn, entries, now).await?;
        }
        Ok(())
    }
}
