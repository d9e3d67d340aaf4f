//! The `[auth]` section of Concord's configuration.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

/// The one signature algorithm a deployment accepts. Tokens signed with any
/// other algorithm are refused, which closes the `none` and HS256/RS256
/// confusion attacks.
// The variants keep the JOSE spelling (RFC 7518) that operators write.
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
pub enum KeyAlgorithm {
    /// HMAC with SHA-256 and a shared secret.
    #[default]
    HS256,
    /// RSASSA-PKCS1-v1_5 with SHA-256; public keys of at least 2048 bits.
    RS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// Ed25519.
    #[serde(rename = "EdDSA")]
    EDDSA,
}

impl KeyAlgorithm {
    /// The name used in settings and in a token header's `alg`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::HS256 => "HS256",
            KeyAlgorithm::RS256 => "RS256",
            KeyAlgorithm::ES256 => "ES256",
            KeyAlgorithm::EDDSA => "EdDSA",
        }
    }
}

/// A PEM public key and the `kid` that tokens signed with its private key carry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PublicKeyFile {
    /// The key id, matched against a token header's `kid`.
    pub kid: String,
    /// A PEM file holding a `PUBLIC KEY` (SubjectPublicKeyInfo) or, for RSA, an `RSA PUBLIC KEY`.
    pub path: PathBuf,
}

/// How tokens are verified (and, for development, issued).
///
/// For HS256 set `jwt_secret` (`CONCORD__AUTH__JWT_SECRET`). For RS256, ES256
/// or EdDSA set `algorithm` and list public keys in `public_keys`, in
/// `jwks_file`, or both; to rotate keys, add the new key beside the old one,
/// move the signer to it, and remove the old key once its tokens have expired.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// The only algorithm accepted.
    pub algorithm: KeyAlgorithm,
    /// The HS256 shared secret: at least 32 bytes, used as its UTF-8 bytes.
    pub jwt_secret: Option<SecretString>,
    /// PEM public keys for RS256, ES256 or EdDSA, each with its `kid`.
    pub public_keys: Vec<PublicKeyFile>,
    /// A JWKS (RFC 7517) file of public keys; keys for other algorithms in it are ignored.
    pub jwks_file: Option<PathBuf>,
    /// When set, tokens must carry this `iss`, and issued tokens carry it.
    pub issuer: Option<String>,
    /// When set, tokens must name this `aud`, and issued tokens carry it.
    pub audience: Option<String>,
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds (at most 300).
    pub leeway_secs: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            algorithm: KeyAlgorithm::default(),
            jwt_secret: None,
            public_keys: Vec::new(),
            jwks_file: None,
            issuer: None,
            audience: None,
            leeway_secs: 30,
        }
    }
}
