//! The loaders of lists: each key stands for a row, and its value is every
//! row (or code) related to it, one statement for all the keys of a batch.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use concord_persistence::entity::standard;
use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::queries;

use super::{
    ElevatedTo, LoadError, MattersOfStandard, MembersOfZone, RowLoader, StandardsOfMatter,
    SupersededBy, ZonesOfRegion, strings, visible_standard,
};

/// Groups `(group key, value)` pairs into a map with an entry for every key,
/// so that a key with no rows is cached as empty rather than loaded again.
fn grouped<K: Clone + Eq + std::hash::Hash, V>(
    keys: &[K],
    pairs: impl IntoIterator<Item = (K, V)>,
) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = keys.iter().map(|k| (k.clone(), Vec::new())).collect();
    for (key, value) in pairs {
        map.entry(key).or_default().push(value);
    }
    map
}

impl Loader<ZonesOfRegion> for RowLoader {
    type Value = Vec<String>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ZonesOfRegion],
    ) -> Result<HashMap<ZonesOfRegion, Vec<String>>, LoadError> {
        let reference = self.reference().await?;
        Ok(keys
            .iter()
            .map(|key| (key.clone(), reference.zones_of(&key.0).to_vec()))
            .collect())
    }
}

impl Loader<MembersOfZone> for RowLoader {
    type Value = Vec<String>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[MembersOfZone],
    ) -> Result<HashMap<MembersOfZone, Vec<String>>, LoadError> {
        let reference = self.reference().await?;
        Ok(keys
            .iter()
            .map(|key| (key.clone(), reference.members(&key.0).to_vec()))
            .collect())
    }
}

impl Loader<StandardsOfMatter> for RowLoader {
    type Value = Vec<String>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[StandardsOfMatter],
    ) -> Result<HashMap<StandardsOfMatter, Vec<String>>, LoadError> {
        let rows = queries::standard_links(
            self.reading(Footprint::of(&[Topic::Standard, Topic::Catalogue])),
            &[],
            &strings(keys, |k| &k.0),
        )
        .await
        .map_err(Arc::new)?;
        Ok(grouped(
            keys,
            rows.into_iter()
                .map(|l| (StandardsOfMatter(l.matter_code), l.standard_code)),
        ))
    }
}

impl Loader<MattersOfStandard> for RowLoader {
    type Value = Vec<String>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[MattersOfStandard],
    ) -> Result<HashMap<MattersOfStandard, Vec<String>>, LoadError> {
        let rows = queries::standard_links(
            self.reading(Footprint::of(&[Topic::Standard, Topic::Catalogue])),
            &strings(keys, |k| &k.0),
            &[],
        )
        .await
        .map_err(Arc::new)?;
        Ok(grouped(
            keys,
            rows.into_iter()
                .map(|l| (MattersOfStandard(l.standard_code), l.matter_code)),
        ))
    }
}

impl Loader<SupersededBy> for RowLoader {
    type Value = Vec<standard::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[SupersededBy],
    ) -> Result<HashMap<SupersededBy, Vec<standard::Model>>, LoadError> {
        let rows = queries::superseding(
            self.reading(Footprint::of(&[Topic::Standard])),
            &strings(keys, |k| &k.0),
        )
        .await
        .map_err(Arc::new)?;
        Ok(grouped(
            keys,
            rows.into_iter()
                .filter(|row| visible_standard(&self.visibility, row))
                .filter_map(|row| row.supersedes.clone().map(|old| (SupersededBy(old), row))),
        ))
    }
}

impl Loader<ElevatedTo> for RowLoader {
    type Value = Vec<standard::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ElevatedTo],
    ) -> Result<HashMap<ElevatedTo, Vec<standard::Model>>, LoadError> {
        let rows = queries::elevated_from(
            self.reading(Footprint::of(&[Topic::Standard])),
            &strings(keys, |k| &k.0),
        )
        .await
        .map_err(Arc::new)?;
        Ok(grouped(
            keys,
            rows.into_iter()
                .filter(|row| visible_standard(&self.visibility, row))
                .filter_map(|row| row.elevated_from.clone().map(|old| (ElevatedTo(old), row))),
        ))
    }
}

/// The kept versions of a row: its kind (`GUIDE`, `STANDARD`) and key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RevisionsOf(pub &'static str, pub String);

impl Loader<RevisionsOf> for RowLoader {
    type Value = Vec<concord_persistence::entity::row_revision::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[RevisionsOf],
    ) -> Result<HashMap<RevisionsOf, Self::Value>, LoadError> {
        let mut kinds: Vec<&'static str> = keys.iter().map(|k| k.0).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let mut pairs = Vec::new();
        for kind in kinds {
            let wanted: Vec<String> = keys
                .iter()
                .filter(|k| k.0 == kind)
                .map(|k| k.1.clone())
                .collect();
            let topic = match kind {
                "GUIDE" => Footprint::of(&[Topic::Guide]),
                "STANDARD" => Footprint::of(&[Topic::Standard]),
                _ => Footprint::everything(),
            };
            let rows = queries::revisions(self.reading(topic), kind, &wanted)
                .await
                .map_err(Arc::new)?;
            pairs.extend(
                rows.into_iter()
                    .map(|row| (RevisionsOf(kind, row.row_key.clone()), row)),
            );
        }
        Ok(grouped(keys, pairs))
    }
}

/// The members' decisions on a collaborative standard.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AdoptionsOf(pub String);

impl Loader<AdoptionsOf> for RowLoader {
    type Value = Vec<concord_persistence::entity::adoption::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[AdoptionsOf],
    ) -> Result<HashMap<AdoptionsOf, Self::Value>, LoadError> {
        let rows = queries::adoptions(
            self.reading(Footprint::of(&[Topic::Collaboration])),
            &strings(keys, |k| &k.0),
        )
        .await
        .map_err(Arc::new)?;
        Ok(grouped(
            keys,
            rows.into_iter()
                .map(|row| (AdoptionsOf(row.standard_code.clone()), row)),
        ))
    }
}
