//! sea-orm entities, one per table. They mirror the migrations and stay in
//! this crate: the rows the API shows are converted here, once, into the
//! domain's records (`TryFrom<Model>` beside each such entity).

pub mod adoption;
pub mod audit_entry;
pub mod baseline_exemption;
pub mod category;
pub mod change_log;
pub mod collaborative_standard;
pub mod elevation_proposal;
pub mod evaluation;
pub mod national_edition;
pub mod national_item;
pub mod operating_procedure;
pub mod region;
pub mod row_revision;
pub mod service_guide;
pub mod service_matter;
pub mod standard;
pub mod standard_matter;
mod stored;
pub mod sync_conflict;
pub mod sync_peer;
pub mod zone;
pub mod zone_member;

use std::fmt::{Arguments, Display};

use concord_domain::{MatterCode, ProcedureStep, RegionCode};
use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};
pub use stored::{ChannelList, GroupList, Stored, StoredFee};

use crate::StoreError;
use crate::error::corrupt;

/// A list of texts stored as one JSON column (a guide's materials).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct TextList(pub Vec<String>);

/// The ordered steps of an operating procedure, stored as one JSON column so
/// that a procedure is written, revised and replicated as a whole.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct StepList(pub Vec<ProcedureStep>);

/// The columns every owned row has (`origin`, `revision`, `illustrative`,
/// `created_at`, `updated_at`), read from `$row` as the domain's
/// `Provenance`. An origin the domain refuses is returned as the error
/// `$fault` makes of it, from the enclosing function.
macro_rules! provenance {
    ($row:ident, $fault:ident) => {
        concord_domain::Provenance {
            origin: concord_domain::Origin::try_from($row.origin.as_str())
                .map_err(|e| $fault("origin", &e))?,
            revision: $row.revision,
            illustrative: $row.illustrative,
            created_at: $row.created_at,
            updated_at: $row.updated_at,
        }
    };
}
use provenance;

/// The row `$row` (a struct literal of its own columns) of the record
/// `$record`, with the owned columns (`origin`, `revision`, `illustrative`,
/// `created_at`, `updated_at`) from the record's `Provenance`: the way
/// back of `provenance!`.
macro_rules! owned_row {
    ($record:expr, $row:ident { $($column:ident: $value:expr),+ $(,)? }) => {{
        let provenance = &$record.provenance;
        $row {
            $($column: $value,)+
            origin: provenance.origin.as_str().to_owned(),
            revision: provenance.revision,
            illustrative: provenance.illustrative,
            created_at: provenance.created_at,
            updated_at: provenance.updated_at,
        }
    }};
}
use owned_row;

/// How a conversion names a refused column of `kind`'s row (a guide, a
/// procedure) of `region` for `matter`.
fn regional_fault<'a>(
    kind: &'a str,
    region: &'a str,
    matter: &'a str,
) -> impl Fn(&str, &dyn Display) -> StoreError + Copy + 'a {
    move |column, error| refused(format_args!("{kind} {region}/{matter}"), column, error)
}

/// The key of a region's row for a matter (a guide's, a procedure's, an
/// evaluation's, an exemption's), as the domain's codes; a part the domain
/// refuses is the error `fault` makes of it.
fn regional_key(
    region: &str,
    matter: &str,
    fault: impl Fn(&str, &dyn Display) -> StoreError,
) -> Result<(RegionCode, MatterCode), StoreError> {
    Ok((
        RegionCode::try_from(region).map_err(|e| fault("region_code", &e))?,
        MatterCode::try_from(matter).map_err(|e| fault("matter_code", &e))?,
    ))
}

/// A column of the stored row `row` (e.g. `region 330000`) that the domain
/// refuses: the read that converts the row fails as corrupt, naming the row,
/// the column and what is wrong, so that no caller is handed, or can skip
/// or default, a value the domain does not accept.
fn refused(row: Arguments<'_>, column: &str, error: &dyn Display) -> StoreError {
    corrupt(format_args!("{row}: {column}: {error}"))
}
