//! The browser pages: the dashboard at `/` and GraphiQL at `/graphql` are
//! served with every file they load, each from this server, with long-lived
//! cache headers and an integrity hash that matches the bytes.

use base64::Engine as _;
use sha2::{Digest, Sha384};

use crate::helpers::{Backend, TestApp, code};

async fn app() -> TestApp {
    TestApp::spawn(Backend::Sqlite).await.expect("sqlite app")
}

/// GETs a page as a browser asks for it.
async fn page(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.address))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap()
}

/// The value of `attribute` in one tag.
fn attribute<'a>(tag: &'a str, attribute: &str) -> Option<&'a str> {
    let marker = format!(" {attribute}=\"");
    let start = tag.find(&marker)? + marker.len();
    tag[start..].split('"').next()
}

/// Each `(url, integrity)` of the page's tags that load a file; `integrity`
/// is `None` for a plain link.
fn loaded_files(html: &str) -> Vec<(String, Option<String>)> {
    html.split('<')
        .filter_map(|tag| {
            let url = attribute(tag, "src").or_else(|| attribute(tag, "href"))?;
            Some((
                url.to_owned(),
                attribute(tag, "integrity").map(str::to_owned),
            ))
        })
        .collect()
}

#[tokio::test]
async fn both_pages_load_only_their_own_assets_with_matching_integrity() {
    let app = app().await;
    let mut checked = 0;
    for (path, marker) in [("/", "id=\"heatmap-box\""), ("/graphql", "id=\"graphiql\"")] {
        let response = page(&app, path).await;
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert_eq!(
            headers["content-type"], "text/html; charset=utf-8",
            "{path}"
        );
        assert_eq!(headers["cache-control"], "no-cache", "{path}");
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.starts_with("default-src 'self'"), "{path}: {policy}");
        assert!(policy.contains("connect-src 'self'"), "{path}: {policy}");
        let html = response.text().await.unwrap();
        assert!(html.contains(marker), "{path} is not the expected page");
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "{path} names an absolute URL"
        );

        let files = loaded_files(&html);
        assert!(
            files
                .iter()
                .filter(|(_, integrity)| integrity.is_some())
                .count()
                >= 2,
            "{path} loads no script or stylesheet with an integrity hash"
        );
        for (url, integrity) in files {
            // The icon is inline, the skip link an anchor, and GraphiQL a page.
            if url.starts_with("data:") || url.starts_with('#') || url == "/graphql" {
                continue;
            }
            assert!(
                url.starts_with("/assets/"),
                "{path} loads {url}, not an asset"
            );
            let asset = app
                .client
                .get(format!("{}{url}", app.address))
                .send()
                .await
                .unwrap();
            assert_eq!(asset.status(), 200, "{url}");
            let expected_type = match url.rsplit('.').next() {
                Some("js") => "text/javascript; charset=utf-8",
                Some("css") => "text/css; charset=utf-8",
                Some("txt") => "text/plain; charset=utf-8",
                other => panic!("{url}: unexpected extension {other:?}"),
            };
            assert_eq!(asset.headers()["content-type"], expected_type, "{url}");
            assert_eq!(
                asset.headers()["cache-control"],
                "public, max-age=31536000, immutable",
                "{url}"
            );
            assert_eq!(asset.headers()["x-content-type-options"], "nosniff");
            let bytes = asset.bytes().await.unwrap();
            let digest = Sha384::digest(&bytes);
            let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            assert!(
                url.starts_with(&format!("/assets/{hash}/")),
                "{url}: the path's hash is not the content's"
            );
            if let Some(integrity) = integrity {
                assert_eq!(
                    integrity,
                    format!(
                        "sha384-{}",
                        base64::engine::general_purpose::STANDARD.encode(digest)
                    ),
                    "{url}: the integrity attribute does not match the bytes served"
                );
            }
            checked += 1;
        }
    }
    // Dashboard: its script, styles and three licences; GraphiQL: React,
    // ReactDOM, GraphiQL's script and styles, its start-up script and styles.
    assert_eq!(checked, 11);
}

#[tokio::test]
async fn assets_are_compressed_on_request_and_unknown_ones_are_404() {
    let app = app().await;
    let html = page(&app, "/graphql").await.text().await.unwrap();
    let (graphiql, _) = loaded_files(&html)
        .into_iter()
        .find(|(url, _)| url.ends_with("/graphiql.min.js"))
        .expect("GraphiQL's script");
    let plain = app
        .client
        .get(format!("{}{graphiql}", app.address))
        .send()
        .await
        .unwrap();
    let length = plain.bytes().await.unwrap().len();
    let gzipped = app
        .client
        .get(format!("{}{graphiql}", app.address))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let compressed = gzipped.bytes().await.unwrap().len();
    assert!(
        compressed * 2 < length,
        "gzip sent {compressed} of {length} bytes"
    );

    let stale = graphiql.replacen("/assets/", "/assets/0", 1);
    for url in [stale.as_str(), "/assets/0123456789abcdef/nothing.js"] {
        let response = app
            .client
            .get(format!("{}{url}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{url}");
    }
}

#[tokio::test]
async fn graphiql_can_be_switched_off_and_the_dashboard_stays() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.server.graphiql = false;
    })
    .await
    .expect("sqlite app");
    let graphiql = page(&app, "/graphql").await;
    assert_eq!(graphiql.status(), 400);
    assert!(
        graphiql.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: serde_json::Value = graphiql.json().await.unwrap();
    assert_eq!(code(&body), "BAD_USER_INPUT");

    let dashboard = page(&app, "/").await;
    assert_eq!(dashboard.status(), 200);
    assert!(
        dashboard
            .text()
            .await
            .unwrap()
            .contains("id=\"heatmap-box\"")
    );
}
