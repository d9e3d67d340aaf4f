//! The CPSV-AP export over HTTP and from the CLI: media type, the local
//! context, 404s that say what is missing, and drafts that never leave.

use serde_json::{Value, json};

use crate::helpers::{As, TestApp, code, run_concord, storage_test};

const MATTER: &str = "EMP-UNEMPLOYMENT-REGISTRATION";

async fn get(app: &TestApp, path: &str) -> (u16, String, Value) {
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let media = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, media, response.json().await.expect("json body"))
}

fn services(document: &Value) -> Vec<&str> {
    document["@graph"]
        .as_array()
        .expect("a @graph")
        .iter()
        .filter(|node| node["@type"] == "PublicService")
        .map(|node| node["dct:identifier"].as_str().expect("an identifier"))
        .collect()
}

storage_test!(a_guide_is_served_as_json_ld_with_a_local_context, |app| {
    let (status, media, document) = get(&app, &format!("/services/330000/{MATTER}")).await;
    assert_eq!(status, 200, "{document}");
    assert_eq!(media, "application/ld+json");
    assert_eq!(services(&document), vec![format!("330000/{MATTER}")]);
    let context = format!("{}/contexts/cpsv-ap-3.2.0.jsonld", app.address);
    assert_eq!(document["@context"][0], context.as_str());

    let (status, media, served) = get(&app, "/contexts/cpsv-ap-3.2.0.jsonld").await;
    assert_eq!((status, media.as_str()), (200, "application/ld+json"));
    assert_eq!(
        served["@context"]["PublicService"],
        "http://purl.org/vocab/cpsv#PublicService"
    );

    let (status, _, region) = get(&app, "/services/330000").await;
    assert_eq!(status, 200);
    let listed = services(&region);
    assert!(listed.len() > 1, "{listed:?}");
    assert!(listed.iter().all(|id| id.starts_with("330000/")));
    assert!(listed.contains(&format!("330000/{MATTER}").as_str()));
});

storage_test!(unknown_regions_and_matters_are_404_with_a_reason, |app| {
    for (path, says) in [
        ("/services/330100".to_owned(), "no region `330100`"),
        ("/services/zhejiang".to_owned(), "not a region code"),
        (
            "/services/330000/NO-SUCH-MATTER".to_owned(),
            "no service matter `NO-SUCH-MATTER`",
        ),
        (format!("/services/330100/{MATTER}"), "no region `330100`"),
    ] {
        let (status, media, body) = get(&app, &path).await;
        assert_eq!(
            (status, media.as_str()),
            (404, "application/json"),
            "{path}"
        );
        assert_eq!(code(&body), "NOT_FOUND");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{path}: {message}");
    }
});

storage_test!(a_draft_is_never_exported, |app| {
    let saved = app
        .data_as(
            As::Province("330000"),
            "mutation($input: SaveGuideInput!) { saveGuide(input: $input) { status } }",
            json!({ "input": {
                "region": "330000", "matter": MATTER, "timeLimitDays": 3, "fee": "0",
                "materials": ["居民身份证"], "channels": ["COUNTER"], "expectedRevision": 1,
            } }),
        )
        .await;
    assert_eq!(saved["saveGuide"]["status"], "DRAFT");

    let (status, _, body) = get(&app, &format!("/services/330000/{MATTER}")).await;
    assert_eq!(status, 404, "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("no published guide"), "{message}");
    let (_, _, region) = get(&app, "/services/330000").await;
    assert!(!services(&region).contains(&format!("330000/{MATTER}").as_str()));
    assert!(!services(&region).is_empty());
});

/// Runs `concord export --format cpsv-ap` of `region` from `app`'s
/// database, with `more` arguments; whether it succeeded, and its output.
fn export_cpsv(app: &TestApp, region: &str, more: &[&str]) -> (bool, String) {
    let mut args = vec![
        "export",
        "--database",
        &app.database_url,
        "--format",
        "cpsv-ap",
        "--region",
        region,
    ];
    args.extend_from_slice(more);
    run_concord(&args)
}

storage_test!(the_cli_writes_what_the_server_serves, |app| {
    let (_, _, served) = get(&app, "/services/330000").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("330000.jsonld");
    let context = format!("{}/contexts/cpsv-ap-3.2.0.jsonld", app.address);
    let (ok, output) = export_cpsv(
        &app,
        "330000",
        &[
            "--context-url",
            &context,
            "--output",
            file.to_str().expect("utf-8 path"),
        ],
    );
    assert!(ok, "{output}");
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    assert_eq!(written, served);

    let (ok, output) = export_cpsv(&app, "330100", &[]);
    assert!(!ok);
    assert!(output.contains("no region `330100`"), "{output}");
});
