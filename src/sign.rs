//! Signing payloads, for tests: build the `Stripe-Signature` header Stripe would send.

use crate::{
    secret::SigningSecret,
    verify::{to_hex, Clock, SystemClock},
};

/// The `v1` signature of `payload` signed at `timestamp`: lowercase hex of HMAC-SHA256 over
/// `"{timestamp}.{payload}"`.
///
/// Use it to build headers with several signatures, as Stripe sends during a secret rotation.
///
/// ```
/// use tower_stripe_webhook::{compute_signature, SigningSecret, SigningSecrets, Verifier};
///
/// let (old, new) = (SigningSecret::new("whsec_old")?, SigningSecret::new("whsec_new")?);
/// let header = format!(
///     "t=1000,v1={},v1={}",
///     compute_signature(b"{}", &new, 1000),
///     compute_signature(b"{}", &old, 1000),
/// );
/// assert!(Verifier::new(old).verify_at(&header, b"{}", 1000).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compute_signature(payload: impl AsRef<[u8]>, secret: &SigningSecret, timestamp: i64) -> String {
    let hex = to_hex(&secret.mac(&[timestamp.to_string().as_bytes()], payload.as_ref()));
    hex.iter().map(|&b| char::from(b)).collect()
}

/// A `Stripe-Signature` header value for `payload`, as Stripe would send it: `t=<timestamp>,v1=<signature>`.
///
/// `timestamp` defaults to now. Like stripe-node's `generateTestHeaderString`, this is what you write your
/// own tests with.
///
/// ```
/// use tower_stripe_webhook::{generate_test_header, SigningSecret, Verifier};
///
/// let secret = SigningSecret::new("whsec_test_secret")?;
/// let header = generate_test_header(br#"{"id":"evt_1"}"#, &secret, Some(1_700_000_000));
/// assert!(header.starts_with("t=1700000000,v1="));
/// assert!(Verifier::new(secret).verify_at(&header, br#"{"id":"evt_1"}"#, 1_700_000_000).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn generate_test_header(
    payload: impl AsRef<[u8]>,
    secret: &SigningSecret,
    timestamp: Option<i64>,
) -> String {
    let timestamp = timestamp.unwrap_or_else(|| SystemClock.now());
    format!(
        "t={timestamp},v1={}",
        compute_signature(payload, secret, timestamp)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verifier;

    #[test]
    fn round_trip_with_default_timestamp_now() {
        let secret = SigningSecret::new("whsec_round_trip").unwrap();
        let header = generate_test_header(b"payload", &secret, None);
        let verified = Verifier::new(secret).verify(&header, b"payload").unwrap();
        assert!(verified.age().abs() <= 1, "{verified:?}");
    }
}
