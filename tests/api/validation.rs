//! One rule for each input, whichever way the input arrives: a mutation
//! and `concord import` accept and refuse the same values.

use serde_json::json;

use crate::helpers::{As, TestApp, code, error_field, storage_test};

const SAVE_MATTER: &str = "mutation($c: String!, $en: String!) {
    saveMatter(input: { code: $c, nameZh: \"校验事项\", nameEn: $en, category: \"SKILLS\" }) { code nameEn } }";

/// Imports a JSON file with `concord import`; its output, and whether it succeeded.
fn import_json(app: &TestApp, file: serde_json::Value) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.json");
    std::fs::write(&path, file.to_string()).unwrap();
    app.import(&path)
}

/// Imports one matter with `concord import`; its output, and whether it succeeded.
fn import_matter(app: &TestApp, code: &str, name_en: &str) -> (bool, String) {
    import_json(
        app,
        json!({ "matters": [
            { "code": code, "nameZh": "校验事项", "nameEn": name_en, "category": "SKILLS" }
        ] }),
    )
}

async fn standard_exists(app: &TestApp, code: &str) -> bool {
    app.sees_latest_commit().await;
    let data = app
        .data_as(
            As::National,
            "query($c: String!) { standard(code: $c) { code } }",
            json!({ "c": code }),
        )
        .await;
    !data["standard"].is_null()
}

async fn matter_exists(app: &TestApp, code: &str) -> bool {
    app.sees_latest_commit().await;
    let data = app
        .data(
            "query($c: String!) { matter(code: $c) { code } }",
            json!({ "c": code }),
        )
        .await;
    !data["matter"].is_null()
}

storage_test!(an_english_name_follows_one_rule_both_ways_in, |app| {
    let long = "E".repeat(201);

    let refused = app
        .graphql_as(
            As::National,
            SAVE_MATTER,
            json!({ "c": "SKL-RULE-LONG", "en": long }),
        )
        .await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    assert_eq!(error_field(&refused), "input.nameEn");
    assert!(!matter_exists(&app, "SKL-RULE-LONG").await);

    let (imported, out) = import_matter(&app, "SKL-RULE-LONG", &long);
    assert!(!imported, "the importer took a 201-character name: {out}");
    assert!(
        out.contains("nameEn: must be at most 200 characters"),
        "{out}"
    );
    assert!(!matter_exists(&app, "SKL-RULE-LONG").await);

    // Many local matters have no official English name: both ways take none.
    let saved = app
        .data_as(
            As::National,
            SAVE_MATTER,
            json!({ "c": "SKL-RULE-NONE", "en": "  " }),
        )
        .await;
    assert_eq!(saved["saveMatter"]["nameEn"], "");
    let (imported, out) = import_matter(&app, "SKL-RULE-NONE-2", "");
    assert!(imported, "{out}");
    assert!(matter_exists(&app, "SKL-RULE-NONE-2").await);
});

storage_test!(
    a_required_channel_listed_twice_is_refused_in_any_order,
    |app| {
        let propose = "mutation($input: ProposeCollaborativeStandardInput!) {
        proposeCollaborativeStandard(input: $input) { code } }";
        for (code_text, channels) in [
            ("DB31/T 310960-2026", json!(["ONLINE", "ONLINE"])),
            ("DB31/T 310961-2026", json!(["ONLINE", "COUNTER", "ONLINE"])),
        ] {
            let input = json!({ "input": {
            "code": code_text, "zone": "YRD", "titleZh": "长三角渠道测试",
            "matters": ["EMP-JOB-FAIR"], "requiredChannels": channels,
        } });
            let refused = app.graphql_as(As::Zone("YRD"), propose, input).await;
            assert_eq!(code(&refused), "BAD_USER_INPUT", "{channels}: {refused}");
            assert_eq!(error_field(&refused), "input.requiredChannels");
            // The national administration sees drafts too.
            let stored = app
                .data_as(
                    As::National,
                    "query($c: String!) { standard(code: $c) { code } }",
                    json!({ "c": code_text }),
                )
                .await;
            assert!(stored["standard"].is_null(), "{channels} left {stored}");
        }
    }
);

// Found by fuzzing: PostgreSQL can neither store nor compare U+0000, so a
// search text or a name holding it failed in the database, an INTERNAL
// error; it is the client's, and refused before anything runs or loads.
storage_test!(a_nul_character_is_refused_both_ways_in, |app| {
    let searched = app
        .graphql(
            "query($t: String) { matters(filter: { text: $t }, first: 1) { totalCount } }",
            json!({ "t": "登记\u{0}" }),
        )
        .await;
    assert_eq!(code(&searched), "BAD_USER_INPUT", "{searched}");
    let literal = app
        .graphql(
            r#"{ standards(filter: { text: "\u0000" }, first: 1) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&literal), "BAD_USER_INPUT", "{literal}");

    let saved = app
        .graphql_as(
            As::National,
            SAVE_MATTER,
            json!({ "c": "SKL-RULE-NUL", "en": "a\u{0}b" }),
        )
        .await;
    assert_eq!(code(&saved), "BAD_USER_INPUT", "{saved}");
    assert!(!matter_exists(&app, "SKL-RULE-NUL").await);

    let (imported, out) = import_matter(&app, "SKL-RULE-NUL", "a\u{0}b");
    assert!(!imported, "the importer took a NUL: {out}");
    assert!(
        out.contains("nameEn: must not contain the NUL character (U+0000)"),
        "{out}"
    );
    assert!(!matter_exists(&app, "SKL-RULE-NUL").await);
});

// The API took a standard's matters, and a matter's standards, listed twice,
// where the importer refused them; and it stored a standard's note unchecked.
storage_test!(a_standard_follows_one_rule_both_ways_in, |app| {
    let create =
        "mutation($input: CreateStandardInput!) { createStandard(input: $input) { code } }";
    let twice = json!({ "input": {
        "code": "DB33/T 9901-2026", "titleZh": "校验标准", "level": "LOCAL",
        "matters": ["EMP-JOB-FAIR", "EMP-JOB-FAIR"],
    } });
    let refused = app.graphql_as(As::National, create, twice).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    assert_eq!(error_field(&refused), "input.matters[1]");
    let (imported, out) = import_json(
        &app,
        json!({ "standards": [{
            "code": "DB33/T 9901-2026", "titleZh": "校验标准", "level": "LOCAL",
            "matters": ["EMP-JOB-FAIR", "EMP-JOB-FAIR"],
        }] }),
    );
    assert!(!imported, "the importer took a matter listed twice: {out}");
    assert!(out.contains("`EMP-JOB-FAIR` is listed twice"), "{out}");
    assert!(!standard_exists(&app, "DB33/T 9901-2026").await);

    let long_note = json!({ "input": {
        "code": "DB33/T 9902-2026", "titleZh": "校验标准", "level": "LOCAL",
        "note": "注".repeat(2001),
    } });
    let refused = app.graphql_as(As::National, create, long_note).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    assert_eq!(error_field(&refused), "input.note");
    let nul_note = json!({ "input": {
        "code": "DB33/T 9902-2026", "titleZh": "校验标准", "level": "LOCAL", "note": "a\u{0}b",
    } });
    let refused = app.graphql_as(As::National, create, nul_note).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    assert!(!standard_exists(&app, "DB33/T 9902-2026").await);

    let matter = "mutation($input: SaveMatterInput!) { saveMatter(input: $input) { code } }";
    let standards_twice = json!({ "input": {
        "code": "SKL-RULE-TWICE", "nameZh": "校验事项", "category": "SKILLS",
        "standards": ["GB/T 33527", "GB/T 33527"],
    } });
    let refused = app.graphql_as(As::National, matter, standards_twice).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    assert_eq!(error_field(&refused), "input.standards[1]");
    assert!(!matter_exists(&app, "SKL-RULE-TWICE").await);
});

// The API dropped a required channel listed twice and took a national
// item's texts of any length, where the importer refused both.
storage_test!(a_national_item_follows_one_rule_both_ways_in, |app| {
    let save =
        "mutation($input: SaveNationalItemInput!) { saveNationalItem(input: $input) { number } }";
    let item = |channels: serde_json::Value, content: String| {
        json!({ "input": {
            "edition": 2023, "number": 990, "nameZh": "校验项目", "category": "SKILLS",
            "content": content, "requiredChannels": channels,
        } })
    };
    let refused = app
        .graphql_as(
            As::National,
            save,
            item(json!(["ONLINE", "ONLINE"]), String::new()),
        )
        .await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    assert_eq!(error_field(&refused), "input.requiredChannels");
    let refused = app
        .graphql_as(
            As::National,
            save,
            item(json!(["ONLINE"]), "容".repeat(4001)),
        )
        .await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    assert_eq!(error_field(&refused), "input.content");

    let (imported, out) = import_json(
        &app,
        json!({ "nationalItems": [{
            "edition": 2023, "number": 990, "nameZh": "校验项目", "category": "SKILLS",
            "requiredChannels": ["ONLINE", "ONLINE"],
        }] }),
    );
    assert!(!imported, "the importer took a channel listed twice: {out}");
    assert!(
        out.contains("requiredChannels: a channel is listed twice"),
        "{out}"
    );

    let items = app
        .data("{ nationalItems(edition: 2023) { number } }", json!({}))
        .await;
    let numbers = items["nationalItems"].as_array().unwrap();
    assert!(numbers.iter().all(|item| item["number"] != 990), "{items}");
});
