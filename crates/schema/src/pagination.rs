//! Relay connections: opaque cursors, a capped page size, and `totalCount`.

use async_graphql::SimpleObject;
use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, OutputType};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use concord_persistence::queries::Page;

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

/// Whether the connection being resolved has `totalCount` selected: a count
/// scans every matching row, so a client that does not ask does not pay.
pub fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// Checks `first`, naming it in the error.
pub fn page_size(first: Option<i32>) -> Result<u64, ApiError> {
    match first.unwrap_or(DEFAULT_PAGE) {
        n if n < 0 => Err(ApiError::bad_input("first", "must not be negative")),
        n if n > MAX_PAGE => Err(ApiError::bad_input(
            "first",
            format!("must be at most {MAX_PAGE}; page with `after` for more"),
        )),
        n => Ok(n as u64),
    }
}

/// The cost of a connection field for the complexity limit: every returned
/// node costs what its selection costs.
pub fn cost(first: Option<i32>, child_complexity: usize) -> usize {
    let first = first.unwrap_or(DEFAULT_PAGE).clamp(0, MAX_PAGE) as usize;
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

/// Reads a cursor made by [`encode`] with `arity` key parts.
pub fn decode(cursor: &str, arity: usize) -> Result<Vec<String>, ApiError> {
    let invalid = || ApiError::bad_input("after", "is not a cursor returned by this API");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let body = text.strip_prefix(VERSION).ok_or_else(invalid)?;
    let parts: Vec<String> = body.split('\u{1f}').map(str::to_owned).collect();
    if parts.len() == arity {
        Ok(parts)
    } else {
        Err(invalid())
    }
}

/// Builds a connection from a page, with each node's cursor made from its key.
pub fn connection<R, N>(page: Page<R>, has_previous: bool, key: impl Fn(&R) -> String) -> Paged<N>
where
    N: From<R> + OutputType,
{
    let mut connection = Connection::with_additional_fields(
        has_previous,
        page.has_next,
        Totals {
            total_count: page.total as i64,
        },
    );
    connection.edges.extend(
        page.items
            .into_iter()
            .map(|row| Edge::new(key(&row), N::from(row))),
    );
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let cursor = encode(&["330000", "SI-CARD"]);
        assert_eq!(decode(&cursor, 2).unwrap(), ["330000", "SI-CARD"]);
        assert!(decode(&cursor, 1).is_err());
        assert!(decode("not base64!", 1).is_err());
        assert!(decode(&URL_SAFE_NO_PAD.encode("330000"), 1).is_err());
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
