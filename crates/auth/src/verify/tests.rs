//! One test per way a token can be wrong, plus the ways it can be right.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::*;
use crate::{PublicKeyFile, TokenRequest, generate_secret, issue_hs256};

const SECRET: &str = "a-test-only-secret-of-more-than-32-bytes";

fn secret() -> SecretString {
    SecretString::from(SECRET)
}

fn hs_settings() -> AuthSettings {
    AuthSettings {
        jwt_secret: Some(secret()),
        ..AuthSettings::default()
    }
}

fn hs_verifier() -> Verifier {
    Verifier::new(&hs_settings(), None).unwrap()
}

fn key_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(name)
}

fn key_file(name: &str) -> Vec<u8> {
    std::fs::read(key_path(name)).unwrap()
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// Valid claims of a PROVINCE_ADMIN of 330000; tests take fields away or change them.
fn claims() -> Value {
    json!({
        "sub": "alice",
        "role": "PROVINCE_ADMIN",
        "region": "330000",
        "iat": now(),
        "exp": now() + 600,
        "jti": "token-1",
    })
}

fn without(field: &str) -> Value {
    let mut claims = claims();
    claims.as_object_mut().unwrap().remove(field);
    claims
}

fn with(field: &str, value: Value) -> Value {
    let mut claims = claims();
    claims[field] = value;
    claims
}

fn sign(algorithm: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn sign_hs(claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        claims,
    )
}

fn rsa_private(name: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(&key_file(&format!("{name}.key.pem"))).unwrap()
}

fn sign_rs(key: &str, kid: Option<&str>, claims: &Value) -> String {
    sign(Algorithm::RS256, kid, &rsa_private(key), claims)
}

fn public_settings(algorithm: KeyAlgorithm, keys: &[(&str, &str)]) -> AuthSettings {
    AuthSettings {
        algorithm,
        public_keys: keys
            .iter()
            .map(|(kid, name)| PublicKeyFile {
                kid: (*kid).to_owned(),
                path: key_path(&format!("{name}.pub.pem")),
            })
            .collect(),
        ..AuthSettings::default()
    }
}

fn rs_verifier(keys: &[(&str, &str)]) -> Verifier {
    Verifier::new(&public_settings(KeyAlgorithm::RS256, keys), None).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn zhejiang_admin() -> Principal {
    Principal {
        subject: Some("alice".into()),
        role: Some(Role::ProvinceAdmin),
        region: Some(RegionCode::try_from("330000").unwrap()),
        zone: None,
    }
}

fn request(role: Role, region: Option<&str>, zone: Option<&str>) -> TokenRequest {
    TokenRequest {
        role,
        region: region.map(|r| RegionCode::try_from(r).unwrap()),
        zone: zone.map(|z| ZoneCode::try_from(z).unwrap()),
        subject: "alice".into(),
        ttl: Duration::from_secs(3600),
    }
}

fn config_error(result: Result<Verifier, AuthError>) -> String {
    match result {
        Err(AuthError::Config(message)) => message,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

// Round trips.

#[test]
fn an_issued_token_verifies_as_the_principal_it_names() {
    let token = issue_hs256(
        &secret(),
        &hs_settings(),
        &request(Role::ProvinceAdmin, Some("330000"), None),
    )
    .unwrap();
    assert_eq!(hs_verifier().verify(&token), Ok(zhejiang_admin()));
}

#[test]
fn an_issued_token_carries_the_standard_claims_and_a_fresh_jti() {
    let settings = AuthSettings {
        issuer: Some("concord-test".into()),
        audience: Some("concord-api".into()),
        ..hs_settings()
    };
    let request = request(Role::ZoneCoordinator, None, Some("YRD"));
    let first = issue_hs256(&secret(), &settings, &request).unwrap();
    let second = issue_hs256(&secret(), &settings, &request).unwrap();

    let payload = |token: &str| -> Value {
        let segment = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
    };
    let claims = payload(&first);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["role"], "ZONE_COORDINATOR");
    assert_eq!(claims["zone"], "YRD");
    assert_eq!(claims["iss"], "concord-test");
    assert_eq!(claims["aud"], "concord-api");
    assert!(claims.get("region").is_none());
    let iat = claims["iat"].as_u64().unwrap();
    assert_eq!(claims["exp"].as_u64().unwrap(), iat + 3600);
    assert_ne!(claims["jti"], payload(&second)["jti"]);

    let principal = Verifier::new(&settings, None)
        .unwrap()
        .verify(&first)
        .unwrap();
    assert_eq!(principal.role, Some(Role::ZoneCoordinator));
    assert_eq!(principal.zone, Some(ZoneCode::try_from("YRD").unwrap()));
}

#[test]
fn a_generated_secret_signs_and_verifies() {
    let generated = generate_secret();
    let token = issue_hs256(
        &generated,
        &AuthSettings::default(),
        &request(Role::NationalAdmin, None, None),
    )
    .unwrap();
    let verifier = Verifier::new(&AuthSettings::default(), Some(generated)).unwrap();
    assert_eq!(
        verifier.verify(&token).unwrap().role,
        Some(Role::NationalAdmin)
    );
}

#[test]
fn the_secret_argument_overrides_the_configured_secret() {
    let other = SecretString::from("another-test-only-secret-of-32-bytes-plus");
    let verifier = Verifier::new(&hs_settings(), Some(other.clone())).unwrap();
    let mine = issue_hs256(&other, &hs_settings(), &request(Role::Viewer, None, None)).unwrap();
    assert!(verifier.verify(&mine).is_ok());
    assert_eq!(
        verifier.verify(&sign_hs(&claims())),
        Err(AuthError::BadSignature)
    );
}

#[test]
fn a_token_within_the_leeway_is_still_accepted() {
    let token = sign_hs(&with("exp", json!(now() - 10)));
    assert_eq!(hs_verifier().verify(&token), Ok(zhejiang_admin()));
}

// Attacks and defects, one each.

#[test]
fn a_malformed_token_is_refused() {
    for token in ["", "not-a-token", "a.b.c", "!!!.e30.sig", "e30.e30.e30"] {
        assert_eq!(
            hs_verifier().verify(token),
            Err(AuthError::Malformed),
            "{token}"
        );
    }
}

#[test]
fn a_token_with_the_wrong_number_of_segments_is_refused() {
    let token = sign_hs(&claims());
    let mut parts = token.split('.');
    let two = format!("{}.{}", parts.next().unwrap(), parts.next().unwrap());
    let four = format!("{token}.{}", b64(b"extra"));
    for token in [two, four] {
        assert_eq!(
            hs_verifier().verify(&token),
            Err(AuthError::Malformed),
            "{token}"
        );
    }
}

#[test]
fn an_expired_token_is_refused() {
    let token = sign_hs(&with("exp", json!(now() - 3600)));
    assert_eq!(hs_verifier().verify(&token), Err(AuthError::Expired));
    assert_eq!(AuthError::Expired.to_string(), "token expired");
}

#[test]
fn a_token_before_its_nbf_is_refused() {
    let token = sign_hs(&with("nbf", json!(now() + 3600)));
    assert_eq!(hs_verifier().verify(&token), Err(AuthError::NotYetValid));
}

#[test]
fn a_token_issued_in_the_future_is_refused() {
    let token = sign_hs(&with("iat", json!(now() + 3600)));
    assert_eq!(hs_verifier().verify(&token), Err(AuthError::NotYetValid));
}

#[test]
fn a_token_signed_with_another_secret_is_refused() {
    let token = sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(b"someone-elses-secret-of-32-bytes-or-more").unwrap(),
        &claims(),
    );
    assert_eq!(hs_verifier().verify(&token), Err(AuthError::BadSignature));
    assert_eq!(
        AuthError::BadSignature.to_string(),
        "token signature is invalid"
    );
}

#[test]
fn a_tampered_payload_is_refused() {
    let token = sign_hs(&claims());
    let parts: Vec<&str> = token.split('.').collect();
    let promoted = with("role", json!("NATIONAL_ADMIN"));
    let mut promoted = promoted;
    promoted.as_object_mut().unwrap().remove("region");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(promoted.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(hs_verifier().verify(&forged), Err(AuthError::BadSignature));
}

#[test]
fn a_token_for_another_issuer_is_refused() {
    let settings = |issuer: &str| AuthSettings {
        issuer: Some(issuer.into()),
        ..hs_settings()
    };
    let theirs = issue_hs256(
        &secret(),
        &settings("someone-else"),
        &request(Role::NationalAdmin, None, None),
    )
    .unwrap();
    let verifier = Verifier::new(&settings("concord"), None).unwrap();
    assert_eq!(verifier.verify(&theirs), Err(AuthError::IssuerNotAccepted));
    assert_eq!(
        verifier.verify(&sign_hs(&claims())),
        Err(AuthError::MissingClaim("iss".into()))
    );
}

#[test]
fn a_token_for_another_audience_is_refused() {
    let settings = |audience: &str| AuthSettings {
        audience: Some(audience.into()),
        ..hs_settings()
    };
    let theirs = issue_hs256(
        &secret(),
        &settings("another-api"),
        &request(Role::NationalAdmin, None, None),
    )
    .unwrap();
    let verifier = Verifier::new(&settings("concord"), None).unwrap();
    assert_eq!(
        verifier.verify(&theirs),
        Err(AuthError::AudienceNotAccepted)
    );
    assert_eq!(
        verifier.verify(&sign_hs(&claims())),
        Err(AuthError::MissingClaim("aud".into()))
    );
    // A token meant for some audience is not for a server that names none.
    assert_eq!(
        hs_verifier().verify(&theirs),
        Err(AuthError::AudienceNotAccepted)
    );
}

#[test]
fn an_unsigned_alg_none_token_is_refused() {
    let payload = b64(claims().to_string().as_bytes());
    for alg in ["none", "None", "NONE"] {
        let header = b64(json!({ "alg": alg, "typ": "JWT" }).to_string().as_bytes());
        let token = format!("{header}.{payload}.");
        assert_eq!(
            hs_verifier().verify(&token),
            Err(AuthError::AlgorithmNotAllowed),
            "{alg}"
        );
        assert_eq!(
            rs_verifier(&[("a", "rsa-a")]).verify(&token),
            Err(AuthError::AlgorithmNotAllowed),
            "{alg}"
        );
    }
}

#[test]
fn an_hs256_token_keyed_with_the_rsa_public_key_is_refused() {
    // The classic confusion: the attacker uses the server's public PEM as an
    // HMAC secret and hopes the verifier feeds the same bytes to HS256.
    let public_pem = key_file("rsa-a.pub.pem");
    let token = sign(
        Algorithm::HS256,
        Some("a"),
        &EncodingKey::from_secret(&public_pem).unwrap(),
        &claims(),
    );
    assert_eq!(
        rs_verifier(&[("a", "rsa-a")]).verify(&token),
        Err(AuthError::AlgorithmNotAllowed)
    );
}

#[test]
fn a_token_of_another_algorithm_than_the_pinned_one_is_refused() {
    let rs256 = sign_rs("rsa-a", None, &claims());
    assert_eq!(
        hs_verifier().verify(&rs256),
        Err(AuthError::AlgorithmNotAllowed)
    );
    let hs384 = sign(
        Algorithm::HS384,
        None,
        &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        &claims(),
    );
    assert_eq!(
        hs_verifier().verify(&hs384),
        Err(AuthError::AlgorithmNotAllowed)
    );
}

#[test]
fn a_token_without_a_role_is_refused() {
    assert_eq!(
        hs_verifier().verify(&sign_hs(&without("role"))),
        Err(AuthError::MissingClaim("role".into()))
    );
}

#[test]
fn a_token_without_another_required_claim_is_refused() {
    for claim in ["sub", "exp", "iat", "jti"] {
        assert_eq!(
            hs_verifier().verify(&sign_hs(&without(claim))),
            Err(AuthError::MissingClaim(claim.into())),
            "{claim}"
        );
    }
    assert_eq!(
        hs_verifier().verify(&sign_hs(&with("sub", json!("")))),
        Err(AuthError::MissingClaim("sub".into()))
    );
}

#[test]
fn a_province_admin_token_without_a_region_is_refused() {
    assert_eq!(
        hs_verifier().verify(&sign_hs(&without("region"))),
        Err(AuthError::Scope(
            "a PROVINCE_ADMIN token must name its region".into()
        ))
    );
}

#[test]
fn a_token_with_an_unknown_role_or_bad_codes_is_refused() {
    assert_eq!(
        hs_verifier().verify(&sign_hs(&with("role", json!("SUPERUSER")))),
        Err(AuthError::UnknownRole("SUPERUSER".into()))
    );
    assert!(matches!(
        hs_verifier().verify(&sign_hs(&with("region", json!("999999")))),
        Err(AuthError::InvalidClaim { claim, .. }) if claim == "region"
    ));
    let coordinator = json!({
        "sub": "bob", "role": "ZONE_COORDINATOR", "zone": "yrd",
        "iat": now(), "exp": now() + 600, "jti": "token-2",
    });
    assert!(matches!(
        hs_verifier().verify(&sign_hs(&coordinator)),
        Err(AuthError::InvalidClaim { claim, .. }) if claim == "zone"
    ));
    // jsonwebtoken counts an `exp` that is not a number as absent.
    assert_eq!(
        hs_verifier().verify(&sign_hs(&with("exp", json!("tomorrow")))),
        Err(AuthError::MissingClaim("exp".into()))
    );
}

#[test]
fn a_token_with_an_unknown_kid_is_refused() {
    let verifier = rs_verifier(&[("a", "rsa-a")]);
    assert_eq!(
        verifier.verify(&sign_rs("rsa-a", Some("zzz"), &claims())),
        Err(AuthError::UnknownKey)
    );
}

// Asymmetric keys and rotation.

#[test]
fn both_rotated_rsa_keys_verify_by_kid() {
    let verifier = rs_verifier(&[("a", "rsa-a"), ("b", "rsa-b")]);
    assert_eq!(
        verifier.verify(&sign_rs("rsa-a", Some("a"), &claims())),
        Ok(zhejiang_admin())
    );
    assert_eq!(
        verifier.verify(&sign_rs("rsa-b", Some("b"), &claims())),
        Ok(zhejiang_admin())
    );
    // The kid selects the key: claiming another key's id does not help.
    assert_eq!(
        verifier.verify(&sign_rs("rsa-b", Some("a"), &claims())),
        Err(AuthError::BadSignature)
    );
    // With two keys, a token must say which one.
    assert_eq!(
        verifier.verify(&sign_rs("rsa-a", None, &claims())),
        Err(AuthError::MissingKeyId)
    );
}

#[test]
fn with_one_key_a_token_without_kid_is_accepted() {
    let verifier = rs_verifier(&[("a", "rsa-a")]);
    assert_eq!(
        verifier.verify(&sign_rs("rsa-a", None, &claims())),
        Ok(zhejiang_admin())
    );
    assert_eq!(
        verifier.verify(&sign_rs("rsa-b", None, &claims())),
        Err(AuthError::BadSignature)
    );
}

#[test]
fn jwks_keys_join_pem_keys_and_others_are_ignored() {
    let public = |name: &str| key_file(&format!("{name}.pub.pem"));
    let rsa = DecodingKey::from_rsa_pem(&public("rsa-b")).unwrap();
    let mut rsa_jwk = Jwk::from_decoding_key(&rsa, Some(Algorithm::RS256)).unwrap();
    rsa_jwk.common.key_id = Some("b".into());
    // An EC key in the same set is for another algorithm and must be skipped.
    let ec = DecodingKey::from_ec_pem(&public("ec-a")).unwrap();
    let mut ec_jwk = Jwk::from_decoding_key(&ec, Some(Algorithm::ES256)).unwrap();
    ec_jwk.common.key_id = Some("ec".into());
    let set = JwkSet {
        keys: vec![rsa_jwk, ec_jwk],
    };
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, serde_json::to_string(&set).unwrap()).unwrap();

    let settings = AuthSettings {
        jwks_file: Some(jwks),
        ..public_settings(KeyAlgorithm::RS256, &[("a", "rsa-a")])
    };
    let verifier = Verifier::new(&settings, None).unwrap();
    assert!(
        verifier
            .verify(&sign_rs("rsa-a", Some("a"), &claims()))
            .is_ok()
    );
    assert!(
        verifier
            .verify(&sign_rs("rsa-b", Some("b"), &claims()))
            .is_ok()
    );
    assert_eq!(
        verifier.verify(&sign_rs("rsa-b", Some("ec"), &claims())),
        Err(AuthError::UnknownKey)
    );
}

#[test]
fn es256_and_eddsa_tokens_verify_with_their_keys() {
    let cases = [
        (KeyAlgorithm::ES256, Algorithm::ES256, "ec-a"),
        (KeyAlgorithm::EDDSA, Algorithm::EdDSA, "ed-a"),
    ];
    for (pinned, algorithm, name) in cases {
        let private = key_file(&format!("{name}.key.pem"));
        let key = match pinned {
            KeyAlgorithm::ES256 => EncodingKey::from_ec_pem(&private),
            _ => EncodingKey::from_ed_pem(&private),
        }
        .unwrap();
        let verifier = Verifier::new(&public_settings(pinned, &[("k1", name)]), None).unwrap();
        let token = sign(algorithm, Some("k1"), &key, &claims());
        assert_eq!(verifier.verify(&token), Ok(zhejiang_admin()), "{name}");
        assert_eq!(
            verifier.verify(&sign_rs("rsa-a", Some("k1"), &claims())),
            Err(AuthError::AlgorithmNotAllowed),
            "{name}"
        );
    }
}

// Settings that cannot work stop start-up with a message.

#[test]
fn hs256_without_a_secret_says_what_to_set() {
    let message = config_error(Verifier::new(&AuthSettings::default(), None));
    assert!(message.contains("CONCORD__AUTH__JWT_SECRET"), "{message}");
}

#[test]
fn a_short_hs256_secret_is_refused() {
    let settings = AuthSettings {
        jwt_secret: Some(SecretString::from("short")),
        ..AuthSettings::default()
    };
    let message = config_error(Verifier::new(&settings, None));
    assert!(message.contains("at least 32"), "{message}");
    assert!(!message.contains("short"), "the secret leaked: {message}");
}

#[test]
fn public_keys_with_hs256_are_refused() {
    let settings = AuthSettings {
        algorithm: KeyAlgorithm::HS256,
        ..public_settings(KeyAlgorithm::HS256, &[("a", "rsa-a")])
    };
    let message = config_error(Verifier::new(&settings, Some(secret())));
    assert!(message.contains("auth.algorithm"), "{message}");
}

#[test]
fn rs256_without_keys_says_what_to_set() {
    let settings = AuthSettings {
        algorithm: KeyAlgorithm::RS256,
        ..hs_settings()
    };
    let message = config_error(Verifier::new(&settings, None));
    assert!(message.contains("auth.public_keys"), "{message}");
}

#[test]
fn an_unreadable_or_wrong_key_file_is_named() {
    let missing = public_settings(KeyAlgorithm::RS256, &[("a", "absent")]);
    let message = config_error(Verifier::new(&missing, None));
    assert!(message.contains("absent.pub.pem"), "{message}");

    let not_pem = AuthSettings {
        public_keys: vec![PublicKeyFile {
            kid: "readme".into(),
            path: key_path("README.md"),
        }],
        ..public_settings(KeyAlgorithm::RS256, &[])
    };
    let message = config_error(Verifier::new(&not_pem, None));
    assert!(message.contains("README.md"), "{message}");

    let wrong_kind = public_settings(KeyAlgorithm::RS256, &[("ec", "ec-a")]);
    let message = config_error(Verifier::new(&wrong_kind, None));
    assert!(message.contains("ec-a.pub.pem"), "{message}");

    let rsa_for_eddsa = public_settings(KeyAlgorithm::EDDSA, &[("a", "rsa-a")]);
    let message = config_error(Verifier::new(&rsa_for_eddsa, None));
    assert!(message.contains("rsa-a.pub.pem"), "{message}");
}

#[test]
fn a_jwks_file_without_a_usable_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, r#"{"keys": []}"#).unwrap();
    let settings = AuthSettings {
        algorithm: KeyAlgorithm::RS256,
        jwks_file: Some(jwks),
        ..AuthSettings::default()
    };
    let message = config_error(Verifier::new(&settings, None));
    assert!(message.contains("jwks.json"), "{message}");

    std::fs::write(dir.path().join("jwks.json"), "not json").unwrap();
    let message = config_error(Verifier::new(&settings, None));
    assert!(message.contains("not a JWK set"), "{message}");
}

#[test]
fn duplicate_kids_are_refused() {
    let settings = public_settings(KeyAlgorithm::RS256, &[("a", "rsa-a"), ("a", "rsa-b")]);
    let message = config_error(Verifier::new(&settings, None));
    assert!(message.contains("`a`"), "{message}");
}

#[test]
fn unsafe_claim_settings_are_refused() {
    let wide = AuthSettings {
        leeway_secs: 3600,
        ..hs_settings()
    };
    assert!(config_error(Verifier::new(&wide, None)).contains("leeway_secs"));
    let blank = AuthSettings {
        issuer: Some(" ".into()),
        ..hs_settings()
    };
    assert!(config_error(Verifier::new(&blank, None)).contains("auth.issuer"));
}

#[test]
fn settings_read_the_documented_names() {
    let settings: AuthSettings = serde_json::from_value(json!({
        "algorithm": "EdDSA",
        "public_keys": [{ "kid": "k1", "path": "/etc/concord/k1.pem" }],
    }))
    .unwrap();
    assert_eq!(settings.algorithm, KeyAlgorithm::EDDSA);
    assert_eq!(settings.leeway_secs, 30);
    assert_eq!(settings.public_keys[0].kid, "k1");
    for name in ["HS256", "RS256", "ES256", "EdDSA"] {
        let parsed: AuthSettings = serde_json::from_value(json!({ "algorithm": name })).unwrap();
        assert_eq!(parsed.algorithm.as_str(), name);
    }
}

// Issuing refuses what verifying would refuse.

#[test]
fn issuing_refuses_requests_the_verifier_would_refuse() {
    let settings = hs_settings();
    assert!(matches!(
        issue_hs256(
            &secret(),
            &settings,
            &request(Role::ProvinceAdmin, None, None)
        ),
        Err(AuthError::Scope(_))
    ));
    assert!(matches!(
        issue_hs256(
            &secret(),
            &settings,
            &request(Role::NationalAdmin, Some("330000"), None)
        ),
        Err(AuthError::Scope(_))
    ));
    let nameless = TokenRequest {
        subject: " ".into(),
        ..request(Role::Viewer, None, None)
    };
    assert!(issue_hs256(&secret(), &settings, &nameless).is_err());
    let instant = TokenRequest {
        ttl: Duration::from_millis(500),
        ..request(Role::Viewer, None, None)
    };
    assert!(matches!(
        issue_hs256(&secret(), &settings, &instant),
        Err(AuthError::InvalidTtl { .. })
    ));
    let rs256 = AuthSettings {
        algorithm: KeyAlgorithm::RS256,
        ..settings
    };
    assert!(matches!(
        issue_hs256(&secret(), &rs256, &request(Role::Viewer, None, None)),
        Err(AuthError::Config(_))
    ));
}

// The Authorization header.

#[test]
fn bearer_tokens_are_read_from_exactly_bearer_and_a_token() {
    assert_eq!(bearer_token("Bearer abc.def.ghi"), Ok("abc.def.ghi"));
    assert_eq!(bearer_token("bearer abc.def.ghi"), Ok("abc.def.ghi"));
    assert_eq!(bearer_token("BEARER abc"), Ok("abc"));
    for header in [
        "",
        "Bearer",
        "Bearer ",
        "Bearer  abc",
        "Bearer abc def",
        "Bearer abc ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "abc.def.ghi",
        "Bearer\tabc",
    ] {
        assert_eq!(
            bearer_token(header),
            Err(AuthError::BadAuthorizationHeader),
            "{header:?}"
        );
    }
}
