//! Refusing hostile queries before they run: tokens and the nesting of
//! brackets are counted before the document is parsed, so a huge document
//! is cheap to refuse and a deep one cannot overflow the parser's stack;
//! depth, aliases and directives are counted on the parsed document, and
//! its strings and the variables searched for U+0000; complexity is
//! async-graphql's own check, given Concord's error code here.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::settle::Settled;
use async_graphql::parser::types::{
    Directive, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, Request, Response, ServerError, Value};

/// The limits a request must keep. Defaults follow the ranges that GraphQL
/// Armor and Apollo Router ship with.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Deepest nesting of fields (introspection excluded).
    pub max_depth: usize,
    /// Most aliased fields in one document.
    pub max_aliases: usize,
    /// Most directives in one document.
    pub max_directives: usize,
    /// Most lexical tokens in one document.
    pub max_tokens: usize,
    /// Highest total complexity, each list field costing its page size times its selection.
    pub max_complexity: usize,
    /// Most operations in one batched request.
    pub max_batch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 10,
            max_aliases: 30,
            max_directives: 50,
            max_tokens: 2_000,
            max_complexity: 5_000,
            max_batch: 5,
        }
    }
}

/// A `LIMIT_EXCEEDED` error naming the limit and its value.
pub fn limit_error(limit: &str, max: usize, found: Option<usize>) -> ServerError {
    let message = match found {
        Some(found) => format!("the request exceeds the {limit} limit: {found} > {max}"),
        None => format!("the request exceeds the {limit} limit of {max}"),
    };
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", "LIMIT_EXCEEDED");
    extensions.set("limit", limit);
    // As an unsigned number: no cast that could turn a huge setting negative.
    extensions.set("max", max);
    error.extensions = Some(extensions);
    error
}

/// What became of a request: whether it reached execution (an error before
/// that is a request error, HTTP 400 under
/// `application/graphql-response+json`), and whether its document holds
/// queries only (so its answer may be cached).
#[derive(Clone, Default)]
pub struct Executed {
    executed: Arc<AtomicBool>,
    read_only: Arc<AtomicBool>,
    reads: crate::context::Reads,
    stalls: crate::settle::Stalls,
}

impl Executed {
    /// When the request's batch loads may be taken.
    pub(crate) fn stalls(&self) -> crate::settle::Stalls {
        self.stalls.clone()
    }

    /// What the request's resolvers read, as far as they said.
    pub fn reads(&self) -> concord_persistence::footprint::Footprint {
        self.reads.footprint()
    }

    pub(crate) fn reads_handle(&self) -> crate::context::Reads {
        self.reads.clone()
    }

    /// Whether the answer may be kept until a local commit touches what it
    /// read: not when it holds a peer's live part, since no local commit
    /// tells when that changes.
    pub fn cacheable(&self) -> bool {
        !self.reads.read_elsewhere()
    }

    pub fn get(&self) -> bool {
        self.executed.load(Ordering::Relaxed)
    }

    /// True once the document parsed and every operation in it is a query.
    pub fn read_only(&self) -> bool {
        self.read_only.load(Ordering::Relaxed)
    }
}

/// Deepest nesting of brackets (`{`, `[`, `(`) a document may have. The
/// parser recurses once per level of a list or object value, without a
/// limit of its own, and overflowed a server thread's stack, aborting the
/// process, near 5,000 levels; no real document nests a tenth as deep.
const MAX_NESTING: usize = 128;

/// What the text of a document holds, counted without building a tree.
#[derive(Debug, PartialEq, Eq)]
struct Text {
    /// Punctuators, names, numbers and strings; whitespace, commas and
    /// comments are not tokens.
    tokens: usize,
    /// The deepest nesting of brackets outside strings and comments.
    nesting: usize,
}

fn scan(source: &str) -> Text {
    let bytes = source.as_bytes();
    let mut count = 0;
    let (mut depth, mut nesting) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' | b'(' => {
                depth += 1;
                nesting = nesting.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                count += 1;
                if bytes[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                count += 1;
                i += 3;
            }
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' => {
                count += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || matches!(bytes[i], b'_' | b'.' | b'-' | b'+'))
                {
                    i += 1;
                }
            }
            _ => {
                count += 1;
                i += 1;
            }
        }
    }
    Text {
        tokens: count,
        nesting,
    }
}

/// Refuses a document whose text alone breaks a limit: too many tokens, or
/// brackets nested too deep to parse safely. Whatever parses a request's
/// document calls this first.
pub fn check_text(limits: &Limits, query: &str) -> Result<(), ServerError> {
    let text = scan(query);
    if text.tokens > limits.max_tokens {
        return Err(limit_error("tokens", limits.max_tokens, Some(text.tokens)));
    }
    if text.nesting > MAX_NESTING {
        return Err(limit_error("nesting", MAX_NESTING, Some(text.nesting)));
    }
    Ok(())
}

/// Whether a string in `value` holds U+0000, which PostgreSQL can neither
/// store nor compare: such a request is refused before the run, whatever
/// field the string is for, as the client's error.
fn nul_in(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::List(items) => items.iter().any(nul_in),
        Value::Object(fields) => fields
            .iter()
            .any(|(name, value)| name.contains('\0') || nul_in(value)),
        _ => false,
    }
}

/// Whether a string in the document holds U+0000 (see [`nul_in`]).
fn nul_in_document(document: &ExecutableDocument) -> bool {
    // A document's values may hold variables; async-graphql does not name
    // their type, so each is looked at as a constant with its variables
    // null (the variables are looked at apart).
    fn null(_: Name) -> Result<Value, Infallible> {
        Ok(Value::Null)
    }
    fn directives(directives: &[Positioned<Directive>]) -> bool {
        directives.iter().any(|directive| {
            directive.node.arguments.iter().any(|(_, argument)| {
                argument
                    .node
                    .clone()
                    .into_const_with(null)
                    .is_ok_and(|value| nul_in(&value))
            })
        })
    }
    fn selections(set: &SelectionSet) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                field.node.arguments.iter().any(|(_, argument)| {
                    argument
                        .node
                        .clone()
                        .into_const_with(null)
                        .is_ok_and(|value| nul_in(&value))
                }) || directives(&field.node.directives)
                    || selections(&field.node.selection_set.node)
            }
            Selection::FragmentSpread(spread) => directives(&spread.node.directives),
            Selection::InlineFragment(fragment) => {
                directives(&fragment.node.directives)
                    || selections(&fragment.node.selection_set.node)
            }
        })
    }
    document.fragments.values().any(|fragment| {
        directives(&fragment.node.directives) || selections(&fragment.node.selection_set.node)
    }) || document.operations.iter().any(|(_, operation)| {
        let operation = &operation.node;
        directives(&operation.directives)
            || operation.variable_definitions.iter().any(|definition| {
                directives(&definition.node.directives)
                    || definition
                        .node
                        .default_value
                        .as_ref()
                        .is_some_and(|default| nul_in(&default.node))
            })
            || selections(&operation.selection_set.node)
    })
}

/// Depth, aliases and directives of a parsed document.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Shape {
    pub depth: usize,
    pub aliases: usize,
    pub directives: usize,
}

/// Measures every operation of `document`, following fragment spreads once
/// each so that a cyclic fragment cannot loop.
pub fn measure(document: &ExecutableDocument) -> Shape {
    let mut walk = Walk {
        document,
        shape: Shape::default(),
        seen: HashSet::new(),
    };
    for fragment in document.fragments.values() {
        walk.shape.directives += fragment.node.directives.len();
    }
    for (_, operation) in document.operations.iter() {
        walk.shape.directives += operation.node.directives.len();
        let depth = walk.depth(&operation.node.selection_set.node);
        walk.shape.depth = walk.shape.depth.max(depth);
    }
    walk.shape
}

/// A walk through a document's selections that counts into `shape`.
/// `seen` holds the fragments spread on the path walked so far, so that a
/// cycle stops; it is empty again when a walk returns.
struct Walk<'a> {
    document: &'a ExecutableDocument,
    shape: Shape,
    seen: HashSet<String>,
}

impl Walk<'_> {
    /// The depth of `set`, counting its aliases and directives on the way.
    fn depth(&mut self, set: &SelectionSet) -> usize {
        let document = self.document;
        let mut deepest = 0;
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    if field.name.node.starts_with("__")
                        && matches!(field.name.node.as_str(), "__schema" | "__type")
                    {
                        continue;
                    }
                    if field.alias.is_some() {
                        self.shape.aliases += 1;
                    }
                    self.shape.directives += field.directives.len();
                    deepest = deepest.max(1 + self.depth(&field.selection_set.node));
                }
                Selection::InlineFragment(fragment) => {
                    self.shape.directives += fragment.node.directives.len();
                    deepest = deepest.max(self.depth(&fragment.node.selection_set.node));
                }
                Selection::FragmentSpread(spread) => {
                    self.shape.directives += spread.node.directives.len();
                    let name = &spread.node.fragment_name.node;
                    if !self.seen.insert(name.to_string()) {
                        continue;
                    }
                    if let Some(fragment) = document.fragments.get(name) {
                        deepest = deepest.max(self.depth(&fragment.node.selection_set.node));
                    }
                    self.seen.remove(name.as_str());
                }
            }
        }
        deepest
    }
}

/// Gives every error a code: request errors that async-graphql raised itself
/// (unparsable, invalid, bad variables) are the client's, so BAD_USER_INPUT.
fn ensure_codes(response: &mut Response) {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "BAD_USER_INPUT");
        }
    }
}

/// A request refused before it ran.
fn refused(error: ServerError) -> Response {
    let mut response = Response::from_errors(vec![error]);
    ensure_codes(&mut response);
    response
}

/// Counts what the limits count and refuses a request that breaks one,
/// before it runs.
fn check(limits: &Limits, request: &mut Request) -> Result<(), Box<Response>> {
    check_text(limits, &request.query).map_err(|error| Box::new(refused(error)))?;
    let nul_in_variables = request.variables.values().any(nul_in);
    let document = request
        .parsed_query()
        .map_err(|error| Box::new(refused(error)))?;
    let shape = measure(document);
    let checks = [
        ("depth", shape.depth, limits.max_depth),
        ("aliases", shape.aliases, limits.max_aliases),
        ("directives", shape.directives, limits.max_directives),
    ];
    for (limit, found, max) in checks {
        if found > max {
            return Err(Box::new(refused(limit_error(limit, max, Some(found)))));
        }
    }
    if nul_in_variables || nul_in_document(document) {
        return Err(Box::new(refused(ServerError::new(
            "a text in the request holds the NUL character (U+0000), which no field accepts",
            None,
        ))));
    }
    Ok(())
}

/// Whether `response` is a request error: no data, and errors none of which
/// belongs to a field (every field error carries its path). Such a request
/// was refused before it ran (invalid, bad variables, too complex), and its
/// errors get Concord's codes.
fn refused_before_running(response: &mut Response, limits: &Limits) -> bool {
    let refused = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty());
    if refused {
        for error in &mut response.errors {
            match error.message.as_str() {
                "Query is too complex." => {
                    *error = limit_error("complexity", limits.max_complexity, None)
                }
                "Query is nested too deep." => {
                    *error = limit_error("depth", limits.max_depth, None)
                }
                _ => {}
            }
        }
    }
    refused
}

/// Runs `request` on `schema` within `limits`, recording in `executed`
/// whether it reached execution and whether it holds queries only.
///
/// The checks run here, around the schema, rather than in an async-graphql
/// extension: with any extension installed, async-graphql wraps every
/// resolved field in the extension chain and looks its type up by name,
/// which cost more than the fields of a large page themselves.
pub async fn run<Q, M, S>(
    schema: &async_graphql::Schema<Q, M, S>,
    limits: &Limits,
    mut request: Request,
    executed: &Executed,
) -> Response
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
    S: async_graphql::SubscriptionType + 'static,
{
    if let Err(refusal) = check(limits, &mut request) {
        return *refusal;
    }
    let queries_only = request.parsed_query().is_ok_and(|document| {
        document
            .operations
            .iter()
            .all(|(_, operation)| operation.node.ty == OperationType::Query)
    });
    executed.read_only.store(queries_only, Ordering::Relaxed);
    // Until the answer says otherwise, it ran: a request cut off by the
    // timeout was executing.
    executed.executed.store(true, Ordering::Relaxed);
    let mut response = Settled::new(schema.execute(request), executed.stalls()).await;
    let ran = !refused_before_running(&mut response, limits);
    executed.executed.store(ran, Ordering::Relaxed);
    ensure_codes(&mut response);
    response
}

/// Runs a subscription `request` on `schema` within `limits`: the same
/// checks as [`run`], then async-graphql's stream of answers. `executed`
/// records, once the first answer is in, whether the request reached
/// execution; a subscription only reads, so its answers may be shared.
pub fn subscribe<Q, M, S>(
    schema: &async_graphql::Schema<Q, M, S>,
    limits: &Limits,
    mut request: Request,
    executed: &Executed,
) -> futures::stream::BoxStream<'static, Response>
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
    S: async_graphql::SubscriptionType + 'static,
{
    use futures::StreamExt;
    if let Err(refusal) = check(limits, &mut request) {
        return futures::stream::once(async move { *refusal }).boxed();
    }
    executed.read_only.store(true, Ordering::Relaxed);
    executed.executed.store(true, Ordering::Relaxed);
    let executed = executed.clone();
    let limits = limits.clone();
    let mut first = true;
    Settled::new(schema.execute_stream(request), executed.stalls())
        .map(move |mut response| {
            if std::mem::take(&mut first) {
                let ran = !refused_before_running(&mut response, &limits);
                executed.executed.store(ran, Ordering::Relaxed);
            }
            ensure_codes(&mut response);
            response
        })
        .boxed()
}

#[cfg(test)]
mod tests;
