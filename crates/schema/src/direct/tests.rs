use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
use chrono::TimeZone;
use std::collections::HashMap;
use std::sync::Arc;

use concord_domain::alignment::GuideValues;
use concord_domain::{
    CategoryCode, Channel, Fee, GuideDraft, GuideStatus, MatterCode, Origin, ProcedureStep,
    RegionCode, StandardCode, StandardLevel, StandardStatus, catalogue, geo, guide, standard,
};
use serde_json::json;

use super::*;
use crate::alignment::{MatterAlignment, matter_row};
use crate::pagination::{Paged, Totals};
use crate::types::{
    Category, GuideRelations, OperatingProcedure, Region, ServiceGuide, ServiceMatter, Standard,
    StandardRelations,
};
use async_graphql::connection::{Connection, Edge};
use concord_persistence::queries::Page;

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, 8, 30, 15).unwrap()
}

/// A national record's provenance, first stored at `at(1)`.
fn national() -> Provenance {
    Provenance {
        origin: Origin::National,
        revision: 1,
        illustrative: false,
        created_at: at(1),
        updated_at: at(1),
    }
}

/// Zhejiang's provenance for a record at `revision`, last changed on
/// `at(changed)`.
fn zhejiang(revision: i32, illustrative: bool, changed: u32) -> Provenance {
    Provenance {
        origin: Origin::Region(zhejiang_code()),
        revision,
        illustrative,
        created_at: at(1),
        updated_at: at(changed),
    }
}

fn zhejiang_code() -> RegionCode {
    RegionCode::try_from("330000").unwrap()
}

fn matter_code(code: &str) -> MatterCode {
    MatterCode::try_from(code).unwrap()
}

fn guide() -> ServiceGuide {
    ServiceGuide::from(guide::ServiceGuide {
        region: zhejiang_code(),
        matter: matter_code("SI-CARD"),
        content: GuideDraft {
            time_limit_days: 7,
            fee: Fee::from_fen(1250).unwrap(),
            materials: vec!["居民身份证".into(), "申请表".into()],
            channels: vec![Channel::Counter, Channel::CrossProvince],
            legal_basis: "《社会保险法》".into(),
            guarantee_level: None,
        },
        status: GuideStatus::Published,
        published_at: Some(at(2)),
        provenance: zhejiang(3, true, 2),
    })
}

fn procedure() -> OperatingProcedure {
    let step = |name: &str, days| ProcedureStep {
        name: name.into(),
        actor: "经办机构".into(),
        time_limit_days: days,
    };
    OperatingProcedure::from(guide::OperatingProcedure {
        region: zhejiang_code(),
        matter: matter_code("SI-CARD"),
        steps: vec![step("受理", 1), step("办结", 6)],
        status: GuideStatus::Published,
        provenance: zhejiang(1, false, 3),
    })
}

fn matter() -> catalogue::ServiceMatter {
    catalogue::ServiceMatter {
        code: matter_code("SI-CARD"),
        name_zh: "社会保障卡申领".into(),
        name_en: "Social security card".into(),
        category: CategoryCode::try_from("SOCIAL_INSURANCE").unwrap(),
        national_item: None,
        served_groups: None,
        provenance: Provenance {
            revision: 2,
            updated_at: at(2),
            ..national()
        },
    }
}

/// A guide whose page read its procedure, matter and category ahead.
fn guide_ahead() -> ServiceGuide {
    let category = Category(catalogue::Category {
        code: CategoryCode::try_from("SOCIAL_INSURANCE").unwrap(),
        name_zh: "社会保险".into(),
        name_en: "Social insurance".into(),
        provenance: national(),
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
    Arc::make_mut(&mut second.0).matter = matter_code("SI-PENSION");
    let mut third = guide_ahead();
    Arc::make_mut(&mut third.0).region = RegionCode::try_from("340000").unwrap();
    third.1.procedure = Some(None);
    Page {
        items: vec![guide_ahead(), second, third],
        has_next: true,
        total: 7,
    }
}

fn cursor(guide: &ServiceGuide) -> String {
    crate::pagination::encode(&[guide.0.region.as_str(), guide.0.matter.as_str()])
}

fn region() -> Region {
    Region(geo::Region {
        code: RegionCode::try_from("330000").unwrap(),
        name_zh: "浙江省".into(),
        name_en: "Zhejiang".into(),
        abbr_zh: "浙".into(),
        abbr_pinyin: "Zhe".into(),
        iso_3166_2: "CN-ZJ".into(),
        kind: concord_domain::RegionKind::Province,
        pilot: true,
        pilot_note: Some("试点".into()),
        provenance: national(),
    })
}

/// A local standard whose page read its two matters ahead, one of them
/// with its category.
fn standard_ahead() -> Standard {
    let category = guide_ahead().1.matter.unwrap().unwrap().1;
    let mut pension = matter();
    pension.code = matter_code("SI-PENSION");
    Standard(
        standard::Standard {
            code: standard_code("DB33/T 2030-2018"),
            title_zh: "社会保险经办服务规范".into(),
            title_en: "Social insurance handling service".into(),
            level: StandardLevel::Local,
            status: StandardStatus::InForce,
            issuing_region: Some(zhejiang_code()),
            issuing_zone: None,
            issued_on: Some(chrono::NaiveDate::from_ymd_opt(2018, 3, 1).unwrap()),
            effective_on: Some(chrono::NaiveDate::from_ymd_opt(2018, 4, 1).unwrap()),
            supersedes: None,
            review_on: None,
            elevated_from: None,
            note: "浙江省".into(),
            provenance: zhejiang(2, false, 4),
        },
        StandardRelations {
            matters: Some(vec![
                ServiceMatter(matter(), category),
                ServiceMatter(pension, None),
            ]),
        },
    )
}

/// A page of two standards, the second with no matter.
fn standard_page() -> Page<Standard> {
    let mut second = standard_ahead();
    second.0.code = standard_code("GB/T 33531-2017");
    second.0.level = StandardLevel::National;
    second.0.issuing_region = None;
    second.1.matters = Some(Vec::new());
    Page {
        items: vec![standard_ahead(), second],
        has_next: false,
        total: 2,
    }
}

fn standard_code(code: &str) -> StandardCode {
    StandardCode::try_from(code).unwrap()
}

fn standard_cursor(standard: &Standard) -> String {
    crate::pagination::encode(&[standard.0.code.as_str()])
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
    async fn direct_standard(&self) -> Direct<Standard> {
        Direct(standard_ahead())
    }
    async fn object_standard(&self) -> Standard {
        standard_ahead()
    }
    async fn direct_standards(&self) -> DirectPage<Standard> {
        DirectPage::new(Arc::new(standard_page()), false, standard_cursor)
    }
    async fn object_standards(&self) -> Paged<Direct<Standard>> {
        let page = standard_page();
        let totals = Totals {
            total_count: page.total as i64,
        };
        let mut connection = Connection::with_additional_fields(false, page.has_next, totals);
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|standard| Edge::new(standard_cursor(&standard), Direct(standard))),
        );
        connection
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
                let inner = Box::pin(every_field(schema, ty["name"].as_str().unwrap(), depth - 1));
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
    let query = |how: &str| format!("{{ subject: {how}{field} {{ {selection} }} }} {fragments}");
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
        ("Standard", "Standard"),
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
    let every = every_field(&schema, "Standard", 2).await;
    assert!(every.contains("matters { "), "{every}");
    for selection in [
        format!("totalCount pageInfo {{ hasNextPage startCursor endCursor }} edges {{ cursor node {{ {every} }} }}"),
        "nodes { code matters { code category { nameZh } } } edges { node { issuingRegion { code } } }"
            .to_owned(),
    ] {
        assert_same(&schema, "Standards", &selection).await;
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
