//! Proof by fault injection: the real `concord serve`, killed with SIGKILL
//! at ten seeded moments while writers change guides, a matter and
//! standards, and started again each time. Afterwards every change it
//! acknowledged is there with its audit entry and its change-log entry, a
//! change it did not acknowledge is there whole or not at all, and the
//! data version never went backwards.
//!
//! `CONCORD_CRASH_SEED` picks the kill moments and the mix of changes; the
//! seed is printed, so that a failing run can be repeated.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::RangeInclusive;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;

use crate::helpers::{As, Backend, Rng, TEST_SECRET, TestDatabase, metric_at, token};

/// The seed when `CONCORD_CRASH_SEED` is not set.
const DEFAULT_SEED: u64 = 20_261_206;
const KILLS: u64 = 10;
/// How long the writers run before each kill, and after the last start.
const RUN_MS: RangeInclusive<u64> = 200..=1500;
/// Writers of guides, one guide each; one more writer changes the catalogue.
const GUIDE_WRITERS: usize = 4;
const REGION: &str = "330000";
/// The matter the catalogue writer creates and then renames again and again.
const CATALOGUE_MATTER: &str = "SI-CRASH-CATALOGUE";

fn seed() -> u64 {
    std::env::var("CONCORD_CRASH_SEED").map_or(DEFAULT_SEED, |seed| {
        seed.parse()
            .unwrap_or_else(|_| panic!("CONCORD_CRASH_SEED must be a number, not `{seed}`"))
    })
}

/// A `concord serve` process, killed when dropped so that a failing test
/// leaves none behind.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    async fn start(database_url: &str) -> Self {
        // The port is free when picked but may be taken before the server
        // binds it; then the server exits and another port is tried.
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .expect("a free port")
                .port();
            let child = Command::new(env!("CARGO_BIN_EXE_concord"))
                .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
                .args(["--database", database_url])
                .env("CONCORD__AUTH__JWT_SECRET", TEST_SECRET)
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .spawn()
                .expect("start concord serve");
            let mut server = Self {
                child,
                address: format!("http://127.0.0.1:{port}"),
            };
            if server.ready().await {
                return server;
            }
        }
        panic!("concord serve never became ready");
    }

    async fn ready(&mut self) -> bool {
        for _ in 0..600 {
            if self.child.try_wait().expect("the server's state").is_some() {
                return false;
            }
            if let Ok(response) = reqwest::get(format!("{}/readyz", self.address)).await
                && response.status().is_success()
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Sends SIGKILL (what `Child::kill` sends on Unix): no code of the
    /// server runs after it, as when the machine loses power to the process.
    fn crash(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("the killed server");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// What the writers know of the server: which start of it is up, and where.
#[derive(Clone)]
struct Up {
    generation: u64,
    address: Option<String>,
    over: bool,
}

/// The server to send to: one that is up, and when `past` is given, one
/// started after that generation; `None` once the run is over, or when
/// the test has stopped.
async fn next_server(up: &mut watch::Receiver<Up>, past: Option<u64>) -> Option<(u64, String)> {
    let state = up
        .wait_for(|s| s.over || (s.address.is_some() && past.is_none_or(|g| s.generation > g)))
        .await
        .ok()?
        .clone();
    if state.over {
        return None;
    }
    state.address.map(|address| (state.generation, address))
}

/// How the server answered a request.
enum Answer {
    /// A whole answer with data and no errors.
    Data(Value),
    /// A whole answer that refused the request.
    Refused(Value),
    /// No whole answer: the connection failed or was cut.
    Cut,
}

async fn post(
    client: &reqwest::Client,
    address: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Answer {
    let mut request = client
        .post(format!("{address}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(_) => return Answer::Cut,
    };
    let status = response.status();
    let body = match response.bytes().await {
        Ok(body) => body,
        Err(_) => return Answer::Cut,
    };
    match serde_json::from_slice::<Value>(&body) {
        Ok(body) if status.is_success() && body.get("errors").is_none() => {
            Answer::Data(body["data"].clone())
        }
        Ok(body) => Answer::Refused(body),
        Err(_) => Answer::Refused(Value::String(String::from_utf8_lossy(&body).into())),
    }
}

/// Reads until the server answers (waiting out kills), as NATIONAL_ADMIN
/// or SYNC_AGENT; a refusal fails the test. `None` once the run is over.
async fn read(
    client: &reqwest::Client,
    up: &mut watch::Receiver<Up>,
    who: As,
    query: &str,
    variables: Value,
) -> Option<Value> {
    let token = token(who);
    let mut past = None;
    loop {
        let (generation, address) = next_server(up, past).await?;
        match post(client, &address, token.as_deref(), query, variables.clone()).await {
            Answer::Data(data) => return Some(data),
            Answer::Cut => past = Some(generation),
            Answer::Refused(body) => panic!("a read was refused: {body}"),
        }
    }
}

/// A row the writers change.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Row {
    /// Zhejiang's guide for this matter.
    Guide(String),
    Matter(String),
    Standard(String),
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.key())
    }
}

impl Row {
    /// The kind, as the audit log and the change log name it.
    fn kind(&self) -> &'static str {
        match self {
            Row::Guide(_) => "GUIDE",
            Row::Matter(_) => "MATTER",
            Row::Standard(_) => "STANDARD",
        }
    }

    /// The key, as the audit log and the change log write it.
    fn key(&self) -> String {
        match self {
            Row::Guide(matter) => format!("{REGION}/{matter}"),
            Row::Matter(code) | Row::Standard(code) => code.clone(),
        }
    }

    /// The fields the writers set, by their names in the API and in the
    /// change log's records.
    fn fields(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            Row::Guide(_) => &[
                ("timeLimitDays", "time_limit_days"),
                ("materials", "materials"),
                ("status", "status"),
            ],
            Row::Matter(_) => &[("nameZh", "name_zh")],
            Row::Standard(_) => &[("titleZh", "title_zh"), ("status", "status")],
        }
    }

    /// The fields the writers set, from a row as the API shows it.
    fn summary(&self, content: &Value) -> Value {
        let fields = self.fields().iter();
        Value::Object(
            fields
                .map(|(name, _)| ((*name).to_owned(), content[name].clone()))
                .collect(),
        )
    }

    /// The fields the writers set, from a change-log record.
    fn logged_summary(&self, record: &Value) -> Value {
        let fields = self.fields().iter();
        Value::Object(
            fields
                .map(|(name, column)| ((*name).to_owned(), record["row"][column].clone()))
                .collect(),
        )
    }

    /// Whether the row keeps every version, or only its latest.
    fn keeps_history(&self) -> bool {
        !matches!(self, Row::Matter(_))
    }

    /// The row as stored: its revision (0 when absent) and the summary of
    /// each version it keeps.
    async fn read(&self, client: &reqwest::Client, up: &mut watch::Receiver<Up>) -> Option<Stored> {
        let (query, variables, field) = match self {
            Row::Guide(matter) => (
                "query($r: String!, $m: String!) { guide(region: $r, matter: $m) {
                    revision status timeLimitDays materials revisions { revision content } } }",
                json!({ "r": REGION, "m": matter }),
                "guide",
            ),
            Row::Matter(code) => (
                "query($c: String!) { matter(code: $c) { revision nameZh } }",
                json!({ "c": code }),
                "matter",
            ),
            Row::Standard(code) => (
                "query($c: String!) { standard(code: $c) {
                    revision titleZh status revisions { revision content } } }",
                json!({ "c": code }),
                "standard",
            ),
        };
        let data = read(client, up, As::National, query, variables).await?;
        let row = &data[field];
        let mut stored = Stored::default();
        if row.is_null() {
            return Some(stored);
        }
        stored.revision = row["revision"].as_i64().expect("a revision");
        for kept in row["revisions"].as_array().into_iter().flatten() {
            stored.versions.insert(
                kept["revision"].as_i64().expect("a revision"),
                self.summary(&kept["content"]),
            );
        }
        stored
            .versions
            .entry(stored.revision)
            .or_insert_with(|| self.summary(row));
        Some(stored)
    }
}

/// A row as stored.
#[derive(Default)]
struct Stored {
    revision: i64,
    versions: BTreeMap<i64, Value>,
}

impl Stored {
    fn latest(&self) -> Option<&Value> {
        self.versions.get(&self.revision)
    }
}

/// What became of a change the test sent.
#[derive(Debug)]
enum Outcome {
    /// Answered with this new revision.
    Acknowledged(i64),
    /// Cut by a kill, or sent while the server was down.
    Cut,
    /// Answered with an error: it must have changed nothing.
    Refused(Value),
}

/// A change the test sent, and what it wrote.
#[derive(Debug)]
struct Attempt {
    row: Row,
    /// The revision it was made against (0: the row was new).
    expected: i64,
    /// The row's summary after it.
    wrote: Value,
    /// Text that only this change wrote, when it wrote any.
    marker: Option<String>,
    outcome: Outcome,
}

/// A change to send: the request and what it writes.
struct Change {
    row: Row,
    expected: i64,
    query: &'static str,
    variables: Value,
    field: &'static str,
    wrote: Value,
    marker: Option<String>,
}

const SAVE_GUIDE: &str =
    "mutation($input: SaveGuideInput!) { saveGuide(input: $input) { revision } }";
const PUBLISH_GUIDE: &str = "mutation($r: String!, $m: String!, $e: Int!) {
    publishGuide(region: $r, matter: $m, expectedRevision: $e) { revision } }";
const SAVE_MATTER: &str =
    "mutation($input: SaveMatterInput!) { saveMatter(input: $input) { revision } }";
const CREATE_STANDARD: &str =
    "mutation($input: CreateStandardInput!) { createStandard(input: $input) { revision } }";

/// The next change to a guide: publish its draft (at `publish_percent`
/// odds) or save a new draft.
fn guide_change(
    rng: &mut Rng,
    publish_percent: u64,
    row: &Row,
    stored: &Stored,
    marker: String,
) -> Change {
    let Row::Guide(matter) = row else {
        unreachable!("a guide writer writes a guide")
    };
    let latest = stored.latest().expect("the guide exists");
    if latest["status"] == "DRAFT" && rng.within(1..=100) <= publish_percent {
        let mut wrote = latest.clone();
        wrote["status"] = json!("PUBLISHED");
        return Change {
            row: row.clone(),
            expected: stored.revision,
            query: PUBLISH_GUIDE,
            variables: json!({ "r": REGION, "m": matter, "e": stored.revision }),
            field: "publishGuide",
            wrote,
            marker: None,
        };
    }
    // Past every seeded procedure's length, which a guide may not undercut.
    let days = rng.within(70..=250);
    let materials = json!(["居民身份证", marker]);
    Change {
        row: row.clone(),
        expected: stored.revision,
        query: SAVE_GUIDE,
        variables: json!({ "input": {
            "region": REGION, "matter": matter, "timeLimitDays": days, "fee": "0",
            "materials": materials, "channels": ["COUNTER", "ONLINE"],
            "expectedRevision": stored.revision,
        } }),
        field: "saveGuide",
        wrote: json!({ "timeLimitDays": days, "materials": materials, "status": "DRAFT" }),
        marker: Some(marker),
    }
}

/// The next change to the catalogue: rename the matter (at
/// `matter_percent` odds) or create a new standard.
fn catalogue_change(
    rng: &mut Rng,
    matter_percent: u64,
    matter: &Stored,
    step: u64,
    marker: String,
) -> Change {
    if rng.within(1..=100) <= matter_percent {
        return Change {
            row: Row::Matter(CATALOGUE_MATTER.into()),
            expected: matter.revision,
            query: SAVE_MATTER,
            variables: json!({ "input": {
                "code": CATALOGUE_MATTER, "nameZh": marker, "category": "SOCIAL_INSURANCE",
                "expectedRevision": matter.revision,
            } }),
            field: "saveMatter",
            wrote: json!({ "nameZh": marker }),
            marker: Some(marker),
        };
    }
    let code = format!("DB33/T {}-2026", 8000 + step);
    Change {
        row: Row::Standard(code.clone()),
        expected: 0,
        query: CREATE_STANDARD,
        variables: json!({ "input": { "code": code, "titleZh": marker, "level": "LOCAL" } }),
        field: "createStandard",
        wrote: json!({ "titleZh": marker, "status": "DRAFT" }),
        marker: Some(marker),
    }
}

/// What a writer changes.
enum Writes {
    /// One guide, published at these odds when it is a draft.
    Guide { row: Row, publish_percent: u64 },
    /// The catalogue matter at these odds, else a new standard.
    Catalogue { matter_percent: u64 },
}

/// Sends changes one after another until the run is over, each against
/// the revision it last saw, and records what became of each. After a
/// change that was not acknowledged it reads the row again, from the next
/// server after a kill.
async fn writer(
    name: usize,
    writes: Writes,
    mut rng: Rng,
    mut up: watch::Receiver<Up>,
    client: reqwest::Client,
) -> Vec<Attempt> {
    let (who, tracked) = match &writes {
        Writes::Guide { row, .. } => (As::Province(REGION), row.clone()),
        Writes::Catalogue { .. } => (As::National, Row::Matter(CATALOGUE_MATTER.into())),
    };
    let token = token(who);
    let mut attempts = Vec::new();
    let mut stored = None;
    let mut past = None;
    for step in 0.. {
        let current = match stored.take() {
            Some(current) => current,
            None => match tracked.read(&client, &mut up).await {
                Some(current) => current,
                None => break,
            },
        };
        let Some((generation, address)) = next_server(&mut up, past.take()).await else {
            break;
        };
        let marker = format!("crash-{name}-{step}");
        let change = match &writes {
            Writes::Guide {
                row,
                publish_percent,
            } => guide_change(&mut rng, *publish_percent, row, &current, marker),
            Writes::Catalogue { matter_percent } => {
                catalogue_change(&mut rng, *matter_percent, &current, step, marker)
            }
        };
        let answer = post(
            &client,
            &address,
            token.as_deref(),
            change.query,
            change.variables,
        )
        .await;
        let outcome = match answer {
            Answer::Data(data) => {
                let revision = data[change.field]["revision"].as_i64().expect("a revision");
                if change.row == tracked {
                    let mut next = current;
                    next.revision = revision;
                    next.versions.insert(revision, change.wrote.clone());
                    stored = Some(next);
                } else {
                    stored = Some(current);
                }
                Outcome::Acknowledged(revision)
            }
            Answer::Cut => {
                past = Some(generation);
                Outcome::Cut
            }
            Answer::Refused(body) => Outcome::Refused(body),
        };
        attempts.push(Attempt {
            row: change.row,
            expected: change.expected,
            wrote: change.wrote,
            marker: change.marker,
            outcome,
        });
    }
    attempts
}

/// The data version as committed, read from the database itself.
async fn data_version(url: &str) -> i64 {
    let options = concord_persistence::ConnectOptions::new(url.to_owned());
    let (db, _) = concord_persistence::connect(&options)
        .await
        .expect("open the database");
    let version = concord_persistence::version::current(&db)
        .await
        .expect("read the data version");
    db.close().await.ok();
    version
}

/// The data version the server has seen, from `/metrics`.
async fn version_seen(client: &reqwest::Client, address: &str) -> i64 {
    let seen = metric_at(client, address, "concord_data_version_seen").await;
    i64::try_from(seen).expect("a data version fits an i64")
}

/// The change log after `after`, in order, and the cursor after its end.
async fn changes_after(
    client: &reqwest::Client,
    up: &mut watch::Receiver<Up>,
    mut after: Option<String>,
) -> (Vec<Value>, Option<String>) {
    let mut changes = Vec::new();
    loop {
        let data = read(
            client,
            up,
            As::Sync,
            "query($a: String) { changes(after: $a, first: 1000) {
                pageInfo { hasNextPage endCursor } nodes { kind key revision record } } }",
            json!({ "a": after }),
        )
        .await
        .expect("the server is up");
        let page = &data["changes"];
        changes.extend(page["nodes"].as_array().expect("nodes").iter().cloned());
        if let Some(cursor) = page["pageInfo"]["endCursor"].as_str() {
            after = Some(cursor.to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            return (changes, after);
        }
    }
}

/// The `after` of every audit entry about `row`, oldest first.
async fn audit_of(client: &reqwest::Client, up: &mut watch::Receiver<Up>, row: &Row) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = read(
            client,
            up,
            As::National,
            "query($k: String!, $t: RowKind!, $a: String) {
                auditLog(filter: { targetKind: $t, targetKey: $k }, first: 100, after: $a) {
                    pageInfo { hasNextPage endCursor } nodes { after } } }",
            json!({ "k": row.key(), "t": row.kind(), "a": after }),
        )
        .await
        .expect("the server is up");
        let page = &data["auditLog"];
        entries.extend(
            page["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .map(|n| n["after"].clone()),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            entries.reverse();
            return entries;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

async fn audit_total(client: &reqwest::Client, up: &mut watch::Receiver<Up>) -> usize {
    let data = read(
        client,
        up,
        As::National,
        "{ auditLog(first: 0) { totalCount } }",
        json!({}),
    )
    .await
    .expect("the server is up");
    data["auditLog"]["totalCount"].as_u64().expect("a count") as usize
}

/// A row before the run: its revision and how many audit entries it had.
#[derive(Clone, Copy, Default)]
struct Start {
    revision: i64,
    audited: usize,
}

/// What the database holds of a row at the end, from the run only.
struct Found {
    start: Start,
    stored: Stored,
    /// The audit entries' `after`, oldest first.
    audit: Vec<Value>,
    /// The change-log entries: revision and record.
    changes: Vec<(i64, Value)>,
}

impl Attempt {
    fn describe(&self) -> String {
        let outcome = match self.outcome {
            Outcome::Acknowledged(_) => "acknowledged",
            Outcome::Cut => "cut",
            Outcome::Refused(_) => "refused",
        };
        format!(
            "the {outcome} change against revision {} to {}",
            self.expected, self.wrote
        )
    }
}

/// Checks one row against the changes sent to it: each change that was
/// made is in the row, in the audit log and in the change log, and
/// nothing else is. Returns how many of the changes cut by a kill had
/// committed.
fn check_row(row: &Row, found: &Found, attempts: &[&Attempt], problems: &mut Vec<String>) -> usize {
    let mut problem = |text: String| problems.push(format!("{row}: {text}"));
    let last = found.stored.revision;
    let audited: Vec<Value> = found.audit.iter().map(|a| row.summary(a)).collect();
    let mut logged: BTreeMap<i64, &Value> = BTreeMap::new();
    for (revision, record) in &found.changes {
        if logged.insert(*revision, record).is_some() {
            problem(format!("the change log has revision {revision} twice"));
        }
    }
    // Which change made each revision: the acknowledged ones, then those
    // that were not acknowledged but show in the row or either log.
    let mut made_by: BTreeMap<i64, &Attempt> = BTreeMap::new();
    for attempt in attempts {
        let Outcome::Acknowledged(revision) = attempt.outcome else {
            continue;
        };
        if revision != attempt.expected + 1 {
            problem(format!("{} became revision {revision}", attempt.describe()));
        }
        if made_by.insert(revision, attempt).is_some() {
            problem(format!("revision {revision} was acknowledged twice"));
        }
    }
    let text = serde_json::to_string(&json!([
        found.stored.versions.values().collect::<Vec<_>>(),
        found.audit,
        logged.values().collect::<Vec<_>>(),
    ]))
    .expect("serialize");
    let mut landed = 0;
    for attempt in attempts {
        let revision = attempt.expected + 1;
        if matches!(attempt.outcome, Outcome::Acknowledged(_))
            // Sent again and acknowledged: so this one did not commit.
            || made_by.get(&revision).is_some_and(|other| other.wrote == attempt.wrote)
        {
            continue;
        }
        let logged_here = logged
            .get(&revision)
            .is_some_and(|record| row.logged_summary(record) == attempt.wrote);
        // Quoted, so that `crash-0-1` is not found in `crash-0-12`.
        let marked = attempt
            .marker
            .as_ref()
            .is_some_and(|marker| text.contains(&format!("\"{marker}\"")));
        let shows = found.stored.versions.get(&revision) == Some(&attempt.wrote)
            || audited.contains(&attempt.wrote)
            || logged_here
            || marked;
        if !shows {
            continue;
        }
        if let Outcome::Refused(body) = &attempt.outcome {
            problem(format!("{} was applied: {body}", attempt.describe()));
            continue;
        }
        match made_by.entry(revision) {
            Entry::Occupied(_) => problem(format!(
                "{} shows, but revision {revision} is another change's",
                attempt.describe()
            )),
            Entry::Vacant(entry) => {
                entry.insert(attempt);
                landed += 1;
            }
        }
    }
    // Each change that was made is whole.
    let mut audit_used = vec![false; audited.len()];
    for (revision, attempt) in &made_by {
        let change = attempt.describe();
        let wrote = &attempt.wrote;
        if *revision > last {
            problem(format!(
                "{change} made revision {revision}; the row is at {last}"
            ));
        }
        match found.stored.versions.get(revision) {
            Some(kept) if kept != wrote => {
                problem(format!("{change}: revision {revision} holds {kept}"))
            }
            None if row.keeps_history() && *revision <= last => problem(format!(
                "{change}: revision {revision} is not in the row's history"
            )),
            _ => {}
        }
        let entry = (0..audited.len()).find(|&i| !audit_used[i] && audited[i] == *wrote);
        match entry {
            Some(i) => audit_used[i] = true,
            None => problem(format!("{change} has no audit entry")),
        }
        match logged.get(revision) {
            None => problem(format!("{change} has no change-log entry")),
            // A draft goes out as a retraction, without content.
            Some(record) if record.is_null() => {
                if wrote["status"] != "DRAFT" {
                    problem(format!("{change} is retracted in the change log"));
                }
            }
            Some(record) if row.logged_summary(record) != *wrote => problem(format!(
                "{change}: the change log holds {}",
                row.logged_summary(record)
            )),
            Some(_) => {}
        }
    }
    // And nothing else was.
    for revision in found.start.revision + 1..=last {
        if !made_by.contains_key(&revision) {
            problem(format!("no change the test sent made revision {revision}"));
        }
    }
    for (after, used) in found.audit.iter().zip(&audit_used) {
        if !used {
            problem(format!("the audit entry for {after} is of no change made"));
        }
    }
    for revision in logged.keys() {
        if !made_by.contains_key(revision) {
            problem(format!(
                "the change-log entry for revision {revision} is of no change made"
            ));
        }
    }
    landed
}

async fn crash_test(backend: Backend) {
    let seed = seed();
    println!("crash test on {backend:?} with seed {seed} (CONCORD_CRASH_SEED={seed} repeats it)");
    let mut rng = Rng(seed);
    let database = TestDatabase::create(backend)
        .await
        .expect("a test database (PostgreSQL: CONCORD_TEST_POSTGRES_URL)");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a client");
    let mut server = Server::start(&database.url).await;
    let (up_sender, mut up) = watch::channel(Up {
        generation: 0,
        address: Some(server.address.clone()),
        over: false,
    });

    // Which guides, and each changing row's state before the run.
    let listed = read(
        &client,
        &mut up,
        As::National,
        "query($r: String!) { guides(filter: { region: $r }, first: 100) { nodes { matterCode } } }",
        json!({ "r": REGION }),
    )
    .await
    .expect("the server is up");
    let mut matters: Vec<String> = listed["guides"]["nodes"]
        .as_array()
        .expect("guides")
        .iter()
        .map(|node| node["matterCode"].as_str().expect("a code").to_owned())
        .collect();
    let mut starts = BTreeMap::new();
    let mut writers = Vec::new();
    for name in 0..GUIDE_WRITERS {
        let matter = matters.remove(rng.within(0..=matters.len() as u64 - 1) as usize);
        let row = Row::Guide(matter);
        let stored = row.read(&client, &mut up).await.expect("the server is up");
        let start = Start {
            revision: stored.revision,
            audited: audit_of(&client, &mut up, &row).await.len(),
        };
        starts.insert(row.clone(), start);
        let writes = Writes::Guide {
            row,
            publish_percent: rng.within(20..=80),
        };
        writers.push((name, writes));
    }
    let matter_percent = rng.within(20..=80);
    writers.push((GUIDE_WRITERS, Writes::Catalogue { matter_percent }));
    let audited_before = audit_total(&client, &mut up).await;
    let (_, log_start) = changes_after(&client, &mut up, None).await;
    let mut versions = vec![data_version(&database.url).await];

    let tasks: Vec<_> = writers
        .into_iter()
        .map(|(name, writes)| {
            tokio::spawn(writer(
                name,
                writes,
                rng.fork(),
                up_sender.subscribe(),
                client.clone(),
            ))
        })
        .collect();
    for generation in 1..=KILLS {
        tokio::time::sleep(Duration::from_millis(rng.within(RUN_MS))).await;
        let seen = version_seen(&client, &server.address).await;
        server.crash();
        up_sender.send_modify(|up| up.address = None);
        server = Server::start(&database.url).await;
        let version = data_version(&database.url).await;
        let previous = *versions.last().expect("the first version");
        assert!(
            version >= seen && version >= previous,
            "seed {seed}: after kill {generation} the data version is {version}; \
             the killed server had seen {seen}, and {previous} was read after the start before"
        );
        versions.push(version);
        up_sender.send_modify(|up| {
            up.generation = generation;
            up.address = Some(server.address.clone());
        });
    }
    tokio::time::sleep(Duration::from_millis(rng.within(RUN_MS))).await;
    up_sender.send_modify(|up| up.over = true);
    let mut attempts = Vec::new();
    for task in tasks {
        attempts.extend(task.await.expect("a writer"));
    }

    // The writers are done; the reads from here on go to the last server.
    up_sender.send_modify(|up| up.over = false);
    let mut by_row: BTreeMap<Row, Vec<&Attempt>> = BTreeMap::new();
    for attempt in &attempts {
        by_row.entry(attempt.row.clone()).or_default().push(attempt);
        starts.entry(attempt.row.clone()).or_default();
    }
    let (logged, _) = changes_after(&client, &mut up, log_start).await;
    let mut log_of: HashMap<(String, String), Vec<(i64, Value)>> = HashMap::new();
    for change in logged {
        let kind = change["kind"].as_str().expect("a kind").to_owned();
        let key = change["key"].as_str().expect("a key").to_owned();
        let revision = change["revision"].as_i64().expect("a revision");
        log_of
            .entry((kind, key))
            .or_default()
            .push((revision, change["record"].clone()));
    }
    let mut problems = Vec::new();
    let mut audited = 0;
    let mut landed = 0;
    for (row, start) in &starts {
        let stored = row.read(&client, &mut up).await.expect("the server is up");
        let audit = audit_of(&client, &mut up, row).await;
        if audit.len() < start.audited {
            problems.push(format!("{row}: audit entries were lost"));
            continue;
        }
        audited += audit.len() - start.audited;
        let found = Found {
            start: *start,
            stored,
            audit: audit[start.audited..].to_vec(),
            changes: log_of
                .remove(&(row.kind().to_owned(), row.key()))
                .unwrap_or_default(),
        };
        let sent = by_row.get(row).map_or(&[][..], Vec::as_slice);
        landed += check_row(row, &found, sent, &mut problems);
    }
    let audited_after = audit_total(&client, &mut up).await;
    if audited_after != audited_before + audited {
        problems.push(format!(
            "the audit log went from {audited_before} to {audited_after} entries; \
             {audited} were added about the rows the test changed"
        ));
    }
    for (kind, key) in log_of.keys() {
        problems.push(format!(
            "{kind} {key}: in the change log, yet the test never changed it"
        ));
    }
    let count =
        |wanted: fn(&Outcome) -> bool| attempts.iter().filter(|a| wanted(&a.outcome)).count();
    let acknowledged = count(|o| matches!(o, Outcome::Acknowledged(_)));
    let cut = count(|o| matches!(o, Outcome::Cut));
    let refused = count(|o| matches!(o, Outcome::Refused(_)));
    println!(
        "{acknowledged} changes acknowledged, {cut} cut by a kill ({landed} of them committed), \
         {refused} refused; data version after each start: {versions:?}"
    );
    assert!(
        acknowledged > 0,
        "seed {seed}: the server acknowledged no change"
    );
    assert!(
        problems.is_empty(),
        "seed {seed}: {} problems after {KILLS} kills:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_sigkill_whole_on_sqlite() {
    crash_test(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL"
)]
async fn acknowledged_changes_survive_sigkill_whole_on_postgres() {
    crash_test(Backend::Postgres).await;
}
