//! What a node answers when a peer asks for its part of a zone read.

use chrono::{DateTime, Utc};
use concord_persistence::entity::{operating_procedure, service_guide};
use serde::{Deserialize, Serialize};

/// Where a node serves its part.
pub const PART_PATH: &str = "/federation/part";

/// A member's part: the published guides and procedures of the serving
/// node's own region, as of one data version of that node.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    /// The serving node's region: every row must belong to it.
    pub region: String,
    /// The serving node's data version the rows were read at.
    pub data_version: i64,
    /// The newest `updatedAt` among the rows: when the part last changed.
    pub committed_at: Option<DateTime<Utc>>,
    /// The published guides.
    pub guides: Vec<service_guide::Model>,
    /// The published operating procedures.
    pub procedures: Vec<operating_procedure::Model>,
}

/// The entity tag of `region`'s part at data version `version`. Any commit
/// on the serving node raises its version, so an unchanged tag means an
/// unchanged part; the format number changes with [`Part`]'s shape.
pub fn etag(region: &str, version: i64) -> String {
    format!("\"part-2-{region}-{version}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_differ_by_region_and_version() {
        assert_eq!(etag("320000", 7), "\"part-2-320000-7\"");
        assert_ne!(etag("320000", 7), etag("320000", 8));
        assert_ne!(etag("320000", 7), etag("330000", 7));
    }
}
