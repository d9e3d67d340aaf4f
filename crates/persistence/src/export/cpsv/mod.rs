//! Published service guides as CPSV-AP 3.2.0 JSON-LD: one `PublicService`
//! per guide, with its competent authority, requirements and evidence,
//! channels, cost, processing time, legal basis, classification and
//! operating procedure. `docs/cpsv-ap.md` is the mapping, field by field.
//!
//! [`load`] reads what a document needs; [`document`] is the mapping itself,
//! a pure function of those rows, so that the server and the CLI write the
//! same bytes for the same rows.

use std::collections::{HashMap, HashSet};
use std::fmt;

use concord_domain::GuideStatus;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::StoreError;
use crate::entity::{
    category, national_item, operating_procedure, region, service_guide, service_matter,
};
use crate::queries;

/// The official JSON-LD context of CPSV-AP 3.2.0, unchanged (CC-BY 4.0,
/// European Union; see `assets/cpsv-ap-3.2.0/README.md`).
pub const CONTEXT: &str = include_str!("../../../assets/cpsv-ap-3.2.0/cpsv-ap-context.jsonld");

/// The base IRI used when none is configured: a URN, because Concord's
/// node IRIs name things but are not meant to be dereferenced.
pub const DEFAULT_BASE_IRI: &str = "urn:concord:";

/// The prefix of every node IRI a document mints, e.g. `urn:concord:` or
/// `https://hrss.example.gov.cn/id/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseIri(String);

impl BaseIri {
    /// Accepts an absolute IRI (a scheme, then `:`) that ends with `:`, `/`
    /// or `#`, so that appending a path gives an IRI, and that has no
    /// character an IRI may not contain.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let scheme = raw.split_once(':').map(|(scheme, _)| scheme);
        let scheme_ok = scheme.is_some_and(|s| {
            s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        if !scheme_ok {
            return Err(format!(
                "`{raw}` is not an absolute IRI such as `urn:concord:` or `https://example.org/id/`"
            ));
        }
        if raw
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"{}|\\^`".contains(c))
        {
            return Err(format!("`{raw}` contains a character an IRI may not hold"));
        }
        if !raw.ends_with([':', '/', '#']) {
            return Err(format!("`{raw}` must end with `:`, `/` or `#`"));
        }
        Ok(Self(raw.to_owned()))
    }

    fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

impl Default for BaseIri {
    fn default() -> Self {
        Self(DEFAULT_BASE_IRI.to_owned())
    }
}

impl fmt::Display for BaseIri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a document refers to the CPSV-AP context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextRef {
    /// Carry the whole context, so the file expands anywhere, offline.
    Embedded,
    /// Refer to it by this URL (a server's own `/contexts/…` path).
    Url(String),
}

/// How to write a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub base_iri: BaseIri,
    pub context: ContextRef,
}

/// Which published guides to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection<'a> {
    All,
    Region(&'a str),
    Guide { region: &'a str, matter: &'a str },
}

/// Why a selection names nothing that can be exported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Missing {
    #[error("there is no region `{0}`")]
    Region(String),
    #[error("there is no service matter `{0}`")]
    Matter(String),
    #[error("region `{region}` has no published guide for matter `{matter}`")]
    Guide { region: String, matter: String },
}

/// One published guide and every row its `PublicService` is drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub guide: service_guide::Model,
    pub region: region::Model,
    pub matter: service_matter::Model,
    pub category: category::Model,
    pub national_item: Option<national_item::Model>,
    pub procedure: Option<operating_procedure::Model>,
}

/// The published guides a selection names, by region then matter, with
/// their rows; drafts are never read. A fixed number of statements.
pub async fn load<C: ConnectionTrait>(
    conn: &C,
    selection: Selection<'_>,
) -> Result<Result<Vec<Service>, Missing>, StoreError> {
    let (region, matter) = match selection {
        Selection::All => (None, None),
        Selection::Region(region) => (Some(region), None),
        Selection::Guide { region, matter } => (Some(region), Some(matter)),
    };
    if let Some(code) = region
        && region::Entity::find_by_id(code).one(conn).await?.is_none()
    {
        return Ok(Err(Missing::Region(code.to_owned())));
    }
    if let Some(code) = matter
        && service_matter::Entity::find_by_id(code)
            .one(conn)
            .await?
            .is_none()
    {
        return Ok(Err(Missing::Matter(code.to_owned())));
    }
    let mut select = service_guide::Entity::find()
        .filter(service_guide::Column::Status.eq(GuideStatus::Published.as_str()));
    if let Some(code) = region {
        select = select.filter(service_guide::Column::RegionCode.eq(code));
    }
    if let Some(code) = matter {
        select = select.filter(service_guide::Column::MatterCode.eq(code));
    }
    let guides = select
        .order_by_asc(service_guide::Column::RegionCode)
        .order_by_asc(service_guide::Column::MatterCode)
        .all(conn)
        .await?;
    if let (Some(region), Some(matter), true) = (region, matter, guides.is_empty()) {
        return Ok(Err(Missing::Guide {
            region: region.to_owned(),
            matter: matter.to_owned(),
        }));
    }
    Ok(Ok(assemble(conn, guides).await?))
}

/// The rows around each guide, read in one statement per table.
async fn assemble<C: ConnectionTrait>(
    conn: &C,
    guides: Vec<service_guide::Model>,
) -> Result<Vec<Service>, StoreError> {
    let distinct = |codes: Vec<String>| -> Vec<String> {
        let set: HashSet<String> = codes.into_iter().collect();
        set.into_iter().collect()
    };
    let region_codes = distinct(guides.iter().map(|g| g.region_code.clone()).collect());
    let matter_codes = distinct(guides.iter().map(|g| g.matter_code.clone()).collect());
    let regions: HashMap<String, region::Model> =
        queries::region_rows_by_codes(conn, &region_codes)
            .await?
            .into_iter()
            .map(|r| (r.code.clone(), r))
            .collect();
    let matters: HashMap<String, service_matter::Model> =
        queries::matter_rows_by_codes(conn, &matter_codes)
            .await?
            .into_iter()
            .map(|m| (m.code.clone(), m))
            .collect();
    let category_codes = distinct(matters.values().map(|m| m.category_code.clone()).collect());
    let categories: HashMap<String, category::Model> =
        queries::category_rows_by_codes(conn, &category_codes)
            .await?
            .into_iter()
            .map(|c| (c.code.clone(), c))
            .collect();
    let item_keys: Vec<(i32, i32)> = matters
        .values()
        .filter_map(|m| Some((m.national_edition?, m.national_number?)))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let items: HashMap<(i32, i32), national_item::Model> =
        queries::national_item_rows_by_keys(conn, &item_keys)
            .await?
            .into_iter()
            .map(|i| ((i.edition, i.number), i))
            .collect();
    let keys: Vec<queries::GuideKey> = guides
        .iter()
        .map(|g| (g.region_code.clone(), g.matter_code.clone()))
        .collect();
    let mut procedures: HashMap<queries::GuideKey, operating_procedure::Model> =
        // Only what the public sees: a draft procedure is not exported.
        queries::procedure_rows_by_keys(conn, &keys, &queries::Visibility::Public)
            .await?
            .into_iter()
            .map(|p| ((p.region_code.clone(), p.matter_code.clone()), p))
            .collect();
    guides
        .into_iter()
        .map(|guide| {
            let corrupt = |what: &str| {
                StoreError::Corrupt(format!(
                    "guide {}/{} refers to a missing {what}",
                    guide.region_code, guide.matter_code
                ))
            };
            let region = regions
                .get(&guide.region_code)
                .cloned()
                .ok_or_else(|| corrupt("region"))?;
            let matter = matters
                .get(&guide.matter_code)
                .cloned()
                .ok_or_else(|| corrupt("matter"))?;
            let category = categories
                .get(&matter.category_code)
                .cloned()
                .ok_or_else(|| corrupt("category"))?;
            let national_item = match (matter.national_edition, matter.national_number) {
                (Some(edition), Some(number)) => Some(
                    items
                        .get(&(edition, number))
                        .cloned()
                        .ok_or_else(|| corrupt("national item"))?,
                ),
                _ => None,
            };
            let procedure =
                procedures.remove(&(guide.region_code.clone(), guide.matter_code.clone()));
            Ok(Service {
                guide,
                region,
                matter,
                category,
                national_item,
                procedure,
            })
        })
        .collect()
}

mod map;
#[cfg(test)]
mod tests;

pub use map::{cost_value, document, processing_time};
