use super::*;
use actix_web::http::header::HeaderValue;

fn accept(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
    headers
}

#[test]
fn negotiation_follows_accept() {
    assert_eq!(negotiate(&HeaderMap::new()), Some(Media::Json));
    assert_eq!(negotiate(&accept("*/*")), Some(Media::Json));
    assert_eq!(negotiate(&accept("application/json")), Some(Media::Json));
    assert_eq!(
        negotiate(&accept(
            "application/graphql-response+json, application/json;q=0.9"
        )),
        Some(Media::GraphqlResponse)
    );
    assert_eq!(
        negotiate(&accept(
            "application/json, application/graphql-response+json"
        )),
        Some(Media::Json)
    );
    assert_eq!(
        negotiate(&accept(
            "application/graphql-response+json;q=0.5, application/json"
        )),
        Some(Media::Json)
    );
    assert_eq!(negotiate(&accept("text/plain")), None);
}

/// Found by fuzzing: serde's message for a body of the wrong shape was
/// `data did not match any variant of untagged enum BatchRequest`.
#[test]
fn a_body_that_is_no_request_is_told_without_type_names() {
    for (body, expected) in [
        ("1", NOT_A_REQUEST.to_owned()),
        ("\"{ regions { code } }\"", NOT_A_REQUEST.to_owned()),
        (
            r#"[{"query": "{ a }"}, 1]"#,
            format!("request 2 of the batch: {NOT_A_REQUEST}"),
        ),
        (
            r#"[{"query": "{ a }"}, {"query": "{ a }", "variables": 1}]"#,
            "request 2 of the batch: invalid type: integer `1`, expected a map".to_owned(),
        ),
        (
            r#"{"query": 1}"#,
            "invalid type: integer `1`, expected a string".to_owned(),
        ),
        (
            "{",
            "the body is not JSON: EOF while parsing an object at line 1 column 1".to_owned(),
        ),
    ] {
        assert!(
            serde_json::from_str::<BatchRequest>(body).is_err(),
            "{body}"
        );
        assert_eq!(why_not_a_request(body.as_bytes()), expected, "{body}");
    }
}

#[test]
fn writes_are_recognised() {
    assert!(is_write("mutation { x }", None));
    assert!(!is_write("{ regions { code } }", None));
    assert!(is_write("query A { a } mutation B { b }", Some("B")));
    assert!(!is_write("query A { a } mutation B { b }", Some("A")));
}
