use super::*;

fn count_tokens(source: &str) -> usize {
    scan(source).tokens
}

#[test]
fn tokens_are_counted_like_a_lexer() {
    assert_eq!(count_tokens("{ regions { code } }"), 6);
    assert_eq!(count_tokens("query Q($a: Int = -1.5e3) { x(a: $a) }"), 19);
    assert_eq!(count_tokens("# comment\n{ a(s: \"x y, z\") }"), 8);
    assert_eq!(
        count_tokens("{ a(s: \"\"\"block \"quoted\" \"\"\") ...F }"),
        10
    );
    assert_eq!(count_tokens(&"{a}".repeat(1000)), 3000);
}

#[test]
fn nesting_counts_brackets_outside_strings_and_comments() {
    let nesting = |source: &str| scan(source).nesting;
    assert_eq!(nesting("{ regions { code } }"), 2);
    assert_eq!(nesting("{ a(x: [[1], {b: [2]}]) }"), 5);
    assert_eq!(
        nesting("{ a(s: \"[[[[\", t: \"\"\"{{{\"\"\") # ((((\n }"),
        2
    );
    assert_eq!(nesting("]]]}}} { a }"), 1);
}

/// Found by fuzzing /graphql: a GET whose argument nested lists 5,000
/// deep overflowed the parser's stack and aborted the server, before
/// any limit was checked.
#[test]
fn deep_nesting_is_refused_before_parsing() {
    let limits = Limits {
        max_tokens: usize::MAX,
        ..Limits::default()
    };
    let deep = format!("{{ a(x: {}1{}) }}", "[".repeat(5000), "]".repeat(5000));
    let error = check_text(&limits, &deep).unwrap_err();
    assert_eq!(
        error.message,
        "the request exceeds the nesting limit: 5002 > 128"
    );
    let fine = format!("{{ a(x: {}1{}) }}", "[".repeat(100), "]".repeat(100));
    assert!(check_text(&limits, &fine).is_ok());
}

#[test]
fn shape_counts_depth_aliases_and_directives() {
    let document = async_graphql::parser::parse_query(
        "query { a: regions { b: zones { code @include(if: true) } } ...F __schema { types { name } } }
         fragment F on Query { zones { members { code } } }",
    )
    .unwrap();
    assert_eq!(
        measure(&document),
        Shape {
            depth: 3,
            aliases: 2,
            directives: 1
        }
    );
}

/// Found by fuzzing: on PostgreSQL a search text or a name holding
/// U+0000 failed in the database, an INTERNAL error.
#[test]
fn nul_is_found_wherever_a_string_stands() {
    let parse = |query: &str| async_graphql::parser::parse_query(query).unwrap();
    for query in [
        "{ matters(filter: { text: \"a\\u0000b\" }) { code } }",
        "{ regions @skip(if: false) { guides(filter: { matter: [\"\\u0000\"] }) { totalCount } } }",
        "query($t: String = \"\\u0000\") { matters(filter: { text: $t }) { code } }",
        "{ ...F } fragment F on Query { zone(code: \"\\u0000\") { code } }",
        "{ ... on Query { zone(code: \"\\u0000\") { code } } }",
    ] {
        assert!(nul_in_document(&parse(query)), "{query}");
    }
    let query = parse("query($t: String) { matters(filter: { text: $t }) { code } }");
    assert!(!nul_in_document(&query));
    let nested = Value::from_json(serde_json::json!({ "steps": [{ "name": "a\u{0}" }] }));
    assert!(nul_in(&nested.unwrap()));
    let clean = Value::from_json(serde_json::json!({ "t": "社保卡", "n": [1, null] }));
    assert!(!nul_in(&clean.unwrap()));
}

#[test]
fn cyclic_fragments_terminate() {
    let document = async_graphql::parser::parse_query(
        "{ ...A } fragment A on Query { regions { ...B } } fragment B on Region { zones { ...A } }",
    )
    .unwrap();
    assert_eq!(measure(&document).depth, 2);
}
