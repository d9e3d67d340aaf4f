//! Relay connections: opaque cursors, a capped page size, and `totalCount`.
//!
//! Every connection field reads its paging arguments through
//! [`ConnectionArgs`], so the page size's default and cap, how a cursor is
//! decoded and what a bad one is are decided here and nowhere else. The API
//! pages forwards only (`first` and `after`); no field takes `last` or
//! `before`.

use std::sync::Arc;

use async_graphql::SimpleObject;
use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, OutputType};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use concord_domain::RowKind;
use concord_persistence::conflicts::ConflictKey;
use concord_persistence::queries::{Page, PageRequest};

use crate::direct::DirectPage;
use crate::error::ApiError;

/// Page size when a query gives no `first`.
pub const DEFAULT_PAGE: i32 = 20;
/// The largest page a query may ask for.
pub const MAX_PAGE: i32 = 100;

/// What a connection adds to Relay's edges and page info.
#[derive(SimpleObject)]
pub struct Totals {
    /// How many rows match the filter, over all pages.
    pub total_count: i64,
}

/// A Relay connection with a total count.
pub type Paged<N> = Connection<String, N, Totals, EmptyFields>;

/// A connection field's paging arguments, checked: how many rows to read,
/// after which key, and whether to count them all. `K` is the key the
/// field's rows are ordered by, which its cursors carry.
#[derive(Debug, Clone)]
pub struct ConnectionArgs<K> {
    first: u64,
    after: Option<K>,
    count: bool,
}

impl<K: CursorKey> ConnectionArgs<K> {
    /// The arguments of a page of a list: `first` is 20 unless given and at
    /// most [`MAX_PAGE`]; `after` is a cursor this API returned.
    pub fn new(
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<&str>,
    ) -> Result<Self, ApiError> {
        Self::checked(ctx, page_size(first)?, after)
    }

    /// The arguments of a feed read in large pages, whose `first` is
    /// required and between 0 and `max`.
    pub fn feed(
        ctx: &Context<'_>,
        first: i32,
        max: i32,
        after: Option<&str>,
    ) -> Result<Self, ApiError> {
        if !(0..=max).contains(&first) {
            return Err(ApiError::bad_input(
                "first",
                format!("must be between 0 and {max}"),
            ));
        }
        Self::checked(ctx, first.unsigned_abs().into(), after)
    }

    fn checked(ctx: &Context<'_>, first: u64, after: Option<&str>) -> Result<Self, ApiError> {
        let after = after
            .map(|cursor| {
                key_of(cursor).ok_or_else(|| {
                    ApiError::bad_input("after", "is not a cursor returned by this API")
                })
            })
            .transpose()?;
        Ok(Self {
            first,
            after,
            // A count scans every matching row, so a client that does not
            // select `totalCount` does not pay for it.
            count: ctx.look_ahead().field("totalCount").exists(),
        })
    }
}

impl<K: Clone> ConnectionArgs<K> {
    /// What to ask persistence for.
    pub fn request(&self) -> PageRequest<K> {
        PageRequest {
            after: self.after.clone(),
            first: self.first,
            count: self.count,
        }
    }
}

impl<K> ConnectionArgs<K> {
    /// Whether rows come before this page: it starts after a cursor.
    fn has_previous(&self) -> bool {
        self.after.is_some()
    }

    /// The connection over `page`, each node's cursor made from its row by
    /// `cursor`.
    pub fn connection<R, N>(&self, page: Page<R>, cursor: impl Fn(&R) -> String) -> Paged<N>
    where
        N: From<R> + OutputType,
    {
        let mut connection = Connection::with_additional_fields(
            self.has_previous(),
            page.has_next,
            Totals {
                total_count: i64::try_from(page.total).unwrap_or(i64::MAX),
            },
        );
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|row| Edge::new(cursor(&row), N::from(row))),
        );
        connection
    }

    /// The connection over `page`, resolved directly ([`DirectPage`]).
    pub fn direct_page<N>(&self, page: Arc<Page<N>>, cursor: fn(&N) -> String) -> DirectPage<N> {
        DirectPage::new(page, self.has_previous(), cursor)
    }
}

/// Checks `first`, naming it in the error.
fn page_size(first: Option<i32>) -> Result<u64, ApiError> {
    match first.unwrap_or(DEFAULT_PAGE) {
        n if n < 0 => Err(ApiError::bad_input("first", "must not be negative")),
        n if n > MAX_PAGE => Err(ApiError::bad_input(
            "first",
            format!("must be at most {MAX_PAGE}; page with `after` for more"),
        )),
        n => Ok(n.unsigned_abs().into()),
    }
}

/// The cost of a connection field for the complexity limit: every returned
/// node costs what its selection costs.
pub fn cost(first: Option<i32>, child_complexity: usize) -> usize {
    let first = first
        .unwrap_or(DEFAULT_PAGE)
        .clamp(0, MAX_PAGE)
        .unsigned_abs() as usize;
    first.max(1) * child_complexity + 1
}

/// What one guide of a nested page costs for the complexity limit: about
/// a guide with its matter, materials and procedure steps.
const NESTED_GUIDE_COST: usize = 20;

/// The cost of a nested guide page. Its selection's own cost cannot be
/// used: the macro that declares owned-row objects hides async-graphql's
/// `child_complexity` from their fields. Pages nested in pages still
/// multiply, since the outer page counts this cost per node.
pub fn nested_cost(first: Option<i32>) -> usize {
    cost(first, NESTED_GUIDE_COST)
}

const VERSION: &str = "v1:";

/// Makes an opaque cursor from a row's key parts.
pub fn encode(parts: &[&str]) -> String {
    URL_SAFE_NO_PAD.encode(format!("{VERSION}{}", parts.join("\u{1f}")))
}

/// Reads a cursor made by [`encode`] into its key parts.
fn decode(cursor: &str) -> Option<Vec<String>> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let body = text.strip_prefix(VERSION)?;
    Some(body.split('\u{1f}').map(str::to_owned).collect())
}

/// Reads a cursor (or an ID made the same way) into the key it carries;
/// `None` if it is not one this API made for a `K`.
pub fn key_of<K: CursorKey>(cursor: &str) -> Option<K> {
    K::from_parts(decode(cursor)?)
}

/// A key that rows are paged by, as a cursor carries it: the parts given
/// to [`encode`], in order.
pub trait CursorKey: Sized {
    /// The key from a cursor's parts, or `None` if they are not one.
    fn from_parts(parts: Vec<String>) -> Option<Self>;
}

/// A code.
impl CursorKey for String {
    fn from_parts(parts: Vec<String>) -> Option<Self> {
        let [code] = <[String; 1]>::try_from(parts).ok()?;
        Some(code)
    }
}

/// A sequence number or ID.
impl CursorKey for i64 {
    fn from_parts(parts: Vec<String>) -> Option<Self> {
        String::from_parts(parts)?.parse().ok()
    }
}

/// A guide's region and matter.
impl CursorKey for (String, String) {
    fn from_parts(parts: Vec<String>) -> Option<Self> {
        let [first, second] = <[String; 2]>::try_from(parts).ok()?;
        Some((first, second))
    }
}

/// An evaluation's region, matter and period.
impl CursorKey for (String, String, String) {
    fn from_parts(parts: Vec<String>) -> Option<Self> {
        let [first, second, third] = <[String; 3]>::try_from(parts).ok()?;
        Some((first, second, third))
    }
}

/// A sync conflict's row and losing version.
impl CursorKey for ConflictKey {
    fn from_parts(parts: Vec<String>) -> Option<Self> {
        let [kind, row_key, loser_revision, loser_hash] = <[String; 4]>::try_from(parts).ok()?;
        Some(ConflictKey {
            kind: kind.parse::<RowKind>().ok()?,
            row_key,
            loser_revision: loser_revision.parse().ok()?,
            loser_hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let cursor = encode(&["330000", "SI-CARD"]);
        assert_eq!(
            key_of::<(String, String)>(&cursor).unwrap(),
            ("330000".to_owned(), "SI-CARD".to_owned())
        );
        assert!(key_of::<String>(&cursor).is_none());
        assert!(key_of::<String>("not base64!").is_none());
        assert!(key_of::<String>(&URL_SAFE_NO_PAD.encode("330000")).is_none());
        assert_eq!(key_of::<i64>(&encode(&["42"])), Some(42));
        assert!(key_of::<i64>(&encode(&["x"])).is_none());
    }

    #[test]
    fn page_sizes_are_capped() {
        assert_eq!(page_size(None).unwrap(), 20);
        assert_eq!(page_size(Some(100)).unwrap(), 100);
        assert_eq!(page_size(Some(0)).unwrap(), 0);
        let error = page_size(Some(101)).unwrap_err();
        assert!(matches!(error, ApiError::BadUserInput { ref field, .. } if field == "first"));
        assert!(page_size(Some(-1)).is_err());
    }
}
