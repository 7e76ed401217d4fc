//! Read authorization: signed, short-lived, single-use request tokens.
//!
//! A participant proves who it is by signing the request it makes with one of its
//! registered ed25519 keys. The token travels in the `Authorization` header:
//!
//! ```text
//! Authorization: Tally <public key hex>:<expires, ms since epoch>:<nonce hex, 16 bytes>:<signature hex>
//! ```
//!
//! The signature is over [READ_NAMESPACE] and
//! `chain id ‖ 0 ‖ method ‖ 0 ‖ path and query ‖ 0 ‖ expires (u64 BE) ‖ nonce`, so a token
//! is good for one request on one network only. The node accepts a token whose expiry lies
//! within [MAX_TOKEN_LIFETIME_MS] (plus [CLOCK_SKEW_MS]) of its clock and remembers every
//! accepted token until it expires: replaying one is refused. A transaction signature can
//! never pass for a token (different namespace), nor the other way round.

use commonware_cryptography::ed25519::{PrivateKey, PublicKey, Signature};
use commonware_cryptography::{Signer as _, Verifier as _};
use std::collections::BTreeSet;
use std::sync::Mutex;

/// Domain tag of read-token signatures.
pub const READ_NAMESPACE: &[u8] = b"TALLY_READ_V1";
/// Longest a token may live.
pub const MAX_TOKEN_LIFETIME_MS: u64 = 120_000;
/// Tolerated difference between the client's clock and the node's.
pub const CLOCK_SKEW_MS: u64 = 30_000;
/// Most unexpired tokens remembered; beyond this, new tokens are refused until some expire.
pub const MAX_REMEMBERED_TOKENS: usize = 1_000_000;
/// The `Authorization` scheme name.
pub const SCHEME: &str = "Tally";

/// A parsed read token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadToken {
    /// The signing key (one of a participant's keys).
    pub key: PublicKey,
    /// Last instant (ms since epoch) at which the token is accepted.
    pub expires_ms: u64,
    /// Random, so that two tokens for the same request differ.
    pub nonce: [u8; 16],
    /// Signature over [payload].
    pub signature: Signature,
}

/// Why a token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The header is not `Tally <key>:<expires>:<nonce>:<signature>` with valid parts.
    #[error(
        "malformed Authorization header: expected `Tally <key hex>:<expires ms>:<nonce hex>:<signature hex>`"
    )]
    Malformed,
    /// The signature does not verify for this request.
    #[error("the token's signature does not verify for this request")]
    BadSignature,
    /// Past its expiry.
    #[error("the token has expired")]
    Expired,
    /// Expires further ahead than a token may live.
    #[error("the token expires too far ahead (at most {MAX_TOKEN_LIFETIME_MS} ms)")]
    TooLong,
    /// Already used.
    #[error("the token was already used")]
    Replayed,
    /// Too many live tokens remembered.
    #[error("too many live tokens; retry shortly")]
    Busy,
}

/// The signed bytes of a token.
pub fn payload(
    chain: &str,
    method: &str,
    path_and_query: &str,
    expires_ms: u64,
    nonce: &[u8; 16],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(chain.len() + method.len() + path_and_query.len() + 27);
    out.extend_from_slice(chain.as_bytes());
    out.push(0);
    out.extend_from_slice(method.as_bytes());
    out.push(0);
    out.extend_from_slice(path_and_query.as_bytes());
    out.push(0);
    out.extend_from_slice(&expires_ms.to_be_bytes());
    out.extend_from_slice(nonce);
    out
}

/// Signs a request and returns the `Authorization` header value.
pub fn sign(
    key: &PrivateKey,
    chain: &str,
    method: &str,
    path_and_query: &str,
    expires_ms: u64,
    nonce: [u8; 16],
) -> String {
    let signature = key.sign(
        READ_NAMESPACE,
        &payload(chain, method, path_and_query, expires_ms, &nonce),
    );
    format!(
        "{SCHEME} {}:{expires_ms}:{}:{}",
        hex(key.public_key().as_ref()),
        hex(&nonce),
        hex(signature.as_ref())
    )
}

fn hex(bytes: &[u8]) -> String {
    crate::genesis::to_hex(bytes)
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let bytes = crate::genesis::from_hex(s).ok()?;
    bytes.try_into().ok()
}

impl ReadToken {
    /// Parses an `Authorization` header value.
    pub fn parse(header: &str) -> Result<Self, AuthError> {
        use commonware_codec::DecodeExt as _;
        let rest = header
            .strip_prefix(SCHEME)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or(AuthError::Malformed)?;
        let mut parts = rest.trim().split(':');
        let (Some(key), Some(expires), Some(nonce), Some(sig), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(AuthError::Malformed);
        };
        let key = unhex::<32>(key)
            .and_then(|b| PublicKey::decode(commonware_codec::Copying(b.as_slice())).ok())
            .ok_or(AuthError::Malformed)?;
        let expires_ms = expires.parse::<u64>().map_err(|_| AuthError::Malformed)?;
        let nonce = unhex::<16>(nonce).ok_or(AuthError::Malformed)?;
        let signature = unhex::<64>(sig)
            .and_then(|b| Signature::decode(commonware_codec::Copying(b.as_slice())).ok())
            .ok_or(AuthError::Malformed)?;
        Ok(Self {
            key,
            expires_ms,
            nonce,
            signature,
        })
    }

    /// Checks the signature for this request and the expiry against `now_ms`.
    pub fn check(
        &self,
        chain: &str,
        method: &str,
        path_and_query: &str,
        now_ms: u64,
    ) -> Result<(), AuthError> {
        if self.expires_ms.saturating_add(CLOCK_SKEW_MS) < now_ms {
            return Err(AuthError::Expired);
        }
        if self.expires_ms > now_ms.saturating_add(MAX_TOKEN_LIFETIME_MS + CLOCK_SKEW_MS) {
            return Err(AuthError::TooLong);
        }
        let payload = payload(chain, method, path_and_query, self.expires_ms, &self.nonce);
        if !self.key.verify(READ_NAMESPACE, &payload, &self.signature) {
            return Err(AuthError::BadSignature);
        }
        Ok(())
    }
}

/// Remembers accepted tokens until they expire, so none is accepted twice.
#[derive(Default)]
pub struct ReplayGuard {
    /// (expiry, signature) of every accepted, unexpired token, oldest expiry first.
    seen: Mutex<BTreeSet<(u64, [u8; 64])>>,
}

impl ReplayGuard {
    /// Records `token` as used at `now_ms`; refuses one already used.
    pub fn use_once(&self, token: &ReadToken, now_ms: u64) -> Result<(), AuthError> {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Forget tokens that can no longer be accepted anyway.
        let horizon = now_ms.saturating_sub(CLOCK_SKEW_MS);
        while seen.first().is_some_and(|(exp, _)| *exp < horizon) {
            seen.pop_first();
        }
        let mut sig = [0u8; 64];
        sig.copy_from_slice(token.signature.as_ref());
        let entry = (token.expires_ms, sig);
        if seen.contains(&entry) {
            return Err(AuthError::Replayed);
        }
        if seen.len() >= MAX_REMEMBERED_TOKENS {
            return Err(AuthError::Busy);
        }
        seen.insert(entry);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u64) -> PrivateKey {
        PrivateKey::from_seed(seed)
    }

    #[test]
    fn a_token_is_good_for_one_request_once() {
        let k = key(7);
        let now = 1_000_000;
        let header = sign(
            &k,
            "tally-test",
            "GET",
            "/account/300",
            now + 60_000,
            [1; 16],
        );
        let token = ReadToken::parse(&header).unwrap();
        assert_eq!(token.key, k.public_key());
        token
            .check("tally-test", "GET", "/account/300", now)
            .unwrap();
        // Another path, method or chain: the signature does not cover it.
        for (chain, method, path) in [
            ("tally-test", "GET", "/account/400"),
            ("tally-test", "POST", "/account/300"),
            ("tally-prod", "GET", "/account/300"),
        ] {
            assert_eq!(
                token.check(chain, method, path, now),
                Err(AuthError::BadSignature)
            );
        }
        let guard = ReplayGuard::default();
        guard.use_once(&token, now).unwrap();
        assert_eq!(guard.use_once(&token, now), Err(AuthError::Replayed));
    }

    #[test]
    fn expiry_is_bounded_both_ways() {
        let k = key(8);
        let now = 10_000_000;
        let late = ReadToken::parse(&sign(
            &k,
            "c",
            "GET",
            "/x",
            now - CLOCK_SKEW_MS - 1,
            [0; 16],
        ))
        .unwrap();
        assert_eq!(late.check("c", "GET", "/x", now), Err(AuthError::Expired));
        let far = now + MAX_TOKEN_LIFETIME_MS + CLOCK_SKEW_MS + 1;
        let long = ReadToken::parse(&sign(&k, "c", "GET", "/x", far, [0; 16])).unwrap();
        assert_eq!(long.check("c", "GET", "/x", now), Err(AuthError::TooLong));
    }

    #[test]
    fn malformed_headers_are_refused() {
        for h in [
            "",
            "Bearer abc",
            "Tally ",
            "Tally a:b:c:d",
            "Tally 00:1:00:00",
            "Tally a:b:c:d:e",
        ] {
            assert_eq!(ReadToken::parse(h), Err(AuthError::Malformed), "{h}");
        }
        // A valid header with one signature byte changed still parses but fails the check.
        let k = key(9);
        let mut h = sign(&k, "c", "GET", "/x", 5_000, [3; 16]);
        // The first character of the signature (its R part, which decoding does not check).
        let at = h.len() - 128;
        let flipped = if &h[at..=at] == "0" { "1" } else { "0" };
        h.replace_range(at..=at, flipped);
        let t = ReadToken::parse(&h).unwrap();
        assert_eq!(
            t.check("c", "GET", "/x", 5_000),
            Err(AuthError::BadSignature)
        );
    }
}
