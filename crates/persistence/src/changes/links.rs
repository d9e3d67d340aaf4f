//! The links between standards and matters that a page leaves, worked
//! out in page order from the codes each change lists.

use std::collections::{BTreeSet, HashMap, HashSet};

use concord_domain::RowKind;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::StoreError;
use crate::entity::{service_matter, standard, standard_matter};

use super::IncomingChange;
use super::apply::Applied;
use super::replicated::{KEYS_PER_STATEMENT, MAX_PARAMS};

/// Which codes of one kind exist at each point of a page. Matters,
/// standards and collaborative standards are never deleted, so a code
/// exists at a point when it did before the page or a change with a
/// record came for it earlier in the page (applied or not: if not, it was
/// stale, so the row was there).
pub(super) struct Presence<'a> {
    before: HashSet<String>,
    first: HashMap<&'a str, usize>,
}

impl<'a> Presence<'a> {
    pub(super) async fn load<E, C>(
        conn: &C,
        column: E::Column,
        codes: BTreeSet<&str>,
        page: &'a [IncomingChange],
        kind: RowKind,
    ) -> Result<Self, StoreError>
    where
        E: EntityTrait,
        C: ConnectionTrait,
    {
        let codes: Vec<&str> = codes.into_iter().collect();
        let mut before = HashSet::new();
        for chunk in codes.chunks(KEYS_PER_STATEMENT * 4) {
            let found: Vec<String> = E::find()
                .select_only()
                .column(column)
                .filter(column.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(conn)
                .await?;
            before.extend(found);
        }
        let mut first = HashMap::new();
        for (at, change) in page.iter().enumerate() {
            if change.record.is_some() && change.kind == kind.as_str() {
                first.entry(change.key.as_str()).or_insert(at);
            }
        }
        Ok(Self { before, first })
    }

    pub(super) fn at(&self, code: &str, at: usize) -> bool {
        self.before.contains(code) || self.first.get(code).is_some_and(|&first| first < at)
    }
}

/// The links of standards and matters that a page sets, worked out in page
/// order: each applied standard or matter makes its own links exactly the
/// listed ones that exist at that point, so a pair ends as the last change
/// of either side left it.
pub(super) struct Links<'a> {
    standards: Presence<'a>,
    pub(super) matters: Presence<'a>,
    /// Each side's last applied list: (position, linked codes).
    last_of_matter: HashMap<&'a str, (usize, &'a [String])>,
    last_of_standard: HashMap<&'a str, (usize, &'a [String])>,
}

impl<'a> Links<'a> {
    pub(super) async fn load<C: ConnectionTrait>(
        conn: &C,
        page: &'a [IncomingChange],
        matters: &'a [Applied<service_matter::Model>],
        standards: &'a [Applied<standard::Model>],
    ) -> Result<Self, StoreError> {
        // Later changes of a code replace earlier ones in the map.
        let last_of_matter: HashMap<_, _> = matters
            .iter()
            .map(|a| (page[a.at].key.as_str(), (a.at, a.linked.as_slice())))
            .collect();
        let last_of_standard: HashMap<_, _> = standards
            .iter()
            .map(|a| (page[a.at].key.as_str(), (a.at, a.linked.as_slice())))
            .collect();
        // Every list of the page, not only the last: relayed records need them.
        let standards_listed = matters
            .iter()
            .flat_map(|a| a.linked.iter().map(String::as_str))
            .collect();
        let matters_listed = standards
            .iter()
            .flat_map(|a| a.linked.iter().map(String::as_str))
            .collect();
        Ok(Self {
            standards: Presence::load::<standard::Entity, _>(
                conn,
                standard::Column::Code,
                standards_listed,
                page,
                RowKind::Standard,
            )
            .await?,
            matters: Presence::load::<service_matter::Entity, _>(
                conn,
                service_matter::Column::Code,
                matters_listed,
                page,
                RowKind::Matter,
            )
            .await?,
            last_of_matter,
            last_of_standard,
        })
    }

    /// Of the codes a change at `at` lists, those that exist at that point.
    pub(super) fn known<'b>(
        presence: &Presence<'_>,
        linked: &'b [String],
        at: usize,
    ) -> BTreeSet<&'b str> {
        linked
            .iter()
            .map(String::as_str)
            .filter(|code| presence.at(code, at))
            .collect()
    }

    /// What replaces the links of every standard and matter the page changed.
    pub(super) fn replacement(&self) -> LinkReplacement {
        let mut pairs = BTreeSet::new();
        for (&matter, &(at, standards)) in &self.last_of_matter {
            for code in Self::known(&self.standards, standards, at) {
                let overruled = self
                    .last_of_standard
                    .get(code)
                    .is_some_and(|&(later, _)| later > at);
                if !overruled {
                    pairs.insert((code.to_owned(), matter.to_owned()));
                }
            }
        }
        for (&standard, &(at, matters)) in &self.last_of_standard {
            for code in Self::known(&self.matters, matters, at) {
                let overruled = self
                    .last_of_matter
                    .get(code)
                    .is_some_and(|&(later, _)| later > at);
                if !overruled {
                    pairs.insert((standard.to_owned(), code.to_owned()));
                }
            }
        }
        LinkReplacement {
            matters: self.last_of_matter.keys().map(|&c| c.to_owned()).collect(),
            standards: self
                .last_of_standard
                .keys()
                .map(|&c| c.to_owned())
                .collect(),
            pairs,
        }
    }
}

/// The standards and matters whose links a page replaces, and their links
/// after it as (standard, matter) pairs.
pub(super) struct LinkReplacement {
    matters: Vec<String>,
    standards: Vec<String>,
    pairs: BTreeSet<(String, String)>,
}

impl LinkReplacement {
    pub(super) async fn write<C: ConnectionTrait>(self, conn: &C) -> Result<(), StoreError> {
        for (column, codes) in [
            (standard_matter::Column::MatterCode, self.matters),
            (standard_matter::Column::StandardCode, self.standards),
        ] {
            for chunk in codes.chunks(KEYS_PER_STATEMENT * 4) {
                standard_matter::Entity::delete_many()
                    .filter(column.is_in(chunk.iter().map(String::as_str)))
                    .exec(conn)
                    .await?;
            }
        }
        let mut pairs = self.pairs.into_iter().peekable();
        while pairs.peek().is_some() {
            let chunk = pairs
                .by_ref()
                .take(MAX_PARAMS / 2)
                .map(|(standard, matter)| standard_matter::ActiveModel {
                    standard_code: sea_orm::Set(standard),
                    matter_code: sea_orm::Set(matter),
                });
            standard_matter::Entity::insert_many(chunk)
                .exec_without_returning(conn)
                .await?;
        }
        Ok(())
    }
}
