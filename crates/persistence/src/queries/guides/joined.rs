//! A page's guides read with the relations joined to them, column by
//! column in the order they were selected.

use std::sync::{Arc, OnceLock};

use concord_domain::guide::{OperatingProcedure, ServiceGuide};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, SelectStatement};
use sea_orm::{Condition, EntityTrait, IdenStatic, Iterable, JoinType, QueryResult, TryGetable};

use crate::StoreError;
use crate::entity::{operating_procedure, service_guide};

use super::super::Visibility;
use super::decoded::KEPT;
use super::visible_procedures;

/// Which of a guide's relations a page reads in its own statement, by a
/// left join on the guide's key.
///
/// Only the procedure, which is the guide's own: a page's guides share
/// their matters (a zone's members publish for the same matters), so a
/// joined matter would be read and decoded once per guide, where a
/// statement of its own reads each once. Joined, the zone page's nested
/// guides cost the server and PostgreSQL about a third more.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct GuideJoins {
    pub procedure: bool,
}

/// A guide as a page read it, with the relation the page joined. The
/// records are shared: the same row read again is the same record (see
/// `decoded`).
#[derive(Debug, Clone, PartialEq)]
pub struct JoinedGuide {
    pub guide: Arc<ServiceGuide>,
    /// Read when the page joined procedures: the guide's procedure, if it
    /// has one the caller may see.
    pub procedure: Option<Option<Arc<OperatingProcedure>>>,
}

impl From<ServiceGuide> for JoinedGuide {
    fn from(guide: ServiceGuide) -> Self {
        JoinedGuide {
            guide: Arc::new(guide),
            procedure: None,
        }
    }
}

/// The prefix of the joined procedure's columns.
const PROCEDURE: &str = "joined_procedure_";

impl GuideJoins {
    /// Joins these relations to `query`, a select of guides, each column
    /// named under its relation's prefix. The procedure is joined only
    /// where the caller may see it.
    pub(super) fn join(self, query: &mut SelectStatement, visibility: &Visibility) {
        if self.procedure {
            let mut on = Condition::all()
                .add(
                    Expr::col((
                        operating_procedure::Entity,
                        operating_procedure::Column::RegionCode,
                    ))
                    .equals((service_guide::Entity, service_guide::Column::RegionCode)),
                )
                .add(
                    Expr::col((
                        operating_procedure::Entity,
                        operating_procedure::Column::MatterCode,
                    ))
                    .equals((service_guide::Entity, service_guide::Column::MatterCode)),
                );
            if let Some(visible) = visible_procedures(visibility) {
                on = on.add(visible);
            }
            query.join(JoinType::LeftJoin, operating_procedure::Entity, on);
            select_prefixed::<operating_procedure::Entity>(query, PROCEDURE);
        }
    }

    /// A reader of this statement's rows, which finds where each part of
    /// a row is on the first row it reads.
    pub(super) fn reader(self) -> JoinedReader {
        JoinedReader {
            joins: self,
            layout: OnceLock::new(),
        }
    }
}

/// Selects every column of `E` as `{prefix}{column}`.
fn select_prefixed<E: EntityTrait>(query: &mut SelectStatement, prefix: &str) {
    for column in E::Column::iter() {
        query.expr_as(
            Expr::col((E::default(), column)),
            Alias::new(format!("{prefix}{}", column.as_str())),
        );
    }
}

/// Reads joined guides by the position of their columns. By name, each
/// column of each row was looked up among the row's names, and each of the
/// joined procedure's had its prefixed name built first: on the region
/// page, about a tenth of the server's time.
pub(super) struct JoinedReader {
    joins: GuideJoins,
    layout: OnceLock<Layout>,
}

/// Where a statement's rows hold the guide's first column and the joined
/// procedure's; the same for every row of a statement.
#[derive(Debug, Clone, Copy)]
struct Layout {
    guide: Option<usize>,
    guide_columns: usize,
    /// `Some` when the procedure was joined.
    procedure: Option<Option<usize>>,
    procedure_columns: usize,
}

impl JoinedReader {
    /// The guide of `row` with the relations joined to it.
    pub(super) fn read(&self, row: &QueryResult) -> Result<JoinedGuide, StoreError> {
        let layout = match self.layout.get() {
            Some(layout) => *layout,
            None => *self.layout.get_or_init(|| self.find_layout(row)),
        };
        let column = |name: &str| {
            StoreError::Corrupt(format!("a guide page's statement has no column {name}"))
        };
        let at = layout.guide.ok_or_else(|| column("region_code"))?;
        let guide = KEPT.guides.read(row, at, layout.guide_columns, || {
            let model = read_guide(&mut Columns::from(row, at))?;
            Ok(Arc::new(ServiceGuide::try_from(model)?))
        })?;
        let procedure = match layout.procedure {
            None => None,
            Some(None) => return Err(column(&format!("{PROCEDURE}region_code"))),
            Some(Some(at)) => {
                Some(
                    KEPT.procedures
                        .read(row, at, layout.procedure_columns, || {
                            read_joined_procedure(&mut Columns::from(row, at))?
                                .map(|model| OperatingProcedure::try_from(model).map(Arc::new))
                                .transpose()
                        })?,
                )
            }
        };
        Ok(JoinedGuide { guide, procedure })
    }

    fn find_layout(&self, row: &QueryResult) -> Layout {
        let names = row.column_names();
        let at = |name: &str| names.iter().position(|n| n == name);
        Layout {
            guide: at(service_guide::Column::RegionCode.as_str()),
            guide_columns: service_guide::Column::iter().count(),
            procedure_columns: operating_procedure::Column::iter().count(),
            procedure: self.joins.procedure.then(|| {
                at(&format!(
                    "{PROCEDURE}{}",
                    operating_procedure::Column::RegionCode.as_str()
                ))
            }),
        }
    }
}

/// The columns of a row from a position on, read in turn.
struct Columns<'r> {
    row: &'r QueryResult,
    next: usize,
}

impl<'r> Columns<'r> {
    fn from(row: &'r QueryResult, first: usize) -> Self {
        Self { row, next: first }
    }

    fn take<T: TryGetable>(&mut self) -> Result<T, StoreError> {
        let value = self.row.try_get_by_index(self.next)?;
        self.next += 1;
        Ok(value)
    }
}

/// A guide whose columns were selected in the entity's order, which is
/// its fields' order. (A struct's fields are evaluated in the order they
/// are written.)
fn read_guide(columns: &mut Columns<'_>) -> Result<service_guide::Model, StoreError> {
    Ok(service_guide::Model {
        region_code: columns.take()?,
        matter_code: columns.take()?,
        time_limit_days: columns.take()?,
        fee_fen: columns.take()?,
        materials: columns.take()?,
        channels: columns.take()?,
        legal_basis: columns.take()?,
        guarantee_level: columns.take()?,
        status: columns.take()?,
        published_at: columns.take()?,
        origin: columns.take()?,
        revision: columns.take()?,
        illustrative: columns.take()?,
        created_at: columns.take()?,
        updated_at: columns.take()?,
    })
}

/// The procedure a left join read in the entity's column order, or `None`
/// when it matched none: its key, never null in a stored row, is null.
fn read_joined_procedure(
    columns: &mut Columns<'_>,
) -> Result<Option<operating_procedure::Model>, StoreError> {
    let Some(region_code) = columns.take::<Option<String>>()? else {
        return Ok(None);
    };
    Ok(Some(operating_procedure::Model {
        region_code,
        matter_code: columns.take()?,
        steps: columns.take()?,
        status: columns.take()?,
        origin: columns.take()?,
        revision: columns.take()?,
        illustrative: columns.take()?,
        created_at: columns.take()?,
        updated_at: columns.take()?,
    }))
}
