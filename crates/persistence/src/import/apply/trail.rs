//! What an import owes besides its rows: the versions it replaces, kept as
//! history, and its change log entries, written in bulk.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::StoreError;
use crate::changes::{LogEntry, Replica};
use crate::entity::row_revision;
use crate::mutate::Kind;

use super::IMPORTED_BY;

/// The versions and log entries an import owes, in the order of its records.
#[derive(Default)]
pub(super) struct Trail {
    history: Vec<row_revision::Model>,
    log: Vec<Logged>,
}

/// A change log entry: a row's kind, key, origin and revision, and its
/// record (none: a retraction).
pub(super) struct Logged {
    kind: Replica,
    key: String,
    origin: String,
    revision: i32,
    record: Option<Value>,
}

impl Trail {
    /// Keeps the version a changed row replaces, unless kept already, and
    /// the one it makes, as a mutation's does.
    pub(super) fn keep(
        &mut self,
        kind: Kind,
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
        kind: Replica,
        key: String,
        origin: &str,
        revision: i32,
        record: Option<Value>,
    ) {
        self.log.push(Logged {
            kind,
            key,
            origin: origin.to_owned(),
            revision,
            record,
        });
    }

    pub(super) async fn write<C: ConnectionTrait>(
        self,
        conn: &C,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        crate::changes::keep_versions(conn, self.history).await?;
        let entries = self
            .log
            .iter()
            .enumerate()
            .map(|(at, logged)| {
                Ok(LogEntry {
                    at,
                    kind: logged.kind.as_str(),
                    key: &logged.key,
                    origin: logged.origin.clone(),
                    revision: logged.revision,
                    record: logged
                        .record
                        .as_ref()
                        .map(serde_json::to_string)
                        .transpose()
                        .map_err(|error| StoreError::Corrupt(error.to_string()))?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        crate::changes::append_to_log(conn, entries, now).await
    }
}
