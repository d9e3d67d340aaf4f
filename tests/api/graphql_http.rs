use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, code};

async fn app() -> TestApp {
    TestApp::spawn(Backend::Sqlite).await.expect("sqlite app")
}

/// Sends `request`; every request here must reach the app.
async fn sent(request: reqwest::RequestBuilder) -> reqwest::Response {
    request.send().await.unwrap()
}

/// The response's `content-type` header.
fn media_type(response: &reqwest::Response) -> &str {
    response.headers()["content-type"].to_str().unwrap()
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = app().await;
    for path in ["/healthz", "/readyz"] {
        let response = sent(app.client.get(format!("{}{path}", app.address))).await;
        assert_eq!(response.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn post_must_be_json() {
    let app = app().await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = sent(
            app.client
                .post(app.endpoint())
                .header("content-type", content_type)
                .body(r#"{"query":"{ regions { code } }"}"#),
        )
        .await;
        assert_eq!(response.status(), 415, "{content_type}");
    }
}

#[tokio::test]
async fn a_refused_method_or_media_type_still_answers_a_coded_graphql_error() {
    let app = app().await;
    let url = app.endpoint();
    let put = sent(app.client.put(&url)).await;
    assert_eq!(put.status(), 405);
    assert_eq!(put.headers()["allow"], "GET, POST");
    let body: Value = put.json().await.unwrap();
    assert_eq!(code(&body), "METHOD_NOT_ALLOWED");

    let post = sent(
        app.client
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "text/html")
            .body(r#"{"query":"{ regions { code } }"}"#),
    )
    .await;
    assert_eq!(post.status(), 406);
    let body: Value = post.json().await.unwrap();
    assert_eq!(code(&body), "NOT_ACCEPTABLE");
}

#[tokio::test]
async fn media_type_and_status_follow_accept() {
    let app = app().await;
    let post = |accept: &'static str, query: &'static str| {
        sent(
            app.client
                .post(app.endpoint())
                .header("accept", accept)
                .json(&json!({ "query": query })),
        )
    };
    let ok = post(
        "application/graphql-response+json, application/json",
        "{ zones { code } }",
    )
    .await;
    assert_eq!(ok.status(), 200);
    assert!(media_type(&ok).starts_with("application/graphql-response+json"));

    let invalid = post("application/graphql-response+json", "{ nosuchfield }").await;
    assert_eq!(invalid.status(), 400);
    let body: Value = invalid.json().await.unwrap();
    assert!(
        body.get("data").is_none(),
        "a request error has no data: {body}"
    );
    assert_eq!(code(&body), "BAD_USER_INPUT");

    let unparsable = post("application/graphql-response+json", "{ regions {").await;
    assert_eq!(unparsable.status(), 400);

    let legacy = post("application/json", "{ nosuchfield }").await;
    assert_eq!(legacy.status(), 200);
    assert!(media_type(&legacy).starts_with("application/json"));

    let any = post("*/*", "{ zones { code } }").await;
    assert!(media_type(&any).starts_with("application/json"));

    let executing = post(
        "application/graphql-response+json",
        r#"{ region(code: "33000") { code } }"#,
    )
    .await;
    assert_eq!(
        executing.status(),
        200,
        "an error while executing is not a request error"
    );
    let body: Value = executing.json().await.unwrap();
    assert!(body.get("data").is_some());
}

#[tokio::test]
async fn get_serves_queries_graphiql_and_refuses_mutations() {
    let app = app().await;
    let url = app.endpoint();
    let query = sent(
        app.client
            .get(&url)
            .query(&[("query", "{ zones { code } }")]),
    )
    .await;
    assert_eq!(query.status(), 200);
    let body: Value = query.json().await.unwrap();
    assert_eq!(body["data"]["zones"].as_array().unwrap().len(), 4);

    let mutation = sent(app.client.get(&url).query(&[("query", "mutation { x }")])).await;
    assert_eq!(mutation.status(), 405);

    let page = sent(app.client.get(&url).header("accept", "text/html")).await;
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );

    let variables = sent(app.client.get(&url).query(&[
        ("query", "query($c: String!) { zone(code: $c) { code } }"),
        ("variables", r#"{"c":"GBA"}"#),
    ]))
    .await;
    let body: Value = variables.json().await.unwrap();
    assert_eq!(body["data"]["zone"]["code"], "GBA");
}

/// Found by fuzzing: a query string that cannot be read was refused by
/// actix's extractor, in plain text and without `extensions.code`.
#[tokio::test]
async fn an_unreadable_query_string_gets_a_graphql_error() {
    let app = app().await;
    let response = sent(
        app.client
            .get(format!(
                "{}/graphql?query=%7B%20zones%20%7B%20code%20%7D%20%7D&query=x",
                app.address
            ))
            .header("accept", "application/graphql-response+json"),
    )
    .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["message"],
        "the query string cannot be read: duplicate field `query`"
    );
}

/// Found by fuzzing /graphql: a GET whose argument nested lists 5,000 deep
/// overflowed the parser's stack, before any limit was checked, and
/// aborted the server.
#[tokio::test]
async fn a_deeply_nested_get_is_refused_and_the_server_lives() {
    let app = app().await;
    let deep = format!(
        "{{ zone(code: {}\"YRD\"{}) {{ code }} }}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let response = sent(
        app.client
            .get(app.endpoint())
            .query(&[("query", deep)])
            .header("accept", "application/graphql-response+json"),
    )
    .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body), "LIMIT_EXCEEDED");
    let zones = app.data("{ zones { code } }", json!({})).await;
    assert_eq!(zones["zones"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn batches_run_each_operation() {
    let app = app().await;
    let response =
        sent(app.client.post(app.endpoint()).json(
            &json!([{ "query": "{ zones { code } }" }, { "query": "{ categories { code } }" }]),
        ))
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body[0]["data"]["zones"].as_array().unwrap().len(), 4);
    assert_eq!(body[1]["data"]["categories"].as_array().unwrap().len(), 4);
}
