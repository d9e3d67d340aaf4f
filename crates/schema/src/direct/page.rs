//! A Relay connection resolved directly.
//!
//! async-graphql's `Connection` resolves its edges through the generic list
//! and container paths: a boxed future for every edge, for its `node` and
//! `cursor`, polled in turn. For a page of 50 guides that is several hundred
//! futures before the guides' own fields. [`DirectPage`] is the same GraphQL
//! type (it registers itself as the derived connection does, so the SDL does
//! not change) but walks the selection once: `totalCount`, `pageInfo` and
//! cursors on the spot, and each node as [`Direct`] would, at once when its
//! selection is plain and awaited otherwise.

use std::borrow::Cow;
use std::sync::Arc;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{
    ContainerType, Context, ContextSelectionSet, OutputType, Positioned, ServerResult, Value,
};
use concord_persistence::queries::Page;
use futures::FutureExt;

use super::{Direct, Plain, insert, plain_items, resolve, selected};
use crate::pagination::Paged;

/// One page of `N`s with what Relay's `PageInfo` and `totalCount` report.
pub struct DirectPage<N> {
    /// Shared, so that a batch loader can hand the same page to every field
    /// that asked for it without copying its rows.
    page: Arc<Page<N>>,
    has_previous: bool,
    cursor: fn(&N) -> String,
}

impl<N> DirectPage<N> {
    /// `page`, reached after a cursor when `has_previous`, with each node's
    /// cursor made by `cursor`.
    pub fn new(page: Arc<Page<N>>, has_previous: bool, cursor: fn(&N) -> String) -> Self {
        Self {
            page,
            has_previous,
            cursor,
        }
    }
}

impl<N: Plain + ContainerType> OutputType for DirectPage<N> {
    fn type_name() -> Cow<'static, str> {
        Paged::<Direct<N>>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Paged::<Direct<N>>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let mut fields = Vec::new();
        selected(ctx, &Self::type_name(), &mut fields);
        let mut object = IndexMap::with_capacity(fields.len());
        for field in fields {
            let ctx = ctx.with_field(field);
            let value = match field.node.name.node.as_str() {
                "__typename" => Value::String(Self::type_name().into_owned()),
                "totalCount" => Value::Number(self.page.total.into()),
                "pageInfo" => self.page_info(&ctx),
                "edges" => self.edges(&ctx).await,
                "nodes" => Value::List(self.nodes(&ctx, None).await),
                // Validation admits no other field of a connection.
                _ => continue,
            };
            insert(&mut object, field.node.response_key().node.clone(), value);
        }
        Ok(Value::Object(object))
    }
}

impl<N: Plain + ContainerType> DirectPage<N> {
    fn page_info(&self, ctx: &Context<'_>) -> Value {
        let items = &self.page.items;
        let cursor =
            |item: Option<&N>| item.map_or(Value::Null, |n| Value::String((self.cursor)(n)));
        let mut fields = Vec::new();
        selected(
            &ctx.with_selection_set(&ctx.item.node.selection_set),
            "PageInfo",
            &mut fields,
        );
        let mut object = IndexMap::with_capacity(fields.len());
        for field in fields {
            let value = match field.node.name.node.as_str() {
                "__typename" => Value::String("PageInfo".to_owned()),
                "hasPreviousPage" => Value::Boolean(self.has_previous),
                "hasNextPage" => Value::Boolean(self.page.has_next),
                "startCursor" => cursor(items.first()),
                "endCursor" => cursor(items.last()),
                _ => continue,
            };
            insert(&mut object, field.node.response_key().node.clone(), value);
        }
        Value::Object(object)
    }

    /// Each edge with the fields its selection asks for, in order.
    async fn edges(&self, ctx: &Context<'_>) -> Value {
        let edge_type = format!("{}Edge", N::type_name());
        let mut fields = Vec::new();
        selected(
            &ctx.with_selection_set(&ctx.item.node.selection_set),
            &edge_type,
            &mut fields,
        );
        // Column by column: every edge's value of one selected field.
        let mut columns = Vec::with_capacity(fields.len());
        for &field in &fields {
            let items = &self.page.items;
            let column = match field.node.name.node.as_str() {
                "__typename" => vec![Value::String(edge_type.clone()); items.len()],
                "cursor" => items
                    .iter()
                    .map(|n| Value::String((self.cursor)(n)))
                    .collect(),
                "node" => self.nodes(ctx, Some(field)).await,
                _ => continue,
            };
            columns.push((field.node.response_key().node.clone(), column.into_iter()));
        }
        let edges = (0..self.page.items.len())
            .map(|_| {
                let mut edge = IndexMap::with_capacity(columns.len());
                for (key, column) in &mut columns {
                    if let Some(value) = column.next() {
                        insert(&mut edge, key.clone(), value);
                    }
                }
                Value::Object(edge)
            })
            .collect();
        Value::List(edges)
    }

    /// Every node of the list field `list` resolves: the list's own items
    /// (`nodes`) or, with `node`, that field of each edge. Each is resolved
    /// at once where its selection is plain, else awaited with the others,
    /// on its own path (`edges.3.node`) so that errors say where they are.
    async fn nodes(&self, list: &Context<'_>, node: Option<&Positioned<Field>>) -> Vec<Value> {
        let selection_set = node.map_or(&list.item.node.selection_set, |node| {
            &node.node.selection_set
        });
        let items = &self.page.items;
        let selection = list.with_selection_set(selection_set);
        let mut values = plain_items(items.iter(), &selection);
        let awaited: Vec<usize> = (0..items.len()).filter(|&i| values[i].is_none()).collect();
        if !awaited.is_empty() {
            let resolved = futures::future::join_all(awaited.into_iter().map(|index| {
                async move {
                    let item = list.with_index(index);
                    let value = match node {
                        Some(node) => {
                            let node_ctx = item.with_field(node);
                            resolve(&items[index], &node_ctx.with_selection_set(selection_set))
                                .await
                        }
                        None => {
                            resolve(&items[index], &item.with_selection_set(selection_set)).await
                        }
                    };
                    (index, value)
                }
                .boxed()
            }))
            .await;
            for (index, value) in resolved {
                values[index] = Some(value);
            }
        }
        values.into_iter().map(Option::unwrap_or_default).collect()
    }
}
