use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

fn limit_of(body: &Value) -> (&str, &str) {
    let extensions = &body["errors"][0]["extensions"];
    (
        extensions["code"].as_str().unwrap_or_default(),
        extensions["limit"].as_str().unwrap_or_default(),
    )
}

#[tokio::test]
async fn hostile_queries_are_refused_with_the_limit_named() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite app");
    let deep = format!(
        "{{ regions {{ {} code {} }} }}",
        "zones { members { ".repeat(5),
        "} } ".repeat(5)
    );
    let body = app.graphql(&deep, json!({})).await;
    assert_eq!(limit_of(&body), ("LIMIT_EXCEEDED", "depth"), "{body}");

    let aliases: String = (0..40)
        .map(|i| format!("a{i}: zones {{ code }} "))
        .collect();
    let body = app.graphql(&format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(limit_of(&body), ("LIMIT_EXCEEDED", "aliases"), "{body}");

    let huge = format!("{{ {} }}", "zones { code } ".repeat(1000));
    let body = app.graphql(&huge, json!({})).await;
    assert_eq!(limit_of(&body), ("LIMIT_EXCEEDED", "tokens"), "{body}");

    let directives = format!(
        "{{ zones {{ code {} }} }}",
        "@include(if: true) ".repeat(60)
    );
    let body = app.graphql(&directives, json!({})).await;
    assert_eq!(limit_of(&body), ("LIMIT_EXCEEDED", "directives"), "{body}");

    let page = "guides(first: 100) { edges { node { procedure { steps { name actor } } region { zones { members { code nameZh } } } } } }";
    let complex = format!(
        "{{ {} }}",
        (0..5)
            .map(|i| format!("g{i}: {page}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let body = app.graphql(&complex, json!({})).await;
    assert_eq!(limit_of(&body), ("LIMIT_EXCEEDED", "complexity"), "{body}");

    let body = app.graphql("{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name ofType { name } } } } } } } } }", json!({})).await;
    assert!(
        body.get("errors").is_none(),
        "introspection does not count towards depth: {body}"
    );
}

#[tokio::test]
async fn oversized_bodies_and_batches_are_refused() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.server.body_limit = 4096;
    })
    .await
    .expect("sqlite app");
    let padding = " ".repeat(5000);
    let response = app
        .client
        .post(app.endpoint())
        .json(&json!({ "query": format!("{{ zones {{ code }} {padding} }}") }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(limit_of(&body), ("LIMIT_EXCEEDED", "body_bytes"));

    let batch: Vec<Value> = (0..6)
        .map(|_| json!({ "query": "{ zones { code } }" }))
        .collect();
    let response = app
        .client
        .post(app.endpoint())
        .json(&batch)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(limit_of(&body), ("LIMIT_EXCEEDED", "batch"), "{body}");

    let healthy = app.data("{ zones { code } }", json!({})).await;
    assert_eq!(
        healthy["zones"].as_array().unwrap().len(),
        4,
        "the server survives"
    );
}

/// "Did you mean" hints reveal the schema's field names, so a misspelt
/// field is only named back when suggestions are switched on.
#[tokio::test]
async fn field_suggestions_are_off_unless_enabled() {
    let misspelt = "{ regoins { code } }";
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite app");
    let body = app.graphql(misspelt, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("regoins"), "{body}");
    assert!(!message.contains("Did you mean"), "{body}");

    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.graphql.suggestions = true;
    })
    .await
    .expect("sqlite app");
    let body = app.graphql(misspelt, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("Did you mean \"regions\""), "{body}");
}
