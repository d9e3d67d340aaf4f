//! The browser pages: the zone dashboard at `/` and GraphiQL at `/graphql`.
//!
//! Every file the pages load is embedded in the binary (from
//! `crates/server/assets/`) and served under `/assets/<hash>/<name>`, so a
//! browser with no internet access gets all of it from this process. A page
//! template names its files by placeholders, which start-up fills in with
//! each file's hashed path and its Subresource Integrity hash, both computed
//! from the embedded bytes: neither can drift from what is served.

use std::fmt::Write as _;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use base64::Engine as _;
use sha2::{Digest, Sha384};

/// One embedded file.
struct File {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

macro_rules! embed {
    ($dir:literal, $name:literal, $content_type:expr) => {
        File {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!("../assets/", $dir, "/", $name)),
        }
    };
}

const FILES: &[File] = &[
    embed!("vendor", "react.production.min.js", JS),
    embed!("vendor", "react-dom.production.min.js", JS),
    embed!("vendor", "graphiql.min.js", JS),
    embed!("vendor", "graphiql.min.css", CSS),
    embed!("vendor", "LICENSE-graphiql.txt", TEXT),
    embed!("vendor", "LICENSE-react.txt", TEXT),
    embed!("vendor", "LICENSE-react-dom.txt", TEXT),
    embed!("graphiql", "graphiql-start.js", JS),
    embed!("graphiql", "graphiql-page.css", CSS),
    embed!("dashboard", "dashboard.js", JS),
    embed!("dashboard", "dashboard.css", CSS),
];

const DASHBOARD: &str = include_str!("../assets/dashboard/index.html");
const GRAPHIQL: &str = include_str!("../assets/graphiql/graphiql.html");

/// The dashboard styles itself only from its stylesheet and the DOM.
const DASHBOARD_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";
/// GraphiQL's components write inline styles and its fonts are data URLs;
/// `connect-src 'self'` also admits a WebSocket to this host, for subscriptions.
const GRAPHIQL_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Why a page template cannot be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("a page template has an unclosed `{{{{` placeholder")]
    Unclosed,
    #[error("a page template has `{{{{{0}}}}}`, which is not `script|module|style|href NAME`")]
    Placeholder(String),
    #[error("a page template names `{0}`, which is not an embedded file")]
    Unknown(String),
}

/// An embedded file with where it is served and its integrity hash.
struct Asset {
    file: &'static File,
    /// The first 16 hex digits of the file's SHA-384, its path segment.
    hash: String,
    /// `sha384-` and the base64 digest, as `integrity` attributes have it.
    integrity: String,
}

impl Asset {
    fn new(file: &'static File) -> Self {
        let digest = Sha384::digest(file.bytes);
        let hash = digest[..8].iter().fold(String::new(), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        });
        let integrity = format!(
            "sha384-{}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        );
        Self {
            file,
            hash,
            integrity,
        }
    }

    fn path(&self) -> String {
        format!("/assets/{}/{}", self.hash, self.file.name)
    }
}

/// The rendered pages and the files they load.
pub struct Pages {
    assets: Vec<Asset>,
    dashboard: String,
    graphiql: String,
}

impl Pages {
    /// Hashes the embedded files and renders both pages.
    pub fn build() -> Result<Self, PageError> {
        let assets: Vec<Asset> = FILES.iter().map(Asset::new).collect();
        let dashboard = render(DASHBOARD, &assets)?;
        let graphiql = render(GRAPHIQL, &assets)?;
        Ok(Self {
            assets,
            dashboard,
            graphiql,
        })
    }

    /// The GraphiQL page.
    pub fn graphiql(&self) -> HttpResponse {
        html(&self.graphiql, GRAPHIQL_POLICY)
    }
}

/// Fills in `{{script NAME}}`, `{{module NAME}}`, `{{style NAME}}` (each a
/// whole tag with its integrity hash) and `{{href NAME}}` (the path alone).
fn render(template: &str, assets: &[Asset]) -> Result<String, PageError> {
    let mut page = String::with_capacity(template.len() + 2048);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        page.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(PageError::Unclosed)?;
        let placeholder = after[..end].trim();
        let (kind, name) = placeholder
            .split_once(' ')
            .ok_or_else(|| PageError::Placeholder(placeholder.to_owned()))?;
        let asset = assets
            .iter()
            .find(|asset| asset.file.name == name)
            .ok_or_else(|| PageError::Unknown(name.to_owned()))?;
        let (path, integrity) = (asset.path(), &asset.integrity);
        let _ = match kind {
            "script" => write!(
                page,
                r#"<script src="{path}" integrity="{integrity}"></script>"#
            ),
            "module" => write!(
                page,
                r#"<script type="module" src="{path}" integrity="{integrity}"></script>"#
            ),
            "style" => write!(
                page,
                r#"<link rel="stylesheet" href="{path}" integrity="{integrity}">"#
            ),
            "href" => write!(page, "{path}"),
            _ => return Err(PageError::Placeholder(placeholder.to_owned())),
        };
        rest = &after[end + 2..];
    }
    page.push_str(rest);
    Ok(page)
}

/// A page: never kept without asking, since it names the current assets.
fn html(body: &str, policy: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, policy))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(body.to_owned())
}

/// GET /: the zone dashboard.
pub async fn dashboard(pages: web::Data<Pages>) -> HttpResponse {
    html(&pages.dashboard, DASHBOARD_POLICY)
}

/// GET /assets/{hash}/{name}: an embedded file. Its path changes with its
/// content, so a browser may keep it for a year without asking again.
pub async fn asset(pages: web::Data<Pages>, path: web::Path<(String, String)>) -> HttpResponse {
    let (hash, name) = path.into_inner();
    match pages
        .assets
        .iter()
        .find(|asset| asset.file.name == name && asset.hash == hash)
    {
        Some(asset) => HttpResponse::Ok()
            .content_type(asset.file.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(asset.file.bytes),
        None => HttpResponse::NotFound()
            .content_type(TEXT)
            .body("no such asset"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages() -> Pages {
        Pages::build().unwrap()
    }

    /// Every `attribute="…"` value in a page.
    fn attribute_values<'a>(page: &'a str, attribute: &str) -> Vec<&'a str> {
        let marker = format!(" {attribute}=\"");
        page.match_indices(&marker)
            .filter_map(|(at, _)| {
                let value = &page[at + marker.len()..];
                value.find('"').map(|end| &value[..end])
            })
            .collect()
    }

    #[test]
    fn pages_render_and_name_only_local_files() {
        let pages = pages();
        for page in [&pages.dashboard, &pages.graphiql] {
            assert!(!page.contains("{{"), "a placeholder was left unrendered");
            assert!(
                !page.contains("http://") && !page.contains("https://") && !page.contains("//cdn"),
                "a page names another host"
            );
            for url in attribute_values(page, "src")
                .into_iter()
                .chain(attribute_values(page, "href"))
            {
                let here = (url.starts_with('/') && !url.starts_with("//"))
                    || url.starts_with('#')
                    || url.starts_with("data:");
                assert!(here, "{url} is not a path on this host");
            }
        }
    }

    #[test]
    fn integrity_attributes_match_the_served_bytes() {
        let pages = pages();
        let mut checked = 0;
        for page in [&pages.dashboard, &pages.graphiql] {
            for tag in page.split('<').filter(|tag| tag.contains("integrity=")) {
                let url = attribute_values(tag, "src")
                    .into_iter()
                    .chain(attribute_values(tag, "href"))
                    .next()
                    .unwrap();
                let integrity = attribute_values(tag, "integrity")[0];
                let name = url.rsplit('/').next().unwrap();
                let file = FILES.iter().find(|file| file.name == name).unwrap();
                let expected = format!(
                    "sha384-{}",
                    base64::engine::general_purpose::STANDARD.encode(Sha384::digest(file.bytes))
                );
                assert_eq!(integrity, expected, "{name}");
                checked += 1;
            }
        }
        // React, ReactDOM, GraphiQL's script and styles, its start-up script
        // and page styles; the dashboard's script and styles.
        assert_eq!(checked, 8);
    }

    #[test]
    fn a_placeholder_must_name_an_embedded_file() {
        let assets: Vec<Asset> = FILES.iter().map(Asset::new).collect();
        assert!(matches!(
            render("{{script missing.js}}", &assets),
            Err(PageError::Unknown(name)) if name == "missing.js"
        ));
        assert!(matches!(
            render("{{img graphiql.min.css}}", &assets),
            Err(PageError::Placeholder(_))
        ));
        assert!(matches!(
            render("<p>{{href dashboard.js", &assets),
            Err(PageError::Unclosed)
        ));
        let rendered = render("<a href=\"{{href LICENSE-react.txt}}\">", &assets).unwrap();
        assert!(rendered.starts_with("<a href=\"/assets/"));
        assert!(rendered.ends_with("/LICENSE-react.txt\">"));
    }

    #[test]
    fn each_file_is_served_under_its_hash_only() {
        let pages = pages();
        for asset in &pages.assets {
            assert_eq!(asset.hash.len(), 16);
            assert!(asset.path().ends_with(asset.file.name));
        }
        let names: std::collections::HashSet<_> = FILES.iter().map(|f| f.name).collect();
        assert_eq!(names.len(), FILES.len(), "two embedded files share a name");
    }
}
