//! Published service guides as CPSV-AP 3.2.0 JSON-LD: one `PublicService`
//! per guide, with its competent authority, requirements and evidence,
//! channels, cost, processing time, legal basis, classification and
//! operating procedure. `docs/cpsv-ap.md` is the mapping, field by field.
//!
//! [`load`] reads what a document needs; [`document`] is the mapping itself,
//! a pure function of those rows, so that the server and the CLI write the
//! same bytes for the same rows.

use std::collections::{HashMap, HashSet};
use std::fmt;

use concord_domain::{Channel, Fee, GuideStatus};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Map, Value, json};

use crate::StoreError;
use crate::entity::{
    category, national_item, operating_procedure, region, service_guide, service_matter,
};
use crate::queries;

/// The official JSON-LD context of CPSV-AP 3.2.0, unchanged (CC-BY 4.0,
/// European Union; see `assets/cpsv-ap-3.2.0/README.md`).
pub const CONTEXT: &str = include_str!("../../assets/cpsv-ap-3.2.0/cpsv-ap-context.jsonld");

/// The base IRI used when none is configured: a URN, because Concord's
/// node IRIs name things but are not meant to be dereferenced.
pub const DEFAULT_BASE_IRI: &str = "urn:concord:";

/// The EU Publications Office's currency table, which CPSV-AP's examples
/// use for `cv:currency`.
const CNY: &str = "http://publications.europa.eu/resource/authority/currency/CNY";

/// The prefixes the documents use for properties; class names come from the
/// official context.
fn prefixes() -> Value {
    json!({
        "cpsv": "http://purl.org/vocab/cpsv#",
        "cv": "http://data.europa.eu/m8g/",
        "dct": "http://purl.org/dc/terms/",
        "locn": "http://www.w3.org/ns/locn#",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "xsd": "http://www.w3.org/2001/XMLSchema#"
    })
}

/// The prefix of every node IRI a document mints, e.g. `urn:concord:` or
/// `https://hrss.example.gov.cn/id/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseIri(String);

impl BaseIri {
    /// Accepts an absolute IRI (a scheme, then `:`) that ends with `:`, `/`
    /// or `#`, so that appending a path gives an IRI, and that has no
    /// character an IRI may not contain.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let scheme = raw.split_once(':').map(|(scheme, _)| scheme);
        let scheme_ok = scheme.is_some_and(|s| {
            s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        if !scheme_ok {
            return Err(format!(
                "`{raw}` is not an absolute IRI such as `urn:concord:` or `https://example.org/id/`"
            ));
        }
        if raw
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"{}|\\^`".contains(c))
        {
            return Err(format!("`{raw}` contains a character an IRI may not hold"));
        }
        if !raw.ends_with([':', '/', '#']) {
            return Err(format!("`{raw}` must end with `:`, `/` or `#`"));
        }
        Ok(Self(raw.to_owned()))
    }

    fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

impl Default for BaseIri {
    fn default() -> Self {
        Self(DEFAULT_BASE_IRI.to_owned())
    }
}

impl fmt::Display for BaseIri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a document refers to the CPSV-AP context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextRef {
    /// Carry the whole context, so the file expands anywhere, offline.
    Embedded,
    /// Refer to it by this URL (a server's own `/contexts/…` path).
    Url(String),
}

/// How to write a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub base_iri: BaseIri,
    pub context: ContextRef,
}

/// Which published guides to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection<'a> {
    All,
    Region(&'a str),
    Guide { region: &'a str, matter: &'a str },
}

/// Why a selection names nothing that can be exported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Missing {
    #[error("there is no region `{0}`")]
    Region(String),
    #[error("there is no service matter `{0}`")]
    Matter(String),
    #[error("region `{region}` has no published guide for matter `{matter}`")]
    Guide { region: String, matter: String },
}

/// One published guide and every row its `PublicService` is drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub guide: service_guide::Model,
    pub region: region::Model,
    pub matter: service_matter::Model,
    pub category: category::Model,
    pub national_item: Option<national_item::Model>,
    pub procedure: Option<operating_procedure::Model>,
}

/// The published guides a selection names, by region then matter, with
/// their rows; drafts are never read. A fixed number of statements.
pub async fn load<C: ConnectionTrait>(
    conn: &C,
    selection: Selection<'_>,
) -> Result<Result<Vec<Service>, Missing>, StoreError> {
    let (region, matter) = match selection {
        Selection::All => (None, None),
        Selection::Region(region) => (Some(region), None),
        Selection::Guide { region, matter } => (Some(region), Some(matter)),
    };
    if let Some(code) = region
        && region::Entity::find_by_id(code).one(conn).await?.is_none()
    {
        return Ok(Err(Missing::Region(code.to_owned())));
    }
    if let Some(code) = matter
        && service_matter::Entity::find_by_id(code)
            .one(conn)
            .await?
            .is_none()
    {
        return Ok(Err(Missing::Matter(code.to_owned())));
    }
    let mut select = service_guide::Entity::find()
        .filter(service_guide::Column::Status.eq(GuideStatus::Published.as_str()));
    if let Some(code) = region {
        select = select.filter(service_guide::Column::RegionCode.eq(code));
    }
    if let Some(code) = matter {
        select = select.filter(service_guide::Column::MatterCode.eq(code));
    }
    let guides = select
        .order_by_asc(service_guide::Column::RegionCode)
        .order_by_asc(service_guide::Column::MatterCode)
        .all(conn)
        .await?;
    if let (Some(region), Some(matter), true) = (region, matter, guides.is_empty()) {
        return Ok(Err(Missing::Guide {
            region: region.to_owned(),
            matter: matter.to_owned(),
        }));
    }
    Ok(Ok(assemble(conn, guides).await?))
}

/// The rows around each guide, read in one statement per table.
async fn assemble<C: ConnectionTrait>(
    conn: &C,
    guides: Vec<service_guide::Model>,
) -> Result<Vec<Service>, StoreError> {
    let distinct = |codes: Vec<String>| -> Vec<String> {
        let set: HashSet<String> = codes.into_iter().collect();
        set.into_iter().collect()
    };
    let region_codes = distinct(guides.iter().map(|g| g.region_code.clone()).collect());
    let matter_codes = distinct(guides.iter().map(|g| g.matter_code.clone()).collect());
    let regions: HashMap<String, region::Model> = queries::regions_by_codes(conn, &region_codes)
        .await?
        .into_iter()
        .map(|r| (r.code.clone(), r))
        .collect();
    let matters: HashMap<String, service_matter::Model> =
        queries::matters_by_codes(conn, &matter_codes)
            .await?
            .into_iter()
            .map(|m| (m.code.clone(), m))
            .collect();
    let category_codes = distinct(matters.values().map(|m| m.category_code.clone()).collect());
    let categories: HashMap<String, category::Model> =
        queries::categories_by_codes(conn, &category_codes)
            .await?
            .into_iter()
            .map(|c| (c.code.clone(), c))
            .collect();
    let item_keys: Vec<(i32, i32)> = matters
        .values()
        .filter_map(|m| Some((m.national_edition?, m.national_number?)))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let items: HashMap<(i32, i32), national_item::Model> =
        queries::national_items_by_keys(conn, &item_keys)
            .await?
            .into_iter()
            .map(|i| ((i.edition, i.number), i))
            .collect();
    let keys: Vec<queries::GuideKey> = guides
        .iter()
        .map(|g| (g.region_code.clone(), g.matter_code.clone()))
        .collect();
    let mut procedures: HashMap<queries::GuideKey, operating_procedure::Model> =
        // Only what the public sees: a draft procedure is not exported.
        queries::procedures_by_keys(conn, &keys, &queries::Visibility::Public)
            .await?
            .into_iter()
            .map(|p| ((p.region_code.clone(), p.matter_code.clone()), p))
            .collect();
    guides
        .into_iter()
        .map(|guide| {
            let corrupt = |what: &str| {
                StoreError::Corrupt(format!(
                    "guide {}/{} refers to a missing {what}",
                    guide.region_code, guide.matter_code
                ))
            };
            let region = regions
                .get(&guide.region_code)
                .cloned()
                .ok_or_else(|| corrupt("region"))?;
            let matter = matters
                .get(&guide.matter_code)
                .cloned()
                .ok_or_else(|| corrupt("matter"))?;
            let category = categories
                .get(&matter.category_code)
                .cloned()
                .ok_or_else(|| corrupt("category"))?;
            let national_item = match (matter.national_edition, matter.national_number) {
                (Some(edition), Some(number)) => Some(
                    items
                        .get(&(edition, number))
                        .cloned()
                        .ok_or_else(|| corrupt("national item"))?,
                ),
                _ => None,
            };
            let procedure =
                procedures.remove(&(guide.region_code.clone(), guide.matter_code.clone()));
            Ok(Service {
                guide,
                region,
                matter,
                category,
                national_item,
                procedure,
            })
        })
        .collect()
}

/// The JSON-LD document of these services: one `@graph` holding each
/// `PublicService` and the nodes it points at, every shared node (a region,
/// a category, a channel type) once.
pub fn document(services: &[Service], options: &Options) -> Result<Value, StoreError> {
    let mut graph = Graph::default();
    for service in services {
        map_service(&mut graph, service, &options.base_iri)?;
    }
    let official = match &options.context {
        ContextRef::Embedded => {
            let parsed: Value = serde_json::from_str(CONTEXT)
                .map_err(|e| StoreError::Corrupt(format!("the CPSV-AP context: {e}")))?;
            parsed
                .get("@context")
                .cloned()
                .ok_or_else(|| StoreError::Corrupt("the CPSV-AP context has no @context".into()))?
        }
        ContextRef::Url(url) => Value::String(url.clone()),
    };
    Ok(json!({
        "@context": [official, prefixes()],
        "@graph": graph.nodes,
    }))
}

/// The nodes written so far, and the IRIs of those that several services share.
#[derive(Default)]
struct Graph {
    nodes: Vec<Value>,
    shared: HashSet<String>,
}

impl Graph {
    fn push(&mut self, node: Value) {
        self.nodes.push(node);
    }

    /// Adds a node that several services point at, the first time only.
    fn share(&mut self, iri: &str, node: impl FnOnce() -> Value) {
        if self.shared.insert(iri.to_owned()) {
            self.nodes.push(node());
        }
    }
}

fn zh(text: &str) -> Value {
    json!({ "@language": "zh", "@value": text })
}

fn en(text: &str) -> Value {
    json!({ "@language": "en", "@value": text })
}

/// A `zh` text and, when there is one, its `en` counterpart: English names
/// are optional in Concord, and an empty `en` literal would say nothing.
fn zh_en(zh_text: &str, en_text: &str) -> Value {
    if en_text.trim().is_empty() {
        json!([zh(zh_text)])
    } else {
        json!([zh(zh_text), en(en_text)])
    }
}

fn link(iri: &str) -> Value {
    json!({ "@id": iri })
}

/// A time limit in working days as an `xsd:duration`. The guide's days are
/// working days (工作日) and a duration has no such unit, so `P{n}D` carries
/// the number and the service's description says they are working days;
/// converting to calendar days would depend on weekends and holidays the
/// guide does not fix.
pub fn processing_time(working_days: i32) -> Value {
    json!({ "@value": format!("P{working_days}D"), "@type": "xsd:duration" })
}

/// A fee as the profile's `xsd:double` value, written from the fen count
/// (`12.50`), never through a float, so the lexical form is the exact amount.
pub fn cost_value(fee: Fee) -> Value {
    json!({ "@value": fee.to_string(), "@type": "xsd:double" })
}

fn channel_labels(channel: Channel) -> (&'static str, &'static str) {
    match channel {
        Channel::Counter => ("窗口办理", "At a service counter"),
        Channel::Online => ("网上办理", "Online"),
        Channel::Mobile => ("掌上办理", "On a mobile app"),
        Channel::CrossProvince => ("跨省通办", "In any province (cross-province service)"),
    }
}

fn map_service(graph: &mut Graph, service: &Service, base: &BaseIri) -> Result<(), StoreError> {
    let Service {
        guide,
        region,
        matter,
        category,
        national_item,
        procedure,
    } = service;
    // The service goes before the nodes made for it, so a reader meets it first.
    let at = graph.nodes.len();
    let key = format!("{}/{}", guide.region_code, guide.matter_code);
    let corrupt = |what: String| StoreError::Corrupt(format!("guide {key}: {what}"));
    let fee = Fee::from_fen(guide.fee_fen).map_err(&corrupt)?;
    let channels = guide
        .channels
        .0
        .iter()
        .map(|c| c.parse::<Channel>().map_err(|e| corrupt(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let iri = base.join(&format!("service/{key}"));
    let matter_en = if matter.name_en.trim().is_empty() {
        matter.code.as_str()
    } else {
        matter.name_en.as_str()
    };

    let organisation = base.join(&format!("organisation/{}", region.code));
    let location = base.join(&format!("location/{}", region.code));
    graph.share(&location, || {
        json!({
            "@id": location,
            "@type": "Location",
            "dct:identifier": region.code,
            "locn:geographicName": zh_en(&region.name_zh, &region.name_en),
        })
    });
    graph.share(&organisation, || {
        json!({
            "@id": organisation,
            "@type": "PublicOrganization",
            "dct:identifier": region.code,
            "skos:prefLabel": zh_en(&region.name_zh, &region.name_en),
            "dct:spatial": link(&location),
        })
    });

    let mut classified = Vec::new();
    let matter_concept = base.join(&format!("matter/{}", matter.code));
    graph.share(&matter_concept, || {
        json!({
            "@id": matter_concept,
            "@type": "Concept",
            "skos:notation": matter.code,
            "skos:prefLabel": zh_en(&matter.name_zh, &matter.name_en),
        })
    });
    classified.push(link(&matter_concept));
    if let Some(item) = national_item {
        let concept = base.join(&format!("national-item/{}/{}", item.edition, item.number));
        graph.share(&concept, || {
            json!({
                "@id": concept,
                "@type": "Concept",
                "skos:notation": format!("{}-{}", item.edition, item.number),
                "skos:prefLabel": zh_en(&item.name_zh, &item.name_en),
            })
        });
        classified.push(link(&concept));
    }
    let category_concept = base.join(&format!("category/{}", category.code));
    graph.share(&category_concept, || {
        json!({
            "@id": category_concept,
            "@type": "Concept",
            "skos:notation": category.code,
            "skos:prefLabel": zh_en(&category.name_zh, &category.name_en),
        })
    });

    let mut requirements = Vec::new();
    let mut evidence = Vec::new();
    for (index, material) in guide.materials.0.iter().enumerate() {
        let n = index + 1;
        let requirement = format!("{iri}/requirement/{n}");
        let proof = format!("{iri}/evidence/{n}");
        graph.push(json!({
            "@id": requirement,
            "@type": "Requirement",
            "dct:identifier": format!("{key}/requirement/{n}"),
            "dct:title": zh(&format!("提交{material}")),
            "cv:hasSupportingEvidence": link(&proof),
        }));
        graph.push(json!({
            "@id": proof,
            "@type": "Evidence",
            "dct:identifier": format!("{key}/evidence/{n}"),
            "dct:title": zh(material),
            "cv:supportsRequirement": link(&requirement),
        }));
        requirements.push(link(&requirement));
        evidence.push(link(&proof));
    }

    let mut channel_links = Vec::new();
    for channel in &channels {
        let code = channel.as_str();
        let kind = base.join(&format!("channel-type/{code}"));
        let (label_zh, label_en) = channel_labels(*channel);
        graph.share(&kind, || {
            json!({
                "@id": kind,
                "@type": "Concept",
                "skos:notation": code,
                "skos:prefLabel": [zh(label_zh), en(label_en)],
            })
        });
        let node = format!("{iri}/channel/{code}");
        graph.push(json!({
            "@id": node,
            "@type": "Channel",
            "dct:identifier": format!("{key}/channel/{code}"),
            "dct:type": link(&kind),
        }));
        channel_links.push(link(&node));
    }

    graph.share(CNY, || {
        json!({
            "@id": CNY,
            "@type": "Concept",
            "skos:notation": "CNY",
            "skos:prefLabel": [zh("人民币"), en("Renminbi yuan")],
        })
    });
    let cost = format!("{iri}/cost");
    let fee_zh = if fee == Fee::FREE {
        "不收费".to_owned()
    } else {
        format!("{fee}元")
    };
    graph.push(json!({
        "@id": cost,
        "@type": "Cost",
        "dct:identifier": format!("{key}/cost"),
        "cv:hasValue": cost_value(fee),
        "cv:currency": link(CNY),
        "dct:description": [zh(&fee_zh), en(&format!("CNY {fee}"))],
    }));

    let legal = (!guide.legal_basis.trim().is_empty()).then(|| format!("{iri}/legal-basis"));
    if let Some(legal) = &legal {
        graph.push(json!({
            "@id": legal,
            "@type": "LegalResource",
            "dct:description": zh(&guide.legal_basis),
        }));
    }

    let rule = procedure
        .as_ref()
        .filter(|p| !p.steps.0.is_empty())
        .map(|p| {
            let node = format!("{iri}/procedure");
            let steps: Vec<String> = p
                .steps
                .0
                .iter()
                .enumerate()
                .map(|(i, step)| {
                    format!(
                        "{}. {}（{}，{}个工作日）",
                        i + 1,
                        step.name,
                        step.actor,
                        step.time_limit_days
                    )
                })
                .collect();
            let mut rule = Map::new();
            rule.insert("@id".into(), json!(node));
            rule.insert("@type".into(), json!("Rule"));
            rule.insert("dct:identifier".into(), json!(format!("{key}/procedure")));
            rule.insert(
                "dct:title".into(),
                json!([
                    zh(&format!("{}{}操作规程", region.name_zh, matter.name_zh)),
                    en(&format!("Operating procedure: {matter_en}")),
                ]),
            );
            rule.insert("dct:description".into(), zh(&steps.join("\n")));
            if let Some(legal) = &legal {
                rule.insert("cpsv:implements".into(), link(legal));
            }
            graph.push(Value::Object(rule));
            node
        });

    let days = guide.time_limit_days;
    let fee_en = if fee == Fee::FREE {
        "free of charge".to_owned()
    } else {
        format!("fee CNY {fee}")
    };
    let mut node = Map::new();
    node.insert("@id".into(), json!(iri));
    node.insert("@type".into(), json!("PublicService"));
    node.insert("dct:identifier".into(), json!(key));
    node.insert("dct:title".into(), zh_en(&matter.name_zh, &matter.name_en));
    node.insert(
        "dct:description".into(),
        json!([
            zh(&format!(
                "{}“{}”服务指南。办理时限：{days}个工作日；{fee_zh}。",
                region.name_zh, matter.name_zh
            )),
            en(&format!(
                "Service guide of {} for “{matter_en}”. Time limit: {days} working days; {fee_en}.",
                region_en(region)
            )),
        ]),
    );
    node.insert("cv:hasCompetentAuthority".into(), link(&organisation));
    node.insert("dct:spatial".into(), link(&location));
    node.insert("cv:thematicArea".into(), link(&category_concept));
    node.insert("cv:isClassifiedBy".into(), Value::Array(classified));
    node.insert("cv:processingTime".into(), processing_time(days));
    node.insert("cv:hasCost".into(), link(&cost));
    node.insert("cv:hasChannel".into(), Value::Array(channel_links));
    if !requirements.is_empty() {
        node.insert("cv:holdsRequirement".into(), Value::Array(requirements));
        node.insert("cpsv:hasInput".into(), Value::Array(evidence));
    }
    if let Some(legal) = &legal {
        node.insert("cv:hasLegalResource".into(), link(legal));
    }
    if let Some(rule) = &rule {
        node.insert("cpsv:follows".into(), link(rule));
    }
    graph.nodes.insert(at, Value::Object(node));
    Ok(())
}

/// A region's English name, or its code where it has none.
fn region_en(region: &region::Model) -> &str {
    if region.name_en.trim().is_empty() {
        &region.code
    } else {
        &region.name_en
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use concord_domain::ProcedureStep;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};

    use super::*;
    use crate::entity::{StepList, TextList};

    fn service(fee_fen: i64, time_limit_days: i32) -> Service {
        let at = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        Service {
            guide: service_guide::Model {
                region_code: "330000".into(),
                matter_code: "SI-PENSION-TRANSFER".into(),
                time_limit_days,
                fee_fen,
                materials: TextList(vec!["居民身份证".into(), "转移接续申请表".into()]),
                channels: TextList(vec!["COUNTER".into(), "CROSS_PROVINCE".into()]),
                legal_basis: "《中华人民共和国社会保险法》".into(),
                guarantee_level: None,
                status: "PUBLISHED".into(),
                published_at: Some(at),
                origin: "330000".into(),
                revision: 1,
                illustrative: true,
                created_at: at,
                updated_at: at,
            },
            region: region::Model {
                code: "330000".into(),
                name_zh: "浙江省".into(),
                name_en: "Zhejiang".into(),
                abbr_zh: "浙".into(),
                abbr_pinyin: "Zhe".into(),
                iso_3166_2: "CN-ZJ".into(),
                kind: "PROVINCE".into(),
                pilot: true,
                pilot_note: None,
                origin: "NATIONAL".into(),
                revision: 1,
                illustrative: false,
                created_at: at,
                updated_at: at,
            },
            matter: service_matter::Model {
                code: "SI-PENSION-TRANSFER".into(),
                name_zh: "养老保险关系转移".into(),
                name_en: String::new(),
                category_code: "SOCIAL_INSURANCE".into(),
                national_edition: Some(2023),
                national_number: Some(12),
                served_groups: None,
                origin: "NATIONAL".into(),
                revision: 1,
                illustrative: true,
                created_at: at,
                updated_at: at,
            },
            category: category::Model {
                code: "SOCIAL_INSURANCE".into(),
                name_zh: "社会保险".into(),
                name_en: "Social insurance".into(),
                origin: "NATIONAL".into(),
                revision: 1,
                illustrative: false,
                created_at: at,
                updated_at: at,
            },
            national_item: Some(national_item::Model {
                edition: 2023,
                number: 12,
                name_zh: "养老保险服务".into(),
                name_en: "Pension insurance services".into(),
                category_code: "SOCIAL_INSURANCE".into(),
                area_zh: String::new(),
                served_group: String::new(),
                served_groups: None,
                content: String::new(),
                baseline_standard: String::new(),
                funding_responsibility: String::new(),
                lead_department: String::new(),
                max_time_limit_days: None,
                max_fee_fen: None,
                required_channels: None,
                origin: "NATIONAL".into(),
                revision: 1,
                illustrative: true,
                created_at: at,
                updated_at: at,
            }),
            procedure: Some(operating_procedure::Model {
                region_code: "330000".into(),
                matter_code: "SI-PENSION-TRANSFER".into(),
                steps: StepList(vec![
                    ProcedureStep {
                        name: "受理".into(),
                        actor: "窗口人员".into(),
                        time_limit_days: 1,
                    },
                    ProcedureStep {
                        name: "审核".into(),
                        actor: "经办机构".into(),
                        time_limit_days: 3,
                    },
                ]),
                status: "PUBLISHED".into(),
                origin: "330000".into(),
                revision: 1,
                illustrative: true,
                created_at: at,
                updated_at: at,
            }),
        }
    }

    fn options() -> Options {
        Options {
            base_iri: BaseIri::default(),
            context: ContextRef::Url("http://127.0.0.1/contexts/cpsv-ap-3.2.0.jsonld".into()),
        }
    }

    fn node<'a>(document: &'a Value, id: &str) -> &'a Value {
        document["@graph"]
            .as_array()
            .unwrap()
            .iter()
            .find(|node| node["@id"] == id)
            .unwrap_or_else(|| panic!("no node {id}"))
    }

    #[test]
    fn a_fee_keeps_its_exact_decimal_form() {
        // 0.1 + 0.2 in f64 prints as 0.30000000000000004; 30 fen must not.
        let document = document(&[service(30, 5)], &options()).unwrap();
        let cost = node(
            &document,
            "urn:concord:service/330000/SI-PENSION-TRANSFER/cost",
        );
        assert_eq!(
            cost["cv:hasValue"],
            json!({ "@value": "0.30", "@type": "xsd:double" })
        );
        assert_eq!(cost["cv:currency"]["@id"], CNY);
        assert_eq!(cost_value(Fee::from_fen(1_250).unwrap())["@value"], "12.50");
        assert_eq!(cost_value(Fee::FREE)["@value"], "0.00");
        assert_eq!(
            cost_value(Fee::from_fen(100_000_000).unwrap())["@value"],
            "1000000.00"
        );
    }

    #[test]
    fn a_time_limit_is_a_duration_in_days_described_as_working_days() {
        assert_eq!(
            processing_time(15),
            json!({ "@value": "P15D", "@type": "xsd:duration" })
        );
        let document = document(&[service(0, 15)], &options()).unwrap();
        let public = node(&document, "urn:concord:service/330000/SI-PENSION-TRANSFER");
        assert_eq!(public["cv:processingTime"]["@value"], "P15D");
        let description = public["dct:description"].to_string();
        assert!(description.contains("15个工作日"), "{description}");
        assert!(description.contains("15 working days"), "{description}");
    }

    #[test]
    fn a_service_carries_what_the_profile_requires() {
        let document = document(&[service(1_250, 5)], &options()).unwrap();
        assert_eq!(
            document["@context"][0],
            "http://127.0.0.1/contexts/cpsv-ap-3.2.0.jsonld"
        );
        let public = node(&document, "urn:concord:service/330000/SI-PENSION-TRANSFER");
        assert_eq!(document["@graph"][0]["@id"], public["@id"]);
        assert_eq!(public["@type"], "PublicService");
        assert_eq!(public["dct:identifier"], "330000/SI-PENSION-TRANSFER");
        // The matter has no English name: the title is only in Chinese.
        assert_eq!(public["dct:title"], json!([zh("养老保险关系转移")]));
        assert_eq!(
            public["cv:hasCompetentAuthority"]["@id"],
            "urn:concord:organisation/330000"
        );
        let organisation = node(&document, "urn:concord:organisation/330000");
        assert_eq!(organisation["@type"], "PublicOrganization");
        assert_eq!(organisation["dct:identifier"], "330000");
        assert_eq!(
            organisation["skos:prefLabel"],
            json!([zh("浙江省"), en("Zhejiang")])
        );
        assert_eq!(public["cv:holdsRequirement"].as_array().unwrap().len(), 2);
        let evidence = node(
            &document,
            "urn:concord:service/330000/SI-PENSION-TRANSFER/evidence/2",
        );
        assert_eq!(evidence["dct:title"], zh("转移接续申请表"));
        let channel = node(
            &document,
            "urn:concord:service/330000/SI-PENSION-TRANSFER/channel/CROSS_PROVINCE",
        );
        assert_eq!(
            channel["dct:type"]["@id"],
            "urn:concord:channel-type/CROSS_PROVINCE"
        );
        assert_eq!(
            public["cv:isClassifiedBy"],
            json!([
                { "@id": "urn:concord:matter/SI-PENSION-TRANSFER" },
                { "@id": "urn:concord:national-item/2023/12" }
            ])
        );
        assert_eq!(
            public["cv:thematicArea"]["@id"],
            "urn:concord:category/SOCIAL_INSURANCE"
        );
        let rule = node(
            &document,
            "urn:concord:service/330000/SI-PENSION-TRANSFER/procedure",
        );
        assert_eq!(
            rule["dct:description"],
            zh("1. 受理（窗口人员，1个工作日）\n2. 审核（经办机构，3个工作日）")
        );
        assert_eq!(public["cpsv:follows"]["@id"], rule["@id"]);
    }

    #[test]
    fn shared_nodes_appear_once() {
        let mut other = service(0, 5);
        other.guide.matter_code = "SI-OTHER".into();
        other.matter.code = "SI-OTHER".into();
        let document = document(&[service(0, 5), other], &options()).unwrap();
        let ids: Vec<&str> = document["@graph"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["@id"].as_str().unwrap())
            .collect();
        let unique: HashSet<&&str> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        assert!(ids.contains(&"urn:concord:service/330000/SI-OTHER"));
    }

    #[test]
    fn an_embedded_context_is_the_official_one() {
        let options = Options {
            context: ContextRef::Embedded,
            ..options()
        };
        let document = document(&[service(0, 5)], &options).unwrap();
        let official: Value = serde_json::from_str(CONTEXT).unwrap();
        assert_eq!(document["@context"][0], official["@context"]);
    }

    #[test]
    fn a_corrupt_channel_is_refused() {
        let mut broken = service(0, 5);
        broken.guide.channels = TextList(vec!["FAX".into()]);
        assert!(matches!(
            document(&[broken], &options()),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn a_base_iri_must_be_absolute_and_end_with_a_separator() {
        assert!(BaseIri::parse("urn:concord:").is_ok());
        assert!(BaseIri::parse("https://hrss.example.gov.cn/id/").is_ok());
        assert!(BaseIri::parse("concord/").is_err());
        assert!(BaseIri::parse("https://example.org/id").is_err());
        assert!(BaseIri::parse("https://example.org/a b/").is_err());
        let options = Options {
            base_iri: BaseIri::parse("https://example.org/id/").unwrap(),
            ..options()
        };
        let document = document(&[service(0, 5)], &options).unwrap();
        assert_eq!(
            document["@graph"][0]["@id"],
            "https://example.org/id/service/330000/SI-PENSION-TRANSFER"
        );
    }

    #[tokio::test]
    async fn only_published_guides_are_loaded() {
        let (db, _) = crate::connect(&crate::ConnectOptions::new("sqlite::memory:"))
            .await
            .unwrap();
        crate::migrate(&db).await.unwrap();
        crate::seed::seed(&db).await.unwrap();
        let all = load(&db, Selection::Region("330000"))
            .await
            .unwrap()
            .unwrap();
        let first = all[0].guide.clone();
        let mut draft = first.clone().into_active_model();
        draft.status = Set("DRAFT".into());
        draft.update(&db).await.unwrap();

        let selection = Selection::Guide {
            region: &first.region_code,
            matter: &first.matter_code,
        };
        assert_eq!(
            load(&db, selection).await.unwrap(),
            Err(Missing::Guide {
                region: first.region_code.clone(),
                matter: first.matter_code.clone()
            })
        );
        let after = load(&db, Selection::Region("330000"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(after.len(), all.len() - 1);
        assert!(
            after
                .iter()
                .all(|s| s.guide.matter_code != first.matter_code)
        );
        let everything = load(&db, Selection::All).await.unwrap().unwrap();
        assert!(everything.iter().all(|s| s.guide.status == "PUBLISHED"));
        assert_eq!(
            load(&db, Selection::Region("990000")).await.unwrap(),
            Err(Missing::Region("990000".into()))
        );
        assert_eq!(
            load(
                &db,
                Selection::Guide {
                    region: "330000",
                    matter: "NO-SUCH-MATTER"
                }
            )
            .await
            .unwrap(),
            Err(Missing::Matter("NO-SUCH-MATTER".into()))
        );
    }
}
