use super::*;

fn limits() -> Limits {
    Limits::default()
}

fn persisted(extension: Value) -> Request {
    let mut request = Request::new("");
    request.extensions.insert(
        "persistedQuery".into(),
        async_graphql::Value::from_json(extension).unwrap(),
    );
    request
}

fn with_hash(query: &str, hash: &str) -> Request {
    let mut request = persisted(serde_json::json!({ "version": 1, "sha256Hash": hash }));
    request.query = query.to_owned();
    request
}

fn code(refusal: &Refusal) -> String {
    refusal
        .error
        .extensions
        .as_ref()
        .unwrap()
        .get("code")
        .unwrap()
        .to_string()
}

fn automatic(capacity: usize) -> Persisted {
    Persisted {
        mode: Mode::Automatic(Some(QueryStore::new(capacity))),
    }
}

const Q: &str = "{ regions { code } }";

#[test]
fn a_hash_stands_for_its_text_once_registered() {
    let store = automatic(1 << 20);
    let hash = sha256_hex(Q);
    let mut request = with_hash("", &hash);
    let refusal = store.resolve(&limits(), &mut request).unwrap_err();
    assert_eq!(code(&refusal), "\"PERSISTED_QUERY_NOT_FOUND\"");
    assert_eq!(refusal.error.message, "PersistedQueryNotFound");
    assert_eq!(refusal.status, StatusCode::OK);

    let mut request = with_hash(Q, &hash.to_ascii_uppercase());
    assert_eq!(
        store.resolve(&limits(), &mut request).ok(),
        Some(Origin::Persisted)
    );
    assert!(request.extensions.is_empty(), "the extension is taken off");

    let mut request = with_hash("", &hash);
    assert_eq!(
        store.resolve(&limits(), &mut request).ok(),
        Some(Origin::Persisted)
    );
    assert_eq!(request.query, Q);

    let mut plain = Request::new(Q);
    assert_eq!(
        store.resolve(&limits(), &mut plain).ok(),
        Some(Origin::Text)
    );
}

#[test]
fn a_wrong_hash_or_version_is_refused() {
    let store = automatic(1 << 20);
    let mut request = with_hash(Q, &sha256_hex("{ other }"));
    let refusal = store.resolve(&limits(), &mut request).unwrap_err();
    assert_eq!(code(&refusal), "\"PERSISTED_QUERY_HASH_MISMATCH\"");
    assert_eq!(refusal.status, StatusCode::BAD_REQUEST);

    let mut request = persisted(serde_json::json!({ "version": 2, "sha256Hash": sha256_hex(Q) }));
    request.query = Q.to_owned();
    let refusal = store.resolve(&limits(), &mut request).unwrap_err();
    assert_eq!(code(&refusal), "\"PERSISTED_QUERY_VERSION_NOT_SUPPORTED\"");
    assert!(
        refusal.error.message.contains("version 2"),
        "{}",
        refusal.error.message
    );

    let mut request = persisted(serde_json::json!({ "version": 1 }));
    let refusal = store.resolve(&limits(), &mut request).unwrap_err();
    assert!(refusal.error.message.contains("sha256Hash"));

    let off = Persisted {
        mode: Mode::Automatic(None),
    };
    let refusal = off
        .resolve(&limits(), &mut with_hash(Q, &sha256_hex(Q)))
        .unwrap_err();
    assert_eq!(refusal.error.message, "PersistedQueryNotSupported");
}

#[test]
fn the_store_forgets_the_least_recently_used_first() {
    let texts: Vec<String> = (0..10).map(|i| format!("{{ f{i:03} }}")).collect();
    let hashes: Vec<String> = texts.iter().map(|t| sha256_hex(t)).collect();
    let size = hashes[0].len() + texts[0].len();
    // Room for eight entries, each an eighth of the store.
    let store = QueryStore::new(8 * size);
    for i in 0..8 {
        store.put(&hashes[i], &texts[i]);
    }
    assert!(store.get(&hashes[0]).is_some(), "0 is now the most recent");
    store.put(&hashes[8], &texts[8]);
    assert!(store.get(&hashes[1]).is_none(), "1 was the least recent");
    assert!(store.get(&hashes[0]).is_some());
    assert!(store.get(&hashes[8]).is_some());
    assert_eq!(store.lock().bytes, 8 * size);
    let big = format!("{{ f{:04} }}", 1);
    store.put(&sha256_hex(&big), &big);
    assert!(
        store.get(&sha256_hex(&big)).is_none(),
        "over an eighth of the store"
    );
}

const MANIFEST: &str = r#"{
    "format": "apollo-persisted-query-manifest",
    "version": 1,
    "operations": [
        { "id": "regions-1", "name": "Regions", "type": "query",
          "body": "query Regions { regions { code } }" },
        { "id": "save", "name": "Save", "type": "mutation",
          "body": "mutation Save { x }" }
    ]
}"#;

fn listed() -> Persisted {
    Persisted {
        mode: Mode::Listed(Manifest::parse(MANIFEST, &limits()).unwrap()),
    }
}

#[test]
fn a_manifest_admits_its_operations_by_id_or_body_and_nothing_else() {
    let locked = listed();
    let body = "query Regions { regions { code } }";
    let mut by_id = with_hash("", "regions-1");
    assert_eq!(
        locked.resolve(&limits(), &mut by_id).ok(),
        Some(Origin::Persisted)
    );
    assert_eq!(by_id.query, body);
    let mut by_body = Request::new(body);
    assert_eq!(
        locked.resolve(&limits(), &mut by_body).ok(),
        Some(Origin::Persisted)
    );
    let mut both = with_hash(body, "regions-1");
    assert_eq!(
        locked.resolve(&limits(), &mut both).ok(),
        Some(Origin::Persisted)
    );
    let mut by_sha = with_hash(body, &sha256_hex(body));
    assert_eq!(
        locked.resolve(&limits(), &mut by_sha).ok(),
        Some(Origin::Persisted)
    );

    for mut request in [
        Request::new("{ regions { code } }"),
        Request::new(""),
        with_hash("", "unknown"),
        with_hash("", &sha256_hex("{ __schema { types { name } } }")),
        with_hash("{ x }", &sha256_hex("{ x }")),
    ] {
        let refusal = locked.resolve(&limits(), &mut request).unwrap_err();
        assert_eq!(
            code(&refusal),
            "\"PERSISTED_QUERY_NOT_IN_LIST\"",
            "{}",
            request.query
        );
    }
    let refusal = locked
        .resolve(&limits(), &mut with_hash("{ x }", "regions-1"))
        .unwrap_err();
    assert_eq!(code(&refusal), "\"PERSISTED_QUERY_HASH_MISMATCH\"");
}

#[test]
fn a_malformed_manifest_says_what_is_wrong() {
    let operation = |id: &str, name: &str, kind: &str, body: &str| serde_json::json!({ "id": id, "name": name, "type": kind, "body": body });
    let manifest = |format: &str, version: u64, operations: Vec<Value>| {
        serde_json::json!({ "format": format, "version": version, "operations": operations })
            .to_string()
    };
    // A manifest of the right format and version with one operation.
    let only = |operation: Value| manifest(MANIFEST_FORMAT, 1, vec![operation]);
    let ok = operation("a", "A", "query", "query A { x }");
    for (text, expected) in [
        ("{".to_owned(), "EOF while parsing"),
        (
            r#"{"format": "apollo-persisted-query-manifest", "version": 1}"#.to_owned(),
            "missing field `operations`",
        ),
        (
            manifest("relay", 1, vec![ok.clone()]),
            "`format` is `relay`",
        ),
        (
            manifest(MANIFEST_FORMAT, 2, vec![ok.clone()]),
            "only version 1",
        ),
        (manifest(MANIFEST_FORMAT, 1, vec![]), "lists no operations"),
        (
            manifest(MANIFEST_FORMAT, 1, vec![ok.clone(), ok.clone()]),
            "operation 2 (`A`): id `a` is listed twice",
        ),
        (
            only(operation("", "A", "query", "query A { x }")),
            "`id` is empty",
        ),
        (
            only(operation("b", "B", "query", "query B {")),
            "not GraphQL",
        ),
        (
            only(operation("b", "B", "query", "query A { x } query C { y }")),
            "no operation `B`",
        ),
        (
            only(operation("b", "B", "mutation", "query B { x }")),
            "operation is a query",
        ),
        (
            only(operation("b", "B", "fetch", "query B { x }")),
            "`type` is `fetch`",
        ),
    ] {
        let why = Manifest::parse(&text, &limits())
            .err()
            .unwrap_or_else(|| panic!("accepted {text}"));
        assert!(why.contains(expected), "{why} should say {expected}");
    }
}

#[test]
fn if_none_match_compares_weakly_and_lists() {
    let tag = HeaderValue::from_static("\"abc\"");
    let with = |value: &'static str| {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static(value));
        headers
    };
    assert!(if_none_match(&with("\"abc\""), &tag));
    assert!(if_none_match(&with("\"x\", W/\"abc\""), &tag));
    assert!(if_none_match(&with("*"), &tag));
    assert!(!if_none_match(&with("\"abd\""), &tag));
    assert!(!if_none_match(&HeaderMap::new(), &tag));
}

#[test]
fn tags_change_with_the_version_the_caller_and_the_variables() {
    let request = || Request::new(Q);
    let anonymous = Principal::anonymous();
    let tag = |version, principal: &Principal, request: &Request| {
        entity_tag(version, principal, Media::Json, request).unwrap()
    };
    let base = tag(1, &anonymous, &request());
    assert_eq!(base, tag(1, &anonymous, &request()));
    let other = Principal {
        subject: Some("someone".into()),
        ..Principal::anonymous()
    };
    let varied = request().variables(async_graphql::Variables::from_json(
        serde_json::json!({ "a": 1 }),
    ));
    for different in [
        tag(2, &anonymous, &request()),
        tag(1, &other, &request()),
        tag(1, &anonymous, &varied),
        entity_tag(1, &anonymous, Media::GraphqlResponse, &request()).unwrap(),
    ] {
        assert_ne!(base, different);
    }
}
