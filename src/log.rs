//! What the layer reports of each request: one log event with the `tracing` feature, and counters and
//! histograms with the `metrics` feature (see `crate::metrics`); without either these functions do nothing.
//!
//! Levels: `debug` for an accepted delivery, `warn` for a rejection (with what an on-call engineer needs to
//! compare against a capture of what reached the server) and for clock skew, `info` the first time a
//! delivery matches a secret other than the first, so a rotation can be finished. Never a secret or an
//! expected signature.

use http::request::Parts;

use crate::{layer::Shared, Error, SignatureHeader, Verified};

/// A verified delivery; `event` is its id and type, when the layer read one.
pub(crate) fn accepted(shared: &Shared, verified: &Verified, event: Option<(&str, &str)>, len: usize) {
    crate::metrics::verified(verified, len);
    #[cfg(feature = "tracing")]
    trace::accepted(shared, verified, event, len);
    #[cfg(not(feature = "tracing"))]
    let _ = (shared, event);
}

/// A delivery rejected after its body was read (or while reading it).
pub(crate) fn rejected(
    shared: &Shared,
    error: &Error,
    payload: Option<&[u8]>,
    header: Option<SignatureHeader<'_>>,
) {
    crate::metrics::rejected(error, payload.map(<[u8]>::len));
    #[cfg(feature = "tracing")]
    trace::rejected(shared, error, payload, header);
    #[cfg(not(feature = "tracing"))]
    let _ = (shared, header);
}

/// A delivery rejected before a byte of its body was read.
pub(crate) fn rejected_early(shared: &Shared, error: &Error, parts: &Parts) {
    crate::metrics::rejected(error, None);
    #[cfg(feature = "tracing")]
    trace::rejected_early(shared, error, parts);
    #[cfg(not(feature = "tracing"))]
    let _ = (shared, parts);
}

#[cfg(feature = "tracing")]
mod trace {
    use http::request::Parts;

    use crate::{layer::Shared, Error, SignatureHeader, Verified};

    /// `event` is the verified event's id and type, when the layer read one.
    pub(super) fn accepted(shared: &Shared, verified: &Verified, event: Option<(&str, &str)>, len: usize) {
        use std::sync::atomic::Ordering;

        let index = verified.secret_index();
        let label = verified.secret_label().unwrap_or("");
        tracing::debug!(
            event_id = event.map(|(id, _)| id),
            event_type = event.map(|(_, event_type)| event_type),
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

    pub(super) fn rejected(
        shared: &Shared,
        error: &Error,
        payload: Option<&[u8]>,
        header: Option<SignatureHeader<'_>>,
    ) {
        let verifier = &shared.config.verifier;
        let digest = payload.map(Sha256Prefix::new);
        let age = header
            .as_ref()
            .map(|header| i128::from(verifier.now()) - header.timestamp_exact());
        tracing::warn!(
            reason = error.code(),
            body_len = payload.map(<[u8]>::len),
            body_sha256_prefix = digest.as_ref().map(tracing::field::display),
            timestamp_age_secs = age.map(crate::header::saturate),
            v1_signatures = header.as_ref().map(SignatureHeader::signature_count),
            secrets = verifier.secrets().len(),
            diagnosis = error.diagnosis().map(crate::Diagnosis::code),
            "stripe webhook rejected: {error}"
        );
    }

    /// The first 4 bytes of a body's SHA-256, in hex, for comparing with the payload the Stripe Dashboard
    /// shows. Hashed when a subscriber formats the field, and only then: not at all when `warn` is filtered
    /// out (a flood of rejected bodies costs no hashing then), and once however many layers format it.
    struct Sha256Prefix<'a> {
        payload: &'a [u8],
        prefix: std::cell::OnceCell<[u8; 4]>,
    }

    impl<'a> Sha256Prefix<'a> {
        fn new(payload: &'a [u8]) -> Self {
            Self {
                payload,
                prefix: std::cell::OnceCell::new(),
            }
        }
    }

    impl std::fmt::Display for Sha256Prefix<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            use sha2::{Digest, Sha256};

            let prefix = self.prefix.get_or_init(|| {
                #[cfg(test)]
                super::tests::HASHED.with(|hashed| hashed.set(hashed.get() + 1));
                let digest = Sha256::digest(self.payload);
                [digest[0], digest[1], digest[2], digest[3]]
            });
            prefix.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
        }
    }

    pub(super) fn rejected_early(shared: &Shared, error: &Error, parts: &Parts) {
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
}

#[cfg(all(test, feature = "tracing"))]
mod tests {
    use std::{cell::Cell, convert::Infallible, future::Future, pin::pin, task};

    use bytes::Bytes;
    use http::{Request, Response};
    use http_body_util::Full;
    use tower_layer::Layer;
    use tower_service::Service;
    use tracing::Level;

    use crate::{generate_test_header, SigningSecret, StripeSignatureLayer, VerifiedBody, STRIPE_SIGNATURE};

    thread_local! {
        /// Bodies hashed for a log line on this thread.
        pub(super) static HASHED: Cell<usize> = const { Cell::new(0) };
    }

    /// One tampered delivery through the layer, under a subscriber that keeps `level` and above; the
    /// bodies hashed meanwhile, and what was written.
    fn reject_one_under(level: Level) -> (usize, String) {
        let written = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let writer = std::sync::Arc::clone(&written);
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || Writer(std::sync::Arc::clone(&writer)))
            .finish();
        let secret = SigningSecret::new("whsec_log_test").unwrap();
        let mut service = StripeSignatureLayer::new(secret.clone()).layer(tower::service_fn(
            |_: Request<VerifiedBody>| async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::new()))) },
        ));
        let request = Request::post("/webhook")
            .header(STRIPE_SIGNATURE, generate_test_header(b"{}", &secret, None))
            .body(Full::new(Bytes::from_static(b"{\"tampered\":true}")))
            .unwrap();
        let before = HASHED.with(Cell::get);
        let response = tracing::subscriber::with_default(subscriber, || {
            let mut future = pin!(service.call(request));
            let mut cx = task::Context::from_waker(task::Waker::noop());
            loop {
                if let task::Poll::Ready(response) = future.as_mut().poll(&mut cx) {
                    break response.unwrap();
                }
            }
        });
        assert_eq!(response.status(), 400);
        let written = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        (HASHED.with(Cell::get) - before, written)
    }

    struct Writer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Writer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_rejected_body_is_hashed_only_when_the_warning_is_written() {
        let (hashed, written) = reject_one_under(Level::ERROR);
        assert_eq!((hashed, written.as_str()), (0, ""));

        let (hashed, written) = reject_one_under(Level::WARN);
        assert_eq!(hashed, 1, "{written}");
        // The SHA-256 of `{"tampered":true}` starts with these 4 bytes.
        use sha2::Digest;
        let digest = sha2::Sha256::digest(b"{\"tampered\":true}");
        let prefix: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        assert!(
            written.contains(&format!("body_sha256_prefix={prefix}")),
            "{written}"
        );
    }
}
