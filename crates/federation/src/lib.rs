//! Live zone queries between province nodes: the peers a node knows, the
//! wire form of a member's part, and the outbound client that asks every
//! peer for its part within one budget per query.
//!
//! Depends on `domain` and on `persistence` for row types only; it knows
//! nothing of GraphQL or of the HTTP server that serves a part.

mod client;
mod part;
mod settings;

pub use client::{Fanout, Fetched, Outcome, PartFailure, Peers};
pub use part::{PART_PATH, Part, etag};
pub use settings::{FederationSettings, PeerError, PeerSettings, Source};
