//! Who is calling: the console verifies each request's token itself — signature against
//! the issuer's keys (JWKS), issuer, audience, expiry — and takes the member's id and groups
//! from its claims. Nothing in a request body can name the actor.
//!
//! The token comes as `Authorization: Bearer …` (the JSON API, and API Gateway's JWT
//! authorizer in front of it) or as the `anshin_session` cookie (the pages; HttpOnly,
//! SameSite=Strict, set by a sign-in endpoint after the same verification).
//!
//! In AWS the issuer is the stack's Cognito user pool (or any OIDC issuer given as a
//! parameter) and its keys are fetched from `<issuer>/.well-known/jwks.json` at cold start,
//! and again when a token names a key the console has not seen (key rotation). Locally the
//! console can be its own issuer ([`LocalIssuer`]): it makes a P-256 key at start, publishes
//! its JWKS to the same verifier, and signs tokens for a fixed list of test members. Only
//! the key's origin differs; every token goes through [`Verifier::verify`].

use std::collections::BTreeSet;
use std::sync::RwLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anshin_core::input::Id;
use anshin_core::support::{Group, Member};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The cookie the pages carry the token in.
pub const SESSION_COOKIE: &str = "anshin_session";

/// Why a request is not authenticated. The message names no token content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no token: send Authorization: Bearer <token> or sign in")]
    Missing,
    #[error("token refused: {0}")]
    Invalid(String),
    #[error("the issuer's keys could not be fetched: {0}")]
    KeysUnavailable(String),
}

/// The algorithms a token may be signed with: Cognito signs RS256, the local issuer ES256.
/// Anything else (`none`, HMAC with a public key as secret) is refused.
const ALGORITHMS: [Algorithm; 2] = [Algorithm::RS256, Algorithm::ES256];

/// Where the issuer's keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// Fetched from this URL (the issuer's JWKS).
    Url(String),
    /// Given (the local issuer's own key).
    Static(JwkSet),
}

pub struct Verifier {
    issuer: String,
    audience: String,
    groups_claim: String,
    source: KeySource,
    keys: RwLock<(JwkSet, Option<Instant>)>,
}

/// How soon an unknown key id may make the verifier fetch the JWKS again.
const REFETCH_AFTER: Duration = Duration::from_secs(300);

impl Verifier {
    /// A verifier; with a URL source the keys are fetched now, once (cold start).
    pub async fn new(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        groups_claim: impl Into<String>,
        source: KeySource,
    ) -> Result<Self, AuthError> {
        let keys = match &source {
            KeySource::Static(set) => set.clone(),
            KeySource::Url(url) => fetch(url).await?,
        };
        Ok(Verifier {
            issuer: issuer.into(),
            audience: audience.into(),
            groups_claim: groups_claim.into(),
            source,
            keys: RwLock::new((keys, Some(Instant::now()))),
        })
    }

    fn key(&self, kid: &str) -> Option<Jwk> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        keys.0.find(kid).cloned()
    }

    /// The member a token names, if its signature, issuer, audience and expiry hold.
    pub async fn verify(&self, token: &str) -> Result<Member, AuthError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| AuthError::Invalid("not a JWT".into()))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(AuthError::Invalid("algorithm not allowed".into()));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::Invalid("no key id".into()))?;
        let jwk = match self.key(&kid) {
            Some(jwk) => jwk,
            None => {
                self.refresh().await?;
                self.key(&kid)
                    .ok_or_else(|| AuthError::Invalid("signed with an unknown key".into()))?
            }
        };
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|_| AuthError::Invalid("the issuer's key is unusable".into()))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map_err(|e| AuthError::Invalid(reason(&e)))?
            .claims;
        // A Cognito access token has no audience; an ID token says so itself.
        if claims
            .get("token_use")
            .and_then(Value::as_str)
            .is_some_and(|u| u != "id")
        {
            return Err(AuthError::Invalid("not an ID token".into()));
        }
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .ok_or_else(|| AuthError::Invalid("no subject".into()))?;
        let id =
            Id::parse("sub", sub).map_err(|_| AuthError::Invalid("subject is not an id".into()))?;
        let groups: BTreeSet<Group> = claims
            .get(&self.groups_claim)
            .and_then(Value::as_array)
            .map(|names| {
                names
                    .iter()
                    .filter_map(Value::as_str)
                    .filter_map(Group::from_name)
                    .collect()
            })
            .unwrap_or_default();
        let display_name = ["email", "cognito:username", "name"]
            .iter()
            .find_map(|c| claims.get(*c).and_then(Value::as_str))
            .map(|s| s.chars().take(128).collect());
        Ok(Member {
            id,
            display_name,
            groups,
        })
    }

    async fn refresh(&self) -> Result<(), AuthError> {
        let KeySource::Url(url) = &self.source else {
            return Ok(());
        };
        {
            let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
            if keys.1.is_some_and(|at| at.elapsed() < REFETCH_AFTER) {
                return Ok(());
            }
        }
        let fresh = fetch(url).await?;
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = (fresh, Some(Instant::now()));
        Ok(())
    }
}

/// Why jsonwebtoken refused a token, in words that quote nothing of it.
fn reason(error: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => "expired".into(),
        ErrorKind::InvalidIssuer => "wrong issuer".into(),
        ErrorKind::InvalidAudience => "wrong audience".into(),
        ErrorKind::InvalidSignature => "bad signature".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("missing claim {c}"),
        ErrorKind::ImmatureSignature => "not valid yet".into(),
        _ => "malformed".into(),
    }
}

async fn fetch(url: &str) -> Result<JwkSet, AuthError> {
    let response = reqwest::get(url)
        .await
        .map_err(|e| AuthError::KeysUnavailable(e.to_string()))?;
    response
        .error_for_status()
        .map_err(|e| AuthError::KeysUnavailable(e.to_string()))?
        .json::<JwkSet>()
        .await
        .map_err(|e| AuthError::KeysUnavailable(e.to_string()))
}

/// A test member the local issuer signs tokens for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalMember {
    pub id: String,
    pub name: String,
    pub groups: Vec<String>,
}

impl LocalMember {
    /// `id:group+group` (groups may be empty: `visitor:`).
    pub fn parse(spec: &str) -> Option<LocalMember> {
        let (id, groups) = spec.split_once(':').unwrap_or((spec, ""));
        Id::parse("member", id.trim()).ok()?;
        Some(LocalMember {
            id: id.trim().to_owned(),
            name: format!("{}@example.test", id.trim()),
            groups: groups
                .split('+')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }
}

/// The local loop's issuer: a key made at start, tokens for test members.
pub struct LocalIssuer {
    issuer: String,
    audience: String,
    kid: String,
    key: EncodingKey,
    jwks: JwkSet,
    members: Vec<LocalMember>,
}

/// How long a local token lives.
const LOCAL_TOKEN_SECONDS: u64 = 8 * 3600;

impl LocalIssuer {
    pub fn generate(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        members: Vec<LocalMember>,
    ) -> Result<Self, AuthError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| AuthError::KeysUnavailable("could not generate a key".into()))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|_| AuthError::KeysUnavailable("generated key unusable".into()))?;
        // An uncompressed P-256 point: 0x04, then x and y, 32 bytes each.
        let point = pair.public_key().as_ref();
        let kid = format!("local-{}", &anshin_core::digest::sha256_hex(point)[..16]);
        let jwk: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
            "x": B64URL.encode(&point[1..33]), "y": B64URL.encode(&point[33..65]),
        }))
        .map_err(|e| AuthError::KeysUnavailable(e.to_string()))?;
        Ok(LocalIssuer {
            issuer: issuer.into(),
            audience: audience.into(),
            kid,
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwks: JwkSet { keys: vec![jwk] },
            members,
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub fn jwks(&self) -> JwkSet {
        self.jwks.clone()
    }

    pub fn members(&self) -> &[LocalMember] {
        &self.members
    }

    /// A signed ID token for `member_id`, if it is one of the test members.
    pub fn token_for(&self, member_id: &str) -> Option<String> {
        let member = self.members.iter().find(|m| m.id == member_id)?;
        self.sign(
            &serde_json::json!({
                "sub": member.id, "email": member.name, "cognito:groups": member.groups,
                "token_use": "id",
            }),
            LOCAL_TOKEN_SECONDS as i64,
        )
    }

    /// Signs `claims` with this issuer's key, adding iss, aud, iat and exp (`lifetime`
    /// seconds from now; negative for an expired token in tests).
    pub fn sign(&self, claims: &Value, lifetime: i64) -> Option<String> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
        let mut claims = claims.clone();
        let object = claims.as_object_mut()?;
        object
            .entry("iss")
            .or_insert_with(|| self.issuer.clone().into());
        object
            .entry("aud")
            .or_insert_with(|| self.audience.clone().into());
        object.insert("iat".into(), now.into());
        object.insert("exp".into(), (now + lifetime).into());
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key).ok()
    }
}
