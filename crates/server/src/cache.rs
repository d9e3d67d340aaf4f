//! Whole query responses, kept while the data version stands.
//!
//! Dashboards send the same few queries all day, and the data behind them
//! changes a few times a day. Every write transaction raises the data
//! version as it commits (`concord_persistence::version`), so a response
//! computed at version `v` is the right answer to the same request, from
//! the same caller, for as long as the version is still `v`. Each request
//! reads the version (one primary-key lookup) before anything else; a new
//! version empties the cache.
//!
//! Only operations that are queries, ran to the end and had no errors are
//! kept. The key is the caller (subject, role and scope: what a caller may
//! see depends on nothing else), the operation name, the variables and the
//! query text; a request with protocol extensions is never cached. Entries
//! leave in the order they came once the cache holds `capacity` bytes, and
//! one response larger than an eighth of it is not kept at all, so that a
//! sync job's large pages do not push out the dashboards' answers.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::web::Bytes;
use async_graphql::Request;
use concord_auth::Principal;

/// The cache of one server process.
pub struct ResponseCache {
    capacity: usize,
    inner: Mutex<Inner>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Default)]
struct Inner {
    version: i64,
    entries: HashMap<String, Bytes>,
    arrival: VecDeque<String>,
    bytes: usize,
}

impl Inner {
    /// Moves to `version` when it is newer, forgetting everything; says
    /// whether the cache is now at `version`.
    fn at(&mut self, version: i64) -> bool {
        if version > self.version {
            *self = Inner {
                version,
                ..Inner::default()
            };
        }
        version == self.version
    }
}

/// What the cache has done since the process started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub bytes: usize,
}

impl ResponseCache {
    /// A cache of at most `capacity` bytes of keys and responses.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Inner::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The key of `request` from `principal`, or `None` when it must not be
    /// cached.
    pub fn key(principal: &Principal, request: &Request) -> Option<String> {
        if !request.extensions.is_empty() {
            return None;
        }
        let variables = serde_json::to_string(&request.variables).ok()?;
        Some(format!(
            "{principal:?}\u{0}{:?}\u{0}{variables}\u{0}{}",
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

    /// The response kept for `key` at `version`.
    pub fn get(&self, version: i64, key: &str) -> Option<Bytes> {
        let found = {
            let mut inner = self.lock();
            if inner.at(version) {
                inner.entries.get(key).cloned()
            } else {
                None
            }
        };
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps `body` as the response for `key` at `version`.
    pub fn put(&self, version: i64, key: String, body: Bytes) {
        let size = key.len() + body.len();
        if size > self.capacity / 8 {
            return;
        }
        let mut inner = self.lock();
        if !inner.at(version) || inner.entries.contains_key(&key) {
            return;
        }
        inner.bytes += size;
        inner.arrival.push_back(key.clone());
        inner.entries.insert(key, body);
        while inner.bytes > self.capacity {
            let Some(oldest) = inner.arrival.pop_front() else {
                break;
            };
            if let Some(body) = inner.entries.remove(&oldest) {
                inner.bytes -= oldest.len() + body.len();
            }
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            bytes: self.lock().bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Bytes {
        Bytes::from(text.to_owned())
    }

    #[test]
    fn an_entry_lives_as_long_as_its_version() {
        let cache = ResponseCache::new(1 << 20);
        cache.put(3, "k".into(), body("a"));
        assert_eq!(cache.get(3, "k"), Some(body("a")));
        assert_eq!(cache.get(3, "other"), None);
        assert_eq!(cache.get(4, "k"), None, "a newer version empties the cache");
        assert_eq!(cache.get(3, "k"), None, "and an older one is not served");
        cache.put(3, "k".into(), body("stale"));
        assert_eq!(
            cache.get(4, "k"),
            None,
            "a response of an older version is not kept"
        );
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.bytes), (1, 4, 0));
    }

    #[test]
    fn the_oldest_entries_leave_first_and_big_ones_never_come() {
        let cache = ResponseCache::new(80);
        let keys = ["a", "b", "c", "d", "e", "f", "g", "h"];
        for key in keys {
            cache.put(1, key.into(), body(&"x".repeat(9)));
        }
        assert_eq!(cache.stats().bytes, 80);
        assert!(keys.iter().all(|key| cache.get(1, key).is_some()));
        cache.put(1, "i".into(), body(&"x".repeat(9)));
        assert_eq!(cache.stats().bytes, 80);
        assert_eq!(cache.get(1, "a"), None, "the first to come left");
        assert!(cache.get(1, "b").is_some() && cache.get(1, "i").is_some());
        cache.put(1, "j".into(), body(&"x".repeat(10)));
        assert_eq!(cache.get(1, "j"), None, "over an eighth of the capacity");
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
