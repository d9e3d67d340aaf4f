//! The loaders of lists: each key stands for a row, and its value is every
//! row (or code) related to it, one statement for all the keys of a batch.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use concord_domain::RowKind;
use concord_domain::audit::KeptVersion;
use concord_domain::standard::Standard;
use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::queries;
use concord_persistence::{DatabaseConnection, StoreError};

use super::{
    ElevatedTo, LoadError, MattersOfStandard, MembersOfZone, RowLoader, StandardsOfMatter,
    SupersededBy, ZonesOfRegion, strings, visible_standard,
};
use crate::reference::Reference;

/// Groups `(group key, value)` pairs into a map with an entry for every key,
/// so that a key with no rows is cached as empty rather than loaded again.
fn grouped<K: Clone + Eq + Hash, V>(
    keys: &[K],
    pairs: impl IntoIterator<Item = (K, V)>,
) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = keys.iter().map(|k| (k.clone(), Vec::new())).collect();
    for (key, value) in pairs {
        map.entry(key).or_default().push(value);
    }
    map
}

/// A loader whose value is a list: `$load` answers the whole batch `$keys`
/// (read through `$this`, the loader) with a map from key to list.
macro_rules! list_loader {
    ($key:ty, $value:ty, |$this:ident, $keys:ident| $load:expr) => {
        impl Loader<$key> for RowLoader {
            type Value = Vec<$value>;
            type Error = LoadError;

            async fn load(&self, $keys: &[$key]) -> Result<HashMap<$key, Vec<$value>>, LoadError> {
                let $this = self;
                $load.await
            }
        }
    };
}

impl RowLoader {
    /// The codes that `list` finds in the reference data for each key's code.
    async fn reference_lists<K: Clone + Eq + Hash>(
        &self,
        keys: &[K],
        code: impl Fn(&K) -> &str,
        list: impl Fn(&Reference, &str) -> Vec<String>,
    ) -> Result<HashMap<K, Vec<String>>, LoadError> {
        let reference = self.reference().await?;
        Ok(keys
            .iter()
            .map(|key| (key.clone(), list(&reference, code(key))))
            .collect())
    }

    /// The links between standards and matters, for the standards named in
    /// `standards` and the matters named in `matters`.
    async fn standard_links(
        &self,
        standards: &[String],
        matters: &[String],
    ) -> Result<Vec<concord_persistence::entity::standard_matter::Model>, LoadError> {
        queries::standard_links(
            self.reading(Footprint::of(&[Topic::Standard, Topic::Catalogue])),
            standards,
            matters,
        )
        .await
        .map_err(Arc::new)
    }

    /// The standards that `query` finds for the codes of `keys` and this
    /// reader may see, grouped under the key that `link` names for each (the
    /// standard it supersedes, or the one it was raised from).
    async fn visible_standards_by<K: Clone + Eq + Hash>(
        &self,
        keys: &[K],
        code: impl Fn(&K) -> &String,
        query: impl AsyncFn(&DatabaseConnection, &[String]) -> Result<Vec<Standard>, StoreError>,
        link: impl Fn(&Standard) -> Option<K>,
    ) -> Result<HashMap<K, Vec<Standard>>, LoadError> {
        let rows = query(
            self.reading(Footprint::of(&[Topic::Standard])),
            &strings(keys, code),
        )
        .await
        .map_err(Arc::new)?;
        Ok(grouped(
            keys,
            rows.into_iter()
                .filter(|row| visible_standard(&self.visibility, row))
                .filter_map(|row| link(&row).map(|key| (key, row))),
        ))
    }
}

list_loader!(ZonesOfRegion, String, |this, keys| this.reference_lists(
    keys,
    |k| &k.0,
    |reference, region| reference.zones_of(region).to_vec()
));

list_loader!(MembersOfZone, String, |this, keys| this.reference_lists(
    keys,
    |k| &k.0,
    |reference, zone| reference.members(zone).to_vec()
));

list_loader!(StandardsOfMatter, String, |this, keys| async {
    let rows = this.standard_links(&[], &strings(keys, |k| &k.0)).await?;
    Ok(grouped(
        keys,
        rows.into_iter()
            .map(|l| (StandardsOfMatter(l.matter_code), l.standard_code)),
    ))
});

list_loader!(MattersOfStandard, String, |this, keys| async {
    let rows = this.standard_links(&strings(keys, |k| &k.0), &[]).await?;
    Ok(grouped(
        keys,
        rows.into_iter()
            .map(|l| (MattersOfStandard(l.standard_code), l.matter_code)),
    ))
});

list_loader!(SupersededBy, Standard, |this, keys| this
    .visible_standards_by(
        keys,
        |k| &k.0,
        queries::superseding,
        |row| {
            row.supersedes
                .as_ref()
                .map(|code| SupersededBy(code.to_string()))
        }
    ));

list_loader!(ElevatedTo, Standard, |this, keys| this
    .visible_standards_by(
        keys,
        |k| &k.0,
        queries::elevated_from,
        |row| {
            row.elevated_from
                .as_ref()
                .map(|code| ElevatedTo(code.to_string()))
        }
    ));

/// The kept versions of a row: its kind and key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RevisionsOf(pub RowKind, pub String);

impl Loader<RevisionsOf> for RowLoader {
    type Value = Vec<KeptVersion>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[RevisionsOf],
    ) -> Result<HashMap<RevisionsOf, Self::Value>, LoadError> {
        let mut kinds: Vec<RowKind> = keys.iter().map(|k| k.0).collect();
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
                RowKind::Guide => Footprint::of(&[Topic::Guide]),
                RowKind::Procedure => Footprint::of(&[Topic::Procedure]),
                RowKind::Standard => Footprint::of(&[Topic::Standard]),
                RowKind::Exemption => Footprint::of(&[Topic::Catalogue]),
                // No other kind keeps its versions, so none is asked for.
                _ => Footprint::everything(),
            };
            let rows = queries::revisions(self.reading(topic), kind, &wanted)
                .await
                .map_err(Arc::new)?;
            pairs.extend(
                rows.into_iter()
                    .map(|version| (RevisionsOf(kind, version.key.clone()), version)),
            );
        }
        Ok(grouped(keys, pairs))
    }
}

/// The members' decisions on a collaborative standard.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AdoptionsOf(pub String);

list_loader!(
    AdoptionsOf,
    concord_domain::workflow::Adoption,
    |this, keys| async {
        let rows = queries::adoptions(
            this.reading(Footprint::of(&[Topic::Collaboration])),
            &strings(keys, |k| &k.0),
        )
        .await
        .map_err(Arc::new)?;
        Ok(grouped(
            keys,
            rows.into_iter()
                .map(|adoption| (AdoptionsOf(adoption.standard.to_string()), adoption)),
        ))
    }
);
