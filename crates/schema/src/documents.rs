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
use async_graphql::parser::types::{ExecutableDocument, OperationType};
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

    /// Runs `read` on the parsed document of `query`: the kept one, or one
    /// parsed now and kept (unless the text is too long to keep). `None`
    /// when the limits refuse the text or it does not parse: the checks
    /// before the run refuse it with their own errors.
    fn read<R>(
        &self,
        limits: &Limits,
        query: &str,
        read: impl FnOnce(&ExecutableDocument) -> R,
    ) -> Option<R> {
        if let Some(document) = self.lock().get(query) {
            return Some(read(document));
        }
        if check_text(limits, query).is_err() {
            return None;
        }
        let document = async_graphql::parser::parse_query(query).ok()?;
        let answer = read(&document);
        if query.len() <= LONGEST_KEPT {
            self.lock().put(Arc::from(query), document);
        }
        Some(answer)
    }

    /// Gives `request` its parsed document: a copy of the kept one, or one
    /// parsed now and kept. A text the limits refuse or that does not parse
    /// is left alone, for the checks before the run to refuse with their
    /// own errors.
    pub fn attach(&self, limits: &Limits, request: &mut Request) {
        if let Some(document) = self.read(limits, &request.query, Clone::clone) {
            request.set_parsed_query(document);
        }
    }

    /// The name (if it has one) and the type of the operation `request`
    /// runs, from its kept document, so that labelling a request by its
    /// operation parses nothing a second time. `None` when the text is
    /// refused or does not parse, or holds no operation of that name.
    pub fn operation(
        &self,
        limits: &Limits,
        request: &Request,
    ) -> Option<(Option<String>, OperationType)> {
        let wanted = request.operation_name.as_deref();
        self.read(limits, &request.query, |document| {
            document
                .operations
                .iter()
                .find(|(name, _)| match wanted {
                    Some(wanted) => name.is_some_and(|name| name.as_str() == wanted),
                    None => true,
                })
                .map(|(name, operation)| (name.map(|name| name.to_string()), operation.node.ty))
        })
        .flatten()
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
    fn a_request_is_labelled_from_the_document_it_runs() {
        let documents = Documents::default();
        let limits = Limits::default();
        let text = "query Page { regions { code } } mutation Save { __typename }";
        let named = |name: Option<&str>| {
            let mut request = Request::new(text);
            request.operation_name = name.map(str::to_owned);
            documents.operation(&limits, &request)
        };
        assert_eq!(
            named(Some("Save")),
            Some((Some("Save".to_owned()), OperationType::Mutation))
        );
        assert_eq!(
            named(Some("Page")),
            Some((Some("Page".to_owned()), OperationType::Query))
        );
        assert_eq!(named(Some("Missing")), None);
        attached(&documents, text);
        assert_eq!(documents.len(), 1, "one parse serves the label and the run");
        let anonymous = Request::new("{ zones { code } }");
        assert_eq!(
            documents.operation(&limits, &anonymous),
            Some((None, OperationType::Query))
        );
        assert_eq!(
            documents.operation(&limits, &Request::new("{ zones ")),
            None
        );
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
