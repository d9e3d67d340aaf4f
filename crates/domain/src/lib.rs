//! Concord's domain: validated codes, enumerations and the rules of the catalogue.
//!
//! Pure types and functions only. This crate must not depend on a database,
//! a web framework or the GraphQL layer, so that every rule is unit-testable.

pub mod codes;
pub mod enums;
pub mod evaluation;
pub mod fee;
pub mod guide;
pub mod standard;

pub use codes::{CategoryCode, CodeError, MatterCode, Origin, RegionCode, StandardCode, ZoneCode};
pub use enums::{Channel, GuideStatus, ParseEnumError, RegionKind, StandardLevel, StandardStatus};
pub use evaluation::{EvaluationValues, Period};
pub use fee::Fee;
pub use guide::{GuideDraft, ProcedureStep, ValidationError, required_text, validate_steps};
pub use standard::{check_issuer, status_transition_allowed};
