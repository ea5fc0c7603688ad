//! Metrics, with the `metrics` feature, through the [`metrics`](https://docs.rs/metrics) facade (the
//! exporter is yours to choose); without it these functions do nothing.
//!
//! Names follow Prometheus conventions, and every label value comes from a bounded set (outcomes, reason
//! codes, secret labels), never an id:
//!
//! | name | type | labels | what |
//! |---|---|---|---|
//! | `stripe_webhook_requests_total` | counter | `outcome` (`verified`, `rejected`), `reason` (the error code, `none` when verified), `secret` (the matching secret's label, else its index, `none` when rejected) | every request the layer answers |
//! | `stripe_webhook_signature_age_seconds` | histogram | | age of each verified signature (negative when ahead of the clock) |
//! | `stripe_webhook_body_bytes` | histogram | `outcome` | size of each body read |
//! | `stripe_webhook_buffered_bytes` | gauge | | request-body bytes the layers hold now (`max_buffered_bytes` is the budget) |
//! | `stripe_webhook_idempotency_total` | counter | `outcome` (`handled`, `released`, `duplicate`, `in_progress`, `store_error`) | what the idempotency layer did |

#[cfg(not(feature = "metrics"))]
mod imp {
    use crate::{Error, Verified};

    pub(crate) fn verified(_: &Verified, _: usize) {}
    pub(crate) fn rejected(_: &Error, _: Option<usize>) {}
    pub(crate) fn buffered(_: usize) {}
    pub(crate) fn idempotency(_: &'static str) {}
}

#[cfg(feature = "metrics")]
mod imp {
    use metrics::{counter, gauge, histogram};

    use crate::{Error, Verified};

    pub(crate) fn verified(verified: &Verified, body_len: usize) {
        const INDICES: [&str; 8] = ["0", "1", "2", "3", "4", "5", "6", "7"];
        // The label shared, or the index as a static string: no copy per request.
        let secret: metrics::SharedString = match (
            verified.secret_label_shared(),
            INDICES.get(verified.secret_index()),
        ) {
            (Some(label), _) => std::sync::Arc::clone(label).into(),
            (None, Some(index)) => (*index).into(),
            (None, None) => verified.secret_index().to_string().into(),
        };
        counter!("stripe_webhook_requests_total", "outcome" => "verified", "reason" => "none", "secret" => secret)
            .increment(1);
        histogram!("stripe_webhook_signature_age_seconds").record(verified.age() as f64);
        histogram!("stripe_webhook_body_bytes", "outcome" => "verified").record(body_len as f64);
    }

    pub(crate) fn rejected(error: &Error, body_len: Option<usize>) {
        counter!("stripe_webhook_requests_total", "outcome" => "rejected", "reason" => error.code(), "secret" => "none")
            .increment(1);
        if let Some(len) = body_len {
            histogram!("stripe_webhook_body_bytes", "outcome" => "rejected").record(len as f64);
        }
    }

    pub(crate) fn buffered(total: usize) {
        gauge!("stripe_webhook_buffered_bytes").set(total as f64);
    }

    pub(crate) fn idempotency(outcome: &'static str) {
        counter!("stripe_webhook_idempotency_total", "outcome" => outcome).increment(1);
    }
}

pub(crate) use imp::{buffered, idempotency, rejected, verified};
