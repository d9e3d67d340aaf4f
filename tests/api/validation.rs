//! One rule for each input, whichever way the input arrives: a mutation
//! and `concord import` accept and refuse the same values.

use serde_json::json;

use crate::helpers::{As, TestApp, code, error_field, storage_test};

const SAVE_MATTER: &str = "mutation($c: String!, $en: String!) {
    saveMatter(input: { code: $c, nameZh: \"校验事项\", nameEn: $en, category: \"SKILLS\" }) { code nameEn } }";

/// Imports one matter with `concord import`; its output, and whether it succeeded.
fn import_matter(app: &TestApp, code: &str, name_en: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("matters.json");
    let matters = json!({ "matters": [
        { "code": code, "nameZh": "校验事项", "nameEn": name_en, "category": "SKILLS" }
    ] });
    std::fs::write(&file, matters.to_string()).unwrap();
    app.import(&file)
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
