//! How a node is told of its zone peers and of the budget of a live read.

use std::collections::HashSet;

use concord_domain::RegionCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Where a zone read takes the part of each member other than the node's own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Source {
    /// The local replicas, as `concord sync` keeps them.
    #[default]
    Replica,
    /// Each member's own node, asked at query time.
    Live,
    /// Live where the peer answers within the budget, the replica otherwise.
    Freshest,
}

/// One zone peer: a member region and the node that publishes it
/// (`[[node.peers]]`).
#[derive(Debug, Clone, Deserialize)]
pub struct PeerSettings {
    /// The member region the peer's node publishes, e.g. `320000`.
    pub region: String,
    /// The peer node's base URL, e.g. `https://jiangsu.example:8080`.
    pub url: String,
    /// A FEDERATION token the peer accepts (issued by the peer).
    pub token: SecretString,
}

/// The `federation` section: the default source of zone reads and the
/// outbound budget of one query.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct FederationSettings {
    /// The `source` of a zone read that names none.
    pub source: Source,
    /// Milliseconds a query waits for all its peers' parts, in total.
    pub budget_ms: u64,
    /// Peers one query asks at once.
    pub max_concurrency: usize,
    /// Bytes one query may receive from all its peers together; the part
    /// that goes past it is cut off and reported as `TOO_LARGE`.
    pub max_body_bytes: usize,
}

impl Default for FederationSettings {
    fn default() -> Self {
        Self {
            source: Source::Replica,
            budget_ms: 800,
            max_concurrency: 8,
            max_body_bytes: 16 << 20,
        }
    }
}

/// A peer configuration that cannot be used; each says what to fix.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PeerError {
    #[error("node.peers[{index}].region `{region}`: {why}")]
    Region {
        index: usize,
        region: String,
        why: String,
    },
    #[error(
        "node.peers[{index}].url `{url}` must be an http:// or https:// base URL such as http://jiangsu.example:8080"
    )]
    Url { index: usize, url: String },
    #[error(
        "node.peers[{index}].token is empty: give a FEDERATION token the peer issued (`concord token --role FEDERATION --region <this node's region>` on the peer)"
    )]
    Token { index: usize },
    #[error("federation.{0} must be at least {1}")]
    Budget(&'static str, u64),
    #[error("cannot build the client that calls peers: {0}")]
    Client(String),
}

/// A peer as checked: its region parsed and its part's URL built.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    pub(crate) region: RegionCode,
    pub(crate) base: String,
    pub(crate) part_url: reqwest::Url,
    pub(crate) token: SecretString,
}

impl FederationSettings {
    /// Checks the budget and every peer: a region the node knows (`known`),
    /// not its own and named once, a base URL, a token.
    pub(crate) fn check(
        &self,
        peers: &[PeerSettings],
        own: Option<&RegionCode>,
        known: &HashSet<String>,
    ) -> Result<Vec<Peer>, PeerError> {
        for (name, value, least) in [
            ("budget_ms", self.budget_ms, 1),
            ("max_concurrency", self.max_concurrency as u64, 1),
            ("max_body_bytes", self.max_body_bytes as u64, 1024),
        ] {
            if value < least {
                return Err(PeerError::Budget(name, least));
            }
        }
        let mut seen = HashSet::new();
        peers
            .iter()
            .enumerate()
            .map(|(index, peer)| {
                let bad_region = |why: String| PeerError::Region {
                    index,
                    region: peer.region.clone(),
                    why,
                };
                let region = RegionCode::try_from(peer.region.as_str())
                    .map_err(|e| bad_region(e.to_string()))?;
                if !known.contains(region.as_str()) {
                    return Err(bad_region(
                        "no such region in this node's reference data".into(),
                    ));
                }
                if Some(&region) == own {
                    return Err(bad_region(
                        "is this node's own region (node.region); its part is read locally".into(),
                    ));
                }
                if !seen.insert(region.to_string()) {
                    return Err(bad_region("is named by another peer already".into()));
                }
                let url_error = || PeerError::Url {
                    index,
                    url: peer.url.clone(),
                };
                let base = peer.url.trim_end_matches('/').to_owned();
                let part_url = reqwest::Url::parse(&format!("{base}{}", crate::PART_PATH))
                    .map_err(|_| url_error())?;
                if !matches!(part_url.scheme(), "http" | "https")
                    || part_url.host().is_none()
                    || part_url.query().is_some()
                {
                    return Err(url_error());
                }
                if peer.token.expose_secret().trim().is_empty() {
                    return Err(PeerError::Token { index });
                }
                Ok(Peer {
                    region,
                    base,
                    part_url,
                    token: peer.token.clone(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(region: &str, url: &str, token: &str) -> PeerSettings {
        PeerSettings {
            region: region.into(),
            url: url.into(),
            token: SecretString::from(token),
        }
    }

    #[test]
    fn peers_are_checked_with_a_message_that_says_what_to_fix() {
        let known: HashSet<String> = ["310000", "320000", "330000"]
            .into_iter()
            .map(String::from)
            .collect();
        let own = RegionCode::try_from("310000").unwrap();
        let settings = FederationSettings::default();
        let check = |peers: &[PeerSettings]| settings.check(peers, Some(&own), &known);

        let ok = check(&[peer("320000", "http://127.0.0.1:8081/", "t")]).unwrap();
        assert_eq!(
            ok[0].part_url.as_str(),
            "http://127.0.0.1:8081/federation/part"
        );
        assert_eq!(ok[0].base, "http://127.0.0.1:8081");

        let message = |peers: &[PeerSettings]| check(peers).unwrap_err().to_string();
        assert!(message(&[peer("440000", "http://a", "t")]).contains("no such region"));
        assert!(message(&[peer("32000", "http://a", "t")]).contains("node.peers[0].region"));
        assert!(message(&[peer("310000", "http://a", "t")]).contains("own region"));
        assert!(
            message(&[
                peer("320000", "http://a", "t"),
                peer("320000", "http://b", "t")
            ])
            .contains("node.peers[1].region `320000`: is named by another peer")
        );
        assert!(message(&[peer("320000", "jiangsu:8080", "t")]).contains("node.peers[0].url"));
        assert!(message(&[peer("320000", "ftp://a", "t")]).contains("http://"));
        assert!(message(&[peer("320000", "http://a", " ")]).contains("FEDERATION token"));

        let tight = FederationSettings {
            budget_ms: 0,
            ..FederationSettings::default()
        };
        assert_eq!(
            tight.check(&[], None, &known).unwrap_err(),
            PeerError::Budget("budget_ms", 1)
        );
    }

    #[test]
    fn the_default_source_is_the_replica() {
        let settings = FederationSettings::default();
        assert_eq!(settings.source, Source::Replica);
        assert_eq!(settings.budget_ms, 800);
    }
}
