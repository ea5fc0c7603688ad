//! The one error type: why a delivery was not accepted.

use std::{error::Error as StdError, fmt, sync::Arc};

use crate::{diagnose::Diagnosis, event::InvalidEvent, header::MalformedHeader};

/// Why a webhook delivery was rejected.
///
/// Opaque so that future reasons can carry more context without a breaking change; match on
/// [`kind`](Self::kind). `Display` is written for the engineer who has to find out why deliveries fail, and
/// never contains a secret or an expected signature.
///
/// ```
/// use tower_stripe_webhook::{ErrorKind, SigningSecret, Verifier};
///
/// let verifier = Verifier::new(SigningSecret::new("whsec_example")?);
/// let err = verifier.verify_at(b"t=1700000000,v1=00", b"{}", 1_700_000_000).unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::NoMatchingSignature { .. }));
/// assert!(err.to_string().contains("raw request body"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    source: Option<Arc<dyn StdError + Send + Sync>>,
    diagnosis: Option<Box<Diagnosis>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            source: None,
            diagnosis: None,
        }
    }

    pub(crate) fn with_source(kind: ErrorKind, source: impl StdError + Send + Sync + 'static) -> Self {
        Self {
            source: Some(Arc::new(source)),
            ..Self::new(kind)
        }
    }

    pub(crate) fn with_boxed_source(kind: ErrorKind, source: Box<dyn StdError + Send + Sync>) -> Self {
        Self {
            source: Some(Arc::from(source)),
            ..Self::new(kind)
        }
    }

    pub(crate) fn with_diagnosis(mut self, diagnosis: Option<Diagnosis>) -> Self {
        self.diagnosis = diagnosis.map(Box::new);
        self
    }

    /// Why the signature did not match, when [`Diagnose`](crate::Diagnose) is enabled and its budget
    /// allowed a diagnosis (only for [`ErrorKind::NoMatchingSignature`]).
    ///
    /// ```
    /// # use tower_stripe_webhook::{Cause, Diagnose, SigningSecret, Verifier};
    /// let verifier = Verifier::new(SigningSecret::new("whsec_example")?).diagnose(Diagnose::new());
    /// let error = verifier.verify_at(b"t=1,v1=00", b"not json", 1).unwrap_err();
    /// assert_eq!(error.diagnosis().map(|d| d.cause()), Some(Cause::NotJson));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn diagnosis(&self) -> Option<&Diagnosis> {
        self.diagnosis.as_deref()
    }

    /// The message of the default rejection body: the `Display` text, with the diagnosis only where
    /// [`Diagnose::in_response`](crate::Diagnose::in_response) allows it.
    pub(crate) fn response_message(&self) -> impl fmt::Display + '_ {
        Message {
            error: self,
            diagnosis: self
                .diagnosis
                .as_deref()
                .filter(|diagnosis| diagnosis.in_response()),
        }
    }

    /// The reason, with its details.
    ///
    /// ```
    /// # use tower_stripe_webhook::{ErrorKind, SigningSecret, Verifier};
    /// let verifier = Verifier::new(SigningSecret::new("whsec_example")?);
    /// let error = verifier.verify_at(b"t=1,v1=00", b"{}", 1).unwrap_err();
    /// assert_eq!(error.kind(), &ErrorKind::NoMatchingSignature { signatures: 1, secrets: 1 });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// `true` for the reasons that concern the signature or its timestamp (everything except a body that is
    /// too large, could not be read, or is not an event, and a layer over its buffer budget).
    ///
    /// ```
    /// # use tower_stripe_webhook::{SigningSecret, Verifier};
    /// let verifier = Verifier::new(SigningSecret::new("whsec_example")?);
    /// assert!(verifier.verify_at(b"", b"{}", 0).unwrap_err().is_signature_error());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_signature_error(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::MissingHeader
                | ErrorKind::MalformedHeader(_)
                | ErrorKind::NoV1Signature
                | ErrorKind::NoMatchingSignature { .. }
                | ErrorKind::TimestampTooOld { .. }
                | ErrorKind::TimestampTooNew { .. }
        )
    }

    /// A short, stable, machine-readable name for the reason (`"no_matching_signature"`, ...), for metrics
    /// labels and log fields.
    ///
    /// ```
    /// # use tower_stripe_webhook::{SigningSecret, Verifier};
    /// let verifier = Verifier::new(SigningSecret::new("whsec_example")?);
    /// assert_eq!(verifier.verify_at(b"t=1,v0=a", b"", 1).unwrap_err().code(), "no_v1_signature");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn code(&self) -> &'static str {
        match self.kind {
            ErrorKind::MissingHeader => "missing_header",
            ErrorKind::MalformedHeader(_) => "malformed_header",
            ErrorKind::NoV1Signature => "no_v1_signature",
            ErrorKind::NoMatchingSignature { .. } => "no_matching_signature",
            ErrorKind::TimestampTooOld { .. } => "timestamp_too_old",
            ErrorKind::TimestampTooNew { .. } => "timestamp_too_new",
            ErrorKind::NotAnEvent(InvalidEvent::ThinEvent) => "unexpected_thin_event",
            ErrorKind::NotAnEvent(InvalidEvent::SnapshotEvent) => "unexpected_snapshot_event",
            ErrorKind::NotAnEvent(_) => "not_an_event",
            ErrorKind::PayloadTooLarge { .. } => "payload_too_large",
            ErrorKind::BodyRead => "body_read",
            ErrorKind::BufferBudgetExceeded { .. } => "buffer_budget_exceeded",
        }
    }
}

/// The reason a delivery was rejected, with what an engineer needs to act on it.
///
/// ```
/// # use tower_stripe_webhook::{generate_test_header, ErrorKind, SigningSecret, Verifier};
/// let secret = SigningSecret::new("whsec_example")?;
/// let header = generate_test_header(b"{}", &secret, Some(1_000));
/// // Verified 400 seconds after signing, with the default tolerance of 300: a replay, or a clock off.
/// let error = Verifier::new(secret).verify_at(&header, b"{}", 1_400).unwrap_err();
/// match error.kind() {
///     ErrorKind::TimestampTooOld { age, tolerance } => assert_eq!((*age, *tolerance), (400, 300)),
///     other => panic!("another reason: {other:?}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request has no `Stripe-Signature` header.
    MissingHeader,
    /// The `Stripe-Signature` header cannot be parsed.
    MalformedHeader(MalformedHeader),
    /// The header is well formed but has no `v1` signature (`v0` and unknown schemes are ignored).
    NoV1Signature,
    /// No `v1` signature matches the payload under any configured secret.
    NoMatchingSignature {
        /// How many `v1` signatures the header carried.
        signatures: usize,
        /// How many secrets were tried.
        secrets: usize,
    },
    /// A signature matched, but its timestamp is older than the tolerance.
    TimestampTooOld {
        /// How old the timestamp is, in seconds (saturated).
        age: u64,
        /// The tolerance, in seconds.
        tolerance: u64,
    },
    /// A signature matched, but its timestamp is further ahead than the tolerance and future timestamps are
    /// rejected ([`Verifier::reject_future_timestamps`](crate::Verifier::reject_future_timestamps)).
    TimestampTooNew {
        /// How far ahead the timestamp is, in seconds (saturated).
        ahead: u64,
        /// The tolerance, in seconds.
        tolerance: u64,
    },
    /// The signature is valid but the payload is not an event of the kind the route accepts.
    NotAnEvent(InvalidEvent),
    /// The body is larger than the configured limit.
    PayloadTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The request body could not be read (the client went away or the stream failed).
    BodyRead,
    /// The layer was already buffering as many bytes of request bodies, across all requests, as its
    /// budget allows ([`max_buffered_bytes`](crate::StripeSignatureLayer::max_buffered_bytes)): the
    /// request was refused (`503 Service Unavailable`, so that Stripe retries it later) instead of growing
    /// memory further.
    BufferBudgetExceeded {
        /// The budget, in bytes.
        budget: u64,
    },
}

const SIGNATURE_DOCS: &str = "https://docs.stripe.com/webhooks/signature";

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Message {
            error: self,
            diagnosis: self.diagnosis.as_deref(),
        }
        .fmt(f)
    }
}

/// An error's message, with or without its diagnosis.
struct Message<'a> {
    error: &'a Error,
    diagnosis: Option<&'a Diagnosis>,
}

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.kind_message(f)?;
        match self.diagnosis {
            Some(diagnosis) => write!(f, ". Diagnosis: {diagnosis}"),
            None => Ok(()),
        }
    }
}

impl Error {
    fn kind_message(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::MissingHeader => f.write_str(
                "the request has no Stripe-Signature header: it was not sent by Stripe, or a proxy or \
                 load balancer in front of this service dropped the header",
            ),
            ErrorKind::MalformedHeader(reason) => {
                write!(f, "the Stripe-Signature header is malformed: {reason}")
            }
            ErrorKind::NoV1Signature => f.write_str(
                "the Stripe-Signature header has no v1 signature (v0 and unknown schemes are ignored; \
                 items must not have spaces after the commas)",
            ),
            ErrorKind::NoMatchingSignature {
                signatures,
                secrets,
            } => write!(
                f,
                "no signature found matching the expected signature for the payload ({signatures} v1 \
                 signature(s) checked against {secrets} signing secret(s)). Are you passing the raw request \
                 body exactly as received from Stripe? A body parser, re-serialized JSON, changed newlines or \
                 a proxy that re-encodes the body break the signature. Otherwise check the signing secret: \
                 every endpoint and the Stripe CLI have their own, test and live mode differ, and Connect \
                 endpoints have their own. See {SIGNATURE_DOCS}"
            ),
            ErrorKind::TimestampTooOld { age, tolerance } => write!(
                f,
                "the signature timestamp is {age} s old, beyond the {tolerance} s tolerance: a replayed or \
                 long-delayed delivery, or this server's clock is {} s ahead",
                age.saturating_sub(*tolerance)
            ),
            ErrorKind::TimestampTooNew { ahead, tolerance } => write!(
                f,
                "the signature timestamp is {ahead} s in the future, beyond the {tolerance} s tolerance: \
                 this server's clock appears to be about {ahead} s behind"
            ),
            ErrorKind::NotAnEvent(reason) => write!(
                f,
                "the signature is valid, but the payload is not an event this route accepts: {reason}"
            ),
            ErrorKind::PayloadTooLarge { limit } => {
                write!(f, "the request body is larger than the {limit} byte limit")
            }
            ErrorKind::BodyRead => f.write_str("the request body could not be read"),
            ErrorKind::BufferBudgetExceeded { budget } => write!(
                f,
                "the request bodies this service holds in memory would have gone over their budget of \
                 {budget} bytes (max_buffered_bytes), so the request was refused for Stripe to retry it \
                 later. Many concurrent or slowly sent bodies hold the budget: if that is real traffic, \
                 raise max_buffered_bytes; otherwise look for clients that send bodies slowly, and bound \
                 the time a request body may take (a request timeout)"
            ),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Error");
        debug.field("kind", &self.kind);
        if let Some(source) = &self.source {
            debug.field("source", source);
        }
        if let Some(diagnosis) = &self.diagnosis {
            debug.field("diagnosis", diagnosis);
        }
        debug.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}
