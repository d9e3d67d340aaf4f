//! The audit log: one entry for each successful change, append-only.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::codes::{Origin, RegionCode, ZoneCode};
use crate::enums::closed_set;

closed_set!(
    /// A kind of row that is audited, versioned and replicated: as the
    /// change log, the kept versions and the audit log name it.
    RowKind {
        Matter = "MATTER",
        Standard = "STANDARD",
        Guide = "GUIDE",
        Procedure = "PROCEDURE",
        NationalItem = "NATIONAL_ITEM",
        Evaluation = "EVALUATION",
        CollaborativeStandard = "COLLABORATIVE_STANDARD",
        Adoption = "ADOPTION",
        Exemption = "BASELINE_EXEMPTION",
        Elevation = "ELEVATION",
    }
);

impl RowKind {
    /// Whether every version of this kind of row is kept, for its
    /// `revisions` and `diff`.
    pub fn keeps_history(self) -> bool {
        matches!(
            self,
            RowKind::Guide | RowKind::Standard | RowKind::Procedure | RowKind::Exemption
        )
    }
}

closed_set!(
    /// What an audited change did.
    AuditAction {
        CreateMatter = "CREATE_MATTER",
        UpdateMatter = "UPDATE_MATTER",
        CreateNationalItem = "CREATE_NATIONAL_ITEM",
        UpdateNationalItem = "UPDATE_NATIONAL_ITEM",
        CreateGuide = "CREATE_GUIDE",
        UpdateGuide = "UPDATE_GUIDE",
        PublishGuide = "PUBLISH_GUIDE",
        UnpublishGuide = "UNPUBLISH_GUIDE",
        SaveProcedure = "SAVE_PROCEDURE",
        PublishProcedure = "PUBLISH_PROCEDURE",
        CreateStandard = "CREATE_STANDARD",
        ReviseStandard = "REVISE_STANDARD",
        SetStandardStatus = "SET_STANDARD_STATUS",
        SupersedeStandard = "SUPERSEDE_STANDARD",
        ProposeCollaborativeStandard = "PROPOSE_COLLABORATIVE_STANDARD",
        AdoptCollaborativeStandard = "ADOPT_COLLABORATIVE_STANDARD",
        RejectCollaborativeStandard = "REJECT_COLLABORATIVE_STANDARD",
        WithdrawCollaborativeStandard = "WITHDRAW_COLLABORATIVE_STANDARD",
        ProposeElevation = "PROPOSE_ELEVATION",
        DecideElevation = "DECIDE_ELEVATION",
        ElevateStandard = "ELEVATE_STANDARD",
        GrantBaselineExemption = "GRANT_BASELINE_EXEMPTION",
        RevokeBaselineExemption = "REVOKE_BASELINE_EXEMPTION",
        RecordEvaluation = "RECORD_EVALUATION",
        ResolveSyncConflict = "RESOLVE_SYNC_CONFLICT",
    }
);

/// A kept version of a row whose every version is kept
/// ([`RowKind::keeps_history`]).
#[derive(Debug, Clone, PartialEq)]
pub struct KeptVersion {
    /// The kind of row.
    pub kind: RowKind,
    /// The row's key, as the change log writes it.
    pub key: String,
    /// The row's revision at this version.
    pub revision: i32,
    /// Its content at this revision, field by field.
    pub content: Value,
    /// Who made it (the token's subject); `None` for seeded or imported
    /// versions.
    pub changed_by: Option<String>,
    /// When it was made.
    pub changed_at: DateTime<Utc>,
}

/// One successful change: who made it, what it did to which row, and the
/// row's content before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// The entry's sequence number.
    pub id: i64,
    /// When the change was committed.
    pub at: DateTime<Utc>,
    /// Who made it: the token's subject.
    pub subject: String,
    /// The role it was made under.
    pub role: String,
    /// The actor's region, for a province's administrator.
    pub actor_region: Option<RegionCode>,
    /// The actor's zone, for a zone's coordinator.
    pub actor_zone: Option<ZoneCode>,
    /// What was done, e.g. `PUBLISH_GUIDE`.
    pub action: AuditAction,
    /// The kind of row changed, e.g. `GUIDE`.
    pub target_kind: RowKind,
    /// The row's key, e.g. `330000/SI-PENSION-TRANSFER` or a standard code.
    pub target_key: String,
    /// The authority that owns the row.
    pub target_region: Origin,
    /// The row's content before the change; `None` when it was created.
    pub before: Option<Value>,
    /// The row's content after the change.
    pub after: Option<Value>,
}
