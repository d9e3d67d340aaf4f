//! Where each member's part of a zone read comes from, and what the answer
//! says of it (its provenance).
//!
//! A member's part is its published guides. The node's own region is read
//! locally (LOCAL); any other member is read from the local replica
//! (REPLICA) or asked of the member's own node at query time (LIVE), as the
//! read's `source` says. A live call that fails leaves the member MISSING
//! under `LIVE` and falls back to the replica under `FRESHEST`, with the
//! reason either way: a zone read never fails because a peer did.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, Enum, SimpleObject};
use chrono::{DateTime, Utc};
use concord_domain::guide;
use concord_federation::{Fanout, Fetched, Outcome, PartFailure, Peers, Source};
use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::queries;

use crate::context::{Reads, reading};
use crate::error::ApiError;
use crate::matrix::MemberGuides;

/// Where a zone read takes the part of each member other than this node's
/// own region.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ZoneSource {
    /// The local replicas that `concord sync` keeps.
    Replica,
    /// Each member's own node, asked at query time; a member whose node does
    /// not answer within the budget is left out, marked MISSING.
    Live,
    /// Each member's own node where it answers within the budget, the
    /// replica otherwise.
    Freshest,
}

impl From<ZoneSource> for Source {
    fn from(source: ZoneSource) -> Self {
        match source {
            ZoneSource::Replica => Source::Replica,
            ZoneSource::Live => Source::Live,
            ZoneSource::Freshest => Source::Freshest,
        }
    }
}

impl From<Source> for ZoneSource {
    fn from(source: Source) -> Self {
        match source {
            Source::Replica => ZoneSource::Replica,
            Source::Live => ZoneSource::Live,
            Source::Freshest => ZoneSource::Freshest,
        }
    }
}

/// Where one member's part of an answer came from.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PartSource {
    /// This node's own region, read from its database.
    Local,
    /// The member's own node, at query time.
    Live,
    /// This node's replica of the member.
    Replica,
    /// Not in the answer: see the part's error.
    Missing,
}

/// Why a member's part is missing or not whole.
#[derive(SimpleObject, Clone, Debug)]
pub struct PartError {
    /// `NO_PEER`, `UNREACHABLE`, `TIMEOUT`, `REFUSED`, `BAD_ANSWER`,
    /// `TOO_LARGE` or `FOREIGN_ROWS`.
    pub code: String,
    /// What happened, for people.
    pub message: String,
}

impl From<&PartFailure> for PartError {
    fn from(failure: &PartFailure) -> Self {
        Self {
            code: failure.code().to_owned(),
            message: failure.to_string(),
        }
    }
}

/// One member's part of a zone answer: where it came from and how fresh it is.
#[derive(SimpleObject, Clone, Debug)]
pub struct MemberPart {
    /// The member region.
    pub region: String,
    /// Where the part came from.
    pub source: PartSource,
    /// The data version of the database the part was read from: the
    /// member's node for LIVE, this node for LOCAL and REPLICA; null when
    /// MISSING.
    pub data_version: Option<i64>,
    /// When the part last changed: the newest `updatedAt` among the member's
    /// published guides as read; null when MISSING or when it has none.
    pub committed_at: Option<DateTime<Utc>>,
    /// For REPLICA: when this node last synced from the member's peer, so
    /// the replica is at most `now − syncedAt` behind what the sync job
    /// could see; null when it never did (or no peer is configured).
    pub synced_at: Option<DateTime<Utc>>,
    /// How long the live call took, in milliseconds; null when none was made.
    pub latency_ms: Option<f64>,
    /// True when the member's node answered "unchanged" to a conditional
    /// call and its last part was reused.
    pub not_modified: bool,
    /// Why the live part is missing or not whole; null when nothing went wrong.
    pub error: Option<PartError>,
}

/// The parts of a zone read, gathered.
pub struct Gathered {
    /// The members whose part is in the answer, in member order.
    pub present: Vec<String>,
    /// Each present member's guide values, by matter.
    pub values: HashMap<String, MemberGuides>,
    /// Each present member's published guides.
    pub guides: HashMap<String, Arc<Vec<guide::ServiceGuide>>>,
    /// Each live member's published procedures, by matter.
    pub procedures: HashMap<String, Arc<HashMap<String, guide::OperatingProcedure>>>,
    /// When each locally read member's part last changed, for those that
    /// have a published guide.
    pub times: HashMap<String, DateTime<Utc>>,
    /// One provenance per member, in member order.
    pub parts: Vec<MemberPart>,
}

/// The source a read asked for, or the node's default.
pub fn source_of(ctx: &Context<'_>, asked: Option<ZoneSource>) -> Source {
    asked.map(Source::from).unwrap_or_else(|| {
        ctx.data_opt::<Arc<Peers>>()
            .map_or(Source::Replica, |peers| peers.default_source())
    })
}

fn own_region(ctx: &Context<'_>) -> Option<String> {
    ctx.data_opt::<concord_auth::Node>()
        .and_then(|node| node.region.as_ref())
        .map(ToString::to_string)
}

/// The data version this process has seen.
fn local_version(ctx: &Context<'_>) -> Option<i64> {
    ctx.data_opt::<tokio::sync::watch::Receiver<i64>>()
        .map(|versions| *versions.borrow())
}

/// When this node last synced from each member's peer, by member.
async fn synced_at(
    ctx: &Context<'_>,
    members: &[String],
) -> Result<HashMap<String, DateTime<Utc>>, ApiError> {
    let Some(peers) = ctx.data_opt::<Arc<Peers>>() else {
        return Ok(HashMap::new());
    };
    let urls: Vec<(String, String)> = members
        .iter()
        .filter_map(|m| Some((m.clone(), peers.base_url(m)?.to_owned())))
        .collect();
    if urls.is_empty() {
        return Ok(HashMap::new());
    }
    let states = queries::sync_peers(reading(ctx, &Footprint::of(&[Topic::Sync]))?).await?;
    Ok(urls
        .into_iter()
        .filter_map(|(member, base)| {
            // `concord sync --peer` names the peer's GraphQL endpoint.
            let graphql = format!("{base}/graphql");
            let state = states
                .iter()
                .find(|s| s.peer == graphql || s.peer == base)?;
            Some((member, state.last_success?))
        })
        .collect())
}

/// The provenance of a read of local rows only (LOCAL and REPLICA parts),
/// as a `REPLICA` answer reports it.
pub async fn local_parts(
    ctx: &Context<'_>,
    members: &[String],
) -> Result<Vec<MemberPart>, ApiError> {
    let db = reading(
        ctx,
        &Footprint::default().in_regions(Topic::Guide, members.iter().map(String::as_str)),
    )?;
    let times = queries::published_guide_times(db, members).await?;
    let synced = synced_at(ctx, members).await?;
    let own = own_region(ctx);
    let version = local_version(ctx);
    Ok(members
        .iter()
        .map(|member| local_part(member, own.as_deref(), version, &times, &synced, None))
        .collect())
}

fn local_part(
    member: &str,
    own: Option<&str>,
    version: Option<i64>,
    times: &HashMap<String, DateTime<Utc>>,
    synced: &HashMap<String, DateTime<Utc>>,
    live: Option<&Outcome>,
) -> MemberPart {
    let local = own == Some(member);
    MemberPart {
        region: member.to_owned(),
        source: if local {
            PartSource::Local
        } else {
            PartSource::Replica
        },
        data_version: version,
        committed_at: times.get(member).copied(),
        synced_at: if local {
            None
        } else {
            synced.get(member).copied()
        },
        latency_ms: live.and_then(|o| o.latency).map(millis),
        not_modified: false,
        error: live.and_then(|o| o.failure.as_ref()).map(PartError::from),
    }
}

fn millis(latency: std::time::Duration) -> f64 {
    latency.as_secs_f64() * 1000.0
}

/// The peers' answers to one zone read, before anything local is read.
pub struct Asked {
    members: Vec<String>,
    own: Option<String>,
    outcomes: HashMap<String, Outcome>,
    /// The members read from this node's database: the own region, every
    /// replica asked for, and under FRESHEST each peer that gave no part.
    local: Vec<String>,
    /// This node's data version when the peers had answered, before any
    /// local read: what the local parts reflect (or something newer).
    version: Option<i64>,
}

/// Asks each member's node for its part, as `source` says, in parallel.
/// Never fails: a peer that does not answer is an outcome like any other.
pub async fn ask(ctx: &Context<'_>, members: &[String], source: Source) -> Asked {
    let own = own_region(ctx);
    let remote: Vec<String> = match source {
        Source::Replica => Vec::new(),
        Source::Live | Source::Freshest => members
            .iter()
            .filter(|m| Some(m.as_str()) != own.as_deref())
            .cloned()
            .collect(),
    };
    let outcomes = match ctx.data_opt::<Arc<Peers>>() {
        Some(peers) if !remote.is_empty() => {
            if let Ok(reads) = ctx.data::<Reads>() {
                reads.record_elsewhere();
            }
            let fresh;
            let fanout = match ctx.data_opt::<Fanout>() {
                Some(fanout) => fanout,
                None => {
                    fresh = Fanout::default();
                    &fresh
                }
            };
            peers.fetch(fanout, &remote).await
        }
        _ => HashMap::new(),
    };
    let local = members
        .iter()
        .filter(|m| match outcomes.get(*m) {
            Some(outcome) => outcome.part.is_none() && source == Source::Freshest,
            None => !remote.contains(m) || source == Source::Freshest,
        })
        .cloned()
        .collect();
    Asked {
        members: members.to_vec(),
        own,
        outcomes,
        local,
        version: local_version(ctx),
    }
}

/// What an answer over a zone's parts is built from. Two reads with equal
/// ingredients have equal parts: the same parts received from the same
/// peers (a peer that answers "unchanged" hands back the very part it sent
/// before), and the rest read from this node at the same data version.
pub struct Ingredients {
    /// This node's data version: it covers every part read locally and the
    /// catalogue and reference rows the answer joins them with.
    local_version: i64,
    /// The members present, in member order, each with the part its node
    /// sent or `None` when read locally.
    present: Vec<(String, Option<Arc<Fetched>>)>,
}

impl PartialEq for Ingredients {
    fn eq(&self, other: &Self) -> bool {
        self.local_version == other.local_version
            && self.present.len() == other.present.len()
            && self.present.iter().zip(&other.present).all(|(a, b)| {
                a.0 == b.0
                    && match (&a.1, &b.1) {
                        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                        (None, None) => true,
                        _ => false,
                    }
            })
    }
}

impl Asked {
    /// What an answer over these parts is built from, when this node's
    /// data version is known.
    pub fn ingredients(&self) -> Option<Ingredients> {
        let local_version = self.version?;
        let present = self
            .members
            .iter()
            .filter_map(|member| {
                if self.local.contains(member) {
                    return Some((member.clone(), None));
                }
                let part = self.outcomes.get(member)?.part.as_ref()?;
                Some((member.clone(), Some(Arc::clone(part))))
            })
            .collect();
        Some(Ingredients {
            local_version,
            present,
        })
    }

    /// Every member's provenance, given when each locally read member's
    /// part last changed (`times`).
    pub async fn parts(
        &self,
        ctx: &Context<'_>,
        times: &HashMap<String, DateTime<Utc>>,
    ) -> Result<Vec<MemberPart>, ApiError> {
        let synced = synced_at(ctx, &self.local).await?;
        Ok(self
            .members
            .iter()
            .map(|member| self.part(member, self.version, times, &synced))
            .collect())
    }

    fn part(
        &self,
        member: &str,
        version: Option<i64>,
        times: &HashMap<String, DateTime<Utc>>,
        synced: &HashMap<String, DateTime<Utc>>,
    ) -> MemberPart {
        let outcome = self.outcomes.get(member);
        if self.local.iter().any(|m| m == member) {
            return local_part(member, self.own.as_deref(), version, times, synced, outcome);
        }
        let missing = |latency_ms, error| MemberPart {
            region: member.to_owned(),
            source: PartSource::Missing,
            data_version: None,
            committed_at: None,
            synced_at: None,
            latency_ms,
            not_modified: false,
            error,
        };
        let Some(outcome) = outcome else {
            return missing(None, Some(PartError::from(&PartFailure::NoPeer)));
        };
        let error = outcome.failure.as_ref().map(PartError::from);
        let latency_ms = outcome.latency.map(millis);
        match &outcome.part {
            Some(part) => MemberPart {
                region: member.to_owned(),
                source: PartSource::Live,
                data_version: Some(part.data_version),
                committed_at: part.committed_at,
                synced_at: None,
                latency_ms,
                not_modified: outcome.not_modified,
                error,
            },
            None => missing(latency_ms, error),
        }
    }

    /// Reads the locally read members' guides and gathers every part.
    pub async fn gather(self, ctx: &Context<'_>) -> Result<Gathered, ApiError> {
        let mut rows: HashMap<String, Vec<guide::ServiceGuide>> = HashMap::new();
        if !self.local.is_empty() {
            let db = reading(
                ctx,
                &Footprint::default()
                    .in_regions(Topic::Guide, self.local.iter().map(String::as_str)),
            )?;
            for guide in queries::published_guides(db, &self.local, None).await? {
                rows.entry(guide.region.to_string())
                    .or_default()
                    .push(guide);
            }
        }
        let mut gathered = Gathered {
            present: Vec::new(),
            values: HashMap::new(),
            guides: HashMap::new(),
            procedures: HashMap::new(),
            times: HashMap::new(),
            parts: Vec::new(),
        };
        for member in &self.members {
            if self.local.contains(member) {
                let guides = rows.remove(member).unwrap_or_default();
                let mut values = HashMap::with_capacity(guides.len());
                for guide in &guides {
                    values.insert(guide.matter.to_string(), guide.values());
                }
                if let Some(newest) = guides.iter().map(|g| g.provenance.updated_at).max() {
                    gathered.times.insert(member.clone(), newest);
                }
                gathered.present.push(member.clone());
                gathered.values.insert(member.clone(), Arc::new(values));
                gathered.guides.insert(member.clone(), Arc::new(guides));
            } else if let Some(part) = self.outcomes.get(member).and_then(|o| o.part.as_ref()) {
                gathered.present.push(member.clone());
                gathered
                    .values
                    .insert(member.clone(), Arc::clone(&part.values));
                gathered
                    .guides
                    .insert(member.clone(), Arc::clone(&part.guides));
                gathered
                    .procedures
                    .insert(member.clone(), Arc::clone(&part.procedures));
            }
        }
        gathered.parts = self.parts(ctx, &gathered.times).await?;
        Ok(gathered)
    }
}

/// Every member's part, from where `source` says, with its provenance.
pub async fn gather(
    ctx: &Context<'_>,
    members: &[String],
    source: Source,
) -> Result<Gathered, ApiError> {
    ask(ctx, members, source).await.gather(ctx).await
}
