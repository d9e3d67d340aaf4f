use std::ops::RangeInclusive;
use std::process::Command;
use std::sync::Once;

use concord_server::{Application, Settings};
use serde_json::{Value, json};

/// The HS256 secret every test app is configured with.
pub const TEST_SECRET: &str = "concord-test-secret-of-at-least-32-bytes";

/// Who a test request runs as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum As {
    Anonymous,
    Viewer,
    /// PROVINCE_ADMIN of the given region.
    Province(&'static str),
    /// ZONE_COORDINATOR of the given zone.
    Zone(&'static str),
    National,
    Sync,
    /// FEDERATION, for a node of the given region calling a peer.
    Federation(&'static str),
}

/// The `extensions.code` of a response's first error; `none` when it has
/// no error.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("none")
}

/// The `extensions.field` of a response's first error: the argument or
/// input field it refuses; `none` when there is none.
pub fn error_field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or("none")
}

/// A signed token for `who`, or `None` for anonymous.
pub fn token(who: As) -> Option<String> {
    use concord_auth::{AuthSettings, Role, TokenRequest, issue_hs256};
    let (role, region, zone) = match who {
        As::Anonymous => return None,
        As::Viewer => (Role::Viewer, None, None),
        As::Province(region) => (Role::ProvinceAdmin, Some(region), None),
        As::Zone(zone) => (Role::ZoneCoordinator, None, Some(zone)),
        As::National => (Role::NationalAdmin, None, None),
        As::Sync => (Role::SyncAgent, None, None),
        As::Federation(region) => (Role::Federation, Some(region), None),
    };
    let request = TokenRequest {
        role,
        region: region.map(|r| concord_domain::RegionCode::try_from(r).expect("region")),
        zone: zone.map(|z| concord_domain::ZoneCode::try_from(z).expect("zone")),
        subject: format!("{who:?}"),
        ttl: std::time::Duration::from_secs(600),
    };
    Some(
        issue_hs256(
            &secrecy::SecretString::from(TEST_SECRET),
            &AuthSettings::default(),
            &request,
        )
        .expect("token"),
    )
}

/// SplitMix64: a few lines, and the same numbers from the same seed
/// on every platform.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn within(&mut self, range: RangeInclusive<u64>) -> u64 {
        range.start() + self.next() % (range.end() - range.start() + 1)
    }

    /// A generator of its own, for a task that runs beside the others.
    pub fn fork(&mut self) -> Rng {
        Rng(self.next())
    }
}

/// Which database a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running application and what the test needs to reach it.
pub struct TestApp {
    pub address: String,
    /// The app's database, for tests that run a `concord` command against it.
    pub database_url: String,
    pub client: reqwest::Client,
    /// The database the app made for itself; `None` for an app beside another.
    _database: Option<TestDatabase>,
}

/// A database for one test: an SQLite file in a temporary directory, or a
/// PostgreSQL database made for the test and dropped with this value.
pub struct TestDatabase {
    pub url: String,
    _dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

fn init_tracing() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "info,sqlx=warn".into()),
                )
                .with_test_writer()
                .init();
        }
    });
}

/// The PostgreSQL server the tests may create databases on, from
/// `CONCORD_TEST_POSTGRES_URL`; `None` without it, except under CI
/// (`CI=true`), where a test that needs it fails.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("CONCORD_TEST_POSTGRES_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!("CI=true: the PostgreSQL tests need CONCORD_TEST_POSTGRES_URL")
        }
        Err(_) => None,
    }
}

/// The backend of the second node of a two-node test: PostgreSQL when the
/// tests may use it, so that replication crosses backends; else SQLite.
pub fn second_backend() -> Backend {
    if postgres_admin_url().is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

/// A Jiangsu (`320000`) node on `backend`: the node of a two-node test that
/// replicates the other.
pub async fn jiangsu_node(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |settings| {
        settings.node.region = Some("320000".into());
    })
    .await
    .expect("the Jiangsu node starts")
}

/// A counter or gauge from the `/metrics` of the server at `address`.
pub async fn metric_at(client: &reqwest::Client, address: &str, name: &str) -> u64 {
    let text = client
        .get(format!("{address}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics body");
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} is not in /metrics:\n{text}"))
}

/// A port nothing listens on now, for a server process to bind.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `concord serve` on `port` over a new SQLite database in `dir`, taking
/// tokens signed with [`TEST_SECRET`]; `options` go before `serve`.
pub fn concord_serve(options: &[&str], port: u16, dir: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_concord"));
    command
        .args(options)
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--database",
        ])
        .arg(format!("sqlite://{}", dir.join("concord.db").display()))
        .env("CONCORD__AUTH__JWT_SECRET", TEST_SECRET);
    command
}

/// Waits until the server at `address` answers `/readyz`, for a minute at
/// the most.
pub async fn until_ready(client: &reqwest::Client, address: &str) {
    for _ in 0..600 {
        if let Ok(response) = client.get(format!("{address}/readyz")).send().await
            && response.status().is_success()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("concord serve never became ready");
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let root = base.rsplit_once('/').map_or(base, |(root, _)| root);
    match query {
        Some(query) => format!("{root}/{database}?{query}"),
        None => format!("{root}/{database}"),
    }
}

async fn admin_execute(admin_url: &str, sql: &str) {
    use sea_orm::ConnectionTrait;
    let db = sea_orm::Database::connect(admin_url)
        .await
        .expect("connect to PostgreSQL");
    db.execute_unprepared(sql).await.expect(sql);
    db.close().await.ok();
}

impl TestApp {
    /// Starts the app on `backend`, or returns `None` when the backend is
    /// PostgreSQL and `CONCORD_TEST_POSTGRES_URL` is not set (the test is skipped).
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(
        backend: Backend,
        configure: impl FnOnce(&mut Settings),
    ) -> Option<Self> {
        let database = TestDatabase::create(backend).await?;
        Some(Self::start(database.url.clone(), Some(database), configure).await)
    }

    /// Starts a second server process's worth of app on this app's
    /// database, as a second `concord serve` behind a load balancer would run.
    pub async fn beside(&self, configure: impl FnOnce(&mut Settings)) -> Self {
        Self::start(self.database_url.clone(), None, configure).await
    }

    async fn start(
        url: String,
        database: Option<TestDatabase>,
        configure: impl FnOnce(&mut Settings),
    ) -> Self {
        init_tracing();
        let mut settings = Settings::default();
        settings.server.bind = "127.0.0.1:0".into();
        settings.server.workers = 1;
        settings.auth.jwt_secret = Some(secrecy::SecretString::from(TEST_SECRET));
        settings.database.url = url;
        configure(&mut settings);
        let database_url = settings.database.url.clone();
        let app = Application::build(settings).await.expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        Self {
            address,
            database_url,
            client: reqwest::Client::new(),
            _database: database,
        }
    }

    /// The current revision of `region`'s guide for `matter`, read as
    /// NATIONAL_ADMIN (drafts too); `None` if it has none.
    pub async fn guide_revision(&self, region: &str, matter: &str) -> Option<i64> {
        self.data_as(
            As::National,
            "query($r: String!, $m: String!) { guide(region: $r, matter: $m) { revision } }",
            json!({ "r": region, "m": matter }),
        )
        .await["guide"]["revision"]
            .as_i64()
    }

    /// Runs `concord import` of `file` into this app's database; whether
    /// it succeeded, and what it printed.
    pub fn import(&self, file: &std::path::Path) -> (bool, String) {
        run_concord(&[
            "import",
            "--database",
            &self.database_url,
            file.to_str().expect("a UTF-8 path"),
        ])
    }

    /// The GraphQL endpoint's URL, for requests built by hand.
    pub fn endpoint(&self) -> String {
        format!("{}/graphql", self.address)
    }

    /// Sends a query with variables and returns the whole JSON answer.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(As::Anonymous, query, variables).await
    }

    /// Sends a query as `who` and returns the whole JSON answer.
    pub async fn graphql_as(&self, who: As, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(self.endpoint())
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token(who) {
            request = request.bearer_auth(token);
        }
        request
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json body")
    }

    /// Sends a query as `who` that must succeed, and returns its `data`.
    pub async fn data_as(&self, who: As, query: &str, variables: Value) -> Value {
        let body = self.graphql_as(who, query, variables).await;
        assert!(
            body.get("errors").is_none(),
            "unexpected errors as {who:?}: {body}"
        );
        body["data"].clone()
    }

    /// How many audit entries exist, read as NATIONAL_ADMIN.
    pub async fn audit_count(&self) -> i64 {
        self.data_as(
            As::National,
            "{ auditLog(first: 0) { totalCount } }",
            json!({}),
        )
        .await["auditLog"]["totalCount"]
            .as_i64()
            .expect("audit count")
    }

    /// Sends a query that must succeed, and returns its `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.graphql(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// The SQL statements the server has run so far, from `/metrics`.
    pub async fn statements(&self) -> u64 {
        self.metric("concord_sql_statements_total").await
    }

    /// Waits until the server has seen the latest commit in its database.
    /// A commit by another process (`concord sync`, `concord import`)
    /// reaches the server's cache within a documented bound, not at once.
    pub async fn sees_latest_commit(&self) {
        let options = concord_persistence::ConnectOptions::new(self.database_url.clone());
        let (db, _) = concord_persistence::connect(&options)
            .await
            .expect("open the test database");
        let latest = concord_persistence::version::current(&db)
            .await
            .expect("read the data version");
        for _ in 0..500 {
            if self.metric("concord_data_version_seen").await >= latest as u64 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the server never saw commit {latest}");
    }

    /// A counter or gauge from `/metrics`.
    pub async fn metric(&self, name: &str) -> u64 {
        metric_at(&self.client, &self.address, name).await
    }
}

impl TestDatabase {
    /// Makes an empty database on `backend`, or returns `None` when the
    /// backend is PostgreSQL and `CONCORD_TEST_POSTGRES_URL` is not set.
    pub async fn create(backend: Backend) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut postgres = None;
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("concord.db").display()),
            Backend::Postgres => {
                let admin = postgres_admin_url()?;
                let name = format!("concord_test_{}", uuid_like());
                admin_execute(&admin, &format!("CREATE DATABASE {name}")).await;
                let url = with_database(&admin, &name);
                postgres = Some((admin, name));
                url
            }
        };
        Some(Self {
            url,
            _dir: dir,
            postgres,
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.postgres.take() {
            // Drop runs outside async context: use a runtime of its own.
            std::thread::spawn(move || {
                if let Ok(runtime) = tokio::runtime::Runtime::new() {
                    runtime.block_on(admin_execute(
                        &admin,
                        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    ));
                }
            })
            .join()
            .ok();
        }
    }
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}_{}_{}", std::process::id(), nanos % 1_000_000_000, n)
}

/// Declares a test that runs on SQLite, and on PostgreSQL when
/// `CONCORD_TEST_POSTGRES_URL` is set.
macro_rules! storage_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: crate::helpers::TestApp) $body

            #[tokio::test]
            async fn sqlite() {
                let app = crate::helpers::TestApp::spawn(crate::helpers::Backend::Sqlite).await.expect("sqlite");
                run(app).await;
            }

            #[tokio::test]
            #[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL")]
            async fn postgres() {
                let app = crate::helpers::TestApp::spawn(crate::helpers::Backend::Postgres)
                    .await
                    .expect("CONCORD_TEST_POSTGRES_URL names the test server");
                run(app).await;
            }
        }
    };
}
pub(crate) use storage_test;

/// Runs the `concord` binary as another process would; whether it
/// succeeded, and what it printed on stdout and stderr.
pub fn run_concord(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run concord");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}
