//! What replication between nodes leaves for people to see: the conflicts
//! between versions of a row that peers wrote concurrently, and how each was
//! settled.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::audit::RowKind;
use crate::codes::Origin;
use crate::enums::{ParseEnumError, closed_set};

closed_set!(
    /// An origin's ruling about versions of one of its rows, as its change
    /// log carries it to every peer.
    Verdict {
        /// A peer's version lost to the origin's.
        Conflict = "CONFLICT",
        /// An administrator of the origin settled a conflict.
        Resolution = "RESOLUTION",
    }
);

/// What an entry of the change log is about: a row's new version, or a
/// verdict about versions of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logged {
    Row(RowKind),
    Verdict(Verdict),
}

impl Logged {
    /// The entry's kind as the log and the feed write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Logged::Row(kind) => kind.as_str(),
            Logged::Verdict(verdict) => verdict.as_str(),
        }
    }
}

impl std::str::FromStr for Logged {
    type Err = ParseEnumError;

    fn from_str(text: &str) -> Result<Self, ParseEnumError> {
        text.parse()
            .map(Logged::Row)
            .or_else(|_| text.parse().map(Logged::Verdict))
            .map_err(|_| ParseEnumError {
                value: text.to_owned(),
                allowed: RowKind::ALL
                    .iter()
                    .map(|kind| kind.as_str())
                    .chain(Verdict::ALL.iter().map(|verdict| verdict.as_str()))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// One committed change, as this node's log keeps it and its feed serves
/// it to peers.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedChange {
    /// Its position in this node's log.
    pub seq: i64,
    /// What it is about.
    pub kind: Logged,
    /// The row's key, its key fields joined by `/`.
    pub key: String,
    /// The authority that owns the row.
    pub origin: Origin,
    /// The row's revision after the change.
    pub revision: i32,
    /// The whole row; `None` when it is no longer published (a
    /// retraction).
    pub record: Option<Value>,
    /// When it was committed.
    pub committed_at: DateTime<Utc>,
}

closed_set!(
    /// Which version of a conflicted row a settlement kept.
    Settlement {
        /// The version the row has: the conflict closed and the row stayed.
        Winner = "WINNER",
        /// The version that lost: it became the row's next revision.
        Loser = "LOSER",
    }
);

/// One version of a conflicted row.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictVersion {
    /// The row's revision in this version.
    pub revision: i32,
    /// The version's content hash (hex SHA-256 of the row).
    pub hash: String,
    /// The row as logged; `None` for a guide withdrawn to a draft.
    pub record: Option<Value>,
}

/// Two versions of one row that peers wrote concurrently: the one the row's
/// origin holds (the winner) and one another node wrote (the loser).
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The row's kind.
    pub kind: RowKind,
    /// The row's key, as the change log writes it.
    pub key: String,
    /// The authority that owns the row, whose node decided.
    pub origin: Origin,
    /// The version the origin holds.
    pub winner: ConflictVersion,
    /// The version that lost, kept here.
    pub loser: ConflictVersion,
    /// When this node learnt of the conflict.
    pub detected_at: DateTime<Utc>,
    /// Which version the settlement kept; `None` while the conflict is open.
    pub resolution: Option<Settlement>,
    /// Who settled it.
    pub resolved_by: Option<String>,
    /// When this node learnt of the settlement.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// How far this node has replicated one peer.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerProgress {
    /// The peer's GraphQL URL.
    pub peer: String,
    /// The cursor of the last change applied.
    pub cursor: Option<String>,
    /// Changes applied from this peer in all.
    pub applied: i64,
    /// Changes the peer still had after the cursor at the last fetch.
    pub lag: Option<i64>,
    /// When a sync from this peer last succeeded.
    pub last_success: Option<DateTime<Utc>>,
    /// The last error, cleared by the next success.
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_entry_names_a_kind_of_row_or_a_verdict_and_nothing_else() {
        assert_eq!("GUIDE".parse(), Ok(Logged::Row(RowKind::Guide)));
        assert_eq!(
            "BASELINE_EXEMPTION".parse(),
            Ok(Logged::Row(RowKind::Exemption))
        );
        assert_eq!(
            "RESOLUTION".parse(),
            Ok(Logged::Verdict(Verdict::Resolution))
        );
        for kind in ["GUIDE", "CONFLICT", "ELEVATION"] {
            assert_eq!(kind.parse::<Logged>().unwrap().as_str(), kind);
        }
        let refused = "guide".parse::<Logged>().unwrap_err();
        assert!(refused.to_string().contains("GUIDE"), "{refused}");
        assert!(refused.to_string().contains("RESOLUTION"), "{refused}");
    }
}
