//! Following a peer's change feed as it commits: the `changes` subscription
//! over `graphql-transport-ws`, which sends a page whenever the peer commits
//! changes after the cursor given.
//!
//! The stream only follows: the job catches up over HTTP first, and again
//! whenever the stream ends. A peer that offers no stream (an older
//! Concord, WebSockets switched off, a proxy that does not pass them) is
//! told apart from one whose stream failed, so that the job can poll the
//! first and retry the second.

use std::time::Duration;

use concord_persistence::DatabaseConnection;
use concord_persistence::peers;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::{ChangePage, Options, Peer, Report, Stop, SyncError, apply};

const SUBSCRIPTION: &str =
    "subscription($after: String, $first: Int!) { changes(after: $after, first: $first) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { kind key revision record } } } }";

/// How long the peer may stay silent before the stream counts as broken:
/// a Concord peer pings every 15 s by default.
const SILENCE: Duration = Duration::from_secs(60);

/// How long the peer has to acknowledge the connection.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// Why following the stream stopped.
#[derive(Debug)]
pub(crate) enum StreamEnd {
    /// The peer offers no change stream; the reason, for the log.
    NotOffered(String),
    /// The stream was there and failed.
    Failed(SyncError),
}

impl From<SyncError> for StreamEnd {
    fn from(error: SyncError) -> Self {
        StreamEnd::Failed(error)
    }
}

impl From<tungstenite::Error> for StreamEnd {
    fn from(error: tungstenite::Error) -> Self {
        StreamEnd::Failed(SyncError::Stream(error.to_string()))
    }
}

#[derive(Deserialize)]
struct Payload {
    data: Option<PageData>,
}

#[derive(Deserialize)]
struct PageData {
    changes: ChangePage,
}

/// The peer's WebSocket URL: its GraphQL URL with `ws` for `http`.
fn socket_url(url: &str) -> Result<String, StreamEnd> {
    if let Some(rest) = url.strip_prefix("http://") {
        Ok(format!("ws://{rest}"))
    } else if let Some(rest) = url.strip_prefix("https://") {
        Ok(format!("wss://{rest}"))
    } else {
        Err(StreamEnd::NotOffered(format!(
            "{url} is not an http(s) URL"
        )))
    }
}

/// Applies the pages the peer streams, from the local cursor on, until the
/// stream ends. Returns what was applied when the peer ended the stream
/// itself, or when `stop` was asked for (between pages, never during one).
pub(crate) async fn follow(
    db: &DatabaseConnection,
    peer: &Peer,
    options: &Options,
    stop: &Stop,
) -> Result<Report, StreamEnd> {
    let mut request = socket_url(&peer.url)?
        .into_client_request()
        .map_err(|error| StreamEnd::NotOffered(error.to_string()))?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, response) = match tokio_tungstenite::connect_async(request).await {
        Ok(connected) => connected,
        // Refused upgrades (an HTTP status instead of 101) and unsupported
        // schemes mean no stream here; anything else is a failure.
        Err(tungstenite::Error::Http(response)) => {
            return Err(StreamEnd::NotOffered(format!(
                "the upgrade was answered with HTTP {}",
                response.status()
            )));
        }
        Err(tungstenite::Error::Url(error)) => {
            return Err(StreamEnd::NotOffered(error.to_string()));
        }
        Err(error) => return Err(error.into()),
    };
    if response
        .headers()
        .get("sec-websocket-protocol")
        .is_none_or(|protocol| protocol != "graphql-transport-ws")
    {
        return Err(StreamEnd::NotOffered(
            "the peer does not speak graphql-transport-ws".into(),
        ));
    }
    let init = json!({ "type": "connection_init",
        "payload": { "authorization": format!("Bearer {}", peer.token) } });
    socket.send(Message::text(init.to_string())).await?;
    let ack = receive(&mut socket, HANDSHAKE).await?;
    if ack["type"] != "connection_ack" {
        return Err(StreamEnd::Failed(SyncError::Stream(format!(
            "the peer answered connection_init with {ack}"
        ))));
    }
    let cursor = peers::cursor(db, &peer.url)
        .await
        .map_err(SyncError::from)?;
    let subscribe = json!({ "id": "changes", "type": "subscribe", "payload": {
        "query": SUBSCRIPTION,
        "variables": { "after": cursor, "first": options.page_size.min(1000) },
    } });
    socket.send(Message::text(subscribe.to_string())).await?;
    tracing::info!(peer = %peer.url, "following the peer's change stream");
    let mut report = Report::default();
    let mut cursor = cursor;
    loop {
        let message = tokio::select! {
            message = receive(&mut socket, SILENCE) => message?,
            () = stop.requested() => {
                // Says goodbye; the stop goes ahead whatever the peer makes of it.
                let _ = socket.close(None).await;
                return Ok(report);
            }
        };
        match message["type"].as_str() {
            Some("ping") => {
                socket
                    .send(Message::text(json!({ "type": "pong" }).to_string()))
                    .await?;
            }
            Some("pong") => {}
            Some("next") => {
                let payload: Payload = serde_json::from_value(message["payload"].clone())
                    .map_err(|error| SyncError::Malformed(error.to_string()))?;
                let page = payload
                    .data
                    .map(|data| data.changes)
                    .ok_or_else(|| SyncError::Malformed(format!("no data: {message}")))?;
                cursor = page.page_info.end_cursor.clone().or(cursor);
                apply(db, peer, page, cursor.clone(), options, &mut report).await?;
            }
            Some("error") => return Err(refusal(&message["payload"])),
            Some("complete") => return Ok(report),
            _ => {
                return Err(StreamEnd::Failed(SyncError::Malformed(format!(
                    "unexpected message {message}"
                ))));
            }
        }
    }
}

/// What an `error` message for the subscription means: a peer whose schema
/// has no `changes` subscription refuses it as invalid (no stream here);
/// any other refusal (no right to the feed, a bad cursor) is the job's.
fn refusal(errors: &Value) -> StreamEnd {
    let first = &errors[0];
    let code = first["extensions"]["code"]
        .as_str()
        .unwrap_or("UNKNOWN")
        .to_owned();
    let message = first["message"].as_str().unwrap_or_default().to_owned();
    if code == "BAD_USER_INPUT" && message.contains("changes") {
        StreamEnd::NotOffered(message)
    } else {
        StreamEnd::Failed(SyncError::Refused { code, message })
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next protocol message, within `within`.
async fn receive(socket: &mut Socket, within: Duration) -> Result<Value, StreamEnd> {
    loop {
        let frame = tokio::time::timeout(within, socket.next())
            .await
            .map_err(|_| SyncError::Stream(format!("the peer was silent for {within:?}")))?;
        match frame {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(&text).map_err(|error| {
                    StreamEnd::Failed(SyncError::Malformed(format!("{error}: {text}")))
                });
            }
            Some(Ok(Message::Close(frame))) => {
                let why = frame.map_or_else(
                    || "without a reason".to_owned(),
                    |frame| format!("{}: {}", u16::from(frame.code), frame.reason),
                );
                return Err(StreamEnd::Failed(SyncError::Stream(format!(
                    "the peer closed the stream ({why})"
                ))));
            }
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(error.into()),
            None => {
                return Err(StreamEnd::Failed(SyncError::Stream(
                    "the peer closed the connection".into(),
                )));
            }
        }
    }
}
