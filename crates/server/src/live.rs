//! Live reads: one evaluation per distinct subscription and data version,
//! pushed to every subscriber only when the answer changes.
//!
//! A subscription to a live read (`zoneAlignment`, `guides`, …) is keyed
//! like the response cache: caller, operation name, variables and document.
//! Subscribers with the same key share one [`Shared`] entry. Its answer is
//! computed by the schema's Subscription root (the answer at the current
//! version) and kept with the [`Footprint`] of what it read.
//!
//! The process's data watch tells the hub of every commit, whoever made it:
//! this process, another process on the same SQLite file, or another server
//! on the same PostgreSQL (`LISTEN/NOTIFY`). The hub marks the entries whose
//! last answer read something the commit touched, and a small pool of
//! evaluators runs each marked entry once, however many subscribers it has.
//! An answer equal to the last one is not sent; a different one replaces it.
//!
//! Each subscriber holds a `watch` receiver of its entry's answer: a queue of
//! one that always holds the newest answer. A subscriber that reads slowly
//! skips the answers it had no time for and never holds back the evaluators
//! or the other subscribers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use async_graphql::Request;
use async_graphql::parser::types::ExecutableDocument;
use concord_auth::Principal;
use concord_persistence::DatabaseConnection;
use concord_persistence::footprint::Footprint;
use concord_persistence::watch::{Commit, CommitObserver, DataWatch};
use concord_schema::{ConcordSchema, Kept, SchemaSettings};
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::{Semaphore, mpsc, watch};

use crate::graphql::{error_json, to_bytes};
use crate::recent::RecentCommits;

/// What an evaluation needs: the schema and what every request is given.
pub(crate) struct Runner {
    pub schema: ConcordSchema,
    pub db: DatabaseConnection,
    pub kept: Kept,
    pub graphql: SchemaSettings,
    /// The longest an evaluation may run, as for a request.
    pub timeout: Duration,
}

/// One answer of a live read.
#[derive(Clone, Debug, Default)]
struct Answer {
    /// The `{data, errors}` payload; `None` until the first evaluation.
    payload: Option<Bytes>,
    /// The errors, when the read was refused (it did not run, or it has no
    /// data at all), for a subscriber's first answer.
    refusal: Option<Bytes>,
}

/// What one evaluation produced.
struct Evaluation {
    answer: Answer,
    reads: Footprint,
}

impl Runner {
    /// Evaluates a subscription to a live read as `principal`, once.
    async fn evaluate(&self, principal: &Principal, operation: &Operation) -> Evaluation {
        let refused = |errors: Vec<serde_json::Value>| {
            let errors = serde_json::Value::Array(errors);
            Evaluation {
                answer: Answer {
                    payload: Some(to_bytes(
                        &serde_json::json!({ "data": null, "errors": errors }),
                    )),
                    refusal: Some(to_bytes(&errors)),
                },
                reads: Footprint::everything(),
            }
        };
        let prepared = concord_schema::prepare(
            &self.db,
            &self.graphql,
            &self.kept,
            principal.clone(),
            operation.request(),
        )
        .await;
        let (request, executed) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => return refused(vec![error_json(error)]),
        };
        let mut answers =
            concord_schema::subscribe(&self.schema, &self.graphql.limits, request, &executed);
        let response = match tokio::time::timeout(self.timeout, answers.next()).await {
            Ok(Some(response)) => response,
            Ok(None) => {
                tracing::error!("a live read ended without an answer");
                return refused(vec![internal_error()]);
            }
            Err(_) => {
                let error = concord_schema::limit_error(
                    "timeout_ms",
                    self.timeout.as_millis() as usize,
                    None,
                );
                return refused(vec![error_json(error)]);
            }
        };
        let failed = !executed.get() || response.data == async_graphql::Value::Null;
        let errors: Vec<serde_json::Value> =
            response.errors.iter().cloned().map(error_json).collect();
        if failed {
            return refused(errors);
        }
        Evaluation {
            answer: Answer {
                payload: Some(to_bytes(&response)),
                refusal: None,
            },
            reads: executed.reads(),
        }
    }
}

fn internal_error() -> serde_json::Value {
    serde_json::json!({ "message": "internal error", "extensions": { "code": "INTERNAL" } })
}

/// A subscription's document, kept parsed so that an evaluation does not
/// parse it again.
struct Operation {
    query: String,
    operation_name: Option<String>,
    variables: async_graphql::Variables,
    document: ExecutableDocument,
}

impl Operation {
    fn request(&self) -> Request {
        let mut request = Request::new(self.query.clone()).variables(self.variables.clone());
        request.operation_name = self.operation_name.clone();
        request.set_parsed_query(self.document.clone());
        request
    }
}

/// The evaluation and subscribers of one key.
struct Shared {
    key: String,
    principal: Principal,
    operation: Operation,
    answers: watch::Sender<Answer>,
    /// What the last answer read: a commit that touches it calls for a new one.
    reads: Mutex<Footprint>,
    /// Waiting for an evaluation that has not started yet.
    queued: AtomicBool,
    /// Held by the evaluation under way.
    running: tokio::sync::Mutex<()>,
    /// Set when an evaluation was called for while one ran.
    again: AtomicBool,
}

impl Shared {
    fn reads(&self) -> std::sync::MutexGuard<'_, Footprint> {
        self.reads
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What the hub has done since the process started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveStats {
    /// Subscriptions open now, live reads and streams.
    pub subscriptions: usize,
    /// Distinct live reads being kept up to date.
    pub distinct: usize,
    /// Evaluations of live reads.
    pub evaluations: u64,
    /// Evaluations whose answer differed from the one before and was sent.
    pub changes: u64,
}

/// Every live read of one server process.
pub struct Hub {
    runner: Arc<Runner>,
    entries: Mutex<HashMap<String, Arc<Shared>>>,
    recent: Mutex<RecentCommits>,
    queue: mpsc::UnboundedSender<Arc<Shared>>,
    subscriptions: AtomicUsize,
    max_subscriptions: usize,
    evaluations: AtomicU64,
    changes: AtomicU64,
    unshared: AtomicU64,
}

/// Why a subscription was not opened.
#[derive(Debug)]
pub(crate) struct Full {
    pub max: usize,
}

impl Hub {
    /// A hub whose evaluations run `concurrency` at a time, serving at most
    /// `max_subscriptions` at once. Tell it of commits with
    /// [`DataWatch::observe`].
    pub(crate) fn start(
        runner: Runner,
        watch: &DataWatch,
        concurrency: usize,
        max_subscriptions: usize,
    ) -> Arc<Self> {
        let (queue, mut queued) = mpsc::unbounded_channel::<Arc<Shared>>();
        let hub = Arc::new(Self {
            recent: Mutex::new(RecentCommits::starting_at(watch.version())),
            runner: Arc::new(runner),
            entries: Mutex::new(HashMap::new()),
            queue,
            subscriptions: AtomicUsize::new(0),
            max_subscriptions,
            evaluations: AtomicU64::new(0),
            changes: AtomicU64::new(0),
            unshared: AtomicU64::new(0),
        });
        let evaluator = Arc::downgrade(&hub);
        let permits = Arc::new(Semaphore::new(concurrency.max(1)));
        tokio::spawn(async move {
            while let Some(shared) = queued.recv().await {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let Some(hub) = evaluator.upgrade() else {
                    return;
                };
                tokio::spawn(async move {
                    hub.refresh(&shared).await;
                    drop(permit);
                });
            }
        });
        hub
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Shared>>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, RecentCommits> {
        self.recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues `shared` for an evaluation unless it is queued already.
    fn enqueue(&self, shared: &Arc<Shared>) {
        if !shared.queued.swap(true, Ordering::AcqRel) {
            // The receiver lives as long as the process's runtime.
            let _ = self.queue.send(shared.clone());
        }
    }

    /// Evaluates `shared` and publishes the answer if it changed. One
    /// evaluation of an entry runs at a time: a commit that calls for
    /// another while one runs makes that one run again when it ends, so
    /// that a stream of commits costs no more than back-to-back evaluations.
    async fn refresh(&self, shared: &Arc<Shared>) {
        loop {
            {
                let Ok(_running) = shared.running.try_lock() else {
                    shared.again.store(true, Ordering::Release);
                    return;
                };
                loop {
                    shared.queued.store(false, Ordering::Release);
                    shared.again.store(false, Ordering::Release);
                    if shared.answers.receiver_count() == 0 {
                        return;
                    }
                    let outdated = self.evaluate_and_publish(shared).await;
                    if !outdated && !shared.again.load(Ordering::Acquire) {
                        break;
                    }
                }
            }
            // Asked for again after the last look, before the lock was let go.
            if !shared.again.load(Ordering::Acquire) {
                return;
            }
        }
    }

    /// One evaluation of `shared`, published if the answer changed; whether
    /// a commit that landed meanwhile may have made it stale.
    async fn evaluate_and_publish(&self, shared: &Shared) -> bool {
        // The hub hears of a commit before the watch counts it as seen,
        // and after it is in the database.
        let since = self.recent().seen();
        let Evaluation { answer, reads } = self
            .runner
            .evaluate(&shared.principal, &shared.operation)
            .await;
        self.evaluations.fetch_add(1, Ordering::Relaxed);
        // A commit that landed during the evaluation was checked against
        // the reads of the answer before; check it against these.
        let outdated = self.recent().outdated(since, &reads);
        *shared.reads() = reads;
        let changed = shared.answers.send_if_modified(|current| {
            if current.payload == answer.payload {
                return false;
            }
            *current = answer;
            true
        });
        if changed {
            self.changes.fetch_add(1, Ordering::Relaxed);
        }
        outdated
    }

    /// Opens a subscription to the live read `request` as `principal`.
    /// Subscribers with the same `key` (the response cache's) share its
    /// evaluations; `None` gives it an entry of its own.
    pub(crate) fn subscribe(
        self: &Arc<Self>,
        principal: Principal,
        mut request: Request,
        key: Option<String>,
    ) -> Result<BoxStream<'static, LiveItem>, Full> {
        let lease = self.lease()?;
        let key = key.unwrap_or_else(|| {
            format!(
                "unshared\u{0}{}",
                self.unshared.fetch_add(1, Ordering::Relaxed)
            )
        });
        let mut entries = self.entries();
        let (shared, created) = match entries.get(&key) {
            Some(shared) => (shared.clone(), false),
            None => {
                let document = match request.parsed_query() {
                    Ok(document) => document.clone(),
                    Err(error) => {
                        drop(entries);
                        let errors = to_bytes(&vec![error_json(error)]);
                        return Ok(futures::stream::once(async move {
                            drop(lease);
                            LiveItem::Refused(errors)
                        })
                        .boxed());
                    }
                };
                let shared = Arc::new(Shared {
                    key: key.clone(),
                    principal,
                    operation: Operation {
                        query: request.query,
                        operation_name: request.operation_name,
                        variables: request.variables,
                        document,
                    },
                    answers: watch::Sender::new(Answer::default()),
                    // Until the first answer says what it read, any commit
                    // may change it.
                    reads: Mutex::new(Footprint::everything()),
                    queued: AtomicBool::new(false),
                    running: tokio::sync::Mutex::new(()),
                    again: AtomicBool::new(false),
                });
                entries.insert(key, shared.clone());
                (shared, true)
            }
        };
        let receiver = shared.answers.subscribe();
        if created {
            // Its first evaluation, now that it has a subscriber to evaluate
            // for. Whoever joins before it ends gets its answer too.
            self.enqueue(&shared);
        }
        drop(entries);
        let subscriber = Subscriber {
            receiver: Some(receiver),
            shared,
            hub: self.clone(),
            last: None,
            _lease: lease,
        };
        Ok(futures::stream::unfold(subscriber, Subscriber::next).boxed())
    }

    /// Counts a subscription against the server's maximum.
    pub(crate) fn lease(self: &Arc<Self>) -> Result<Lease, Full> {
        let open = self.subscriptions.fetch_add(1, Ordering::AcqRel);
        let lease = Lease { hub: self.clone() };
        if open >= self.max_subscriptions {
            drop(lease);
            return Err(Full {
                max: self.max_subscriptions,
            });
        }
        Ok(lease)
    }

    pub fn stats(&self) -> LiveStats {
        LiveStats {
            subscriptions: self.subscriptions.load(Ordering::Relaxed),
            distinct: self.entries().len(),
            evaluations: self.evaluations.load(Ordering::Relaxed),
            changes: self.changes.load(Ordering::Relaxed),
        }
    }
}

impl CommitObserver for Hub {
    fn committed(&self, commit: &Commit) {
        if !self.recent().record(commit) {
            return;
        }
        for shared in self.entries().values() {
            if shared.reads().meets(&commit.touched) {
                self.enqueue(shared);
            }
        }
    }
}

/// One open subscription, counted against the server's maximum until dropped.
pub(crate) struct Lease {
    hub: Arc<Hub>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.hub.subscriptions.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What a subscriber is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LiveItem {
    /// A new answer: the `{data, errors}` payload.
    Next(Bytes),
    /// The read was refused, with these errors; nothing follows.
    Refused(Bytes),
}

/// One subscriber of a shared live read.
struct Subscriber {
    receiver: Option<watch::Receiver<Answer>>,
    shared: Arc<Shared>,
    hub: Arc<Hub>,
    /// The payload sent last.
    last: Option<Bytes>,
    _lease: Lease,
}

impl Subscriber {
    async fn next(mut self) -> Option<(LiveItem, Self)> {
        loop {
            let receiver = self.receiver.as_mut()?;
            let answer = receiver.borrow_and_update().clone();
            if let Some(payload) = answer.payload
                && self.last.as_ref() != Some(&payload)
            {
                if self.last.is_none()
                    && let Some(errors) = answer.refusal
                {
                    self.receiver = None;
                    return Some((LiveItem::Refused(errors), self));
                }
                self.last = Some(payload.clone());
                return Some((LiveItem::Next(payload), self));
            }
            receiver.changed().await.ok()?;
        }
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let mut entries = self.hub.entries();
        // Under the lock that new subscribers join under: once the count
        // is zero, no one can join this entry any more.
        self.receiver = None;
        if self.shared.answers.receiver_count() == 0
            && entries
                .get(&self.shared.key)
                .is_some_and(|kept| Arc::ptr_eq(kept, &self.shared))
        {
            entries.remove(&self.shared.key);
        }
    }
}
