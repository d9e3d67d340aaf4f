//! Whole query responses, kept until a commit touches what they read.
//!
//! Dashboards send the same few queries all day, and the data behind them
//! changes a few times a day, a region at a time. Each answer is kept with
//! the [`Footprint`] of what its resolvers read (kinds of rows, and the
//! regions they belong to); the process's [`DataWatch`] tells the cache of
//! every commit and what it touched, and the cache evicts exactly the
//! answers whose footprint the commit meets. A sync page that changes
//! Jiangsu's guides leaves Guangdong's region page and the Greater Bay
//! Area's heatmap where they are.
//!
//! A hit costs no database round trip: the watch learns of commits by
//! itself (see `concord_persistence::watch`). An answer computed while a
//! commit landed is kept only when none of the commits since the request
//! started touched what it read; otherwise it might mix two states.
//!
//! Only operations that are queries, ran to the end and had no errors are
//! kept. The key is the day (UTC), the caller (subject, role and scope:
//! what a caller may see depends on nothing else), the operation name, the
//! variables and the query text; a request with protocol extensions is never cached. Entries
//! leave in the order they came once the cache holds `capacity` bytes, and
//! one response larger than an eighth of it is not kept at all, so that a
//! sync job's large pages do not push out the dashboards' answers.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::web::Bytes;
use async_graphql::Request;
use concord_auth::Principal;
use concord_persistence::footprint::Footprint;
use concord_persistence::watch::{Commit, CommitObserver};

use crate::recent::RecentCommits;

/// The cache of one server process.
pub struct ResponseCache {
    capacity: usize,
    inner: Mutex<Inner>,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
}

struct Entry {
    body: Bytes,
    reads: Footprint,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    arrival: VecDeque<String>,
    bytes: usize,
    /// The commits the cache has been told of.
    recent: RecentCommits,
}

impl Inner {
    fn remove(&mut self, key: &str) -> bool {
        match self.entries.remove(key) {
            Some(entry) => {
                self.bytes -= key.len() + entry.body.len();
                true
            }
            None => false,
        }
    }
}

/// What the cache has done since the process started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub bytes: usize,
}

impl ResponseCache {
    /// A cache of at most `capacity` bytes of keys and responses, that has
    /// seen every commit up to `version`.
    pub fn new(capacity: usize, version: i64) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Inner {
                recent: RecentCommits::starting_at(version),
                ..Inner::default()
            }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        }
    }

    /// The key of `request` from `principal`, or `None` when it must not be
    /// cached.
    pub fn key(principal: &Principal, request: &Request) -> Option<String> {
        if !request.extensions.is_empty() {
            return None;
        }
        let variables = serde_json::to_string(&request.variables).ok()?;
        // Some answers depend on the day as well as the data (the
        // standards due for review as of today), and no commit marks
        // midnight: yesterday's answers are simply never asked for again.
        let today = chrono::Utc::now().date_naive();
        Some(format!(
            "{today}\u{0}{principal:?}\u{0}{:?}\u{0}{variables}\u{0}{}",
            request.operation_name, request.query
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map half-changed
        // in a way that matters more than losing entries, so go on.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The response kept for `key`.
    pub fn get(&self, key: &str) -> Option<Bytes> {
        let found = self.lock().entries.get(key).map(|entry| entry.body.clone());
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps `body` as the response for `key`, computed by a request that
    /// started at version `since` and read `reads`.
    pub fn put(&self, key: String, body: Bytes, reads: Footprint, since: i64) {
        let size = key.len() + body.len();
        if size > self.capacity / 8 {
            return;
        }
        let mut inner = self.lock();
        if inner.entries.contains_key(&key) || inner.recent.outdated(since, &reads) {
            return;
        }
        inner.bytes += size;
        inner.arrival.push_back(key.clone());
        inner.entries.insert(key, Entry { body, reads });
        while inner.bytes > self.capacity {
            let Some(oldest) = inner.arrival.pop_front() else {
                break;
            };
            inner.remove(&oldest);
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            bytes: self.lock().bytes,
        }
    }
}

impl CommitObserver for ResponseCache {
    fn committed(&self, commit: &Commit) {
        let mut inner = self.lock();
        if !inner.recent.record(commit) {
            return;
        }
        let stale: Vec<String> = inner
            .entries
            .iter()
            .filter(|(_, entry)| entry.reads.meets(&commit.touched))
            .map(|(key, _)| key.clone())
            .collect();
        let mut evicted = 0;
        for key in &stale {
            evicted += u64::from(inner.remove(key));
        }
        if evicted > 0 {
            // Keys already gone from the map are skipped when they reach
            // the front of the arrival queue.
            let Inner {
                arrival, entries, ..
            } = &mut *inner;
            arrival.retain(|key| entries.contains_key(key));
        }
        self.evictions.fetch_add(evicted, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use concord_persistence::footprint::Topic;

    use super::*;

    fn body(text: &str) -> Bytes {
        Bytes::from(text.to_owned())
    }

    fn guides_of(region: &str) -> Footprint {
        Footprint::default().in_regions(Topic::Guide, [region])
    }

    fn commit(cache: &ResponseCache, version: i64, touched: Footprint) {
        cache.committed(&Commit { version, touched });
    }

    #[test]
    fn an_entry_lives_until_a_commit_touches_what_it_read() {
        let cache = ResponseCache::new(1 << 20, 3);
        cache.put("gd".into(), body("a"), guides_of("440000"), 3);
        cache.put("js".into(), body("b"), guides_of("320000"), 3);
        cache.put("all".into(), body("c"), Footprint::of(&[Topic::Guide]), 3);
        assert_eq!(cache.get("gd"), Some(body("a")));
        assert_eq!(cache.get("other"), None);
        commit(&cache, 4, guides_of("320000"));
        assert_eq!(cache.get("gd"), Some(body("a")), "another region's commit");
        assert_eq!(cache.get("js"), None, "its own region's commit");
        assert_eq!(cache.get("all"), None, "a read of every region's guides");
        commit(&cache, 5, Footprint::of(&[Topic::Standard]));
        assert_eq!(cache.get("gd"), Some(body("a")), "another topic");
        commit(&cache, 6, Footprint::everything());
        assert_eq!(cache.get("gd"), None);
        let stats = cache.stats();
        assert_eq!(
            (stats.hits, stats.misses, stats.evictions, stats.bytes),
            (3, 4, 3, 0)
        );
    }

    #[test]
    fn an_answer_computed_across_a_commit_is_kept_only_if_the_commit_missed_it() {
        let cache = ResponseCache::new(1 << 20, 10);
        commit(&cache, 11, guides_of("320000"));
        commit(&cache, 12, Footprint::of(&[Topic::Audit]));
        cache.put("js".into(), body("stale"), guides_of("320000"), 10);
        assert_eq!(cache.get("js"), None, "it may have read the old state");
        cache.put("gd".into(), body("fresh"), guides_of("440000"), 10);
        assert_eq!(cache.get("gd"), Some(body("fresh")));
        cache.put("js".into(), body("new"), guides_of("320000"), 11);
        assert_eq!(cache.get("js"), Some(body("new")), "started after it");
    }

    #[test]
    fn the_oldest_entries_leave_first_and_big_ones_never_come() {
        let cache = ResponseCache::new(80, 1);
        let keys = ["a", "b", "c", "d", "e", "f", "g", "h"];
        let reads = || Footprint::of(&[Topic::Guide]);
        for key in keys {
            cache.put(key.into(), body(&"x".repeat(9)), reads(), 1);
        }
        assert_eq!(cache.stats().bytes, 80);
        assert!(keys.iter().all(|key| cache.get(key).is_some()));
        cache.put("i".into(), body(&"x".repeat(9)), reads(), 1);
        assert_eq!(cache.stats().bytes, 80);
        assert_eq!(cache.get("a"), None, "the first to come left");
        assert!(cache.get("b").is_some() && cache.get("i").is_some());
        cache.put("j".into(), body(&"x".repeat(10)), reads(), 1);
        assert_eq!(cache.get("j"), None, "over an eighth of the capacity");
        assert_eq!(cache.stats().bytes, 80);
    }

    #[test]
    fn keys_tell_callers_variables_and_operations_apart() {
        let anonymous = Principal::anonymous();
        let query = "query Q($a: Int) { x(a: $a) } query R { y }";
        let request = || Request::new(query);
        let base = ResponseCache::key(&anonymous, &request()).unwrap();
        let named = ResponseCache::key(&anonymous, &request().operation_name("R")).unwrap();
        let with_variables = ResponseCache::key(
            &anonymous,
            &request().variables(async_graphql::Variables::from_json(
                serde_json::json!({ "a": 1 }),
            )),
        )
        .unwrap();
        let other_caller = Principal {
            subject: Some("someone".into()),
            ..Principal::anonymous()
        };
        let as_other = ResponseCache::key(&other_caller, &request()).unwrap();
        let keys = [&base, &named, &with_variables, &as_other];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(base, ResponseCache::key(&anonymous, &request()).unwrap());
        let mut extended = request();
        extended
            .extensions
            .insert("persistedQuery".into(), async_graphql::Value::Null);
        assert_eq!(ResponseCache::key(&anonymous, &extended), None);
    }
}
