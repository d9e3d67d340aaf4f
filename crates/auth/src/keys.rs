//! Loading and checking the keys that verify tokens.

use std::collections::HashSet;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};
use secrecy::{ExposeSecret, SecretString};

use crate::error::AuthError;
use crate::settings::{AuthSettings, KeyAlgorithm, PublicKeyFile};

/// RFC 7518 §3.2: an HS256 key must be at least as long as the hash, 256 bits.
const MIN_SECRET_BYTES: usize = 32;

/// RFC 7518 §3.3: RSA keys of 2048 bits or more.
const MIN_RSA_BITS: usize = 2048;

/// A verification key and the `kid` that selects it (none for the shared
/// secret or a lone JWK without one).
#[derive(Debug, Clone)]
pub(crate) struct NamedKey {
    pub(crate) kid: Option<String>,
    pub(crate) key: DecodingKey,
}

impl KeyAlgorithm {
    pub(crate) fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            KeyAlgorithm::HS256 => jsonwebtoken::Algorithm::HS256,
            KeyAlgorithm::RS256 => jsonwebtoken::Algorithm::RS256,
            KeyAlgorithm::ES256 => jsonwebtoken::Algorithm::ES256,
            KeyAlgorithm::EDDSA => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

/// The bytes of an HS256 secret, refused when too short to resist guessing.
pub(crate) fn hmac_secret(secret: &SecretString) -> Result<&[u8], AuthError> {
    let bytes = secret.expose_secret().as_bytes();
    if bytes.len() < MIN_SECRET_BYTES {
        return Err(AuthError::Config(format!(
            "the HS256 secret is {} bytes; it must be at least {MIN_SECRET_BYTES} \
             (generate one with `openssl rand -base64 48`)",
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// Every public key the settings name, checked to fit the pinned algorithm.
pub(crate) fn public_keys(settings: &AuthSettings) -> Result<Vec<NamedKey>, AuthError> {
    let algorithm = settings.algorithm;
    let mut keys = Vec::new();
    for file in &settings.public_keys {
        keys.push(NamedKey {
            kid: Some(file.kid.clone()),
            key: pem_key(file, algorithm)?,
        });
    }
    if let Some(path) = &settings.jwks_file {
        keys.extend(jwks_keys(path, algorithm)?);
    }
    if keys.is_empty() {
        return Err(AuthError::Config(format!(
            "{} needs public keys: list PEM files in `auth.public_keys` (each with a `kid`) \
             or set `auth.jwks_file`",
            algorithm.as_str()
        )));
    }
    // Tokens pick their key by `kid`, so with several keys every key needs a distinct one.
    if keys.len() > 1 {
        let mut seen = HashSet::new();
        for named in &keys {
            match &named.kid {
                None => {
                    return Err(AuthError::Config(
                        "with several public keys, every key needs a `kid`".to_owned(),
                    ));
                }
                Some(kid) if !seen.insert(kid.as_str()) => {
                    return Err(AuthError::Config(format!(
                        "key id `{kid}` is configured more than once"
                    )));
                }
                Some(_) => {}
            }
        }
    }
    Ok(keys)
}

fn pem_key(file: &PublicKeyFile, algorithm: KeyAlgorithm) -> Result<DecodingKey, AuthError> {
    let path = file.path.display();
    let kid = &file.kid;
    let pem = std::fs::read(&file.path).map_err(|e| {
        AuthError::Config(format!(
            "cannot read public key file `{path}` (kid `{kid}`): {e}"
        ))
    })?;
    let parsed = match algorithm {
        KeyAlgorithm::RS256 => DecodingKey::from_rsa_pem(&pem),
        KeyAlgorithm::ES256 => DecodingKey::from_ec_pem(&pem),
        KeyAlgorithm::EDDSA => DecodingKey::from_ed_pem(&pem),
        KeyAlgorithm::HS256 => return Err(hs256_with_public_keys()),
    };
    let key = parsed.map_err(|e| {
        AuthError::Config(format!(
            "public key file `{path}` (kid `{kid}`) is not a PEM {} public key: {e}",
            expected_key(algorithm)
        ))
    })?;
    fits(&key, algorithm).map_err(|reason| {
        AuthError::Config(format!("public key file `{path}` (kid `{kid}`) {reason}"))
    })?;
    Ok(key)
}

fn jwks_keys(path: &Path, algorithm: KeyAlgorithm) -> Result<Vec<NamedKey>, AuthError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| AuthError::Config(format!("cannot read JWKS file `{shown}`: {e}")))?;
    let set: JwkSet = serde_json::from_str(&text)
        .map_err(|e| AuthError::Config(format!("JWKS file `{shown}` is not a JWK set: {e}")))?;
    let mut keys = Vec::new();
    // A JWKS often mixes algorithms and uses (an IdP publishes them all);
    // only signature keys for the pinned algorithm are kept.
    for jwk in set.keys.iter().filter(|jwk| usable(jwk, algorithm)) {
        let kid = jwk.common.key_id.clone();
        let name = kid.as_deref().unwrap_or("without kid");
        let key = DecodingKey::from_jwk(jwk).map_err(|e| {
            AuthError::Config(format!(
                "JWKS file `{shown}`: key `{name}` is unusable: {e}"
            ))
        })?;
        fits(&key, algorithm).map_err(|reason| {
            AuthError::Config(format!("JWKS file `{shown}`: key `{name}` {reason}"))
        })?;
        keys.push(NamedKey { kid, key });
    }
    if keys.is_empty() {
        return Err(AuthError::Config(format!(
            "JWKS file `{shown}` has no signature key for {}",
            algorithm.as_str()
        )));
    }
    Ok(keys)
}

fn usable(jwk: &Jwk, algorithm: KeyAlgorithm) -> bool {
    let for_signatures = matches!(
        jwk.common.public_key_use,
        None | Some(PublicKeyUse::Signature)
    );
    let for_algorithm = jwk
        .common
        .key_algorithm
        .is_none_or(|alg| alg == algorithm.jwt().into());
    let kind_fits = match (&jwk.algorithm, algorithm) {
        (AlgorithmParameters::RSA(_), KeyAlgorithm::RS256) => true,
        (AlgorithmParameters::EllipticCurve(p), KeyAlgorithm::ES256) => {
            p.curve == EllipticCurve::P256
        }
        (AlgorithmParameters::OctetKeyPair(p), KeyAlgorithm::EDDSA) => {
            p.curve == EllipticCurve::Ed25519
        }
        _ => false,
    };
    for_signatures && for_algorithm && kind_fits
}

/// Checks a parsed key against the algorithm now, so that a wrong or weak key
/// stops start-up instead of failing every request. The crypto backend only
/// parses a key when it first verifies with it; turning the key into a JWK
/// parses it the same way.
fn fits(key: &DecodingKey, algorithm: KeyAlgorithm) -> Result<(), String> {
    let jwk = Jwk::from_decoding_key(key, None)
        .map_err(|e| format!("is not a valid {} public key: {e}", expected_key(algorithm)))?;
    match (&jwk.algorithm, algorithm) {
        (AlgorithmParameters::RSA(p), KeyAlgorithm::RS256) => {
            let bits = URL_SAFE_NO_PAD
                .decode(&p.n)
                .map(|n| bit_length(&n))
                .unwrap_or(0);
            if bits < MIN_RSA_BITS {
                return Err(format!(
                    "is a {bits}-bit RSA key; RS256 needs at least {MIN_RSA_BITS} bits"
                ));
            }
            Ok(())
        }
        (AlgorithmParameters::EllipticCurve(p), KeyAlgorithm::ES256)
            if p.curve == EllipticCurve::P256 =>
        {
            Ok(())
        }
        (AlgorithmParameters::OctetKeyPair(p), KeyAlgorithm::EDDSA)
            if p.curve == EllipticCurve::Ed25519 =>
        {
            Ok(())
        }
        _ => Err(format!("is not a {} public key", expected_key(algorithm))),
    }
}

fn bit_length(big_endian: &[u8]) -> usize {
    let digits: Vec<u8> = big_endian.iter().copied().skip_while(|&b| b == 0).collect();
    match digits.first() {
        Some(first) => digits.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

fn expected_key(algorithm: KeyAlgorithm) -> &'static str {
    match algorithm {
        KeyAlgorithm::HS256 => "shared-secret",
        KeyAlgorithm::RS256 => "RSA",
        KeyAlgorithm::ES256 => "P-256 EC",
        KeyAlgorithm::EDDSA => "Ed25519",
    }
}

/// Public keys beside HS256 usually mean `algorithm` was forgotten; refusing
/// avoids silently running on a shared secret.
pub(crate) fn hs256_with_public_keys() -> AuthError {
    AuthError::Config(
        "`auth.public_keys` or `auth.jwks_file` is set but `auth.algorithm` is HS256; \
         set `auth.algorithm` to RS256, ES256 or EdDSA, or remove the public keys"
            .to_owned(),
    )
}
