use serde_json::json;

use crate::helpers::{Backend, TestApp};

#[tokio::test]
async fn concord_is_a_federation_v2_subgraph() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite app");
    let sdl = app.data("{ _service { sdl } }", json!({})).await["_service"]["sdl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        sdl.contains("@link(") && sdl.contains("specs.apollo.dev/federation/v2"),
        "federation v2 @link"
    );
    for entity in [
        "type Region @key(fields: \"code\")",
        "type Zone @key(fields: \"code\")",
        "type Standard @key(fields: \"code\")",
        "type ServiceMatter @key(fields: \"code\")",
        "type NationalItem @key(fields: \"edition number\")",
        "type ServiceGuide @key(fields: \"regionCode matterCode\")",
    ] {
        assert!(sdl.contains(entity), "{entity}");
    }

    let data = app
        .data(
            "query($r: [_Any!]!) { _entities(representations: $r) {
                ... on Region { nameEn }
                ... on Zone { nameEn }
                ... on Standard { titleEn }
                ... on ServiceMatter { nameEn }
                ... on NationalItem { nameEn }
                ... on ServiceGuide { timeLimitDays region { code } }
            } }",
            json!({ "r": [
                { "__typename": "Region", "code": "330000" },
                { "__typename": "Zone", "code": "GBA" },
                { "__typename": "Standard", "code": "LD/T 01-2020" },
                { "__typename": "ServiceMatter", "code": "SI-PENSION-TRANSFER" },
                { "__typename": "NationalItem", "edition": 2023, "number": 1 },
                { "__typename": "ServiceGuide", "regionCode": "440000", "matterCode": "SI-PENSION-TRANSFER" },
                { "__typename": "Region", "code": "bogus" },
                { "__typename": "ServiceGuide", "regionCode": "140000", "matterCode": "SI-PENSION-TRANSFER" },
            ] }),
        )
        .await;
    let entities = data["_entities"].as_array().unwrap();
    assert_eq!(entities[0]["nameEn"], "Zhejiang");
    assert_eq!(
        entities[1]["nameEn"],
        "Guangdong-Hong Kong-Macao Greater Bay Area"
    );
    assert_eq!(
        entities[2]["titleEn"],
        "Guide to online social insurance services"
    );
    assert!(entities[3]["nameEn"].is_string());
    assert!(entities[4]["nameEn"].is_string());
    assert_eq!(entities[5]["region"]["code"], "440000");
    assert!(entities[6].is_null(), "an unresolvable reference is null");
    assert!(entities[7].is_null(), "Shanxi has no illustrative guide");
}
