//! What every record an authority keeps says about itself, whatever the
//! record is: who may change it, how often it has changed, and when.

use chrono::{DateTime, Utc};

use crate::codes::Origin;

/// Who may change a record and how it has changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    /// The authority that may change the record.
    pub origin: Origin,
    /// Starts at 1 and grows by one with each change.
    pub revision: i32,
    /// Whether the record is illustrative sample data, not official text.
    pub illustrative: bool,
    /// When it was first stored.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}
