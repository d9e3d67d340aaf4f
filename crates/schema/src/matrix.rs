//! Zone alignment matrices, kept between requests and brought up to date
//! member by member as guides change.
//!
//! A matrix is every matter of the catalogue by every member of a zone.
//! Building it reads every member's published guides: 2,000 rows for the
//! Yangtze River Delta at bench scale 1, and most of a computed request's
//! time. So each zone's matrix is kept with the guide values of each member
//! it was built from. The process's data watch tells [`ZoneMatrices`] of
//! every commit, in order, before the commit counts as seen (as it tells
//! the response cache):
//!
//! - a commit that touches one member's guides drops that member's values
//!   and the matrix; the next read re-reads that member's guides only;
//! - a commit that touches the catalogue or the reference data (matters,
//!   zones, memberships) drops the zone's entry whole.
//!
//! Each drop raises the zone's epoch. A read that began at an older epoch
//! still answers with what it read (the database's state when it read), but
//! does not keep it: a commit may have landed between its reads.
//!
//! A matrix over live parts (`source: LIVE` or `FRESHEST`) is kept too, one
//! per zone and source, with the [`Ingredients`] it was built from: the
//! parts the peers sent and this node's data version. A read whose peers
//! all answer "unchanged" and whose node has not committed since has the
//! same ingredients and reuses the matrix; any other read builds afresh and
//! keeps its own. No commit observer is needed: the data version in the
//! ingredients moves with every commit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use concord_domain::alignment::GuideValues;
use concord_domain::geo::{Region, Zone};
use concord_federation::Source;
use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::watch::{Commit, CommitObserver};

use crate::alignment::MatterAlignment;
use crate::zone_parts::Ingredients;

/// A member's published guide values, by matter code.
pub type MemberGuides = Arc<HashMap<String, GuideValues>>;

/// One zone's matrix, as the API shows it.
pub struct Matrix {
    pub zone: Zone,
    /// The members, by code.
    pub members: Vec<Region>,
    /// One row per matter of the catalogue, by matter code.
    pub rows: Vec<MatterAlignment>,
    pub average_score: f64,
}

/// What a zone's matrix was built from.
#[derive(Default)]
struct Kept {
    epoch: u64,
    /// The member codes that reads of this zone registered.
    members: Vec<String>,
    /// Each member's published guide values.
    values: HashMap<String, MemberGuides>,
    matrix: Option<Arc<Matrix>>,
}

impl Kept {
    fn drop_all(&mut self) {
        self.epoch += 1;
        self.members.clear();
        self.values.clear();
        self.matrix = None;
    }
}

/// Where a read of a zone's matrix starts from.
pub enum Start {
    /// The matrix as kept.
    Kept(Arc<Matrix>),
    /// No matrix is kept: the epoch to store one at, and the members'
    /// values that are still good.
    Build {
        epoch: u64,
        values: HashMap<String, MemberGuides>,
    },
}

/// When each locally read member's part last changed, by member.
pub type PartTimes = Arc<HashMap<String, DateTime<Utc>>>;

/// A matrix over live parts, with what it was built from.
struct KeptLive {
    ingredients: Ingredients,
    matrix: Arc<Matrix>,
    times: PartTimes,
}

/// Every zone's kept matrix.
#[derive(Default)]
pub struct ZoneMatrices {
    zones: Mutex<HashMap<String, Kept>>,
    live: Mutex<HashMap<(String, Source), KeptLive>>,
}

impl ZoneMatrices {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Kept>> {
        self.zones
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The kept matrix of `zone`, if any.
    pub fn get(&self, zone: &str) -> Option<Arc<Matrix>> {
        self.lock().get(zone).and_then(|kept| kept.matrix.clone())
    }

    /// Starts a build of `zone`'s matrix over `members`. The members are
    /// registered before any guide is read, so that a commit to one of them
    /// from now on outdates the build.
    pub fn start(&self, zone: &str, members: &[String]) -> Start {
        let mut zones = self.lock();
        let kept = zones.entry(zone.to_owned()).or_default();
        if let Some(matrix) = &kept.matrix {
            return Start::Kept(Arc::clone(matrix));
        }
        if kept.members != members {
            kept.drop_all();
            kept.members = members.to_vec();
        }
        Start::Build {
            epoch: kept.epoch,
            values: kept.values.clone(),
        }
    }

    /// Keeps a matrix built from `values` by a build that started at
    /// `epoch`, unless a commit has touched what it read since.
    pub fn store(
        &self,
        zone: &str,
        epoch: u64,
        values: HashMap<String, MemberGuides>,
        matrix: Arc<Matrix>,
    ) {
        let mut zones = self.lock();
        if let Some(kept) = zones.get_mut(zone)
            && kept.epoch == epoch
        {
            kept.values = values;
            kept.matrix = Some(matrix);
        }
    }
}

impl ZoneMatrices {
    /// The live matrix of `zone` under `source` built from exactly
    /// `ingredients`, with its locally read members' times, if one is kept.
    pub fn live(
        &self,
        zone: &str,
        source: Source,
        ingredients: &Ingredients,
    ) -> Option<(Arc<Matrix>, PartTimes)> {
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let kept = live.get(&(zone.to_owned(), source))?;
        (kept.ingredients == *ingredients)
            .then(|| (Arc::clone(&kept.matrix), Arc::clone(&kept.times)))
    }

    /// Keeps the live matrix of `zone` under `source`, in place of the one
    /// kept before.
    pub fn keep_live(
        &self,
        zone: &str,
        source: Source,
        ingredients: Ingredients,
        matrix: Arc<Matrix>,
        times: PartTimes,
    ) {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).insert(
            (zone.to_owned(), source),
            KeptLive {
                ingredients,
                matrix,
                times,
            },
        );
    }
}

impl CommitObserver for ZoneMatrices {
    fn committed(&self, commit: &Commit) {
        let shared = Footprint::of(&[Topic::Reference, Topic::Catalogue]);
        let whole = commit.touched.meets(&shared);
        for kept in self.lock().values_mut() {
            if whole {
                kept.drop_all();
                continue;
            }
            let touched: Vec<String> = kept
                .members
                .iter()
                .filter(|member| {
                    let guides = Footprint::default().in_regions(Topic::Guide, [member.as_str()]);
                    commit.touched.meets(&guides)
                })
                .cloned()
                .collect();
            if !touched.is_empty() {
                kept.epoch += 1;
                kept.matrix = None;
                for member in &touched {
                    kept.values.remove(member);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix() -> Arc<Matrix> {
        Arc::new(Matrix {
            zone: Zone {
                code: concord_domain::ZoneCode::try_from("YRD").unwrap(),
                name_zh: "长三角".into(),
                name_en: "Yangtze River Delta".into(),
                provenance: concord_domain::Provenance {
                    origin: concord_domain::Origin::National,
                    revision: 1,
                    illustrative: false,
                    created_at: chrono::DateTime::UNIX_EPOCH,
                    updated_at: chrono::DateTime::UNIX_EPOCH,
                },
            },
            members: Vec::new(),
            rows: Vec::new(),
            average_score: 0.5,
        })
    }

    fn values_of(regions: &[&str]) -> HashMap<String, MemberGuides> {
        regions
            .iter()
            .map(|r| (r.to_string(), MemberGuides::default()))
            .collect()
    }

    fn commit(version: i64, touched: Footprint) -> Commit {
        Commit { version, touched }
    }

    fn guides_of(region: &str) -> Footprint {
        Footprint::default().in_regions(Topic::Guide, [region])
    }

    fn built(matrices: &ZoneMatrices, members: &[String]) -> u64 {
        match matrices.start("YRD", members) {
            Start::Build { epoch, .. } => epoch,
            Start::Kept(_) => panic!("nothing should be kept yet"),
        }
    }

    #[test]
    fn a_members_commit_drops_only_that_members_values() {
        let matrices = ZoneMatrices::default();
        let members: Vec<String> = ["310000", "320000"].map(String::from).to_vec();
        let epoch = built(&matrices, &members);
        matrices.store("YRD", epoch, values_of(&["310000", "320000"]), matrix());
        assert!(matrices.get("YRD").is_some());

        matrices.committed(&commit(1, guides_of("440000")));
        assert!(matrices.get("YRD").is_some(), "not a member");
        matrices.committed(&commit(2, Footprint::of(&[Topic::Standard])));
        assert!(matrices.get("YRD").is_some(), "nothing the matrix read");

        matrices.committed(&commit(3, guides_of("320000")));
        assert!(matrices.get("YRD").is_none());
        match matrices.start("YRD", &members) {
            Start::Build { values, .. } => {
                assert!(values.contains_key("310000"));
                assert!(!values.contains_key("320000"), "re-read only Jiangsu");
            }
            Start::Kept(_) => panic!("the matrix was dropped"),
        }
    }

    #[test]
    fn a_build_overtaken_by_a_commit_is_not_kept() {
        let matrices = ZoneMatrices::default();
        let members: Vec<String> = ["310000", "320000"].map(String::from).to_vec();
        let epoch = built(&matrices, &members);
        matrices.committed(&commit(1, guides_of("310000")));
        matrices.store("YRD", epoch, values_of(&["310000", "320000"]), matrix());
        assert!(matrices.get("YRD").is_none());
    }

    #[test]
    fn a_catalogue_commit_drops_the_zone_whole() {
        let matrices = ZoneMatrices::default();
        let members: Vec<String> = ["310000"].map(String::from).to_vec();
        let epoch = built(&matrices, &members);
        matrices.store("YRD", epoch, values_of(&["310000"]), matrix());
        matrices.committed(&commit(1, Footprint::of(&[Topic::Catalogue])));
        match matrices.start("YRD", &members) {
            Start::Build { values, .. } => assert!(values.is_empty()),
            Start::Kept(_) => panic!("the matrix was dropped"),
        }
    }
}
