use chrono::{TimeZone, Utc};
use concord_domain::{Channel, Fee, GuideStatus, ProcedureStep};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};

use serde_json::{Value, json};

use super::map::{CNY, en, zh};
use super::*;
use crate::entity::{ChannelList, StepList, TextList};

fn service(fee_fen: i64, time_limit_days: i32) -> Service {
    let fee_fen = Fee::from_fen(fee_fen).unwrap().into();
    let at = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    Service {
        guide: service_guide::Model {
            region_code: "330000".into(),
            matter_code: "SI-PENSION-TRANSFER".into(),
            time_limit_days,
            fee_fen,
            materials: TextList(vec!["居民身份证".into(), "转移接续申请表".into()]),
            channels: ChannelList(vec![Channel::Counter, Channel::CrossProvince]),
            legal_basis: "《中华人民共和国社会保险法》".into(),
            guarantee_level: None,
            status: GuideStatus::Published.into(),
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
            kind: concord_domain::RegionKind::Province.into(),
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
            status: GuideStatus::Published.into(),
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
    let db = crate::test_support::seeded_database().await;
    let all = load(&db, Selection::Region("330000"))
        .await
        .unwrap()
        .unwrap();
    let first = all[0].guide.clone();
    let mut draft = first.clone().into_active_model();
    draft.status = Set(GuideStatus::Draft.into());
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
    assert!(
        everything
            .iter()
            .all(|s| s.guide.status == GuideStatus::Published)
    );
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
