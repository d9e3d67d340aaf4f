//! `concord export --format json|csv` writes exactly what `concord import`
//! reads: exporting, importing into a fresh node (reference facts only) and
//! exporting again gives the same bytes.

use std::path::Path;

use serde_json::json;

use crate::helpers::{As, TestApp, run_concord, storage_test};

const KINDS: [&str; 4] = ["matters", "standards", "guides", "procedures"];

fn concord(args: &[&str]) -> String {
    let (ok, output) = run_concord(args);
    assert!(ok, "concord {}: {output}", args.join(" "));
    output
}

fn export(database: &str, format: &str, kind: Option<&str>, file: &Path) -> Vec<u8> {
    let mut args = vec![
        "export",
        "--database",
        database,
        "--format",
        format,
        "--output",
        file.to_str().expect("utf-8 path"),
    ];
    if let Some(kind) = kind {
        args.extend(["--kind", kind]);
    }
    concord(&args);
    std::fs::read(file).expect("read the export")
}

/// A fresh node with the reference facts only, as a province starts.
fn fresh_node(dir: &Path, name: &str) -> String {
    let url = format!("sqlite://{}", dir.join(name).display());
    let output = concord(&["seed", "--reference-only", "--database", &url]);
    assert!(output.contains("0 illustrative rows"), "{output}");
    url
}

/// Changes the source node so the files carry what the seed lacks: an exact
/// decimal fee and a draft guide.
async fn vary(app: &TestApp) {
    let saved = app
        .data_as(
            As::Province("330000"),
            "mutation($input: SaveGuideInput!) { saveGuide(input: $input) { status fee } }",
            json!({ "input": {
                "region": "330000", "matter": "EMP-UNEMPLOYMENT-REGISTRATION",
                "timeLimitDays": 20, "fee": "0.3",
                "materials": ["居民身份证", "失业证明, 原件"], "channels": ["COUNTER", "ONLINE"],
                "legalBasis": "《失业保险条例》\"第十六条\"", "expectedRevision": 1,
            } }),
        )
        .await;
    assert_eq!(saved["saveGuide"]["status"], "DRAFT");
}

storage_test!(a_json_export_survives_a_round_trip_byte_for_byte, |app| {
    vary(&app).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let first = export(
        &app.database_url,
        "json",
        None,
        &dir.path().join("first.json"),
    );
    let text = String::from_utf8(first.clone()).expect("utf-8");
    assert!(text.contains("\"fee\": \"0.30\""), "the fee is exact");
    assert!(text.contains("\"status\": \"DRAFT\""));

    let node = fresh_node(dir.path(), "fresh.db");
    let report = concord(&[
        "import",
        dir.path().join("first.json").to_str().unwrap(),
        "--database",
        &node,
    ]);
    assert!(report.contains("inserted"), "{report}");
    let second = export(&node, "json", None, &dir.path().join("second.json"));
    assert!(first == second, "the second export differs from the first");
});

storage_test!(a_csv_export_survives_a_round_trip_byte_for_byte, |app| {
    vary(&app).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let node = fresh_node(dir.path(), "fresh.db");
    let mut firsts = Vec::new();
    for kind in KINDS {
        let file = dir.path().join(format!("{kind}.csv"));
        firsts.push(export(&app.database_url, "csv", Some(kind), &file));
        concord(&["import", file.to_str().unwrap(), "--database", &node]);
    }
    for (kind, first) in KINDS.into_iter().zip(firsts) {
        let second = export(
            &node,
            "csv",
            Some(kind),
            &dir.path().join(format!("again-{kind}.csv")),
        );
        assert!(first == second, "{kind}.csv differs after the round trip");
    }
});

#[test]
fn a_region_limits_guides_and_procedures_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("seeded.db").display());
    concord(&["seed", "--database", &url]);
    let file = dir.path().join("330000.json");
    concord(&[
        "export",
        "--database",
        &url,
        "--format",
        "json",
        "--region",
        "330000",
        "--output",
        file.to_str().unwrap(),
    ]);
    let records: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let guides = records["guides"].as_array().unwrap();
    assert!(!guides.is_empty());
    assert!(guides.iter().all(|g| g["region"] == "330000"));
    assert!(
        records["procedures"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["region"] == "330000")
    );
    assert!(records["matters"].as_array().unwrap().len() > 1);

    let (ok, output) = run_concord(&["export", "--database", &url, "--format", "csv"]);
    assert!(!ok);
    assert!(output.contains("--kind"), "{output}");
}
