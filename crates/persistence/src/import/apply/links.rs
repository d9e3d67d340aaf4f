//! The links between the file's matters and standards, as stored and as the
//! records leave them, and the statements that bring the table there.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter};

use crate::StoreError;
use crate::changes::{KEYS_PER_STATEMENT, MAX_PARAMS};
use crate::entity::standard_matter;
use concord_domain::{MatterDraft, StandardDraft};

use super::stored_rows;

/// Which side of a link a list belongs to.
#[derive(Debug, Clone, Copy)]
pub(super) enum Side {
    Matter,
    Standard,
}

/// The links of the file's matters and standards: as stored, and as the
/// records so far leave them, from either side.
pub(super) struct Links {
    stored: BTreeSet<(String, String)>,
    standards_of: HashMap<String, BTreeSet<String>>,
    matters_of: HashMap<String, BTreeSet<String>>,
}

impl Links {
    pub(super) async fn load(
        conn: &impl ConnectionTrait,
        matters: &[MatterDraft],
        standards: &[StandardDraft],
    ) -> Result<Self, StoreError> {
        let mut stored = BTreeSet::new();
        let by_matter = stored_rows::<standard_matter::Entity, _, _>(
            conn,
            standard_matter::Column::MatterCode,
            matters.iter().map(|matter| matter.code.to_string()),
        )
        .await?;
        let by_standard = stored_rows::<standard_matter::Entity, _, _>(
            conn,
            standard_matter::Column::StandardCode,
            standards.iter().map(|standard| standard.code.to_string()),
        )
        .await?;
        for link in by_matter.into_iter().chain(by_standard) {
            stored.insert((link.standard_code, link.matter_code));
        }
        let mut links = Self {
            stored: BTreeSet::new(),
            standards_of: HashMap::new(),
            matters_of: HashMap::new(),
        };
        for (standard, matter) in &stored {
            links.link(standard, matter);
        }
        links.stored = stored;
        Ok(links)
    }

    pub(super) fn link(&mut self, standard: &str, matter: &str) {
        self.standards_of
            .entry(matter.to_owned())
            .or_default()
            .insert(standard.to_owned());
        self.matters_of
            .entry(standard.to_owned())
            .or_default()
            .insert(matter.to_owned());
    }

    pub(super) fn unlink(&mut self, standard: &str, matter: &str) {
        if let Some(set) = self.standards_of.get_mut(matter) {
            set.remove(standard);
        }
        if let Some(set) = self.matters_of.get_mut(standard) {
            set.remove(matter);
        }
    }

    /// The codes `code` links to now, in order.
    pub(super) fn of(&self, side: Side, code: &str) -> Vec<String> {
        let map = match side {
            Side::Matter => &self.standards_of,
            Side::Standard => &self.matters_of,
        };
        map.get(code)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Makes `code`'s links exactly `wanted`; returns whether they changed.
    pub(super) fn set(&mut self, side: Side, code: &str, wanted: BTreeSet<String>) -> bool {
        let current: BTreeSet<String> = self.of(side, code).into_iter().collect();
        let pair = |other: &str| match side {
            Side::Matter => (other.to_owned(), code.to_owned()),
            Side::Standard => (code.to_owned(), other.to_owned()),
        };
        let mut changed = false;
        for other in current.difference(&wanted) {
            let (standard, matter) = pair(other);
            self.unlink(&standard, &matter);
            changed = true;
        }
        for other in wanted.difference(&current) {
            let (standard, matter) = pair(other);
            self.link(&standard, &matter);
            changed = true;
        }
        changed
    }

    /// Writes the difference between the links now and as stored.
    pub(super) async fn write(self, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
        let now: BTreeSet<(String, String)> = self
            .matters_of
            .into_iter()
            .flat_map(|(standard, matters)| {
                matters
                    .into_iter()
                    .map(move |matter| (standard.clone(), matter))
            })
            .collect();
        let gone: Vec<_> = self.stored.difference(&now).collect();
        for chunk in gone.chunks(KEYS_PER_STATEMENT) {
            let matching = chunk
                .iter()
                .fold(Condition::any(), |any, (standard, matter)| {
                    any.add(
                        Condition::all()
                            .add(standard_matter::Column::StandardCode.eq(standard.as_str()))
                            .add(standard_matter::Column::MatterCode.eq(matter.as_str())),
                    )
                });
            standard_matter::Entity::delete_many()
                .filter(matching)
                .exec(conn)
                .await?;
        }
        let new: Vec<_> = now.difference(&self.stored).collect();
        for chunk in new.chunks(MAX_PARAMS / 2) {
            let links = chunk.iter().map(|(standard_code, matter_code)| {
                standard_matter::Model {
                    standard_code: standard_code.clone(),
                    matter_code: matter_code.clone(),
                }
                .into_active_model()
            });
            standard_matter::Entity::insert_many(links)
                .exec_without_returning(conn)
                .await?;
        }
        Ok(())
    }
}
