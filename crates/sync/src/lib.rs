//! The province-to-province sync job: a GraphQL client of a peer's change
//! feed that applies each page in one local transaction together with the
//! peer's cursor, so it can stop anywhere and resume without loss or
//! duplication.
//!
//! With `--follow` it catches up over HTTP, then follows the peer's
//! `changes` subscription ([`stream`]) so that each commit arrives as it is
//! made, and polls every interval instead when the peer offers no stream.
//!
//! Depends on `persistence` only; the server knows nothing of it.

mod stream;

use std::time::Duration;

use chrono::Utc;
use concord_domain::error_chain;
use concord_persistence::changes::{self, IncomingChange};
use concord_persistence::peers;
use concord_persistence::{DatabaseConnection, Progress, StoreError};
use sea_orm::TransactionTrait;
use serde::Deserialize;
use serde_json::json;

/// How to sync from one peer.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The peer's GraphQL endpoint, e.g. `http://10.0.0.2:8080/graphql`.
    pub url: String,
    /// A SYNC_AGENT (or NATIONAL_ADMIN) token the peer accepts.
    pub token: String,
}

/// How the job runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Changes asked for per page (at most 1000).
    pub page_size: u32,
    /// Fails after applying this many changes, before committing the page:
    /// a test hook that stands in for a crash.
    pub fail_after: Option<u64>,
    /// Whose rows this node owns: its region's code on a province node,
    /// `100000` on the national hub. A peer's version of an owned row never
    /// overwrites it; it is kept as a conflict.
    pub node: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            page_size: 500,
            fail_after: None,
            node: concord_domain::Origin::NATIONAL_CODE.to_owned(),
        }
    }
}

/// Why a sync stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("cannot reach the peer {url}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the peer answered HTTP {status}: {message}")]
    Http { status: u16, message: String },
    #[error("the peer refused the request ({code}): {message}")]
    Refused { code: String, message: String },
    #[error("the peer's answer is not a change page: {0}")]
    Malformed(String),
    #[error("the peer's change stream failed: {0}")]
    Stream(String),
    #[error("no peer to follow: give at least one --peer")]
    NoPeers,
    #[error("stopped on purpose after {0} changes (test hook)")]
    Interrupted(u64),
    #[error("the local database failed")]
    Store(#[from] StoreError),
    #[error("cannot set up the HTTP client")]
    Client(#[source] reqwest::Error),
}

impl From<sea_orm::DbErr> for SyncError {
    fn from(error: sea_orm::DbErr) -> Self {
        SyncError::Store(StoreError::Database(error))
    }
}

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Pages fetched.
    pub pages: u64,
    /// Changes received.
    pub received: u64,
    /// Changes newer than the local copy, and so applied.
    pub applied: u64,
}

#[derive(Deserialize)]
struct Envelope {
    data: Option<Data>,
    #[serde(default)]
    errors: Vec<GraphqlError>,
}

#[derive(Deserialize)]
struct GraphqlError {
    message: String,
    #[serde(default)]
    extensions: serde_json::Value,
}

#[derive(Deserialize)]
struct Data {
    changes: ChangePage,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangePage {
    total_count: i64,
    page_info: PageInfo,
    edges: Vec<Edge>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
struct Edge {
    node: IncomingChange,
}

const QUERY: &str = "query($after: String, $first: Int!) { changes(after: $after, first: $first) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { kind key revision record } } } }";

async fn fetch(
    client: &reqwest::Client,
    peer: &Peer,
    after: Option<&str>,
    first: u32,
) -> Result<ChangePage, SyncError> {
    let response = client
        .post(&peer.url)
        .bearer_auth(&peer.token)
        .header("accept", "application/json")
        .json(&json!({ "query": QUERY, "variables": { "after": after, "first": first } }))
        .send()
        .await
        .map_err(|source| SyncError::Unreachable {
            url: peer.url.clone(),
            source,
        })?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|source| SyncError::Unreachable {
            url: peer.url.clone(),
            source,
        })?;
    let envelope: Envelope = serde_json::from_str(&body).map_err(|e| {
        if status.is_success() {
            SyncError::Malformed(e.to_string())
        } else {
            SyncError::Http {
                status: status.as_u16(),
                message: body.chars().take(200).collect(),
            }
        }
    })?;
    if let Some(error) = envelope.errors.into_iter().next() {
        return Err(SyncError::Refused {
            code: error.extensions["code"]
                .as_str()
                .unwrap_or("UNKNOWN")
                .to_owned(),
            message: error.message,
        });
    }
    envelope
        .data
        .map(|d| d.changes)
        .ok_or_else(|| SyncError::Malformed("no data".into()))
}

/// Records a failure against the peer, leaving its cursor where it was.
async fn record_error(
    db: &DatabaseConnection,
    url: &str,
    error: &SyncError,
) -> Result<(), SyncError> {
    peers::record_error(db, url, error_chain(error), Utc::now()).await?;
    Ok(())
}

/// Tells [`follow`] to stop once the page in flight is applied: send `true`
/// through the sender [`Stop::new`] returns.
#[derive(Debug, Clone)]
pub struct Stop(tokio::sync::watch::Receiver<bool>);

impl Stop {
    pub fn new() -> (tokio::sync::watch::Sender<bool>, Self) {
        let (sender, receiver) = tokio::sync::watch::channel(false);
        (sender, Self(receiver))
    }

    fn is_requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Returns once a stop is asked for; never once its sender is gone
    /// without asking.
    async fn requested(&self) {
        let mut receiver = self.0.clone();
        if receiver.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Waits `delay`, or until a stop is asked for.
    async fn sleep(&self, delay: Duration) {
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = self.requested() => {}
        }
    }
}

/// Pulls and applies pages from `peer` until it has nothing newer (or a
/// stop is asked for). Each page is applied in one transaction that also
/// stores the peer's cursor.
pub async fn sync_peer(
    db: &DatabaseConnection,
    client: &reqwest::Client,
    peer: &Peer,
    options: &Options,
    stop: &Stop,
) -> Result<Report, SyncError> {
    sync_peer_reporting(db, client, peer, options, stop, &()).await
}

/// [`sync_peer`], reporting the changes received to `progress`. A failure
/// is recorded as the peer's last error before it is returned.
async fn sync_peer_reporting(
    db: &DatabaseConnection,
    client: &reqwest::Client,
    peer: &Peer,
    options: &Options,
    stop: &Stop,
    progress: &dyn Progress,
) -> Result<Report, SyncError> {
    let pulled = async {
        let first = options.page_size.min(1000);
        let mut report = Report::default();
        let mut cursor = peers::cursor(db, &peer.url).await?;
        let mut next = Some(Prefetch::start(client, peer, cursor.clone(), first));
        while let Some(fetching) = next.take() {
            let page = fetching.page().await?;
            cursor = page.page_info.end_cursor.clone().or(cursor);
            if page.page_info.has_next_page {
                // The next cursor is known: fetch that page while this one applies.
                next = Some(Prefetch::start(client, peer, cursor.clone(), first));
            }
            apply(db, peer, page, cursor.clone(), options, &mut report).await?;
            progress.advanced(report.received);
            if stop.is_requested() {
                // The page fetched ahead is dropped, which stops its fetch.
                break;
            }
        }
        Ok::<_, SyncError>(report)
    }
    .await;
    if let Err(error) = &pulled {
        record_error(db, &peer.url, error).await?;
    }
    pulled
}

/// A page being fetched in the background; dropping it stops the fetch.
struct Prefetch(tokio::task::JoinHandle<Result<ChangePage, SyncError>>);

impl Prefetch {
    fn start(client: &reqwest::Client, peer: &Peer, after: Option<String>, first: u32) -> Self {
        let (client, peer) = (client.clone(), peer.clone());
        Self(tokio::spawn(async move {
            fetch(&client, &peer, after.as_deref(), first).await
        }))
    }

    async fn page(mut self) -> Result<ChangePage, SyncError> {
        match (&mut self.0).await {
            Ok(page) => page,
            // Only dropping aborts it, so it panicked: pass the panic on.
            Err(stopped) => std::panic::resume_unwind(stopped.into_panic()),
        }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Applies one page of `peer`'s changes in one transaction, together with
/// the peer's cursor after it, and adds it to `report`.
async fn apply(
    db: &DatabaseConnection,
    peer: &Peer,
    page: ChangePage,
    cursor: Option<String>,
    options: &Options,
    report: &mut Report,
) -> Result<(), SyncError> {
    report.pages += 1;
    let changes: Vec<IncomingChange> = page.edges.into_iter().map(|e| e.node).collect();
    let now = Utc::now();
    let txn = db.begin().await?;
    if let Some(limit) = options.fail_after {
        // Room past `usize::MAX` is more than any page holds.
        let room = usize::try_from(limit.saturating_sub(report.received)).unwrap_or(usize::MAX);
        if changes.len() > room {
            changes::apply_page(&txn, &changes[..room], &options.node, now).await?;
            // The page goes, as in a crash. Rolled back here rather than on
            // drop: a dropped transaction lets go of SQLite's write lock only
            // when its connection is next used, and the error is about to
            // be recorded through another one.
            txn.rollback().await?;
            return Err(SyncError::Interrupted(limit));
        }
    }
    let applied = changes::apply_page(&txn, &changes, &options.node, now).await?;
    let received = i64::try_from(changes.len()).unwrap_or(i64::MAX);
    report.received += received.unsigned_abs();
    report.applied += applied;
    // The peer's total is what it says: saturating, so that a wild one
    // makes a wild lag rather than an overflow.
    let lag = page.total_count.saturating_sub(received);
    peers::record_page(&txn, &peer.url, cursor, applied, lag, now).await?;
    // Readers (the response cache) learn from the data version that data changed.
    concord_persistence::version::commit_touching(txn, &changes::footprint_of(&changes)).await?;
    tracing::info!(peer = %peer.url, received, applied, lag, "applied a page");
    Ok(())
}

/// Syncs from every peer in turn, once; the first error stops the run.
pub async fn sync_all(
    db: &DatabaseConnection,
    peers: &[Peer],
    options: &Options,
) -> Result<Report, SyncError> {
    sync_all_reporting(db, peers, options, &()).await
}

/// [`sync_all`], reporting to `progress` the changes received from each peer.
pub async fn sync_all_reporting(
    db: &DatabaseConnection,
    peers: &[Peer],
    options: &Options,
    progress: &dyn Progress,
) -> Result<Report, SyncError> {
    let client = client()?;
    let (_never, stop) = Stop::new();
    let mut total = Report::default();
    for peer in peers {
        progress.stage(&format!("syncing {}", peer.url), None);
        let report = sync_peer_reporting(db, &client, peer, options, &stop, progress).await?;
        total.pages += report.pages;
        total.received += report.received;
        total.applied += report.applied;
    }
    Ok(total)
}

/// The client every request to a peer goes through: a peer that stops
/// answering fails the page after 30 s instead of holding the sync forever.
fn client() -> Result<reqwest::Client, SyncError> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(SyncError::Client)
}

/// Keeps every peer in sync, each on its own: catches up, then follows the
/// peer's change stream; when the peer offers none, polls every `interval`.
/// After a failure it waits, doubling the wait up to five minutes. Runs
/// until `stop` is asked for, and then returns once each peer's page in
/// flight is applied; it fails only when it cannot start.
pub async fn follow(
    db: &DatabaseConnection,
    peers: &[Peer],
    options: &Options,
    interval: Duration,
    stop: Stop,
) -> Result<(), SyncError> {
    if peers.is_empty() {
        return Err(SyncError::NoPeers);
    }
    let client = client()?;
    futures::future::join_all(
        peers
            .iter()
            .map(|peer| follow_peer(db, &client, peer, options, interval, &stop)),
    )
    .await;
    Ok(())
}

const LONGEST_WAIT: Duration = Duration::from_secs(300);

async fn follow_peer(
    db: &DatabaseConnection,
    client: &reqwest::Client,
    peer: &Peer,
    options: &Options,
    interval: Duration,
    stop: &Stop,
) {
    let mut delay = interval;
    let failed = |error: &SyncError, delay: &mut Duration| {
        *delay = (*delay * 2).min(LONGEST_WAIT);
        tracing::warn!(peer = %peer.url, retry_in = ?delay, error = %error_chain(error), "sync failed");
    };
    while !stop.is_requested() {
        if let Err(error) = sync_peer(db, client, peer, options, stop).await {
            failed(&error, &mut delay);
            stop.sleep(delay).await;
            continue;
        }
        if stop.is_requested() {
            break;
        }
        match stream::follow(db, peer, options, stop).await {
            // The peer ended the stream, or a stop was asked for: catch up
            // and subscribe again unless stopping.
            Ok(_) => delay = interval,
            Err(stream::StreamEnd::NotOffered(why)) => {
                delay = interval;
                tracing::info!(peer = %peer.url, %why, every = ?interval, "no change stream; polling");
                stop.sleep(interval).await;
            }
            Err(stream::StreamEnd::Failed(error)) => {
                if let Err(store) = record_error(db, &peer.url, &error).await {
                    tracing::warn!(error = %error_chain(&store), "cannot record the sync error");
                }
                failed(&error, &mut delay);
                stop.sleep(delay).await;
            }
        }
    }
}
