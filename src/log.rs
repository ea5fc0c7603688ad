//! One log event per request, with the `tracing` feature; without it these functions do nothing.
//!
//! Levels: `debug` for an accepted delivery, `warn` for a rejection (with what an on-call engineer needs to
//! compare against the Stripe Dashboard) and for clock skew, `info` the first time a delivery matches a
//! secret other than the first, so a rotation can be finished. Never a secret or an expected signature.

use http::request::Parts;

use crate::{layer::Shared, Error, Event, SignatureHeader, Verified};

#[cfg(feature = "tracing")]
pub(crate) fn accepted(shared: &Shared, verified: &Verified, event: Option<&Event>, len: usize) {
    use std::sync::atomic::Ordering;

    let index = verified.secret_index();
    let label = verified.secret_label().unwrap_or("");
    tracing::debug!(
        event_id = event.map(Event::id),
        event_type = event.map(Event::event_type),
        secret_index = index,
        secret_label = label,
        age_secs = verified.age(),
        body_len = len,
        "stripe webhook verified"
    );
    if let Some(skew) = verified.clock_skew() {
        tracing::warn!(
            ahead_secs = skew,
            "stripe webhook signed {skew} s in the future: this server's clock appears to be {skew} s behind"
        );
    }
    if index > 0 {
        if let Some(seen) = shared.state.seen.get(index) {
            if !seen.swap(true, Ordering::Relaxed) {
                tracing::info!(
                    secret_index = index,
                    secret_label = label,
                    "stripe webhook matched secret #{index} ({label}), not the first configured secret: \
                     a rotation is in progress; remove the old secret once no delivery matches it"
                );
            }
        }
    }
}

#[cfg(feature = "tracing")]
pub(crate) fn rejected(
    shared: &Shared,
    error: &Error,
    payload: Option<&[u8]>,
    header: Option<SignatureHeader<'_>>,
) {
    use sha2::{Digest, Sha256};

    let verifier = &shared.config.verifier;
    let digest = payload.map(|payload| {
        Sha256::digest(payload)[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    });
    let age = header
        .as_ref()
        .map(|header| i128::from(verifier.now()) - header.timestamp_exact());
    tracing::warn!(
        reason = error.code(),
        body_len = payload.map(<[u8]>::len),
        body_sha256_prefix = digest.as_deref(),
        timestamp_age_secs = age.map(crate::header::saturate),
        v1_signatures = header.as_ref().map(SignatureHeader::signature_count),
        secrets = verifier.secrets().len(),
        "stripe webhook rejected: {error}"
    );
}

#[cfg(feature = "tracing")]
pub(crate) fn rejected_early(shared: &Shared, error: &Error, parts: &Parts) {
    tracing::warn!(
        reason = error.code(),
        content_length = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()),
        secrets = shared.config.verifier.secrets().len(),
        "stripe webhook rejected before reading the body: {error}"
    );
}

#[cfg(not(feature = "tracing"))]
pub(crate) fn accepted(_: &Shared, _: &Verified, _: Option<&Event>, _: usize) {}

#[cfg(not(feature = "tracing"))]
pub(crate) fn rejected(_: &Shared, _: &Error, _: Option<&[u8]>, _: Option<SignatureHeader<'_>>) {}

#[cfg(not(feature = "tracing"))]
pub(crate) fn rejected_early(_: &Shared, _: &Error, _: &Parts) {}
