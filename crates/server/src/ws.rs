//! GraphQL over WebSocket on `/graphql`: the `graphql-transport-ws`
//! protocol that graphql-ws, Apollo Client, urql and GraphiQL speak, and
//! the older `graphql-ws` protocol of subscriptions-transport-ws.
//!
//! A connection starts anonymous, or as the caller its upgrade request's
//! `Authorization` header proves; `connection_init` may carry a token of
//! its own (`{"authorization": "Bearer …"}`), which then wins. A token that
//! proves nothing closes the connection with 4403, and so does the expiry
//! of the token the connection runs as. Subscriptions to live reads go to
//! the [`Hub`]; `changes` streams run on their own; queries and mutations
//! are answered once, as over HTTP.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{CloseCode, CloseReason, Message, MessageStream, Session};
use async_graphql::Request;
use concord_auth::Principal;
use concord_schema::OperationKind;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::Value;
use tokio_stream::StreamMap;

use crate::cache::ResponseCache;
use crate::graphql::{self, error_json, to_bytes};
use crate::live::{Lease, LiveItem};
use crate::startup::AppState;

/// The subprotocols offered, preferred first.
const PROTOCOLS: [&str; 2] = [TRANSPORT_WS, LEGACY];
const TRANSPORT_WS: &str = "graphql-transport-ws";
const LEGACY: &str = "graphql-ws";

/// The two protocols' names for the same messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// `graphql-transport-ws`.
    TransportWs,
    /// `graphql-ws`, as subscriptions-transport-ws speaks it.
    Legacy,
}

impl Protocol {
    fn next(self) -> &'static str {
        match self {
            Protocol::TransportWs => "next",
            Protocol::Legacy => "data",
        }
    }

    fn subscribe(self) -> &'static str {
        match self {
            Protocol::TransportWs => "subscribe",
            Protocol::Legacy => "start",
        }
    }

    fn stop(self) -> &'static str {
        match self {
            Protocol::TransportWs => "complete",
            Protocol::Legacy => "stop",
        }
    }

    /// The keep-alive message the server sends.
    fn keep_alive(self) -> &'static str {
        match self {
            Protocol::TransportWs => r#"{"type":"ping"}"#,
            Protocol::Legacy => r#"{"type":"ka"}"#,
        }
    }
}

/// Whether `http` asks to become a WebSocket.
pub(crate) fn is_upgrade(http: &HttpRequest) -> bool {
    http.headers()
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

/// The subprotocol the client offered that Concord speaks, preferring
/// `graphql-transport-ws`.
fn offered(http: &HttpRequest) -> Option<Protocol> {
    let offered: Vec<String> = http
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|name| name.trim().to_owned())
        .collect();
    if offered.iter().any(|name| name == TRANSPORT_WS) {
        Some(Protocol::TransportWs)
    } else if offered.iter().any(|name| name == LEGACY) {
        Some(Protocol::Legacy)
    } else {
        None
    }
}

/// A caller, and until when its token holds.
#[derive(Clone)]
struct Caller {
    principal: Principal,
    /// Seconds since the Unix epoch; `None` for an anonymous caller.
    until: Option<u64>,
}

impl Caller {
    fn anonymous() -> Self {
        Self {
            principal: Principal::anonymous(),
            until: None,
        }
    }

    /// What an `Authorization` value (`Bearer …`) proves.
    fn from_authorization(state: &AppState, value: &str) -> Result<Self, concord_auth::AuthError> {
        let (principal, until) = state
            .verifier
            .verify_until(concord_auth::bearer_token(value)?)?;
        Ok(Self {
            principal,
            until: Some(until),
        })
    }

    /// How long until the token expires, if it does.
    fn remaining(&self) -> Option<Duration> {
        let until = UNIX_EPOCH + Duration::from_secs(self.until?);
        Some(
            until
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO),
        )
    }
}

/// GET /graphql with `Upgrade: websocket`.
pub(crate) async fn upgrade(
    state: web::Data<AppState>,
    http: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    if !state.settings.subscriptions.enabled {
        return HttpResponse::BadRequest().json(serde_json::json!({ "errors": [{
            "message": "subscriptions are switched off on this server (subscriptions.enabled)",
            "extensions": { "code": "BAD_USER_INPUT" }
        }] }));
    }
    let Some(protocol) = offered(&http) else {
        return HttpResponse::BadRequest().json(serde_json::json!({ "errors": [{
            "message": "a WebSocket on /graphql must offer the graphql-transport-ws (or graphql-ws) subprotocol",
            "extensions": { "code": "BAD_USER_INPUT" }
        }] }));
    };
    let caller = match http.headers().get(header::AUTHORIZATION) {
        None => Caller::anonymous(),
        Some(value) => {
            let proved = value
                .to_str()
                .map_err(|_| concord_auth::AuthError::BadAuthorizationHeader)
                .and_then(|value| Caller::from_authorization(&state, value));
            match proved {
                Ok(caller) => caller,
                Err(error) => return graphql::unauthenticated_json(&error),
            }
        }
    };
    let (response, session, incoming) =
        match actix_ws::handle_with_protocols(&http, payload, &PROTOCOLS) {
            Ok(upgraded) => upgraded,
            Err(error) => return error.error_response(),
        };
    let incoming = incoming.max_frame_size(state.settings.server.body_limit);
    let connection = Connection {
        state: state.into_inner(),
        protocol,
        caller,
        initialised: false,
        operations: StreamMap::new(),
    };
    actix_web::rt::spawn(connection.serve(session, incoming));
    response
}

/// What a connection sends for one operation.
enum Outgoing {
    /// A result: the `{data, errors}` payload.
    Next(Bytes),
    /// The operation failed before it produced a result: its errors. Nothing follows.
    Error(Bytes),
    /// The operation is done.
    Complete,
}

/// Why a connection ends.
struct Close {
    code: u16,
    reason: String,
}

impl Close {
    fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }
}

/// One WebSocket connection.
struct Connection {
    state: Arc<AppState>,
    protocol: Protocol,
    caller: Caller,
    initialised: bool,
    operations: StreamMap<String, BoxStream<'static, Outgoing>>,
}

impl Connection {
    async fn serve(mut self, mut session: Session, mut incoming: MessageStream) {
        let settings = self.state.settings.subscriptions.clone();
        let mut shutdown = self.state.shutdown.clone();
        let init_deadline = tokio::time::sleep(Duration::from_secs(settings.init_timeout_secs));
        tokio::pin!(init_deadline);
        let mut keep_alive = tokio::time::interval(Duration::from_secs(settings.keep_alive_secs));
        keep_alive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        keep_alive.reset();
        let close = loop {
            let expiry = self.caller.remaining();
            tokio::select! {
                _ = shutdown.changed() => {
                    break Close::new(1001, "the server is going away");
                }
                message = incoming.recv() => {
                    let message = match message {
                        None => return,
                        Some(Ok(message)) => message,
                        Some(Err(_)) => break Close::new(1002, "not a WebSocket frame"),
                    };
                    let replies = match message {
                        Message::Text(text) => match self.receive(&text) {
                            Ok(replies) => replies,
                            Err(close) => break close,
                        },
                        Message::Ping(bytes) => {
                            if session.pong(&bytes).await.is_err() {
                                return;
                            }
                            continue;
                        }
                        Message::Close(_) => {
                            let _ = session.close(None).await;
                            return;
                        }
                        Message::Binary(_) => break Close::new(4400, "messages must be text"),
                        Message::Pong(_) | Message::Continuation(_) | Message::Nop => continue,
                    };
                    for reply in replies {
                        if session.text(reply).await.is_err() {
                            return;
                        }
                    }
                }
                Some((id, outgoing)) = self.operations.next() => {
                    if session.text(self.render(&id, outgoing)).await.is_err() {
                        return;
                    }
                }
                _ = &mut init_deadline, if !self.initialised => {
                    break Close::new(4408, "Connection initialisation timeout");
                }
                _ = keep_alive.tick(), if self.initialised => {
                    if session.text(self.protocol.keep_alive()).await.is_err() {
                        return;
                    }
                }
                _ = sleep_for(expiry), if expiry.is_some() => {
                    break Close::new(4403, "Forbidden: the token expired");
                }
            }
        };
        let _ = session
            .close(Some(CloseReason {
                code: CloseCode::from(close.code),
                description: Some(close.reason),
            }))
            .await;
    }

    /// Handles one client message: the messages to send back, or why the
    /// connection must close.
    fn receive(&mut self, text: &str) -> Result<Vec<String>, Close> {
        let invalid = || Close::new(4400, "Invalid message received");
        let message: Value = serde_json::from_str(text).map_err(|_| invalid())?;
        let kind = message
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(invalid)?;
        match kind {
            "connection_init" => self.initialise(message.get("payload")),
            "ping" if self.protocol == Protocol::TransportWs => {
                let mut pong = serde_json::json!({ "type": "pong" });
                if let Some(payload) = message.get("payload") {
                    pong["payload"] = payload.clone();
                }
                Ok(vec![pong.to_string()])
            }
            "pong" if self.protocol == Protocol::TransportWs => Ok(Vec::new()),
            "connection_terminate" if self.protocol == Protocol::Legacy => {
                Err(Close::new(1000, "terminated by the client"))
            }
            kind if kind == self.protocol.subscribe() => {
                if !self.initialised {
                    return Err(Close::new(4401, "Unauthorized"));
                }
                let id = message
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|id| !id.is_empty())
                    .ok_or_else(invalid)?
                    .to_owned();
                if self.operations.contains_key(&id) {
                    return Err(Close::new(
                        4409,
                        format!("Subscriber for {id} already exists"),
                    ));
                }
                let request: Request = message
                    .get("payload")
                    .cloned()
                    .and_then(|payload| serde_json::from_value(payload).ok())
                    .ok_or_else(invalid)?;
                let operation = self.start(request);
                self.operations.insert(id, operation);
                Ok(Vec::new())
            }
            kind if kind == self.protocol.stop() => {
                let id = message
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(invalid)?;
                self.operations.remove(id);
                Ok(Vec::new())
            }
            _ => Err(invalid()),
        }
    }

    /// `connection_init`: who the caller is, then the acknowledgement.
    fn initialise(&mut self, payload: Option<&Value>) -> Result<Vec<String>, Close> {
        if self.initialised {
            return Err(Close::new(4429, "Too many initialisation requests"));
        }
        let authorization = payload.and_then(Value::as_object).and_then(|payload| {
            payload
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case("authorization"))
                .map(|(_, value)| value)
        });
        if let Some(value) = authorization {
            let value = value
                .as_str()
                .ok_or_else(|| Close::new(4403, "Forbidden: authorization must be a string"))?;
            self.caller = Caller::from_authorization(&self.state, value)
                .map_err(|error| Close::new(4403, format!("Forbidden: {error}")))?;
        }
        if self.caller.remaining() == Some(Duration::ZERO) {
            return Err(Close::new(4403, "Forbidden: the token expired"));
        }
        self.initialised = true;
        let mut replies = vec![r#"{"type":"connection_ack"}"#.to_owned()];
        if self.protocol == Protocol::Legacy {
            replies.push(self.protocol.keep_alive().to_owned());
        }
        Ok(replies)
    }

    /// Starts one operation: the messages it will send.
    fn start(&self, mut request: Request) -> BoxStream<'static, Outgoing> {
        let state = self.state.clone();
        let principal = self.caller.principal.clone();
        let max = state.settings.subscriptions.max_per_connection;
        if self.operations.len() >= max {
            let error = concord_schema::limit_error("subscriptions_per_connection", max, None);
            return refusal(vec![error_json(error)]);
        }
        // A server locked to a manifest runs nothing else here either.
        if let Err(refused) = state
            .persisted
            .resolve(&state.settings.graphql.limits, &mut request)
        {
            return refusal(vec![error_json(*refused.error)]);
        }
        let kind =
            match concord_schema::operation_kind(&state.settings.graphql.limits, &mut request) {
                Ok(kind) => kind,
                Err(error) => return refusal(vec![error_json(error)]),
            };
        match kind {
            OperationKind::Query | OperationKind::Mutation => once(state, principal, request),
            OperationKind::Live => {
                let key = ResponseCache::key(&principal, &request);
                match state.live.subscribe(principal, request, key) {
                    Ok(items) => items
                        .map(|item| match item {
                            LiveItem::Next(payload) => Outgoing::Next(payload),
                            LiveItem::Refused(errors) => Outgoing::Error(errors),
                        })
                        .boxed(),
                    Err(full) => full_error(full.max),
                }
            }
            OperationKind::Streamed => streamed(state, principal, request),
        }
    }

    /// The text of one outgoing message for operation `id`.
    fn render(&self, id: &str, outgoing: Outgoing) -> String {
        let id = Value::String(id.to_owned()).to_string();
        let (kind, payload) = match outgoing {
            Outgoing::Next(payload) => (self.protocol.next(), Some(payload)),
            Outgoing::Error(errors) => ("error", Some(errors)),
            Outgoing::Complete => ("complete", None),
        };
        match payload {
            Some(payload) => format!(
                r#"{{"id":{id},"type":"{kind}","payload":{}}}"#,
                String::from_utf8_lossy(&payload)
            ),
            None => format!(r#"{{"id":{id},"type":"{kind}"}}"#),
        }
    }
}

async fn sleep_for(duration: Option<Duration>) {
    match duration {
        Some(duration) => tokio::time::sleep(duration).await,
        None => std::future::pending().await,
    }
}

/// An operation refused before it ran.
fn refusal(errors: Vec<Value>) -> BoxStream<'static, Outgoing> {
    futures::stream::once(async move { Outgoing::Error(to_bytes(&errors)) }).boxed()
}

fn full_error(max: usize) -> BoxStream<'static, Outgoing> {
    let error = concord_schema::limit_error("subscriptions", max, None);
    refusal(vec![error_json(error)])
}

/// A query or mutation: answered once, as over HTTP.
fn once(
    state: Arc<AppState>,
    principal: Principal,
    request: Request,
) -> BoxStream<'static, Outgoing> {
    futures::stream::once(async move {
        let graphql::Answer {
            body,
            request_error,
            ..
        } = graphql::execute(&state, principal, request).await;
        if request_error {
            let errors = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|mut body| body.get_mut("errors").map(Value::take))
                .unwrap_or_default();
            return futures::stream::iter(vec![Outgoing::Error(to_bytes(&errors))]);
        }
        futures::stream::iter(vec![Outgoing::Next(body), Outgoing::Complete])
    })
    .flatten()
    .boxed()
}

/// A subscription that is a stream of its own (`changes`): every answer it
/// produces, then `complete` when it ends.
fn streamed(
    state: Arc<AppState>,
    principal: Principal,
    request: Request,
) -> BoxStream<'static, Outgoing> {
    let lease = match state.live.lease() {
        Ok(lease) => lease,
        Err(full) => return full_error(full.max),
    };
    futures::stream::once(async move {
        let prepared = concord_schema::prepare(
            &state.db,
            &state.settings.graphql,
            &state.kept,
            principal,
            request,
        )
        .await;
        let (request, executed) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => return refusal(vec![error_json(error)]),
        };
        let answers = concord_schema::subscribe(
            &state.schema,
            &state.settings.graphql.limits,
            request,
            &executed,
        );
        let feed = Feed {
            answers,
            executed,
            first: true,
            done: false,
            _lease: lease,
        };
        futures::stream::unfold(feed, Feed::next).boxed()
    })
    .flatten()
    .boxed()
}

/// A `changes` stream being sent.
struct Feed {
    answers: BoxStream<'static, async_graphql::Response>,
    executed: concord_schema::Executed,
    first: bool,
    done: bool,
    _lease: Lease,
}

impl Feed {
    async fn next(mut self) -> Option<(Outgoing, Self)> {
        if self.done {
            return None;
        }
        let Some(response) = self.answers.next().await else {
            self.done = true;
            return Some((Outgoing::Complete, self));
        };
        if std::mem::take(&mut self.first)
            && (!self.executed.get() || response.data == async_graphql::Value::Null)
        {
            // A refusal is the last message, with no `complete` after it.
            self.done = true;
            let errors: Vec<Value> = response.errors.into_iter().map(error_json).collect();
            return Some((Outgoing::Error(to_bytes(&errors)), self));
        }
        Some((Outgoing::Next(to_bytes(&response)), self))
    }
}
