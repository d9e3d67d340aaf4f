//! Batch loading of every relation, so that a query's SQL statements do not
//! grow with the number of rows it returns. One [`RowLoader`] is made per request:
//! its cache then never outlives the caller's visibility.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, Loader};
use concord_domain::{catalogue, geo, guide, standard};
use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::queries::{
    self, GuideFilter, GuideJoins, GuideKey, GuideParent, JoinedGuide, Page, PageRequest,
    Visibility, guide_key,
};
use concord_persistence::{DatabaseConnection, StoreError};
use tracing::Instrument;

use crate::Kept;
use crate::context::Reads;
use crate::matters::KeptMatters;
use crate::reference::{KeptReference, Reference};
use crate::settle::Stalls;
use crate::types::{
    Category, GuideRelations, OperatingProcedure, ServiceGuide, ServiceMatter, Standard,
    StandardRelations,
};

/// Loads rows by key for one request, recording what it read.
pub struct RowLoader {
    db: DatabaseConnection,
    reference: Arc<KeptReference>,
    matters: Arc<KeptMatters>,
    visibility: Visibility,
    reads: Reads,
}

impl RowLoader {
    /// A loader that gathers keys for a batch until the request has stopped
    /// adding them, then for `delay` more.
    ///
    /// async-graphql resolves a list's items in chunks, yielding between
    /// them, so a wall-clock window alone splits a large list into several
    /// batches whenever the machine is busy. Each batch therefore waits for
    /// the request to stall ([`Stalls`]): by then every resolver that could
    /// run has enqueued its keys, on any runtime and under any load.
    pub fn loader(
        db: DatabaseConnection,
        kept: &Kept,
        visibility: Visibility,
        reads: Reads,
        stalls: Stalls,
        delay: Duration,
    ) -> DataLoader<RowLoader> {
        // The batch runs in a task of its own: its span names the request's
        // as its parent by hand, so that its statements show under it.
        let request = tracing::Span::current();
        DataLoader::new(
            RowLoader {
                db,
                reference: kept.reference.clone(),
                matters: kept.matters.clone(),
                visibility,
                reads,
            },
            move |batch| {
                let settled = stalls.next();
                let span = tracing::info_span!(parent: &request, "batch load");
                tokio::spawn(
                    async move {
                        settled.await;
                        batch.await;
                    }
                    .instrument(span),
                )
            },
        )
        .delay(delay)
    }

    /// The reference tables, recorded as read.
    pub async fn reference(&self) -> Result<Arc<Reference>, LoadError> {
        self.reads.record(&Footprint::of(&[Topic::Reference]));
        self.reference.get(&self.db).await.map_err(Arc::new)
    }

    /// The matters of `codes` that exist, kept or read, recorded as read.
    async fn matters(
        &self,
        codes: &[String],
    ) -> Result<Vec<Arc<catalogue::ServiceMatter>>, LoadError> {
        self.reads.record(&Footprint::of(&[Topic::Catalogue]));
        self.matters.get(&self.db, codes).await.map_err(Arc::new)
    }

    /// The database, once `footprint` is recorded as read.
    fn reading(&self, footprint: Footprint) -> &DatabaseConnection {
        self.reads.record(&footprint);
        &self.db
    }

    /// `rows` as guides, each with the relations `ahead` asks for: the
    /// procedure their page joined as it read them, the others read for
    /// all the rows at once, one statement a relation, however many rows
    /// and however many pages they came from.
    pub async fn guides_with(
        &self,
        rows: Vec<JoinedGuide>,
        ahead: GuideAhead,
    ) -> Result<Vec<ServiceGuide>, LoadError> {
        if rows.is_empty() || ahead == GuideAhead::default() {
            return Ok(rows
                .into_iter()
                .map(|row| ServiceGuide::from(row.guide))
                .collect());
        }
        // Keys are built only for the procedures read here: on a page that
        // joined them, none.
        let key_of = |row: &JoinedGuide| guide_key(&row.guide.region, &row.guide.matter);
        // What the page joined was read as much as what is read here.
        let mut procedures = HashMap::new();
        if ahead.procedure {
            self.reads.record(&Footprint::default().in_regions(
                Topic::Procedure,
                rows.iter().map(|row| row.guide.region.as_str()),
            ));
            let unread: Vec<GuideKey> = rows
                .iter()
                .filter(|row| row.procedure.is_none())
                .map(key_of)
                .collect();
            if !unread.is_empty() {
                for procedure in queries::procedures_by_keys(&self.db, &unread, &self.visibility)
                    .await
                    .map_err(Arc::new)?
                {
                    let key = guide_key(&procedure.region, &procedure.matter);
                    procedures.insert(key, OperatingProcedure::from(procedure));
                }
            }
        }
        let mut matters = HashMap::new();
        if ahead.matter {
            let mut codes: Vec<String> = rows
                .iter()
                .map(|row| row.guide.matter.to_string())
                .collect();
            codes.sort_unstable();
            codes.dedup();
            let reference = if ahead.category {
                Some(self.reference().await?)
            } else {
                None
            };
            for matter in self.matters(&codes).await? {
                matters.insert(
                    matter.code.clone(),
                    with_category(Arc::unwrap_or_clone(matter), reference.as_deref()),
                );
            }
        }
        Ok(rows
            .into_iter()
            .map(|row| {
                let relations = GuideRelations {
                    procedure: ahead.procedure.then(|| match row.procedure {
                        Some(joined) => joined.map(OperatingProcedure),
                        None => procedures.remove(&guide_key(&row.guide.region, &row.guide.matter)),
                    }),
                    matter: ahead
                        .matter
                        .then(|| matters.get(&row.guide.matter).cloned()),
                };
                ServiceGuide(row.guide, relations)
            })
            .collect())
    }

    /// `rows` as standards, each with the relations `ahead` asks for, read
    /// for all the rows at once: one statement, however many rows.
    pub async fn standards_with(
        &self,
        rows: Vec<standard::Standard>,
        ahead: StandardAhead,
    ) -> Result<Vec<Standard>, LoadError> {
        if rows.is_empty() || !ahead.matters {
            return Ok(rows.into_iter().map(Standard::from).collect());
        }
        let reference = if ahead.category {
            Some(self.reference().await?)
        } else {
            None
        };
        let codes: Vec<String> = rows.iter().map(|row| row.code.to_string()).collect();
        let links = queries::matter_links_of_standards(
            self.reading(Footprint::of(&[Topic::Standard])),
            &codes,
        )
        .await
        .map_err(Arc::new)?;
        let mut matter_codes: Vec<String> =
            links.iter().map(|(_, matter)| matter.clone()).collect();
        matter_codes.sort_unstable();
        matter_codes.dedup();
        let kept: HashMap<String, Arc<catalogue::ServiceMatter>> = self
            .matters(&matter_codes)
            .await?
            .into_iter()
            .map(|matter| (matter.code.to_string(), matter))
            .collect();
        let mut matters: HashMap<String, Vec<ServiceMatter>> = HashMap::new();
        for (standard, matter) in links {
            // A link's foreign key names a matter, committed no later than
            // the link, and matters are never deleted: every link read
            // finds its matter, kept or read after it.
            let matter = kept.get(&matter).ok_or_else(|| {
                Arc::new(StoreError::Corrupt(format!(
                    "the link of {standard} to {matter} has no matter"
                )))
            })?;
            matters.entry(standard).or_default().push(with_category(
                catalogue::ServiceMatter::clone(matter),
                reference.as_deref(),
            ));
        }
        Ok(rows
            .into_iter()
            .map(|row| {
                // A standard that governs no matter has no link to read.
                let governed = matters.remove(row.code.as_str()).unwrap_or_default();
                let relations = StandardRelations {
                    matters: Some(governed),
                };
                Standard(row, relations)
            })
            .collect())
    }
}

/// A matter with its category from the kept reference tables when the
/// page's selection asked for it (`reference` given).
fn with_category(matter: catalogue::ServiceMatter, reference: Option<&Reference>) -> ServiceMatter {
    let category = reference.map(|reference| {
        reference
            .category(matter.category.as_str())
            .cloned()
            .map(Category)
    });
    ServiceMatter(matter, category)
}

/// Whether the nodes of the connection that `ctx` resolves, through
/// `edges { node }` or `nodes`, select `relation` (and in it `inner`).
fn nodes_select(ctx: &async_graphql::Context<'_>, relation: &str, inner: Option<&str>) -> bool {
    let look = ctx.look_ahead();
    [look.field("edges").field("node"), look.field("nodes")]
        .iter()
        .any(|node| {
            let relation = node.field(relation);
            inner.map_or(relation.exists(), |inner| relation.field(inner).exists())
        })
}

/// Which relations of a page's guides the page's selection asks for, so
/// that [`RowLoader::guides_with`] reads them with the page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct GuideAhead {
    pub procedure: bool,
    pub matter: bool,
    /// The matter's category (with `matter`).
    pub category: bool,
}

impl GuideAhead {
    /// The relations a page of guides reads in its own statement: the
    /// procedure, when its nodes select it.
    pub fn joins(self) -> GuideJoins {
        GuideJoins {
            procedure: self.procedure,
        }
    }

    /// What the nodes of the guide connection that `ctx` resolves select,
    /// through `edges { node }` or `nodes`.
    pub fn of(ctx: &async_graphql::Context<'_>) -> Self {
        Self {
            procedure: nodes_select(ctx, "procedure", None),
            matter: nodes_select(ctx, "matter", None),
            category: nodes_select(ctx, "matter", Some("category")),
        }
    }
}

/// Which relations of a page's standards the page's selection asks for, so
/// that [`RowLoader::standards_with`] reads them with the page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StandardAhead {
    pub matters: bool,
    /// The matters' categories (with `matters`).
    pub category: bool,
}

impl StandardAhead {
    /// What the nodes of the standard connection that `ctx` resolves select.
    pub fn of(ctx: &async_graphql::Context<'_>) -> Self {
        Self {
            matters: nodes_select(ctx, "matters", None),
            category: nodes_select(ctx, "matters", Some("category")),
        }
    }
}

/// Rows of `topic` in each of `regions`.
fn regional_codes(topic: Topic, regions: &[String]) -> Footprint {
    Footprint::default().in_regions(topic, regions.iter().map(String::as_str))
}

/// Guides or procedures of the regions in `keys`.
fn regional<'a>(topic: Topic, keys: impl IntoIterator<Item = &'a GuideKey>) -> Footprint {
    Footprint::default().in_regions(topic, keys.into_iter().map(|key| key.0.as_str()))
}

/// Loader errors are shared between every field that waited on the batch.
pub type LoadError = Arc<StoreError>;

macro_rules! by_key {
    ($key:ty, $value:ty, |$this:ident, $keys:ident| $load:expr, |$row:ident| $row_key:expr) => {
        impl Loader<$key> for RowLoader {
            type Value = $value;
            type Error = LoadError;

            async fn load(&self, $keys: &[$key]) -> Result<HashMap<$key, $value>, LoadError> {
                let $this = self;
                let rows = $load.await.map_err(Arc::new)?;
                Ok(rows.into_iter().map(|$row| ($row_key, $row)).collect())
            }
        }
    };
}

/// A region's code, as a loader key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RegionKey(pub String);
/// A zone's code, as a loader key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ZoneKey(pub String);
/// A category's code, as a loader key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CategoryKey(pub String);
/// A matter's code, as a loader key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MatterKey(pub String);
/// A standard's code, as a loader key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StandardKey(pub String);
/// A national item's edition and number, as a loader key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ItemKey(pub i32, pub i32);
/// A guide's region and matter, as a loader key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct GuideLoadKey(pub GuideKey);
/// A procedure's region and matter, as a loader key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ProcedureKey(pub GuideKey);
/// The zones a region belongs to.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ZonesOfRegion(pub String);
/// The member regions of a zone.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MembersOfZone(pub String);
/// The standards a matter follows.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StandardsOfMatter(pub String);
/// The matters a standard governs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MattersOfStandard(pub String);
/// The standards that supersede a standard.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SupersededBy(pub String);

/// The standards raised from a local standard by accepted elevations.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ElevatedTo(pub String);

fn strings<K>(keys: &[K], f: impl Fn(&K) -> &String) -> Vec<String> {
    keys.iter().map(|k| f(k).clone()).collect()
}

impl Loader<RegionKey> for RowLoader {
    type Value = geo::Region;
    type Error = LoadError;

    async fn load(&self, keys: &[RegionKey]) -> Result<HashMap<RegionKey, geo::Region>, LoadError> {
        let reference = self.reference().await?;
        Ok(keys
            .iter()
            .filter_map(|key| Some((key.clone(), reference.region(&key.0)?.clone())))
            .collect())
    }
}

impl Loader<ZoneKey> for RowLoader {
    type Value = geo::Zone;
    type Error = LoadError;

    async fn load(&self, keys: &[ZoneKey]) -> Result<HashMap<ZoneKey, geo::Zone>, LoadError> {
        let reference = self.reference().await?;
        Ok(keys
            .iter()
            .filter_map(|key| Some((key.clone(), reference.zone(&key.0)?.clone())))
            .collect())
    }
}

impl Loader<CategoryKey> for RowLoader {
    type Value = catalogue::Category;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[CategoryKey],
    ) -> Result<HashMap<CategoryKey, catalogue::Category>, LoadError> {
        let reference = self.reference().await?;
        Ok(keys
            .iter()
            .filter_map(|key| Some((key.clone(), reference.category(&key.0)?.clone())))
            .collect())
    }
}

impl Loader<MatterKey> for RowLoader {
    type Value = catalogue::ServiceMatter;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[MatterKey],
    ) -> Result<HashMap<MatterKey, catalogue::ServiceMatter>, LoadError> {
        let matters = self.matters(&strings(keys, |k| &k.0)).await?;
        Ok(matters
            .into_iter()
            .map(|matter| {
                (
                    MatterKey(matter.code.to_string()),
                    Arc::unwrap_or_clone(matter),
                )
            })
            .collect())
    }
}

by_key!(
    ItemKey,
    catalogue::NationalItem,
    |this, keys| queries::national_items_by_keys(
        this.reading(Footprint::of(&[Topic::Catalogue])),
        &keys.iter().map(|k| (k.0, k.1)).collect::<Vec<_>>()
    ),
    |row| ItemKey(row.edition, row.number)
);
by_key!(
    GuideLoadKey,
    guide::ServiceGuide,
    |this, keys| queries::guides_by_keys(
        this.reading(regional(Topic::Guide, keys.iter().map(|k| &k.0))),
        &keys.iter().map(|k| k.0.clone()).collect::<Vec<_>>(),
        &this.visibility
    ),
    |row| GuideLoadKey(guide_key(&row.region, &row.matter))
);
by_key!(
    ProcedureKey,
    guide::OperatingProcedure,
    |this, keys| queries::procedures_by_keys(
        this.reading(regional(Topic::Procedure, keys.iter().map(|k| &k.0))),
        &keys.iter().map(|k| k.0.clone()).collect::<Vec<_>>(),
        &this.visibility
    ),
    |row| ProcedureKey(guide_key(&row.region, &row.matter))
);

impl Loader<StandardKey> for RowLoader {
    type Value = standard::Standard;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[StandardKey],
    ) -> Result<HashMap<StandardKey, standard::Standard>, LoadError> {
        let rows = queries::standards_by_codes(
            self.reading(Footprint::of(&[Topic::Standard])),
            &strings(keys, |k| &k.0),
        )
        .await
        .map_err(Arc::new)?;
        Ok(rows
            .into_iter()
            .filter(|row| visible_standard(&self.visibility, row))
            .map(|row| (StandardKey(row.code.to_string()), row))
            .collect())
    }
}

/// A page of the guides of one region, zone or matter, as a nested
/// connection asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GuidesOf {
    pub parent: GuideParent,
    pub code: String,
    /// The filter, page and relations every parent of the same field shares.
    pub page: Arc<(GuideFilter, PageRequest<GuideKey>, GuideAhead)>,
}

impl Loader<GuidesOf> for RowLoader {
    type Value = Arc<Page<ServiceGuide>>;
    type Error = LoadError;

    /// One statement for all the parents that share a filter and page,
    /// which on one level of a query is all of them, and one for each
    /// relation their selection reads ahead.
    async fn load(&self, keys: &[GuidesOf]) -> Result<HashMap<GuidesOf, Self::Value>, LoadError> {
        let mut groups: HashMap<(GuideParent, &Arc<_>), Vec<String>> = HashMap::new();
        for key in keys {
            groups
                .entry((key.parent, &key.page))
                .or_default()
                .push(key.code.clone());
        }
        let mut found = HashMap::new();
        for ((parent, page), codes) in groups {
            let (filter, request, ahead) = page.as_ref();
            let mut read = match parent {
                GuideParent::Region => regional_codes(Topic::Guide, &codes),
                // A zone's resolver records its members' guides itself.
                GuideParent::Zone => Footprint::of(&[Topic::Reference]),
                GuideParent::Matter => Footprint::of(&[Topic::Guide]),
            };
            if filter.category.is_some() {
                read.add(Topic::Catalogue);
            }
            let mut pages = queries::guide_pages(
                self.reading(read),
                parent,
                &codes,
                filter,
                &self.visibility,
                request,
                ahead.joins(),
            )
            .await
            .map_err(Arc::new)?;
            // Every parent's rows in one list, so that their relations are
            // read together, then dealt back page by page.
            let mut lengths = Vec::with_capacity(codes.len());
            let mut rows = Vec::new();
            for code in &codes {
                let page = pages.remove(code);
                let (items, has_next, total) =
                    page.map_or((Vec::new(), false, 0), |p| (p.items, p.has_next, p.total));
                lengths.push((items.len(), has_next, total));
                rows.extend(items);
            }
            let mut guides = self.guides_with(rows, *ahead).await?.into_iter();
            for (code, (length, has_next, total)) in codes.into_iter().zip(lengths) {
                let key = GuidesOf {
                    parent,
                    code,
                    page: Arc::clone(page),
                };
                let items = guides.by_ref().take(length).collect();
                found.insert(
                    key,
                    Arc::new(Page {
                        items,
                        has_next,
                        total,
                    }),
                );
            }
        }
        Ok(found)
    }
}

/// Whether a standard is visible: drafts only to those who may see them.
pub fn visible_standard(visibility: &Visibility, standard: &standard::Standard) -> bool {
    standard.status != concord_domain::StandardStatus::Draft
        || match visibility {
            Visibility::All => true,
            Visibility::Public => false,
            Visibility::OwnDrafts { regions, zones } => {
                regions
                    .iter()
                    .any(|r| r == standard.provenance.origin.as_str())
                    || standard
                        .issuing_zone
                        .as_ref()
                        .is_some_and(|zone| zones.iter().any(|z| z == zone.as_str()))
            }
        }
}

mod lists;

pub use lists::{AdoptionsOf, RevisionsOf};
