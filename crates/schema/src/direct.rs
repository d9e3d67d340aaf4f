//! Direct resolution of the objects that pages list by the hundred.
//!
//! async-graphql resolves each field of an object as its own boxed future,
//! polled through a `FuturesUnordered`, after matching the field's name
//! against every field of the type in turn. That costs a few microseconds a
//! field, and a page of 50 guides with their procedures selects about a
//! thousand fields; a zone's alignment matrix selects twelve thousand.
//!
//! Most of those fields are values the object already holds. A [`Plain`]
//! type computes such a field on the spot, and [`Direct`] resolves an object
//! of that type by walking its selection once: plain fields at once, the
//! others (loaders, arguments) through the type's derived resolver, awaited
//! together. The derived `#[Object]` stays the one definition of the type's
//! fields, documentation and registration; `Direct` only changes how the
//! values are produced, and a test holds both ways to the same answers.

use std::borrow::Cow;

use async_graphql::indexmap::IndexMap;
use async_graphql::indexmap::map::Entry;
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::{
    ContainerType, Context, ContextSelectionSet, InputType, Name, OutputType, Positioned,
    ScalarType, ServerResult, Value,
};
use chrono::{DateTime, Utc};
use concord_domain::{Provenance, catalogue, geo, guide, standard};
use futures::FutureExt;

mod page;

pub use page::DirectPage;

/// An object type some of whose fields are values it holds.
pub(crate) trait Plain: OutputType {
    /// The value of the field `ctx` resolves, or `None` when it can only be
    /// had by awaiting the type's derived resolver.
    fn plain(&self, ctx: &Context<'_>) -> Option<Value>;
}

/// An object of type `T`, resolved without a future for each plain field.
/// It is the same GraphQL type as `T`.
pub struct Direct<T>(pub T);

impl<T: Plain + ContainerType> OutputType for Direct<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        Ok(resolve(&self.0, ctx).await)
    }
}

/// Resolves `this` on `ctx`'s selection: plain fields at once, the others
/// concurrently through the derived resolver. Errors are reported on the
/// request and leave their field out, as the derived resolver does.
async fn resolve<T: Plain + ContainerType>(this: &T, ctx: &ContextSelectionSet<'_>) -> Value {
    let mut fields = Vec::new();
    selected(ctx, &this.introspection_type_name(), &mut fields);
    let mut values = Vec::with_capacity(fields.len());
    let mut awaited = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        let value = plain_field(this, &ctx.with_field(field));
        if value.is_none() {
            awaited.push(index);
        }
        values.push(value);
    }
    if !awaited.is_empty() {
        // Boxed, as async-graphql boxes every field: object types refer to
        // each other, so an unboxed future type would contain itself.
        let resolved = futures::future::join_all(awaited.into_iter().map(|index| {
            let field = fields[index];
            async move { (index, this.resolve_field(&ctx.with_field(field)).await) }.boxed()
        }))
        .await;
        for (index, result) in resolved {
            match result {
                Ok(value) => values[index] = Some(value.unwrap_or_default()),
                Err(error) => ctx.add_error(error),
            }
        }
    }
    let mut object = IndexMap::with_capacity(fields.len());
    for (field, value) in fields.into_iter().zip(values) {
        if let Some(value) = value {
            insert(&mut object, field.node.response_key().node.clone(), value);
        }
    }
    if object.is_empty() {
        Value::Null
    } else {
        Value::Object(object)
    }
}

/// `this` resolved at once on `ctx`'s selection, or `None` when a field it
/// selects must be awaited.
pub(crate) fn plain_object<T: Plain>(this: &T, ctx: &ContextSelectionSet<'_>) -> Option<Value> {
    Selected::on(ctx, this.introspection_type_name()).object(ctx, |field| this.plain(field))
}

/// Each of `items` resolved at once on `ctx`'s selection, or `None` when a
/// field one of them selects must be awaited. The selection is walked once
/// for the list, not once an item.
pub(crate) fn plain_items<'i, T: Plain + 'i>(
    items: impl IntoIterator<Item = &'i T>,
    ctx: &ContextSelectionSet<'_>,
) -> Vec<Option<Value>> {
    let mut selected: Option<Selected<'_>> = None;
    items
        .into_iter()
        .map(|item| {
            let type_name = item.introspection_type_name();
            let selected = match &mut selected {
                Some(selected) if selected.type_name == type_name => selected,
                slot => slot.insert(Selected::on(ctx, type_name)),
            };
            selected.object(ctx, |field| item.plain(field))
        })
        .collect()
}

/// The items of a list field resolved at once, or `None` when the field's
/// selection needs an awaited field.
pub(crate) fn plain_list<'i, T: Plain + 'i>(
    items: impl IntoIterator<Item = &'i T>,
    ctx: &Context<'_>,
) -> Option<Value> {
    plain_items(items, &ctx.with_selection_set(&ctx.item.node.selection_set))
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .map(Value::List)
}

/// A list field of objects of type `T` resolved at once from `items`, which
/// are not `T`s but hold what its fields show: `field` gives the value of a
/// field of an item, or `None` for a field that must be awaited (and then
/// the whole list is `None`). It spares copying a stored list into `T`s
/// only to read them.
pub(crate) fn plain_list_as<T: OutputType, I>(
    items: impl IntoIterator<Item = I>,
    ctx: &Context<'_>,
    field: impl Fn(&I, &Context<'_>) -> Option<Value>,
) -> Option<Value> {
    let ctx = ctx.with_selection_set(&ctx.item.node.selection_set);
    let selected = Selected::on(&ctx, T::type_name());
    items
        .into_iter()
        .map(|item| selected.object(&ctx, |ctx| field(&item, ctx)))
        .collect::<Option<Vec<_>>>()
        .map(Value::List)
}

/// An object field resolved at once, or `None` when its selection needs an
/// awaited field.
pub(crate) fn plain_one<T: Plain>(item: &T, ctx: &Context<'_>) -> Option<Value> {
    plain_object(item, &ctx.with_selection_set(&ctx.item.node.selection_set))
}

fn plain_field<T: Plain>(this: &T, ctx: &Context<'_>) -> Option<Value> {
    if ctx.item.node.name.node == "__typename" {
        Some(Value::String(this.introspection_type_name().into_owned()))
    } else {
        this.plain(ctx)
    }
}

/// The fields a selection set selects on objects of one type, found once
/// for every object of that type built on it.
struct Selected<'a> {
    type_name: Cow<'static, str>,
    fields: Vec<&'a Positioned<Field>>,
}

impl<'a> Selected<'a> {
    fn on(ctx: &ContextSelectionSet<'a>, type_name: Cow<'static, str>) -> Self {
        let mut fields = Vec::new();
        selected(ctx, &type_name, &mut fields);
        Selected { type_name, fields }
    }

    /// The object whose fields `value` gives (`__typename` aside), or
    /// `None` when it gives none for one of them.
    fn object(
        &self,
        ctx: &ContextSelectionSet<'a>,
        value: impl Fn(&Context<'_>) -> Option<Value>,
    ) -> Option<Value> {
        let mut object = IndexMap::with_capacity(self.fields.len());
        for &field in &self.fields {
            let value = if field.node.name.node == "__typename" {
                Value::String(self.type_name.clone().into_owned())
            } else {
                value(&ctx.with_field(field))?
            };
            insert(&mut object, field.node.response_key().node.clone(), value);
        }
        Some(Value::Object(object))
    }
}

/// The fields `ctx` selects on an object of type `type_name`, in order, with
/// the fragments that apply to it spread in place. (`@skip` and `@include`
/// were applied before execution began.)
fn selected<'a>(
    ctx: &ContextSelectionSet<'a>,
    type_name: &str,
    fields: &mut Vec<&'a Positioned<Field>>,
) {
    for selection in &ctx.item.node.items {
        let (condition, selection_set) = match &selection.node {
            Selection::Field(field) => {
                fields.push(field);
                continue;
            }
            Selection::FragmentSpread(spread) => {
                // Validation has rejected unknown fragments.
                let Some(fragment) = ctx.query_env.fragments.get(&spread.node.fragment_name.node)
                else {
                    continue;
                };
                (
                    Some(fragment.node.type_condition.node.on.node.as_str()),
                    &fragment.node.selection_set,
                )
            }
            Selection::InlineFragment(fragment) => (
                fragment
                    .node
                    .type_condition
                    .as_ref()
                    .map(|condition| condition.node.on.node.as_str()),
                &fragment.node.selection_set,
            ),
        };
        let applies = condition.is_none_or(|condition| {
            condition == type_name
                || ctx
                    .schema_env
                    .registry
                    .implements
                    .get(type_name)
                    .is_some_and(|interfaces| interfaces.contains(condition))
        });
        if applies {
            selected(&ctx.with_selection_set(selection_set), type_name, fields);
        }
    }
}

/// Adds a field's value under its response key, merging it into what an
/// earlier selection of the same key produced, as GraphQL merges fields.
fn insert(object: &mut IndexMap<Name, Value>, key: Name, value: Value) {
    // One look-up: the key is hashed once, where `get_mut` then `insert`
    // hashed it twice for every field of every object.
    let earlier = match object.entry(key) {
        Entry::Vacant(vacant) => {
            vacant.insert(value);
            return;
        }
        Entry::Occupied(occupied) => occupied.into_mut(),
    };
    match (earlier, value) {
        (Value::Object(earlier), Value::Object(later)) => {
            for (key, value) in later {
                insert(earlier, key, value);
            }
        }
        (Value::List(earlier), Value::List(later)) => {
            for (earlier, later) in earlier.iter_mut().zip(later) {
                if let (Value::Object(earlier), Value::Object(later)) = (earlier, later) {
                    for (key, value) in later {
                        insert(earlier, key, value);
                    }
                }
            }
        }
        _ => {}
    }
}

/// A scalar as the derived resolver outputs it.
pub(crate) fn scalar<S: ScalarType>(value: &S) -> Value {
    value.to_value()
}

/// A string, which needs no conversion.
pub(crate) fn text(value: &str) -> Value {
    Value::String(value.to_owned())
}

/// A nullable string.
pub(crate) fn optional_text(value: Option<&str>) -> Value {
    value.map_or(Value::Null, text)
}

/// A closed-set value as the derived resolver outputs it.
pub(crate) fn closed<E: InputType>(value: impl Into<E>) -> Value {
    value.into().to_value()
}

/// The fields every owned row shares, as `owned_object!` declares them.
pub(crate) struct Owned<'r> {
    pub origin: &'r str,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: &'r DateTime<Utc>,
    pub updated_at: &'r DateTime<Utc>,
}

impl Owned<'_> {
    /// The shared field called `name`, if it is one.
    pub(crate) fn field(&self, name: &str) -> Option<Value> {
        Some(match name {
            "origin" => text(self.origin),
            "revision" => scalar(&self.revision),
            "illustrative" => scalar(&self.illustrative),
            "createdAt" => scalar(self.created_at),
            "updatedAt" => scalar(self.updated_at),
            _ => return None,
        })
    }
}

/// A row or record with the fields every owned one shares.
pub(crate) trait Owns {
    /// Those fields.
    fn owned(&self) -> Owned<'_>;
}

impl<T: Owns> Owns for &T {
    fn owned(&self) -> Owned<'_> {
        (**self).owned()
    }
}

impl<T: Owns> Owns for std::sync::Arc<T> {
    fn owned(&self) -> Owned<'_> {
        (**self).owned()
    }
}

impl Owns for Provenance {
    fn owned(&self) -> Owned<'_> {
        Owned {
            origin: self.origin.as_str(),
            revision: self.revision,
            illustrative: self.illustrative,
            created_at: &self.created_at,
            updated_at: &self.updated_at,
        }
    }
}

/// `Owns` for the domain's records, which hold the shared fields as their
/// `provenance`.
macro_rules! owns {
    ($($record:ty),+ $(,)?) => {
        $(impl Owns for $record {
            fn owned(&self) -> Owned<'_> {
                self.provenance.owned()
            }
        })+
    };
}

owns! {
    geo::Region, geo::Zone, catalogue::Category, catalogue::NationalEdition,
    catalogue::NationalItem, catalogue::ServiceMatter, standard::Standard, guide::ServiceGuide,
    guide::OperatingProcedure,
}

/// A field of a coded row or record with Chinese and English names (a
/// region, a zone, a category, a matter): the code, the names, or a shared
/// field. Its code is text or a domain code: either reads `as_str`.
macro_rules! named {
    ($row:expr, $name:expr) => {
        match $name {
            "code" => Some($crate::direct::text($row.code.as_str())),
            "nameZh" => Some($crate::direct::text(&$row.name_zh)),
            "nameEn" => Some($crate::direct::text(&$row.name_en)),
            name => $crate::direct::Owns::owned(&$row).field(name),
        }
    };
}
pub(crate) use named;

#[cfg(test)]
mod tests;
