//! The API's object types. Each wraps a domain record that persistence read
//! from its row (a region, a zone, the catalogue's reference records, an
//! audit entry, an evaluation), or for the types still read as rows (guides,
//! procedures, standards, matters) the row itself, and exposes it field by
//! field, so that the SQL schema and the API can change independently.

mod catalogue;
mod decimal;
mod enums;
mod geo;
mod guide;
mod history;
mod standard;

pub use catalogue::{Category, NationalEdition, NationalItem, ServedGroup, ServiceMatter};
pub use decimal::Decimal;
pub(crate) use decimal::stored_fee;
pub use enums::{
    AuditAction, Channel, Decision, ElevationStatus, ElevationTarget, GuideStatus, ProposalStatus,
    RegionKind, RowKind, Settlement, StandardLevel, StandardStatus,
};
pub use geo::{Region, Zone};
pub use guide::{GuideRelations, OperatingProcedure, ServiceGuide};
pub use history::{AuditEntry, Evaluation, FieldChange, Revision, diff, kept_versions};
pub use standard::{Standard, StandardRelations};

use async_graphql::Context;
use async_graphql::dataloader::Loader;

use crate::context::loader;
use crate::error::{ApiError, OrApiError};
use crate::loader::{LoadError, RowLoader};

/// Loads one related row through the request's batch loader.
pub(crate) async fn load_one<K, T>(ctx: &Context<'_>, key: K) -> async_graphql::Result<Option<T>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    RowLoader: Loader<K, Error = LoadError>,
    T: From<<RowLoader as Loader<K>>::Value>,
{
    let row = loader(ctx)
        .or_api()?
        .load_one(key)
        .await
        .map_err(ApiError::from)
        .or_api()?;
    Ok(row.map(T::from))
}

/// Loads the rows of many keys, in the order of `keys`, skipping missing ones.
pub(crate) async fn load_many<K, T>(
    ctx: &Context<'_>,
    keys: Vec<K>,
) -> async_graphql::Result<Vec<T>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    RowLoader: Loader<K, Error = LoadError>,
    T: From<<RowLoader as Loader<K>>::Value>,
{
    let mut rows = loader(ctx)
        .or_api()?
        .load_many(keys.iter().cloned())
        .await
        .map_err(ApiError::from)
        .or_api()?;
    Ok(keys
        .iter()
        .filter_map(|key| rows.remove(key))
        .map(T::from)
        .collect())
}

/// Loads the rows that the list of codes under `list` names, each by the
/// key `key` makes of its code, in the list's order.
pub(crate) async fn load_listed<L, K, T>(
    ctx: &Context<'_>,
    list: L,
    key: fn(String) -> K,
) -> async_graphql::Result<Vec<T>>
where
    L: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    RowLoader: Loader<L, Value = Vec<String>, Error = LoadError>,
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    RowLoader: Loader<K, Error = LoadError>,
    T: From<<RowLoader as Loader<K>>::Value>,
{
    let codes = load_one::<_, Vec<String>>(ctx, list).await?;
    load_many(
        ctx,
        codes.unwrap_or_default().into_iter().map(key).collect(),
    )
    .await
}

/// Declares an object type over an owned row or record: the given fields,
/// then the fields every owned row shares. (A macro call inside an
/// `#[Object]` impl would be invisible to async-graphql, so the impl is
/// generated whole.) Its `origin` is a row's text or a record's
/// `Origin`: either reads `as_str`.
macro_rules! owned_object {
    ($(#[$doc:meta])* impl $name:ident { $($body:tt)* }) => {
        $(#[$doc])*
        #[async_graphql::Object]
        impl $name {
            $($body)*
            /// The region code of the authority that may change this row (`100000` for the nation).
            async fn origin(&self) -> &str {
                $crate::direct::Owns::owned(&self.0).origin
            }

            /// Starts at 1 and grows by one with each change.
            async fn revision(&self) -> i32 {
                $crate::direct::Owns::owned(&self.0).revision
            }

            /// True when this row is illustrative sample data, not official text.
            async fn illustrative(&self) -> bool {
                $crate::direct::Owns::owned(&self.0).illustrative
            }

            /// When this row was first stored.
            async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
                *$crate::direct::Owns::owned(&self.0).created_at
            }

            /// When this row last changed.
            async fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
                *$crate::direct::Owns::owned(&self.0).updated_at
            }

        }
    };
}
pub(crate) use owned_object;

/// Declares an object type over an owned record with a code and Chinese and
/// English names (a region, a zone, a category): those three fields first,
/// each with its own description, then the given fields, then the shared
/// ones of `owned_object!`.
macro_rules! named_object {
    (
        $(#[$doc:meta])*
        impl $name:ident {
            $(#[$code:meta])* code;
            $(#[$name_zh:meta])* name_zh;
            $(#[$name_en:meta])* name_en;
            $($body:tt)*
        }
    ) => {
        $crate::types::owned_object! {
            $(#[$doc])*
            impl $name {
                $(#[$code])*
                async fn code(&self) -> &str {
                    self.0.code.as_str()
                }

                $(#[$name_zh])*
                async fn name_zh(&self) -> &str {
                    &self.0.name_zh
                }

                $(#[$name_en])*
                async fn name_en(&self) -> &str {
                    &self.0.name_en
                }

                $($body)*
            }
        }
    };
}
pub(crate) use named_object;

/// A length as a GraphQL `Int`. Saturating: the lengths are of lists held in
/// memory, far below `i32::MAX`, and a count pinned at the top is less wrong
/// than the negative number an `as` cast would wrap it to.
pub(crate) fn count(len: usize) -> i32 {
    i32::try_from(len).unwrap_or(i32::MAX)
}
