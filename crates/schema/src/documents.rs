//! Parsed query documents, kept by their text.
//!
//! A dashboard sends the same few query texts over and over, and parsing
//! one afresh (async-graphql's parser) was about 5 % of the server's CPU on
//! a computed region page. A document depends on its text alone, never on
//! the data or the caller, so a kept one is never stale: a hit hands the
//! request a copy, and the request is then validated and executed exactly
//! as a freshly parsed one would be.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard};

use async_graphql::Request;
use async_graphql::parser::types::ExecutableDocument;
use lru::LruCache;

use crate::limits::{Limits, check_text};

/// How many distinct texts are kept, the least recently used dropped first.
const KEPT: usize = 512;

/// Texts longer than this are parsed on every request: no dashboard query
/// comes near it, and it bounds what the kept documents can hold.
const LONGEST_KEPT: usize = 32 * 1024;

/// Parsed documents by query text.
pub struct Documents {
    kept: Mutex<LruCache<Arc<str>, ExecutableDocument>>,
}

impl Default for Documents {
    fn default() -> Self {
        Self {
            kept: Mutex::new(LruCache::new(
                NonZeroUsize::new(KEPT).expect("KEPT is not zero"),
            )),
        }
    }
}

impl Documents {
    fn lock(&self) -> MutexGuard<'_, LruCache<Arc<str>, ExecutableDocument>> {
        // A panic under the lock can at worst lose kept documents.
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Gives `request` its parsed document: a copy of the kept one, or one
    /// parsed now and kept. A text the limits refuse or that does not parse
    /// is left alone, for the checks before the run to refuse with their
    /// own errors.
    pub fn attach(&self, limits: &Limits, request: &mut Request) {
        if request.query.len() > LONGEST_KEPT {
            return;
        }
        if let Some(document) = self.lock().get(request.query.as_str()).cloned() {
            request.set_parsed_query(document);
            return;
        }
        if check_text(limits, &request.query).is_err() {
            return;
        }
        let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
            return;
        };
        self.lock()
            .put(Arc::from(request.query.as_str()), document.clone());
        request.set_parsed_query(document);
    }

    /// How many documents are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attached(documents: &Documents, query: &str) -> Request {
        let mut request = Request::new(query);
        documents.attach(&Limits::default(), &mut request);
        request
    }

    #[test]
    fn a_text_is_parsed_once_and_each_request_gets_its_own_copy() {
        let documents = Documents::default();
        let query = "query Page { regions { code } }";
        let mut first = attached(&documents, query);
        let mut second = attached(&documents, query);
        assert_eq!(documents.len(), 1);
        let name = |request: &mut Request| {
            let document = request.parsed_query().unwrap();
            let (name, _) = document.operations.iter().next().unwrap();
            name.map(|name| name.to_string())
        };
        assert_eq!(name(&mut first), Some("Page".to_owned()));
        assert_eq!(name(&mut second), Some("Page".to_owned()));
        attached(&documents, "{ zones { code } }");
        assert_eq!(documents.len(), 2);
    }

    #[test]
    fn what_does_not_parse_or_is_too_long_is_not_kept() {
        let documents = Documents::default();
        let mut broken = attached(&documents, "{ regions { code ");
        assert!(broken.parsed_query().is_err());
        let long = format!("{{ regions {{ code }} }} #{}", "x".repeat(LONGEST_KEPT));
        attached(&documents, &long);
        assert_eq!(documents.len(), 0);
    }

    #[test]
    fn the_least_recently_used_text_goes_first() {
        let documents = Documents::default();
        for i in 0..=KEPT {
            attached(&documents, &format!("{{ a{i}: regions {{ code }} }}"));
        }
        assert_eq!(documents.len(), KEPT);
        let lock = documents.lock();
        assert!(!lock.contains("{ a0: regions { code } }"));
        assert!(lock.contains(&*format!("{{ a{KEPT}: regions {{ code }} }}")));
    }
}
