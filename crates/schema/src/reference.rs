//! The reference tables (regions, zones, their memberships and the service
//! categories) kept in memory between requests.
//!
//! Nearly every page names a region or a zone, and these tables change only
//! when reference data is seeded or imported. Reading them once and keeping
//! them saves a page up to three statements. A commit that touches
//! [`Topic::Reference`] drops the kept copy as the data watch reports it:
//! before the committing request returns in this process, and within the
//! watch's bound for another process, the same freshness the response cache
//! promises. A load that a commit overtakes is not kept.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use concord_domain::catalogue::Category;
use concord_domain::geo::{Region, Zone};
use concord_persistence::footprint::Topic;
use concord_persistence::queries;
use concord_persistence::watch::{Commit, CommitObserver};
use concord_persistence::{DatabaseConnection, StoreError};

use crate::kept::UntilCommit;

/// One consistent read of the reference tables.
#[derive(Debug, Default)]
pub struct Reference {
    regions: BTreeMap<String, Region>,
    zones: BTreeMap<String, Zone>,
    /// Each zone's members, by region code.
    members: HashMap<String, Vec<String>>,
    /// Each region's zones, by zone code.
    zones_of: HashMap<String, Vec<String>>,
    categories: BTreeMap<String, Category>,
}

impl Reference {
    /// Reads the reference tables in one transaction-free pass: four
    /// statements, whatever their size (33 regions, a few zones and
    /// categories).
    async fn load(db: &DatabaseConnection) -> Result<Self, StoreError> {
        let regions = queries::regions(db).await?;
        let zones = queries::zones(db).await?;
        let codes: Vec<String> = zones.iter().map(|zone| zone.code.to_string()).collect();
        let mut memberships = queries::members_of_zones(db, &codes).await?;
        let categories = queries::categories(db).await?;
        memberships
            .sort_by(|a, b| (&a.zone_code, &a.region_code).cmp(&(&b.zone_code, &b.region_code)));
        let mut reference = Self::default();
        for membership in memberships {
            reference
                .members
                .entry(membership.zone_code.clone())
                .or_default()
                .push(membership.region_code.clone());
            reference
                .zones_of
                .entry(membership.region_code)
                .or_default()
                .push(membership.zone_code);
        }
        reference.regions = regions
            .into_iter()
            .map(|r| (r.code.to_string(), r))
            .collect();
        reference.zones = zones.into_iter().map(|z| (z.code.to_string(), z)).collect();
        reference.categories = categories
            .into_iter()
            .map(|c| (c.code.to_string(), c))
            .collect();
        Ok(reference)
    }

    /// Every region, by code.
    pub fn regions(&self) -> impl Iterator<Item = &Region> {
        self.regions.values()
    }

    /// Every zone, by code.
    pub fn zones(&self) -> impl Iterator<Item = &Zone> {
        self.zones.values()
    }

    /// Every service category, by code.
    pub fn categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.values()
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.get(code)
    }

    pub fn region(&self, code: &str) -> Option<&Region> {
        self.regions.get(code)
    }

    pub fn zone(&self, code: &str) -> Option<&Zone> {
        self.zones.get(code)
    }

    /// A zone's members by region code; empty for an unknown zone.
    pub fn members(&self, zone: &str) -> &[String] {
        self.members.get(zone).map_or(&[], Vec::as_slice)
    }

    /// A region's zones by zone code; empty for a region in none.
    pub fn zones_of(&self, region: &str) -> &[String] {
        self.zones_of.get(region).map_or(&[], Vec::as_slice)
    }
}

/// The kept copy of the reference tables, shared by every request.
pub struct KeptReference {
    state: UntilCommit<Option<Arc<Reference>>>,
}

impl Default for KeptReference {
    fn default() -> Self {
        Self {
            state: UntilCommit::new(Topic::Reference),
        }
    }
}

impl KeptReference {
    /// The reference tables: the kept copy, or a fresh read that is kept
    /// unless a commit to them arrived while it ran.
    pub async fn get(&self, db: &DatabaseConnection) -> Result<Arc<Reference>, StoreError> {
        let epoch = match self.kept_or_epoch() {
            Ok(kept) => return Ok(kept),
            Err(epoch) => epoch,
        };
        let read = Arc::new(Reference::load(db).await?);
        self.keep(epoch, &read);
        Ok(read)
    }

    /// The kept copy, or the epoch a read starting now belongs to.
    fn kept_or_epoch(&self) -> Result<Arc<Reference>, u64> {
        let state = self.state.lock();
        state.kept.clone().ok_or(state.number)
    }

    /// Keeps a read that started at `epoch`, unless a commit has come since.
    fn keep(&self, epoch: u64, read: &Arc<Reference>) {
        let mut state = self.state.lock();
        if state.number == epoch {
            state.kept = Some(Arc::clone(read));
        }
    }
}

impl CommitObserver for KeptReference {
    fn committed(&self, commit: &Commit) {
        self.state.committed(commit);
    }
}

#[cfg(test)]
mod tests {
    use concord_persistence::{ConnectOptions, connect, migrate, seed};

    use super::*;
    use crate::kept::commit_touching;

    #[tokio::test]
    async fn the_kept_copy_lasts_until_a_commit_touches_reference_data() {
        let (db, statements) = connect(&ConnectOptions::new("sqlite::memory:"))
            .await
            .unwrap();
        migrate(&db).await.unwrap();
        seed::seed_reference(&db).await.unwrap();
        let kept = KeptReference::default();

        let first = kept.get(&db).await.unwrap();
        assert_eq!(first.region("330000").unwrap().name_zh, "浙江省");
        assert!(first.members("YRD").contains(&"330000".to_owned()));
        assert!(first.zones_of("330000").contains(&"YRD".to_owned()));
        assert!(first.members("NONE").is_empty());
        assert_eq!(
            first.category("SOCIAL_INSURANCE").unwrap().code.as_str(),
            "SOCIAL_INSURANCE"
        );
        assert!(first.categories().count() >= 4);

        let read = statements.get();
        let again = kept.get(&db).await.unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(statements.get(), read, "a kept copy costs no statement");

        kept.committed(&commit_touching(&[Topic::Guide, Topic::Catalogue]));
        assert!(Arc::ptr_eq(&first, &kept.get(&db).await.unwrap()));

        kept.committed(&commit_touching(&[Topic::Reference]));
        let reread = kept.get(&db).await.unwrap();
        assert!(!Arc::ptr_eq(&first, &reread));
        assert!(statements.get() > read);
    }

    #[test]
    fn a_read_that_a_commit_overtakes_is_not_kept() {
        let kept = KeptReference::default();
        let read = Arc::new(Reference::default());
        let epoch = kept.kept_or_epoch().unwrap_err();
        kept.committed(&commit_touching(&[Topic::Reference]));
        kept.keep(epoch, &read);
        assert!(kept.kept_or_epoch().is_err(), "the overtaken read was kept");

        let epoch = kept.kept_or_epoch().unwrap_err();
        kept.committed(&commit_touching(&[Topic::Guide]));
        kept.keep(epoch, &read);
        assert!(Arc::ptr_eq(&kept.kept_or_epoch().unwrap(), &read));
    }
}
