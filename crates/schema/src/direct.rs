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
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::{
    ContainerType, Context, ContextSelectionSet, InputType, Name, OutputType, Positioned,
    ScalarType, ServerResult, Value,
};
use chrono::{DateTime, Utc};
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
    let mut fields = Vec::new();
    selected(ctx, &this.introspection_type_name(), &mut fields);
    let mut object = IndexMap::with_capacity(fields.len());
    for field in fields {
        let value = plain_field(this, &ctx.with_field(field))?;
        insert(&mut object, field.node.response_key().node.clone(), value);
    }
    Some(Value::Object(object))
}

/// The items of a list field resolved at once, or `None` when the field's
/// selection needs an awaited field.
pub(crate) fn plain_list<'i, T: Plain + 'i>(
    items: impl IntoIterator<Item = &'i T>,
    ctx: &Context<'_>,
) -> Option<Value> {
    let selection = ctx.with_selection_set(&ctx.item.node.selection_set);
    items
        .into_iter()
        .map(|item| plain_object(item, &selection))
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
    match (object.get_mut(&key), value) {
        (None, value) => {
            object.insert(key, value);
        }
        (Some(Value::Object(earlier)), Value::Object(later)) => {
            for (key, value) in later {
                insert(earlier, key, value);
            }
        }
        (Some(Value::List(earlier)), Value::List(later)) => {
            for (earlier, later) in earlier.iter_mut().zip(later) {
                if let (Value::Object(earlier), Value::Object(later)) = (earlier, later) {
                    for (key, value) in later {
                        insert(earlier, key, value);
                    }
                }
            }
        }
        (Some(_), _) => {}
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

/// An enum value, or `None` when the stored text is not one, so that the
/// derived resolver reports the fault.
pub(crate) fn stored_enum<E: InputType, F>(
    stored: &str,
    parse: impl Fn(&str) -> Result<E, F>,
) -> Option<Value> {
    parse(stored).ok().map(|value| value.to_value())
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

/// The shared fields of an owned row (any model with the columns
/// `owned_object!` exposes).
macro_rules! owned {
    ($row:expr) => {
        $crate::direct::Owned {
            origin: &$row.origin,
            revision: $row.revision,
            illustrative: $row.illustrative,
            created_at: &$row.created_at,
            updated_at: &$row.updated_at,
        }
    };
}
pub(crate) use owned;

/// A field of a coded row with Chinese and English names (a region, a
/// zone, a category, a matter): the code, the names, or a shared field.
macro_rules! named {
    ($row:expr, $name:expr) => {
        match $name {
            "code" => Some($crate::direct::text(&$row.code)),
            "nameZh" => Some($crate::direct::text(&$row.name_zh)),
            "nameEn" => Some($crate::direct::text(&$row.name_en)),
            name => $crate::direct::owned!($row).field(name),
        }
    };
}
pub(crate) use named;

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
    use chrono::TimeZone;
    use std::collections::HashMap;
    use std::sync::Arc;

    use concord_domain::alignment::GuideValues;
    use concord_domain::{Channel, Fee, ProcedureStep};
    use concord_persistence::entity::{
        StepList, TextList, operating_procedure, region, service_guide, service_matter,
    };
    use serde_json::json;

    use super::*;
    use crate::alignment::{MatterAlignment, matter_row};
    use crate::pagination::{Paged, Totals};
    use crate::types::{
        Category, GuideRelations, OperatingProcedure, Region, ServiceGuide, ServiceMatter,
    };
    use async_graphql::connection::{Connection, Edge};
    use concord_persistence::entity::category;
    use concord_persistence::queries::Page;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, day, 8, 30, 15).unwrap()
    }

    fn guide() -> ServiceGuide {
        ServiceGuide::from(service_guide::Model {
            region_code: "330000".into(),
            matter_code: "SI-CARD".into(),
            time_limit_days: 7,
            fee_fen: 1250,
            materials: TextList(vec!["居民身份证".into(), "申请表".into()]),
            channels: TextList(vec!["COUNTER".into(), "CROSS_PROVINCE".into()]),
            legal_basis: "《社会保险法》".into(),
            guarantee_level: None,
            status: "PUBLISHED".into(),
            published_at: Some(at(2)),
            origin: "330000".into(),
            revision: 3,
            illustrative: true,
            created_at: at(1),
            updated_at: at(2),
        })
    }

    fn procedure() -> OperatingProcedure {
        let step = |name: &str, days| ProcedureStep {
            name: name.into(),
            actor: "经办机构".into(),
            time_limit_days: days,
        };
        OperatingProcedure(operating_procedure::Model {
            region_code: "330000".into(),
            matter_code: "SI-CARD".into(),
            steps: StepList(vec![step("受理", 1), step("办结", 6)]),
            status: "PUBLISHED".into(),
            origin: "330000".into(),
            revision: 1,
            illustrative: false,
            created_at: at(1),
            updated_at: at(3),
        })
    }

    fn matter() -> service_matter::Model {
        service_matter::Model {
            code: "SI-CARD".into(),
            name_zh: "社会保障卡申领".into(),
            name_en: "Social security card".into(),
            category_code: "SOCIAL_INSURANCE".into(),
            national_edition: None,
            national_number: None,
            served_groups: None,
            origin: "100000".into(),
            revision: 2,
            illustrative: false,
            created_at: at(1),
            updated_at: at(2),
        }
    }

    /// A guide whose page read its procedure, matter and category ahead.
    fn guide_ahead() -> ServiceGuide {
        let category = Category(category::Model {
            code: "SOCIAL_INSURANCE".into(),
            name_zh: "社会保险".into(),
            name_en: "Social insurance".into(),
            origin: "100000".into(),
            revision: 1,
            illustrative: false,
            created_at: at(1),
            updated_at: at(1),
        });
        let mut guide = guide();
        guide.1 = GuideRelations {
            procedure: Some(Some(procedure())),
            matter: Some(Some(ServiceMatter(matter(), Some(Some(category))))),
        };
        guide
    }

    /// A page of three guides, the last without a procedure.
    fn page() -> Page<ServiceGuide> {
        let mut second = guide_ahead();
        second.0.matter_code = "SI-PENSION".into();
        let mut third = guide_ahead();
        third.0.region_code = "340000".into();
        third.1.procedure = Some(None);
        Page {
            items: vec![guide_ahead(), second, third],
            has_next: true,
            total: 7,
        }
    }

    fn cursor(guide: &ServiceGuide) -> String {
        crate::pagination::encode(&[&guide.0.region_code, &guide.0.matter_code])
    }

    fn region() -> Region {
        Region(region::Model {
            code: "330000".into(),
            name_zh: "浙江省".into(),
            name_en: "Zhejiang".into(),
            abbr_zh: "浙".into(),
            abbr_pinyin: "Zhe".into(),
            iso_3166_2: "CN-ZJ".into(),
            kind: "PROVINCE".into(),
            pilot: true,
            pilot_note: Some("试点".into()),
            origin: "100000".into(),
            revision: 1,
            illustrative: false,
            created_at: at(1),
            updated_at: at(1),
        })
    }

    /// A row of a three-member matrix in which one member has no guide.
    fn matrix_row() -> MatterAlignment {
        let matter = matter();
        let guide = |region: &str, days, fee_fen| {
            let values = GuideValues {
                region: region.into(),
                time_limit_days: days,
                fee: Fee::from_fen(fee_fen).unwrap(),
                materials: vec!["居民身份证".into()],
                channels: vec![Channel::Counter, Channel::Online],
            };
            (
                region.to_owned(),
                Arc::new(HashMap::from([("SI-CARD".to_owned(), values)])),
            )
        };
        let members = ["310000", "320000", "330000"].map(String::from);
        let values = HashMap::from([guide("310000", 5, 0), guide("330000", 7, 1250)]);
        matter_row(matter, &members, &values)
    }

    /// Each object both ways: through `Direct` and through the derived
    /// resolver (`object…`, named to the same length so that error
    /// locations match).
    struct Sample;

    #[Object]
    impl Sample {
        async fn direct_guide(&self) -> Direct<ServiceGuide> {
            Direct(guide())
        }
        async fn object_guide(&self) -> ServiceGuide {
            guide()
        }
        async fn direct_ahead(&self) -> Direct<ServiceGuide> {
            Direct(guide_ahead())
        }
        async fn object_ahead(&self) -> ServiceGuide {
            guide_ahead()
        }
        async fn direct_page(&self) -> DirectPage<ServiceGuide> {
            DirectPage::new(Arc::new(page()), true, cursor)
        }
        async fn object_page(&self) -> Paged<Direct<ServiceGuide>> {
            let page = page();
            let totals = Totals {
                total_count: page.total as i64,
            };
            let mut connection = Connection::with_additional_fields(true, page.has_next, totals);
            connection.edges.extend(
                page.items
                    .into_iter()
                    .map(|guide| Edge::new(cursor(&guide), Direct(guide))),
            );
            connection
        }
        async fn direct_procedure(&self) -> Direct<OperatingProcedure> {
            Direct(procedure())
        }
        async fn object_procedure(&self) -> OperatingProcedure {
            procedure()
        }
        async fn direct_region(&self) -> Direct<Region> {
            Direct(region())
        }
        async fn object_region(&self) -> Region {
            region()
        }
        async fn direct_row(&self) -> Direct<MatterAlignment> {
            Direct(matrix_row())
        }
        async fn object_row(&self) -> MatterAlignment {
            matrix_row()
        }
    }

    type SampleSchema = Schema<Sample, EmptyMutation, EmptySubscription>;

    /// The answer, with its errors by path: GraphQL leaves their order to
    /// the order in which fields finish.
    async fn run(schema: &SampleSchema, query: &str) -> serde_json::Value {
        let mut answer = serde_json::to_value(schema.execute(query).await).unwrap();
        if let Some(errors) = answer["errors"].as_array_mut() {
            errors.sort_by_key(|error| error["path"].to_string());
        }
        answer
    }

    /// A selection of every field of `type_name` that takes no arguments,
    /// found by introspection so that a field added later is compared too:
    /// leaves by name, object fields with their own leaves, down to `depth`.
    async fn every_field(schema: &SampleSchema, type_name: &str, depth: usize) -> String {
        let query = format!(
            r#"{{ __type(name: "{type_name}") {{ fields {{ name args {{ name }}
                type {{ kind name ofType {{ kind name ofType {{ kind name ofType {{ kind name }} }} }} }} }} }} }}"#
        );
        let answer = run(schema, &query).await;
        let mut selection = Vec::new();
        for field in answer["data"]["__type"]["fields"].as_array().unwrap() {
            if !field["args"].as_array().unwrap().is_empty() {
                continue;
            }
            let mut ty = &field["type"];
            while ty["name"].is_null() {
                ty = &ty["ofType"];
            }
            let name = field["name"].as_str().unwrap();
            match ty["kind"].as_str().unwrap() {
                "SCALAR" | "ENUM" => selection.push(name.to_owned()),
                "OBJECT" if depth > 0 => {
                    let inner =
                        Box::pin(every_field(schema, ty["name"].as_str().unwrap(), depth - 1));
                    selection.push(format!("{name} {{ {} }}", inner.await));
                }
                _ => {}
            }
        }
        selection.join(" ")
    }

    async fn assert_same(schema: &SampleSchema, field: &str, selection: &str) {
        let fragments = if selection.contains("...Extra") {
            "fragment Extra on ServiceGuide { guaranteeLevel publishedAt }"
        } else {
            ""
        };
        let query =
            |how: &str| format!("{{ subject: {how}{field} {{ {selection} }} }} {fragments}");
        let direct = run(schema, &query("direct")).await;
        let derived = run(schema, &query("object")).await;
        assert_eq!(direct, derived, "{field} {{ {selection} }}");
        assert!(direct["data"]["subject"].is_object(), "{direct}");
    }

    #[tokio::test]
    async fn direct_objects_answer_as_the_derived_ones_do() {
        let schema = Schema::new(Sample, EmptyMutation, EmptySubscription);
        for (field, type_name) in [
            ("Guide", "ServiceGuide"),
            ("Ahead", "ServiceGuide"),
            ("Procedure", "OperatingProcedure"),
            ("Region", "Region"),
            ("Row", "MatterAlignment"),
        ] {
            let every = every_field(&schema, type_name, 2).await;
            assert!(every.split(' ').count() > 5, "{every}");
            assert_same(&schema, field, &every).await;
        }
        // Aliases, a field selected twice, fragments, `__typename`, and
        // awaited fields beside plain ones (the sample has no loader, so
        // they fail alike, with the same paths).
        assert_same(
            &schema,
            "Guide",
            "__typename again: matterCode matterCode ... on ServiceGuide { fee materials } \
             ...Extra ... { status } diff(from: 1, to: 3) { field } procedure { steps { name } }",
        )
        .await;
        assert_same(
            &schema,
            "Procedure",
            "steps { name } steps { actor position } ... on OperatingProcedure { total: totalTimeLimitDays }",
        )
        .await;
    }

    /// A direct page answers as async-graphql's connection does: page info,
    /// cursors, edges and nodes, aliases and fragments, relations read ahead
    /// and relations that must be awaited (which fail alike here).
    #[tokio::test]
    async fn direct_pages_answer_as_the_derived_ones_do() {
        let schema = Schema::new(Sample, EmptyMutation, EmptySubscription);
        let every = every_field(&schema, "ServiceGuide", 2).await;
        for selection in [
            format!("totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} edges {{ cursor node {{ {every} }} }}"),
            "__typename count: totalCount nodes { matterCode procedure { steps { name } } } \
             edges { __typename ... on ServiceGuideEdge { c: cursor } node { ... on ServiceGuide { fee } } } \
             pageInfo { __typename end: endCursor } edges { node { regionCode matter { category { code } } } }"
                .to_owned(),
            "edges { node { matterCode region { code } } } nodes { diff(from: 1, to: 3) { field } }".to_owned(),
        ] {
            assert_same(&schema, "Page", &selection).await;
        }
        let answer = run(
            &schema,
            "{ directPage { edges { node { procedure { revision } } } } }",
        )
        .await;
        assert_eq!(
            answer["data"]["directPage"]["edges"][2]["node"]["procedure"],
            serde_json::Value::Null
        );
        assert_eq!(
            answer["data"]["directPage"]["edges"][0]["node"]["procedure"]["revision"],
            1
        );
    }

    #[tokio::test]
    async fn merged_and_failing_fields_keep_their_answers() {
        let schema = Schema::new(Sample, EmptyMutation, EmptySubscription);
        let answer = run(
            &schema,
            "{ directGuide { matterCode feeFen channels status procedure { revision } } \
               directProcedure { steps { name } steps { position } } }",
        )
        .await;
        assert_eq!(
            answer["data"],
            json!({
                "directGuide": {
                    "matterCode": "SI-CARD",
                    "feeFen": 1250,
                    "channels": ["COUNTER", "CROSS_PROVINCE"],
                    "status": "PUBLISHED",
                },
                "directProcedure": {
                    "steps": [
                        { "name": "受理", "position": 1 },
                        { "name": "办结", "position": 2 },
                    ],
                },
            })
        );
        assert_eq!(
            answer["errors"][0]["path"],
            json!(["directGuide", "procedure"])
        );
    }
}
