//! The mapping from a guide's rows to CPSV-AP nodes, field by field as
//! `docs/cpsv-ap.md` describes it.

use std::collections::HashSet;

use concord_domain::{Channel, Fee};
use serde_json::{Map, Value, json};

use super::{BaseIri, CONTEXT, ContextRef, Options, Service};
use crate::StoreError;
use crate::entity::region;

/// The EU Publications Office's currency table, which CPSV-AP's examples
/// use for `cv:currency`.
pub(super) const CNY: &str = "http://publications.europa.eu/resource/authority/currency/CNY";

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

pub(super) fn zh(text: &str) -> Value {
    json!({ "@language": "zh", "@value": text })
}

pub(super) fn en(text: &str) -> Value {
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
    let fee = *guide.fee_fen;
    let channels = &guide.channels.0;
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
    for channel in channels {
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
