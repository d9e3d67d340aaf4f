//! Verifying a bearer token and turning it into a [`Principal`].

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use concord_domain::{RegionCode, ZoneCode};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{DecodingKey, Validation};
use secrecy::SecretString;
use serde::Deserialize;

use crate::error::AuthError;
use crate::keys::{NamedKey, hmac_secret, hs256_with_public_keys, public_keys};
use crate::settings::{AuthSettings, KeyAlgorithm};
use crate::{Principal, Role};

/// More clock skew than this hides a broken clock rather than absorbing drift.
const MAX_LEEWAY_SECS: u64 = 300;

const NO_SECRET: &str = "HS256 needs a secret: set CONCORD__AUTH__JWT_SECRET (at least 32 bytes, \
     e.g. from `openssl rand -base64 48`), or set `auth.algorithm` and public keys for RS256, \
     ES256 or EdDSA";

/// Checks tokens against one pinned algorithm and its keys. Build it once at
/// start-up and share it; verifying does no I/O.
#[derive(Debug, Clone)]
pub struct Verifier {
    algorithm: KeyAlgorithm,
    keys: Vec<NamedKey>,
    validation: Validation,
}

impl Verifier {
    /// Builds from settings; `secret` overrides settings.jwt_secret (used for
    /// the generated secret file). Errors say what to configure.
    ///
    /// For RS256, ES256 and EdDSA `secret` and `jwt_secret` are ignored: a
    /// shared secret can never verify those tokens.
    pub fn new(settings: &AuthSettings, secret: Option<SecretString>) -> Result<Self, AuthError> {
        let keys = match settings.algorithm {
            KeyAlgorithm::HS256 => {
                if !settings.public_keys.is_empty() || settings.jwks_file.is_some() {
                    return Err(hs256_with_public_keys());
                }
                let secret = secret
                    .as_ref()
                    .or(settings.jwt_secret.as_ref())
                    .ok_or_else(|| AuthError::Config(NO_SECRET.to_owned()))?;
                let key = DecodingKey::from_secret(hmac_secret(secret)?)
                    .map_err(|e| AuthError::Config(format!("the HS256 secret is unusable: {e}")))?;
                vec![NamedKey { kid: None, key }]
            }
            KeyAlgorithm::RS256 | KeyAlgorithm::ES256 | KeyAlgorithm::EDDSA => {
                public_keys(settings)?
            }
        };
        Ok(Self {
            algorithm: settings.algorithm,
            keys,
            validation: validation(settings)?,
        })
    }

    /// Verifies a compact JWT and returns the principal it names.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        self.verify_until(token).map(|(principal, _)| principal)
    }

    /// Verifies a compact JWT and returns the principal it names and the
    /// instant (in seconds since the Unix epoch) after which this verifier
    /// refuses it: its `exp` plus the leeway. A connection that outlives
    /// one request (a WebSocket) ends then.
    pub fn verify_until(&self, token: &str) -> Result<(Principal, u64), AuthError> {
        let header = peek_header(token)?;
        // Compare the raw `alg` text before anything else: `none`, and HS256
        // presented to an RS256 verifier, stop here.
        if header.alg != self.algorithm.as_str() {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        let key = self.key_for(header.kid.as_deref())?;
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map_err(|e| rejection(e.into_kind()))?;
        let leeway = self.validation.leeway;
        // The validation requires `exp`, so it is there.
        let until = data
            .claims
            .exp
            .as_ref()
            .and_then(serde_json::Value::as_u64)
            .unwrap_or_default()
            .saturating_add(leeway);
        let principal = data
            .claims
            .into_principal(jsonwebtoken::get_current_timestamp(), leeway)?;
        Ok((principal, until))
    }

    fn key_for(&self, kid: Option<&str>) -> Result<&DecodingKey, AuthError> {
        match (kid, self.keys.as_slice()) {
            // One key without an id (the shared secret, or a lone JWK) verifies every token.
            (_, [NamedKey { kid: None, key }]) => Ok(key),
            (None, [only]) => Ok(&only.key),
            (None, _) => Err(AuthError::MissingKeyId),
            (Some(kid), keys) => keys
                .iter()
                .find(|named| named.kid.as_deref() == Some(kid))
                .map(|named| &named.key)
                .ok_or(AuthError::UnknownKey),
        }
    }
}

fn validation(settings: &AuthSettings) -> Result<Validation, AuthError> {
    if settings.leeway_secs > MAX_LEEWAY_SECS {
        return Err(AuthError::Config(format!(
            "`auth.leeway_secs` is {}; it must be at most {MAX_LEEWAY_SECS}",
            settings.leeway_secs
        )));
    }
    let mut validation = Validation::new(settings.algorithm.jwt());
    validation.leeway = settings.leeway_secs;
    validation.validate_nbf = true;
    let mut required = vec!["exp"];
    if let Some(issuer) = configured("issuer", settings.issuer.as_deref())? {
        validation.set_issuer(&[issuer]);
        required.push("iss");
    }
    // Without a configured audience the library refuses any token that names
    // one (RFC 7519 §4.1.3): a token meant for another service is not ours.
    if let Some(audience) = configured("audience", settings.audience.as_deref())? {
        validation.set_audience(&[audience]);
        required.push("aud");
    }
    validation.set_required_spec_claims(&required);
    Ok(validation)
}

/// An optional setting that, when present, must say something.
pub(crate) fn configured<'a>(
    name: &str,
    value: Option<&'a str>,
) -> Result<Option<&'a str>, AuthError> {
    match value {
        Some(text) if text.trim().is_empty() => Err(AuthError::Config(format!(
            "`auth.{name}` is set but empty; remove it or give a value"
        ))),
        other => Ok(other),
    }
}

/// The two header fields read before a key is chosen.
#[derive(Deserialize)]
struct PeekedHeader {
    alg: String,
    kid: Option<String>,
}

fn peek_header(token: &str) -> Result<PeekedHeader, AuthError> {
    let mut segments = token.split('.');
    let (Some(header), Some(_), Some(_), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(AuthError::Malformed);
    };
    let json = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&json).map_err(|_| AuthError::Malformed)
}

fn rejection(kind: ErrorKind) -> AuthError {
    match kind {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => AuthError::AlgorithmNotAllowed,
        ErrorKind::InvalidIssuer => AuthError::IssuerNotAccepted,
        ErrorKind::InvalidAudience => AuthError::AudienceNotAccepted,
        ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(claim),
        ErrorKind::InvalidClaimFormat(claim) => AuthError::InvalidClaim {
            claim,
            reason: "it has the wrong type".to_owned(),
        },
        // Bad base64, JSON or shape; key errors cannot occur here because
        // keys were checked when the verifier was built.
        _ => AuthError::Malformed,
    }
}

/// The claims Concord reads beyond those the library checks (`exp`, `nbf`,
/// `iss`, `aud`). Each is optional here so that a missing one gets its own error.
#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    role: Option<String>,
    region: Option<String>,
    zone: Option<String>,
    iat: Option<u64>,
    /// Read as any JSON value: jsonwebtoken has already refused a token
    /// whose `exp` is not a number, and says so better than a parse error.
    exp: Option<serde_json::Value>,
    jti: Option<String>,
}

impl Claims {
    fn into_principal(self, now: u64, leeway: u64) -> Result<Principal, AuthError> {
        let subject = required(self.sub, "sub")?;
        let role: Role = required(self.role, "role")?.parse()?;
        let issued_at = self
            .iat
            .ok_or_else(|| AuthError::MissingClaim("iat".to_owned()))?;
        if issued_at > now.saturating_add(leeway) {
            return Err(AuthError::NotYetValid);
        }
        required(self.jti, "jti")?;
        let region = self
            .region
            .map(|raw| RegionCode::try_from(raw.as_str()))
            .transpose()
            .map_err(|e| invalid("region", e))?;
        let zone = self
            .zone
            .map(|raw| ZoneCode::try_from(raw.as_str()))
            .transpose()
            .map_err(|e| invalid("zone", e))?;
        Principal::scoped(subject, role, region, zone)
    }
}

fn required(value: Option<String>, claim: &str) -> Result<String, AuthError> {
    match value {
        Some(text) if !text.trim().is_empty() => Ok(text),
        _ => Err(AuthError::MissingClaim(claim.to_owned())),
    }
}

fn invalid(claim: &str, reason: impl ToString) -> AuthError {
    AuthError::InvalidClaim {
        claim: claim.to_owned(),
        reason: reason.to_string(),
    }
}

/// Extracts the token from an `Authorization` header value: exactly
/// `Bearer <token>` (scheme case-insensitive).
pub fn bearer_token(header: &str) -> Result<&str, AuthError> {
    let (scheme, token) = header
        .split_once(' ')
        .ok_or(AuthError::BadAuthorizationHeader)?;
    let token_shaped = !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic());
    if scheme.eq_ignore_ascii_case("bearer") && token_shaped {
        Ok(token)
    } else {
        Err(AuthError::BadAuthorizationHeader)
    }
}

#[cfg(test)]
mod tests;
