//! Asking peers for their parts: in parallel, within one budget per query
//! (concurrency, total time, body size), conditionally on the last answer.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use concord_domain::alignment::GuideValues;
use concord_domain::guide::{OperatingProcedure, ServiceGuide};
use concord_domain::{GuideStatus, RegionCode};
use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_NONE_MATCH};
use secrecy::ExposeSecret;
use tokio::sync::{OnceCell, Semaphore};

use crate::part::Part;
use crate::settings::{FederationSettings, Peer, PeerError, PeerSettings};

/// A peer's part as this node last received it.
#[derive(Debug)]
pub struct Fetched {
    /// The tag to send back, when the peer gave one.
    etag: Option<String>,
    /// The peer's data version the part was read at.
    pub data_version: i64,
    /// When the part last changed on the peer.
    pub committed_at: Option<DateTime<Utc>>,
    /// The published guides of the peer's region, and of no other.
    pub guides: Arc<Vec<ServiceGuide>>,
    /// The same guides as alignment reads them, by matter code.
    pub values: Arc<HashMap<String, GuideValues>>,
    /// The published procedures of the peer's region, by matter code.
    pub procedures: Arc<HashMap<String, OperatingProcedure>>,
    /// Rows of other regions (or unpublished ones) the peer sent and this
    /// node dropped.
    pub dropped: usize,
}

/// Why a peer's part is not there (or not whole).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartFailure {
    #[error("no peer is configured for this member")]
    NoPeer,
    #[error("the peer could not be reached: {0}")]
    Unreachable(String),
    #[error("the peer did not answer within the query's budget of {0} ms")]
    Timeout(u64),
    #[error("the peer refused this node's token (HTTP {0})")]
    Refused(u16),
    #[error("the peer's answer is unusable: {0}")]
    BadAnswer(String),
    #[error(
        "the peers' answers to this query came to more than federation.max_body_bytes ({0} bytes); this one was cut off"
    )]
    TooLarge(usize),
    #[error("the peer sent {0} rows that are not its own published rows; they were dropped")]
    ForeignRows(usize),
}

impl PartFailure {
    /// A stable name for clients.
    pub fn code(&self) -> &'static str {
        match self {
            PartFailure::NoPeer => "NO_PEER",
            PartFailure::Unreachable(_) => "UNREACHABLE",
            PartFailure::Timeout(_) => "TIMEOUT",
            PartFailure::Refused(_) => "REFUSED",
            PartFailure::BadAnswer(_) => "BAD_ANSWER",
            PartFailure::TooLarge(_) => "TOO_LARGE",
            PartFailure::ForeignRows(_) => "FOREIGN_ROWS",
        }
    }
}

/// What asking one peer came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The part, when the peer gave a usable one (a part with rows dropped
    /// is usable: what remains is the peer's own).
    pub part: Option<Arc<Fetched>>,
    /// Why the part is missing or not whole.
    pub failure: Option<PartFailure>,
    /// How long the call took; `None` when no call was made.
    pub latency: Option<Duration>,
    /// True when the peer answered "unchanged" and the last part was reused.
    pub not_modified: bool,
}

impl Outcome {
    fn failed(failure: PartFailure, latency: Option<Duration>) -> Self {
        Self {
            part: None,
            failure: Some(failure),
            latency,
            not_modified: false,
        }
    }
}

/// What one query may spend on its peers, shared by every zone read in it.
struct Budget {
    deadline: tokio::time::Instant,
    /// The bytes the query may still receive.
    room: AtomicUsize,
    /// Calls in flight.
    slots: Semaphore,
}

/// One query's outbound calls: its budget, set at its first call, and each
/// peer's outcome, so that every zone read in the query sees the same parts
/// and no peer is asked twice.
#[derive(Default)]
pub struct Fanout {
    budget: OnceLock<Budget>,
    answers: Mutex<HashMap<String, Arc<OnceCell<Outcome>>>>,
}

impl Fanout {
    fn answer(&self, region: &str) -> Arc<OnceCell<Outcome>> {
        let mut answers = self
            .answers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(answers.entry(region.to_owned()).or_default())
    }
}

/// This node's zone peers and the last part each sent.
pub struct Peers {
    peers: Vec<Peer>,
    settings: FederationSettings,
    client: reqwest::Client,
    last: Mutex<HashMap<String, Arc<Fetched>>>,
}

impl Peers {
    /// Checks the configured peers against the regions this node knows.
    pub fn new(
        settings: &FederationSettings,
        peers: &[PeerSettings],
        own: Option<&RegionCode>,
        known: &HashSet<String>,
    ) -> Result<Self, PeerError> {
        let peers = settings.check(peers, own, known)?;
        let budget = Duration::from_millis(settings.budget_ms);
        let client = reqwest::Client::builder()
            .connect_timeout(budget)
            .timeout(budget)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .map_err(|e| PeerError::Client(e.to_string()))?;
        Ok(Self {
            peers,
            settings: settings.clone(),
            client,
            last: Mutex::new(HashMap::new()),
        })
    }

    /// The default source of zone reads.
    pub fn default_source(&self) -> crate::Source {
        self.settings.source
    }

    /// The base URL of `region`'s peer, if one is configured.
    pub fn base_url(&self, region: &str) -> Option<&str> {
        self.peer(region).map(|peer| peer.base.as_str())
    }

    fn peer(&self, region: &str) -> Option<&Peer> {
        self.peers
            .iter()
            .find(|peer| peer.region.as_str() == region)
    }

    /// Asks the peer of each of `regions` for its part within `query`'s
    /// budget: at most `max_concurrency` calls at once and all within
    /// `budget_ms` of the query's first call, whatever else the query asks.
    /// A peer the query already asked is not asked again: its first outcome
    /// stands for the whole query. Never fails: each region gets its outcome.
    pub async fn fetch(&self, query: &Fanout, regions: &[String]) -> HashMap<String, Outcome> {
        let budget = query.budget.get_or_init(|| Budget {
            deadline: tokio::time::Instant::now() + Duration::from_millis(self.settings.budget_ms),
            room: AtomicUsize::new(self.settings.max_body_bytes),
            slots: Semaphore::new(self.settings.max_concurrency),
        });
        let asked = regions.iter().map(|region| {
            let answer = query.answer(region);
            async move {
                let outcome = answer
                    .get_or_init(|| self.ask(region, budget))
                    .await
                    .clone();
                (region.clone(), outcome)
            }
        });
        futures::future::join_all(asked).await.into_iter().collect()
    }

    /// One peer's outcome, within the query's budget.
    async fn ask(&self, region: &str, budget: &Budget) -> Outcome {
        let Some(peer) = self.peer(region) else {
            return Outcome::failed(PartFailure::NoPeer, None);
        };
        let timeout = || PartFailure::Timeout(self.settings.budget_ms);
        // Waiting for a free slot is not the peer's latency, but it is
        // within the query's time.
        let Ok(Ok(_slot)) = tokio::time::timeout_at(budget.deadline, budget.slots.acquire()).await
        else {
            return Outcome::failed(timeout(), None);
        };
        let started = Instant::now();
        match tokio::time::timeout_at(budget.deadline, self.call(peer, &budget.room)).await {
            Ok(Ok((part, not_modified))) => Outcome {
                failure: (part.dropped > 0).then(|| PartFailure::ForeignRows(part.dropped)),
                part: Some(part),
                latency: Some(started.elapsed()),
                not_modified,
            },
            Ok(Err(failure)) => Outcome::failed(failure, Some(started.elapsed())),
            Err(_) => Outcome::failed(timeout(), Some(started.elapsed())),
        }
    }

    fn last(&self, region: &str) -> Option<Arc<Fetched>> {
        self.last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(region)
            .cloned()
    }

    /// One conditional request: the peer's part, and whether it was the
    /// last one, confirmed unchanged. Its body is taken out of `room`, the
    /// bytes the query may still receive.
    async fn call(
        &self,
        peer: &Peer,
        room: &AtomicUsize,
    ) -> Result<(Arc<Fetched>, bool), PartFailure> {
        let last = self.last(peer.region.as_str());
        let mut request = self
            .client
            .get(peer.part_url.clone())
            .bearer_auth(peer.token.expose_secret());
        if let Some(etag) = last.as_ref().and_then(|l| l.etag.as_deref()) {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let mut response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                PartFailure::Timeout(self.settings.budget_ms)
            } else {
                PartFailure::Unreachable(without_url(&e))
            }
        })?;
        match response.status() {
            StatusCode::NOT_MODIFIED => {
                return match last {
                    Some(last) if last.etag.is_some() => Ok((last, true)),
                    _ => Err(PartFailure::BadAnswer(
                        "\"not modified\" to a request that named no version".into(),
                    )),
                };
            }
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(PartFailure::Refused(response.status().as_u16()));
            }
            other => return Err(PartFailure::BadAnswer(format!("HTTP {}", other.as_u16()))),
        }
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let limit = self.settings.max_body_bytes;
        if response
            .content_length()
            .is_some_and(|n| n > room.load(Ordering::Acquire) as u64)
        {
            return Err(PartFailure::TooLarge(limit));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| PartFailure::Unreachable(without_url(&e)))?
        {
            room.fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(chunk.len())
            })
            .map_err(|_| PartFailure::TooLarge(limit))?;
            body.extend_from_slice(&chunk);
        }
        let part: Part = serde_json::from_slice(&body)
            .map_err(|e| PartFailure::BadAnswer(format!("not a part: {e}")))?;
        let fetched = Arc::new(accept(peer, part, etag)?);
        self.last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(peer.region.to_string(), Arc::clone(&fetched));
        Ok((fetched, false))
    }
}

/// The part as far as it can be trusted: only the peer's own region, only
/// published rows, each a record the domain accepts.
fn accept(peer: &Peer, part: Part, etag: Option<String>) -> Result<Fetched, PartFailure> {
    if part.region != peer.region.as_str() {
        return Err(PartFailure::BadAnswer(format!(
            "it is the part of region {}, not of {}",
            part.region, peer.region
        )));
    }
    let total = part.guides.len() + part.procedures.len();
    let own = |region: &str, status: GuideStatus| {
        region == peer.region.as_str() && status == GuideStatus::Published
    };
    let refused =
        |error: concord_persistence::StoreError| PartFailure::BadAnswer(error.to_string());
    let guides: Vec<ServiceGuide> = part
        .guides
        .into_iter()
        .filter(|g| own(&g.region_code, *g.status))
        .map(ServiceGuide::try_from)
        .collect::<Result<_, _>>()
        .map_err(refused)?;
    let mut procedures = HashMap::new();
    for procedure in part.procedures {
        if !own(&procedure.region_code, *procedure.status) {
            continue;
        }
        let procedure = OperatingProcedure::try_from(procedure).map_err(refused)?;
        let matter = procedure.matter.to_string();
        if procedures.insert(matter.clone(), procedure).is_some() {
            return Err(PartFailure::BadAnswer(format!(
                "two procedures for matter {matter}"
            )));
        }
    }
    let mut values = HashMap::with_capacity(guides.len());
    for guide in &guides {
        if values
            .insert(guide.matter.to_string(), guide.values())
            .is_some()
        {
            return Err(PartFailure::BadAnswer(format!(
                "two guides for matter {}",
                guide.matter
            )));
        }
    }
    Ok(Fetched {
        etag,
        data_version: part.data_version,
        committed_at: part.committed_at,
        dropped: total - guides.len() - procedures.len(),
        guides: Arc::new(guides),
        values: Arc::new(values),
        procedures: Arc::new(procedures),
    })
}

/// A client error without the URL, which the answer's provenance need not repeat.
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(&format!(" for url ({url})"), "");
    }
    match std::error::Error::source(error) {
        Some(source) => format!("{text}: {source}"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use concord_domain::Channel;
    use concord_persistence::entity::{ChannelList, TextList, service_guide};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A peer that answers every request with `size` bytes.
    async fn peer_sending(size: usize) -> String {
        counted_peer_sending(size, Arc::new(AtomicUsize::new(0))).await
    }

    /// A peer that answers every request with `size` bytes, counting the
    /// requests in `asked`.
    async fn counted_peer_sending(size: usize, asked: Arc<AtomicUsize>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                asked.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut head = [0u8; 4096];
                    let _ = stream.read(&mut head).await;
                    let body = "x".repeat(size);
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                         content-length: {size}\r\nconnection: close\r\n\r\n{body}"
                    );
                    let _ = stream.write_all(answer.as_bytes()).await;
                });
            }
        });
        address
    }

    async fn peers(urls: &[(&str, String)], max_body_bytes: usize) -> Peers {
        let settings = FederationSettings {
            max_body_bytes,
            ..FederationSettings::default()
        };
        let configured: Vec<PeerSettings> = urls
            .iter()
            .map(|(region, url)| PeerSettings {
                region: (*region).to_owned(),
                url: url.clone(),
                token: "a token".to_owned().into(),
            })
            .collect();
        let known = urls
            .iter()
            .map(|(region, _)| (*region).to_owned())
            .collect();
        Peers::new(&settings, &configured, None, &known).unwrap()
    }

    fn codes(outcomes: &HashMap<String, Outcome>) -> Vec<&'static str> {
        let mut codes: Vec<_> = outcomes
            .values()
            .filter_map(|outcome| outcome.failure.as_ref().map(PartFailure::code))
            .collect();
        codes.sort_unstable();
        codes
    }

    #[tokio::test]
    async fn one_body_budget_covers_every_peer_of_a_query() {
        let urls = [
            ("320000", peer_sending(3_000).await),
            ("330000", peer_sending(3_000).await),
        ];
        let regions: Vec<String> = urls.iter().map(|(r, _)| (*r).to_owned()).collect();

        // Room for both: each body is read (and, not being a part, refused).
        let roomy = peers(&urls, 8_000).await;
        assert_eq!(
            codes(&roomy.fetch(&Fanout::default(), &regions).await),
            ["BAD_ANSWER", "BAD_ANSWER"]
        );

        // Room for one body of the two, not both, though each alone is
        // within the limit: whichever goes past it is cut off.
        let tight = peers(&urls, 4_000).await;
        assert!(
            codes(&tight.fetch(&Fanout::default(), &regions).await).contains(&"TOO_LARGE"),
            "two bodies of 3,000 bytes in a budget of 4,000"
        );
    }

    fn guide_row(region: &str, matter: &str) -> service_guide::Model {
        let now = Utc::now();
        service_guide::Model {
            region_code: region.to_owned(),
            matter_code: matter.to_owned(),
            time_limit_days: 5,
            fee_fen: concord_persistence::entity::StoredFee::default(),
            materials: TextList(vec!["居民身份证".to_owned()]),
            channels: ChannelList(vec![Channel::Online]),
            legal_basis: String::new(),
            guarantee_level: None,
            status: GuideStatus::Published.into(),
            published_at: Some(now),
            origin: region.to_owned(),
            revision: 1,
            illustrative: false,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_part_is_accepted_as_records_and_refused_when_a_record_is_corrupt() {
        let peer = Peer {
            region: RegionCode::try_from("320000").unwrap(),
            base: "http://127.0.0.1:1".to_owned(),
            part_url: "http://127.0.0.1:1/federation/part".parse().unwrap(),
            token: "a token".to_owned().into(),
        };
        let part = |guides| Part {
            region: "320000".to_owned(),
            data_version: 7,
            committed_at: None,
            guides,
            procedures: Vec::new(),
        };

        let fetched = accept(
            &peer,
            part(vec![
                guide_row("320000", "SI-CARD"),
                guide_row("330000", "SI-CARD"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(fetched.guides.len(), 1);
        assert_eq!(fetched.guides[0].matter.as_str(), "SI-CARD");
        assert_eq!(fetched.values["SI-CARD"].channels, [Channel::Online]);
        assert_eq!(fetched.dropped, 1, "the other region's guide is dropped");

        let Err(PartFailure::BadAnswer(why)) =
            accept(&peer, part(vec![guide_row("320000", "not a code")]), None)
        else {
            panic!("a guide with a matter code the domain refuses was accepted");
        };
        assert!(why.contains("matter_code"), "{why}");
    }

    #[tokio::test]
    async fn a_query_asks_each_peer_once_whatever_it_reads() {
        let asked = Arc::new(AtomicUsize::new(0));
        let urls = [("320000", counted_peer_sending(10, Arc::clone(&asked)).await)];
        let peers = peers(&urls, 8_000).await;
        let regions = vec!["320000".to_owned()];
        let query = Fanout::default();
        let (first, second) =
            tokio::join!(peers.fetch(&query, &regions), peers.fetch(&query, &regions));
        let third = peers.fetch(&query, &regions).await;
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        for outcome in [&first, &second, &third] {
            assert_eq!(codes(outcome), ["BAD_ANSWER"]);
        }
        peers.fetch(&Fanout::default(), &regions).await;
        assert_eq!(asked.load(Ordering::SeqCst), 2, "another query asks again");
    }
}
