//! Concord's domain: validated codes, enumerations and the rules of the catalogue.
//!
//! Pure types and functions only. This crate must not depend on a database,
//! a web framework or the GraphQL layer, so that every rule is unit-testable.

pub mod alignment;
pub mod audit;
pub mod catalogue;
pub mod codes;
pub mod enums;
pub mod error_chain;
pub mod evaluation;
pub mod fee;
pub mod geo;
pub mod guide;
pub mod national;
pub mod provenance;
pub mod replication;
pub mod standard;
pub mod text;
pub mod workflow;

pub use alignment::{
    AlignmentScore, Baseline, BaselineViolation, Exemption, ExemptionGrant, GuideValues,
    MaterialUse, MaterialsComparison, ScoreParts, Spread, TargetCheck, Targets, alignment_score,
    baseline_violations, best_practice, check_targets, coefficient_of_variation, compare_materials,
    exemption_key, publication_refusal, spread,
};
pub use audit::{AuditAction, RowKind};
pub use catalogue::{MatterDraft, NationalItemDraft, national_item_of};
pub use codes::{CategoryCode, CodeError, MatterCode, Origin, RegionCode, StandardCode, ZoneCode};
pub use enums::{
    Channel, ClosedSet, GuideStatus, ParseEnumError, RegionKind, StandardLevel, StandardStatus,
};
pub use error_chain::error_chain;
pub use evaluation::{Evaluation, EvaluationValues, Period};
pub use fee::Fee;
pub use guide::{GuideDraft, ProcedureStep, validate_steps};
pub use national::{ServedGroup, served_groups};
pub use provenance::Provenance;
pub use replication::{Settlement, Verdict};
pub use standard::{
    StandardDraft, check_elevated_code, check_issuer, check_supersession, default_review_on,
    status_transition_allowed,
};
pub use text::{
    LONG_TEXT_MAX, NAME_MAX, NOTE_MAX, Names, ValidationError, distinct_channels, optional_text,
    required_text,
};
pub use workflow::{
    Decision, ElevationDecision, ElevationStatus, ElevationTarget, ProposalStatus, check_decision,
    next_elevation_status, proposal_status,
};
