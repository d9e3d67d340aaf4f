//! Issuing HS256 tokens for development and tests (`concord token`).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use concord_domain::{RegionCode, ZoneCode};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::SecretString;
use serde::Serialize;

use crate::error::AuthError;
use crate::keys::hmac_secret;
use crate::settings::{AuthSettings, KeyAlgorithm};
use crate::verify::configured;
use crate::{Principal, Role};

/// Who a token is for and how long it lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The `role` claim.
    pub role: Role,
    /// The `region` claim: required for PROVINCE_ADMIN, refused for other roles.
    pub region: Option<RegionCode>,
    /// The `zone` claim: required for ZONE_COORDINATOR, refused for other roles.
    pub zone: Option<ZoneCode>,
    /// The `sub` claim: who the token stands for.
    pub subject: String,
    /// Lifetime from now; whole seconds, at least one.
    pub ttl: Duration,
}

#[derive(Serialize)]
struct IssuedClaims<'a> {
    sub: &'a str,
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    zone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
    iat: u64,
    exp: u64,
    jti: String,
}

/// Signs an HS256 token for development and tests (`concord token`), with
/// iss/aud from settings when set, iat/exp, and a random jti.
///
/// Refuses when the deployment verifies another algorithm, since the server
/// would refuse the token.
pub fn issue_hs256(
    secret: &SecretString,
    settings: &AuthSettings,
    request: &TokenRequest,
) -> Result<String, AuthError> {
    if settings.algorithm != KeyAlgorithm::HS256 {
        return Err(AuthError::Config(format!(
            "this deployment verifies {} tokens, so an HS256 token would be refused; \
             tokens must come from the holder of its private key",
            settings.algorithm.as_str()
        )));
    }
    let key = EncodingKey::from_secret(hmac_secret(secret)?)
        .map_err(|e| AuthError::Config(format!("the HS256 secret is unusable: {e}")))?;
    if request.subject.trim().is_empty() {
        return Err(AuthError::InvalidClaim {
            claim: "sub".to_owned(),
            reason: "the subject must not be empty".to_owned(),
        });
    }
    let ttl = request.ttl.as_secs();
    if ttl == 0 {
        return Err(AuthError::InvalidTtl {
            text: format!("{:?}", request.ttl),
            reason: "a token must live at least one second".to_owned(),
        });
    }
    // The same rule the verifier applies, so a token it would refuse is never issued.
    Principal::scoped(
        request.subject.clone(),
        request.role,
        request.region.clone(),
        request.zone.clone(),
    )?;
    let now = jsonwebtoken::get_current_timestamp();
    let claims = IssuedClaims {
        sub: &request.subject,
        role: request.role.as_str(),
        region: request.region.as_ref().map(RegionCode::as_str),
        zone: request.zone.as_ref().map(ZoneCode::as_str),
        iss: configured("issuer", settings.issuer.as_deref())?,
        aud: configured("audience", settings.audience.as_deref())?,
        iat: now,
        exp: now.saturating_add(ttl),
        jti: URL_SAFE_NO_PAD.encode(random_bytes::<16>()),
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key)
        .map_err(|e| AuthError::Signing(e.to_string()))
}

/// Makes a new random HS256 secret (at least 256 bits, URL-safe text).
pub fn generate_secret() -> SecretString {
    SecretString::from(URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

/// Bytes from the thread-local CSPRNG, which the OS generator seeds and reseeds.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::fill(&mut bytes);
    bytes
}

/// Parses a duration like `90s`, `15m`, `1h`, `7d`.
pub fn parse_ttl(text: &str) -> Result<Duration, AuthError> {
    let refuse = |reason: &str| AuthError::InvalidTtl {
        text: text.to_owned(),
        reason: reason.to_owned(),
    };
    let unit_at = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| refuse("add a unit: s, m, h or d (e.g. `1h`)"))?;
    let (digits, unit) = text.split_at(unit_at);
    if digits.is_empty() {
        return Err(refuse(
            "write a whole number and a unit: s, m, h or d (e.g. `15m`)",
        ));
    }
    let scale: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => 24 * 60 * 60,
        _ => return Err(refuse("the unit must be s, m, h or d")),
    };
    let count: u64 = digits
        .parse()
        .map_err(|_| refuse("the number is too large"))?;
    if count == 0 {
        return Err(refuse("a token must live longer than zero"));
    }
    count
        .checked_mul(scale)
        .map(Duration::from_secs)
        .ok_or_else(|| refuse("the number is too large"))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn lifetimes_parse_in_seconds_minutes_hours_and_days() {
        assert_eq!(parse_ttl("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("15m"), Ok(Duration::from_secs(15 * 60)));
        assert_eq!(parse_ttl("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::from_secs(7 * 86_400)));
    }

    #[test]
    fn bad_lifetimes_say_what_is_wrong() {
        let reason = |text| match parse_ttl(text) {
            Err(AuthError::InvalidTtl { reason, .. }) => reason,
            other => panic!("{text:?} gave {other:?}"),
        };
        assert!(reason("60").contains("unit"));
        assert!(reason("").contains("unit"));
        assert!(reason("h").contains("number"));
        assert!(reason("-1h").contains("number"));
        assert!(reason("1w").contains("s, m, h or d"));
        assert!(reason("1 h").contains("s, m, h or d"));
        assert!(reason("1.5h").contains("s, m, h or d"));
        assert!(reason("0s").contains("zero"));
        assert!(reason("99999999999999999999d").contains("too large"));
        assert!(reason("999999999999999999d").contains("too large"));
    }

    #[test]
    fn generated_secrets_are_long_url_safe_and_different() {
        let first = generate_secret();
        let second = generate_secret();
        let text = first.expose_secret();
        // 32 random bytes in unpadded base64url: 256 bits in 43 characters.
        assert_eq!(text.len(), 43);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(text, second.expose_secret());
    }
}
