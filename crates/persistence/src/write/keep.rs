//! What every upsert shares: comparing a record with the stored row,
//! writing the row with its revision and history, and bringing a matter's or
//! standard's links to exactly the wanted set.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait,
    IntoActiveModel, QueryFilter,
};

use crate::StoreError;
use crate::entity::{
    national_item, operating_procedure, service_guide, service_matter, standard, standard_matter,
};

use super::Outcome;

/// The columns that record a row's history rather than its content.
pub(crate) trait Bookkeeping {
    /// Takes `stored`'s origin, revision and timestamps, so that comparing
    /// with `stored` compares content only.
    fn keep_bookkeeping(&mut self, stored: &Self);
    /// Marks the row as changed at `now`.
    fn bump(&mut self, now: DateTime<Utc>);
}

macro_rules! bookkeeping {
    ($($model:path),+) => {$(
        impl Bookkeeping for $model {
            fn keep_bookkeeping(&mut self, stored: &Self) {
                self.origin.clone_from(&stored.origin);
                self.revision = stored.revision;
                self.created_at = stored.created_at;
                self.updated_at = stored.updated_at;
            }

            fn bump(&mut self, now: DateTime<Utc>) {
                self.revision += 1;
                self.updated_at = now;
            }
        }
    )+};
}

bookkeeping!(
    service_matter::Model,
    standard::Model,
    service_guide::Model,
    operating_procedure::Model,
    national_item::Model,
    crate::entity::evaluation::Model,
    crate::entity::baseline_exemption::Model,
    crate::entity::collaborative_standard::Model,
    crate::entity::adoption::Model,
    crate::entity::elevation_proposal::Model
);

/// Stores `row`: inserted with its own revision when nothing is stored,
/// else over the stored row, keeping its origin and creation time and
/// taking the next revision. Returns the row as stored.
pub(crate) async fn put<C, A, M>(
    conn: &C,
    stored: Option<&M>,
    mut row: M,
    now: DateTime<Utc>,
) -> Result<M, StoreError>
where
    C: ConnectionTrait,
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    M: IntoActiveModel<A> + Bookkeeping + Clone,
{
    match stored {
        Some(stored) => {
            row.keep_bookkeeping(stored);
            row.bump(now);
            row.clone()
                .into_active_model()
                .reset_all()
                .update_without_returning(conn)
                .await?;
        }
        None => {
            <A::Entity as EntityTrait>::insert(row.clone().into_active_model())
                .exec_without_returning(conn)
                .await?;
        }
    }
    Ok(row)
}

/// What storing `fresh` over `stored` does, and the row it leaves: `fresh`
/// when nothing is stored; else `fresh` over the stored row, keeping its
/// origin and creation time and taking the next revision, when its content
/// differs or `other_changes` says something tied to it (its links)
/// changed. An unchanged row is not to be written.
pub(crate) fn decide<M: Bookkeeping + PartialEq>(
    mut fresh: M,
    stored: Option<&M>,
    other_changes: bool,
    now: DateTime<Utc>,
) -> (Outcome, M) {
    let Some(stored) = stored else {
        return (Outcome::Inserted, fresh);
    };
    fresh.keep_bookkeeping(stored);
    if fresh == *stored && !other_changes {
        return (Outcome::Unchanged, fresh);
    }
    fresh.bump(now);
    (Outcome::Updated, fresh)
}

/// Inserts `fresh` when nothing is stored, or updates the stored row when
/// [`decide`] says so.
pub(super) async fn save<C, A, M>(
    conn: &C,
    fresh: M,
    stored: Option<M>,
    other_changes: bool,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError>
where
    C: ConnectionTrait,
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    M: IntoActiveModel<A> + Bookkeeping + PartialEq + Clone,
{
    let (outcome, row) = decide(fresh, stored.as_ref(), other_changes, now);
    match outcome {
        Outcome::Unchanged => {}
        Outcome::Inserted => {
            <A::Entity as EntityTrait>::insert(row.into_active_model())
                .exec_without_returning(conn)
                .await?;
        }
        Outcome::Updated => {
            row.into_active_model()
                .reset_all()
                .update_without_returning(conn)
                .await?;
        }
    }
    Ok(outcome)
}

/// Which side of `standard_matter` owns a list of links.
#[derive(Debug, Clone, Copy)]
pub(super) enum Side {
    Matter,
    Standard,
}

/// The links to add and remove so that one matter's (or standard's) links
/// are exactly a wanted set.
pub(super) struct LinkChange {
    side: Side,
    code: String,
    add: Vec<String>,
    remove: Vec<String>,
}

impl LinkChange {
    pub(super) async fn plan(
        conn: &impl ConnectionTrait,
        side: Side,
        code: &str,
        wanted: BTreeSet<String>,
    ) -> Result<Self, StoreError> {
        let (own, _) = Self::columns(side);
        let stored: BTreeSet<String> = standard_matter::Entity::find()
            .filter(own.eq(code))
            .all(conn)
            .await?
            .into_iter()
            .map(|link| match side {
                Side::Matter => link.standard_code,
                Side::Standard => link.matter_code,
            })
            .collect();
        Ok(Self {
            side,
            code: code.to_owned(),
            add: wanted.difference(&stored).cloned().collect(),
            remove: stored.difference(&wanted).cloned().collect(),
        })
    }

    /// The column naming the owner of the links, and the one naming the
    /// other end.
    fn columns(side: Side) -> (standard_matter::Column, standard_matter::Column) {
        match side {
            Side::Matter => (
                standard_matter::Column::MatterCode,
                standard_matter::Column::StandardCode,
            ),
            Side::Standard => (
                standard_matter::Column::StandardCode,
                standard_matter::Column::MatterCode,
            ),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }

    pub(super) async fn apply(self, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
        let (own, other) = Self::columns(self.side);
        if !self.remove.is_empty() {
            standard_matter::Entity::delete_many()
                .filter(own.eq(self.code.as_str()))
                .filter(other.is_in(self.remove))
                .exec(conn)
                .await?;
        }
        let links: Vec<standard_matter::ActiveModel> = self
            .add
            .into_iter()
            .map(|other| {
                let (standard_code, matter_code) = match self.side {
                    Side::Matter => (other, self.code.clone()),
                    Side::Standard => (self.code.clone(), other),
                };
                standard_matter::Model {
                    standard_code,
                    matter_code,
                }
                .into_active_model()
                .reset_all()
            })
            .collect();
        standard_matter::Entity::insert_many(links)
            .exec_without_returning(conn)
            .await?;
        Ok(())
    }
}
