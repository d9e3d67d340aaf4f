//! The change log: every committed change of a replicable row, appended in
//! the transaction that made it, so that the log and the data can never
//! disagree. Peers read it in order ([`feed()`]) and apply what is newer
//! than their own copy ([`apply_page()`]).
//!
//! Its files, by concern: `log` appends to the log and `feed` reads it;
//! `apply` applies a peer's page, `plan`ning each kind's changes and
//! writing their `rows` and `links`; `replicated` describes the kinds of
//! row and hashes their versions; `verdicts` records the conflicts an
//! origin rules on and their settlements; `checksum` compares nodes.

mod apply;
mod checksum;
mod feed;
mod links;
mod log;
mod plan;
mod replicated;
mod rows;
mod verdicts;

use concord_domain::RowKind;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::StoreError;
use crate::error::corrupt;
use crate::footprint::{Footprint, Topic};

pub use apply::apply_page;
pub(crate) use apply::install;
pub use checksum::{Checksum, checksums};
pub use feed::feed;
pub use log::log_current;
pub(crate) use log::{Entry as LogEntry, append as append_to_log, current_record, last_logged};
pub(crate) use replicated::{KEYS_PER_STATEMENT, MAX_PARAMS, hash_of_record};
pub(crate) use rows::{keep as keep_versions, upsert};
pub(crate) use verdicts::{VerdictRecord, Version, log_verdict};

/// The key of a row in the log: its primary key parts joined by `/`.
fn key(parts: &[&str]) -> String {
    parts.join("/")
}

/// The primary key parts of a logged key. Standard codes contain `/`
/// themselves (`GB/T 33531-2017`), so each kind says how its key splits.
pub fn split_key(kind: RowKind, key: &str) -> Result<Vec<&str>, StoreError> {
    let (parts, arity): (Vec<&str>, usize) = match kind {
        RowKind::Matter | RowKind::Standard | RowKind::CollaborativeStandard => (vec![key], 1),
        // A standard's code, then a region (adoptions) or a number
        // (elevation proposals), which hold no `/`.
        RowKind::Adoption | RowKind::Elevation => (
            key.rsplit_once('/')
                .map_or_else(|| vec![key], |(code, last)| vec![code, last]),
            2,
        ),
        RowKind::Guide | RowKind::Procedure | RowKind::NationalItem => {
            (key.split('/').collect(), 2)
        }
        RowKind::Evaluation | RowKind::Exemption => (key.split('/').collect(), 3),
    };
    if parts.len() == arity && parts.iter().all(|part| !part.is_empty()) {
        Ok(parts)
    } else {
        Err(corrupt(format!(
            "a {} key has {arity} parts joined by `/`, not `{key}`",
            kind.as_str()
        )))
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, StoreError> {
    serde_json::to_value(value).map_err(corrupt)
}

/// A change as a peer serves it. The record stays raw JSON until its kind
/// is known, so that it is parsed once, straight into its row.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct IncomingChange {
    pub kind: String,
    pub key: String,
    pub revision: i32,
    pub record: Option<Box<RawValue>>,
}

/// What applying `page` can change: each change's kind, for the region in
/// its key where rows of that kind belong to a region, plus the change log
/// that relays it and the sync status that records the page.
pub fn footprint_of(page: &[IncomingChange]) -> Footprint {
    let mut footprint = Footprint::of(&[Topic::ChangeLog, Topic::Sync]);
    for change in page {
        let regional = match change.kind.parse::<RowKind>().ok() {
            Some(RowKind::Guide) => Topic::Guide,
            Some(RowKind::Procedure) => Topic::Procedure,
            Some(RowKind::Evaluation) => Topic::Evaluation,
            Some(RowKind::Matter | RowKind::NationalItem | RowKind::Exemption) => {
                footprint.add(Topic::Catalogue);
                continue;
            }
            Some(RowKind::Standard) => {
                footprint.add(Topic::Standard);
                continue;
            }
            Some(RowKind::CollaborativeStandard | RowKind::Adoption | RowKind::Elevation) => {
                footprint.add(Topic::Collaboration).add(Topic::Standard);
                continue;
            }
            None => return Footprint::everything(),
        };
        match change.key.split_once('/') {
            Some((region, _)) => footprint.add_region(regional, region),
            None => footprint.add(regional),
        };
    }
    footprint
}
