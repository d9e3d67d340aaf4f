//! The one error type of this crate.

/// Why a token, a header, a setting or a request for a token was refused.
///
/// Every message is safe to show a client: none contains key material or a
/// token. Only `Config` names files, and it comes from [`crate::Verifier::new`]
/// at start-up, never from a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The `Authorization` header is not `Bearer <token>`.
    #[error("the Authorization header must be `Bearer <token>`")]
    BadAuthorizationHeader,
    /// Not three base64url segments with a JSON header and payload.
    #[error("token is malformed")]
    Malformed,
    /// `exp` has passed, beyond the leeway.
    #[error("token expired")]
    Expired,
    /// `nbf` or `iat` lies in the future, beyond the leeway.
    #[error("token is not yet valid")]
    NotYetValid,
    /// The signature does not match the header and payload.
    #[error("token signature is invalid")]
    BadSignature,
    /// The header's `alg` is not the one this server is configured for.
    #[error("token algorithm is not allowed")]
    AlgorithmNotAllowed,
    /// `iss` is not the configured issuer.
    #[error("token issuer is not accepted")]
    IssuerNotAccepted,
    /// `aud` does not name the configured audience, or names one where none is configured.
    #[error("token audience is not accepted")]
    AudienceNotAccepted,
    /// The header's `kid` names no configured key.
    #[error("token key id is not known")]
    UnknownKey,
    /// The header has no `kid` and several keys are configured.
    #[error("token has no key id and this server has several keys")]
    MissingKeyId,
    /// A required claim is absent.
    #[error("token lacks the `{0}` claim")]
    MissingClaim(String),
    /// A claim is present but unusable.
    #[error("token claim `{claim}` is invalid: {reason}")]
    InvalidClaim {
        /// The claim's name.
        claim: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A role name that is not one of Concord's roles.
    #[error(
        "`{0}` is not a role; use one of VIEWER, PROVINCE_ADMIN, ZONE_COORDINATOR, NATIONAL_ADMIN, SYNC_AGENT, FEDERATION"
    )]
    UnknownRole(String),
    /// A role without the region or zone it needs, or with one it cannot have.
    #[error("{0}")]
    Scope(String),
    /// A token lifetime that cannot be parsed or is out of range.
    #[error("invalid token lifetime `{text}`: {reason}")]
    InvalidTtl {
        /// The text given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Settings that cannot verify or issue tokens; the text says what to configure.
    #[error("auth configuration: {0}")]
    Config(String),
    /// Signing a token failed.
    #[error("could not sign the token: {0}")]
    Signing(String),
}
