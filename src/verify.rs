//! Checking a signature: HMAC-SHA256 over `"{t}.{payload}"` under each secret, constant-time comparison,
//! then the timestamp tolerance.

use std::{
    fmt,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use http::{header::HeaderName, HeaderMap, HeaderValue};
use subtle::ConstantTimeEq;

use crate::{
    diagnose::Diagnose,
    error::{Error, ErrorKind},
    event::{AnyEvent, Event, EventNotification},
    header::{saturate, MalformedHeader, SignatureHeader},
    secret::{SigningSecret, SigningSecrets, HEX},
};

/// The name of the header Stripe signs deliveries with.
///
/// ```
/// use tower_stripe_webhook::STRIPE_SIGNATURE;
///
/// let request = http::Request::post("/webhook").header(STRIPE_SIGNATURE, "t=1,v1=00").body(())?;
/// assert_eq!(request.headers()["stripe-signature"], "t=1,v1=00");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const STRIPE_SIGNATURE: HeaderName = HeaderName::from_static("stripe-signature");

/// The tolerance Stripe's SDKs use by default: a signature may be 300 seconds old.
///
/// ```
/// # use tower_stripe_webhook::{SigningSecret, Verifier, DEFAULT_TOLERANCE};
/// let verifier = Verifier::new(SigningSecret::new("whsec_example")?);
/// assert_eq!(verifier.tolerance_secs(), Some(DEFAULT_TOLERANCE.as_secs()));
/// assert_eq!(DEFAULT_TOLERANCE.as_secs(), 300);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// A source of the current time, in Unix seconds. Inject one with [`Verifier::clock`] so tests never sleep.
///
/// Implemented for [`SystemClock`] and for any `Fn() -> i64 + Send + Sync + 'static`.
///
/// ```
/// use tower_stripe_webhook::{Clock, SystemClock};
///
/// let fixed = || 1_700_000_000_i64;
/// assert_eq!(fixed.now(), 1_700_000_000);
/// assert!(SystemClock.now() > 1_700_000_000);
/// ```
pub trait Clock: Send + Sync + 'static {
    /// The current time in whole Unix seconds (floored).
    ///
    /// ```
    /// use tower_stripe_webhook::{Clock, SigningSecret, Verifier};
    ///
    /// // A clock of your own: here, a test clock that a test can move forward.
    /// struct Manual(std::sync::atomic::AtomicI64);
    /// impl Clock for Manual {
    ///     fn now(&self) -> i64 {
    ///         self.0.load(std::sync::atomic::Ordering::Relaxed)
    ///     }
    /// }
    /// let verifier = Verifier::new(SigningSecret::new("whsec_example")?).clock(Manual(1_000.into()));
    /// assert_eq!(verifier.now(), 1_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn now(&self) -> i64;
}

/// The system's wall clock.
///
/// ```
/// use tower_stripe_webhook::{Clock, SystemClock};
///
/// let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
/// assert!((SystemClock.now() - unix).abs() <= 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |secs| -secs),
        }
    }
}

impl<F> Clock for F
where
    F: Fn() -> i64 + Send + Sync + 'static,
{
    fn now(&self) -> i64 {
        self()
    }
}

/// Verifies `Stripe-Signature` headers against a set of signing secrets.
///
/// The defaults are Stripe's: 300 s tolerance, future timestamps accepted (but reported as clock skew in
/// [`Verified::clock_skew`]), the system clock. Cheap to clone; build it once at startup.
///
/// ```
/// use tower_stripe_webhook::{generate_test_header, SigningSecret, Verifier};
///
/// let secret = SigningSecret::new("whsec_example")?;
/// let verifier = Verifier::new(secret.clone()).clock(|| 1_700_000_100);
///
/// let payload = br#"{"id":"evt_1","object":"event"}"#;
/// let header = generate_test_header(payload, &secret, Some(1_700_000_000));
/// let verified = verifier.verify(header.as_bytes(), payload)?;
/// assert_eq!(verified.timestamp(), 1_700_000_000);
/// assert_eq!(verified.age(), 100);
///
/// assert!(verifier.verify(header.as_bytes(), b"tampered").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    secrets: SigningSecrets,
    tolerance: Option<u64>,
    reject_future: bool,
    clock: Arc<dyn Clock>,
    diagnose: Option<Diagnose>,
}

impl Verifier {
    /// A verifier for one secret or a [`SigningSecrets`] set, with Stripe's defaults.
    ///
    /// ```
    /// # use tower_stripe_webhook::{SigningSecret, SigningSecrets, Verifier};
    /// // One secret, or several while a rotation is under way.
    /// let one = Verifier::new(SigningSecret::new("whsec_example")?);
    /// assert_eq!((one.secrets().len(), one.tolerance_secs()), (1, Some(300)));
    /// let two = Verifier::new(SigningSecrets::parse("whsec_new,whsec_old")?);
    /// assert_eq!(two.secrets().len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(secrets: impl Into<SigningSecrets>) -> Self {
        Self {
            secrets: secrets.into(),
            tolerance: Some(DEFAULT_TOLERANCE.as_secs()),
            reject_future: false,
            clock: Arc::new(SystemClock),
            diagnose: None,
        }
    }

    /// Diagnoses `no_matching_signature` rejections: when no secret matches, the signature is checked
    /// again under the transformations the usual culprits apply to a body and under the diagnostic
    /// secrets, within a budget; the [`Diagnosis`](crate::Diagnosis) goes into the error. Off by default.
    ///
    /// ```
    /// # use tower_stripe_webhook::{generate_test_header, Cause, Diagnose, SigningSecret, Verifier};
    /// let live = SigningSecret::new("whsec_live_endpoint")?;
    /// let test_mode = SigningSecret::new("whsec_test_mode_endpoint")?.with_label("test-mode");
    /// let verifier = Verifier::new(live).diagnose(Diagnose::new().with_secret(test_mode.clone()));
    /// let header = generate_test_header(b"{}", &test_mode, None);
    /// let error = verifier.verify(&header, b"{}").unwrap_err();
    /// let diagnosis = error.diagnosis().unwrap();
    /// assert_eq!((diagnosis.cause(), diagnosis.secret_label()), (Cause::DiagnosticSecret, Some("test-mode")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn diagnose(mut self, diagnose: Diagnose) -> Self {
        self.diagnose = Some(diagnose);
        self
    }

    /// How old a signature may be (whole seconds; an age equal to the tolerance is accepted, as in every
    /// SDK). A tolerance of zero accepts only signatures from the current second: it does **not** disable
    /// the check; [`insecure_skip_timestamp_check`](Self::insecure_skip_timestamp_check) does.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tower_stripe_webhook::{generate_test_header, ErrorKind, SigningSecret, Verifier};
    /// let secret = SigningSecret::new("whsec_example")?;
    /// let header = generate_test_header(b"{}", &secret, Some(1000));
    /// let verifier = Verifier::new(secret).tolerance(Duration::from_secs(60));
    /// assert!(verifier.verify_at(header.as_bytes(), b"{}", 1060).is_ok());
    /// let err = verifier.verify_at(header.as_bytes(), b"{}", 1061).unwrap_err();
    /// assert_eq!(err.kind(), &ErrorKind::TimestampTooOld { age: 61, tolerance: 60 });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = Some(tolerance.as_secs());
        self
    }

    /// Turns the replay protection off: a signature of any age verifies, forever.
    ///
    /// This is what stripe-node and stripe-python do with a tolerance of `0`. Use it only to re-verify
    /// stored payloads; never on a live endpoint.
    ///
    /// ```
    /// # use tower_stripe_webhook::{generate_test_header, SigningSecret, Verifier};
    /// let secret = SigningSecret::new("whsec_example")?;
    /// // A payload stored a year ago, verified again.
    /// let header = generate_test_header(b"{}", &secret, Some(1_700_000_000));
    /// let verifier = Verifier::new(secret).insecure_skip_timestamp_check();
    /// assert_eq!(verifier.tolerance_secs(), None);
    /// assert!(verifier.verify_at(&header, b"{}", 1_700_000_000 + 365 * 86_400).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn insecure_skip_timestamp_check(mut self) -> Self {
        self.tolerance = None;
        self
    }

    /// Rejects timestamps more than the tolerance ahead of the clock ([`ErrorKind::TimestampTooNew`]),
    /// making the check two-sided like stripe-php and Stripe.net. By default they are accepted, like
    /// stripe-node, stripe-python, stripe-go, stripe-ruby and stripe-java, and reported in
    /// [`Verified::clock_skew`].
    ///
    /// ```
    /// # use tower_stripe_webhook::{generate_test_header, ErrorKind, SigningSecret, Verifier};
    /// let secret = SigningSecret::new("whsec_example")?;
    /// let header = generate_test_header(b"{}", &secret, Some(2000));
    /// let lenient = Verifier::new(secret.clone());
    /// assert_eq!(lenient.verify_at(header.as_bytes(), b"{}", 1000)?.clock_skew(), Some(1000));
    /// let strict = Verifier::new(secret).reject_future_timestamps();
    /// let err = strict.verify_at(header.as_bytes(), b"{}", 1000).unwrap_err();
    /// assert_eq!(err.kind(), &ErrorKind::TimestampTooNew { ahead: 1000, tolerance: 300 });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn reject_future_timestamps(mut self) -> Self {
        self.reject_future = true;
        self
    }

    /// The clock [`verify`](Self::verify) reads: a [`Clock`], or a closure returning Unix seconds.
    ///
    /// ```
    /// # use tower_stripe_webhook::{generate_test_header, SigningSecret, Verifier};
    /// let secret = SigningSecret::new("whsec_example")?;
    /// let header = generate_test_header(b"{}", &secret, Some(1_700_000_000));
    /// let verifier = Verifier::new(secret).clock(|| 1_700_000_030);
    /// assert_eq!(verifier.verify(&header, b"{}")?.age(), 30);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The configured secrets.
    ///
    /// ```
    /// # use tower_stripe_webhook::{SigningSecrets, Verifier};
    /// let verifier = Verifier::new(SigningSecrets::parse("current=whsec_new,previous=whsec_old")?);
    /// let labels: Vec<_> = verifier.secrets().iter().map(|secret| secret.label()).collect();
    /// assert_eq!(labels, [Some("current"), Some("previous")]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn secrets(&self) -> &SigningSecrets {
        &self.secrets
    }

    /// The tolerance in seconds, or `None` when the age check is disabled.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tower_stripe_webhook::{SigningSecret, Verifier};
    /// let verifier = Verifier::new(SigningSecret::new("whsec_example")?);
    /// assert_eq!(verifier.tolerance_secs(), Some(300));
    /// assert_eq!(verifier.clone().tolerance(Duration::from_secs(60)).tolerance_secs(), Some(60));
    /// assert_eq!(verifier.insecure_skip_timestamp_check().tolerance_secs(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tolerance_secs(&self) -> Option<u64> {
        self.tolerance
    }

    /// The current time, from the configured clock.
    ///
    /// ```
    /// # use tower_stripe_webhook::{test_helpers::FixedClock, SigningSecret, Verifier};
    /// let verifier = Verifier::new(SigningSecret::new("whsec_example")?).clock(FixedClock(1_700_000_000));
    /// assert_eq!(verifier.now(), 1_700_000_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Verifies a `Stripe-Signature` header value against the raw payload, at the clock's time.
    ///
    /// # Errors
    ///
    /// The [`Error`] saying why the payload was not accepted.
    ///
    /// ```
    /// # use tower_stripe_webhook::{generate_test_header, ErrorKind, SigningSecret, Verifier};
    /// let secret = SigningSecret::new("whsec_example")?;
    /// let verifier = Verifier::new(secret.clone());
    /// let payload = br#"{"id":"evt_1","object":"event"}"#;
    /// // Signed now, as Stripe does on delivery.
    /// let header = generate_test_header(payload, &secret, None);
    /// assert_eq!(verifier.verify(&header, payload)?.secret_index(), 0);
    /// // One byte changed: rejected.
    /// let error = verifier.verify(&header, br#"{"id":"evt_2","object":"event"}"#).unwrap_err();
    /// assert!(matches!(error.kind(), ErrorKind::NoMatchingSignature { signatures: 1, secrets: 1 }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify(&self, header: impl AsRef<[u8]>, payload: impl AsRef<[u8]>) -> Result<Verified, Error> {
        self.verify_at(header, payload, self.clock.now())
    }

    /// Verifies the (single) `Stripe-Signature` header of a request against its raw payload.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingHeader`], [`MalformedHeader::Repeated`] for several headers, or as
    /// [`verify`](Self::verify).
    ///
    /// ```
    /// # use http::HeaderMap;
    /// # use tower_stripe_webhook::{ErrorKind, SigningSecret, Verifier};
    /// let verifier = Verifier::new(SigningSecret::new("whsec_example")?);
    /// let err = verifier.verify_headers(&HeaderMap::new(), b"{}").unwrap_err();
    /// assert_eq!(err.kind(), &ErrorKind::MissingHeader);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify_headers(&self, headers: &HeaderMap, payload: impl AsRef<[u8]>) -> Result<Verified, Error> {
        self.verify(signature_header(headers)?.as_bytes(), payload)
    }

    /// Verifies the payload, then parses its event envelope from the same [`Bytes`] without copying it.
    ///
    /// Authenticate, then parse: nothing reads the payload as JSON before its signature and timestamp
    /// have verified, so a forged request costs one HMAC per secret whatever its bytes. The event is then
    /// read as [`Event::from_verified_payload`] reads it.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify), then [`ErrorKind::NotAnEvent`].
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tower_stripe_webhook::{generate_test_header, SigningSecret, Verifier};
    /// let secret = SigningSecret::new("whsec_example")?;
    /// let payload = Bytes::from_static(
    ///     br#"{"id":"evt_1","object":"event","type":"invoice.paid","created":1,"data":{"object":{}}}"#,
    /// );
    /// let header = generate_test_header(&payload, &secret, None);
    /// let (event, verified) = Verifier::new(secret).verify_event(header.as_bytes(), payload)?;
    /// assert_eq!((event.event_type(), verified.secret_index()), ("invoice.paid", 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify_event(&self, header: impl AsRef<[u8]>, payload: Bytes) -> Result<(Event, Verified), Error> {
        let header = SignatureHeader::parse(header.as_ref())?;
        self.verify_event_header_at(&header, payload, self.clock.now())
    }

    /// [`verify_event`](Self::verify_event) with an already parsed header, at `now`.
    pub(crate) fn verify_event_header_at(
        &self,
        header: &SignatureHeader<'_>,
        payload: Bytes,
        now: i64,
    ) -> Result<(Event, Verified), Error> {
        let verified = self.verify_header_at(header, &payload, now)?;
        Ok((Event::from_verified_payload(payload)?, verified))
    }

    /// Verifies the payload, then reads it as a thin event notification (`"object": "v2.core.event"`),
    /// as [`EventNotification::from_verified_payload`] reads it.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify), then [`ErrorKind::NotAnEvent`]
    /// ([`InvalidEvent::SnapshotEvent`](crate::InvalidEvent::SnapshotEvent) for a snapshot event).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tower_stripe_webhook::{generate_test_header, SigningSecret, Verifier};
    /// let secret = SigningSecret::new("whsec_thin_destination")?;
    /// let payload = Bytes::from_static(
    ///     br#"{"id":"evt_1","object":"v2.core.event","type":"v2.core.event_destination.ping"}"#,
    /// );
    /// let header = generate_test_header(&payload, &secret, None);
    /// let (notification, _) = Verifier::new(secret).verify_notification(header.as_bytes(), payload)?;
    /// assert_eq!(notification.event_type(), "v2.core.event_destination.ping");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify_notification(
        &self,
        header: impl AsRef<[u8]>,
        payload: Bytes,
    ) -> Result<(EventNotification, Verified), Error> {
        let verified = self.verify(header, &payload)?;
        Ok((EventNotification::from_verified_payload(payload)?, verified))
    }

    /// Verifies the payload, then reads it as a snapshot event or a thin notification, by its `object`
    /// (see [`AnyEvent::from_verified_payload`]).
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify), then [`ErrorKind::NotAnEvent`].
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tower_stripe_webhook::{generate_test_header, AnyEvent, SigningSecret, Verifier};
    /// let secret = SigningSecret::new("whsec_example")?;
    /// let payload = Bytes::from_static(
    ///     br#"{"id":"evt_1","object":"event","type":"invoice.paid","created":1,"data":{"object":{}}}"#,
    /// );
    /// let header = generate_test_header(&payload, &secret, None);
    /// let (event, _) = Verifier::new(secret).verify_any_event(header.as_bytes(), payload)?;
    /// assert!(matches!(event, AnyEvent::Snapshot(_)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify_any_event(
        &self,
        header: impl AsRef<[u8]>,
        payload: Bytes,
    ) -> Result<(AnyEvent, Verified), Error> {
        let verified = self.verify(header, &payload)?;
        Ok((AnyEvent::from_verified_payload(payload)?, verified))
    }

    /// Verifies at the given time (Unix seconds) instead of the clock's.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify).
    ///
    /// ```
    /// # use tower_stripe_webhook::{generate_test_header, SigningSecret, Verifier};
    /// let secret = SigningSecret::new("whsec_example")?;
    /// let header = generate_test_header(b"{}", &secret, Some(1_000));
    /// let verifier = Verifier::new(secret);
    /// assert_eq!(verifier.verify_at(&header, b"{}", 1_300)?.age(), 300);
    /// assert_eq!(verifier.verify_at(&header, b"{}", 1_301).unwrap_err().code(), "timestamp_too_old");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify_at(
        &self,
        header: impl AsRef<[u8]>,
        payload: impl AsRef<[u8]>,
        now: i64,
    ) -> Result<Verified, Error> {
        self.verify_header_at(&SignatureHeader::parse(header.as_ref())?, payload.as_ref(), now)
    }

    /// Verifies an already parsed header (the layer parses it before reading the body).
    pub(crate) fn verify_header_at(
        &self,
        header: &SignatureHeader<'_>,
        payload: &[u8],
        now: i64,
    ) -> Result<Verified, Error> {
        let timestamp = header.timestamp_exact();
        let signed_timestamp = header.signed_timestamp();

        let mut non_ascii = false;
        let mut matched = None;
        for (index, secret) in self.secrets.iter().enumerate() {
            let mac = secret.mac(&signed_timestamp, payload);
            match find_match(&mac, header) {
                Outcome::Match => {
                    matched = Some((index, secret));
                    break;
                }
                Outcome::NonAscii => non_ascii = true,
                Outcome::NoMatch => {}
            }
        }
        let Some((secret_index, secret)) = matched else {
            if non_ascii {
                return Err(Error::new(ErrorKind::MalformedHeader(
                    MalformedHeader::NonAsciiSignature,
                )));
            }
            let diagnosis = self
                .diagnose
                .as_ref()
                .and_then(|diagnose| diagnose.run(header, payload, &self.secrets));
            return Err(Error::new(ErrorKind::NoMatchingSignature {
                signatures: header.signature_count(),
                secrets: self.secrets.len(),
            })
            .with_diagnosis(diagnosis));
        };

        // i128 arithmetic: no `t` and `now` can overflow it.
        let age = i128::from(now) - timestamp;
        let mut clock_skew = None;
        if let Some(tolerance) = self.tolerance {
            let limit = i128::from(tolerance);
            if age > limit {
                return Err(Error::new(ErrorKind::TimestampTooOld {
                    age: saturate_u64(age),
                    tolerance,
                }));
            }
            if -age > limit {
                let ahead = saturate_u64(-age);
                if self.reject_future {
                    return Err(Error::new(ErrorKind::TimestampTooNew { ahead, tolerance }));
                }
                clock_skew = Some(ahead);
            }
        }
        Ok(Verified {
            timestamp: header.timestamp(),
            age: saturate(age),
            secret_index,
            secret_label: secret.label_arc().cloned(),
            clock_skew,
        })
    }
}

/// Whether one of `header`'s `v1` signatures is the HMAC of `payload` under `secret`.
pub(crate) fn matches_any(header: &SignatureHeader<'_>, payload: &[u8], secret: &SigningSecret) -> bool {
    let mac = secret.mac(&header.signed_timestamp(), payload);
    matches!(find_match(&mac, header), Outcome::Match)
}

/// The one `Stripe-Signature` header of a request.
pub(crate) fn signature_header(headers: &HeaderMap) -> Result<&HeaderValue, Error> {
    let mut values = headers.get_all(&STRIPE_SIGNATURE).iter();
    match (values.next(), values.next()) {
        (None, _) => Err(Error::new(ErrorKind::MissingHeader)),
        (Some(value), None) => Ok(value),
        (Some(_), Some(_)) => Err(Error::new(ErrorKind::MalformedHeader(MalformedHeader::Repeated))),
    }
}

fn saturate_u64(value: i128) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

enum Outcome {
    Match,
    NoMatch,
    NonAscii,
}

/// Compares every `v1` candidate, in order, with the lowercase hex of `mac`, one secret's HMAC.
///
/// Each comparison is constant-time (`subtle`) after a length check; the loop stops at the first match,
/// which reveals which candidate matched but nothing of the expected signature. A non-ASCII candidate
/// reached before a match stops the search as stripe-python does (see [`MalformedHeader::NonAsciiSignature`]).
fn find_match(mac: &[u8; 32], header: &SignatureHeader<'_>) -> Outcome {
    let expected = words(&to_hex(mac));
    for candidate in header.signatures() {
        // Only a 64-byte candidate can match (the length is not secret); compared as eight words, in
        // constant time.
        if let Ok(candidate) = <&[u8; 64]>::try_from(candidate) {
            if bool::from(words(candidate)[..].ct_eq(&expected[..])) {
                return Outcome::Match;
            }
        }
        // A match is ASCII by definition, so only a non-match needs this check.
        if !candidate.is_ascii() {
            return Outcome::NonAscii;
        }
    }
    Outcome::NoMatch
}

fn words(hex: &[u8; 64]) -> [u64; 8] {
    let mut words = [0; 8];
    for (word, chunk) in words.iter_mut().zip(hex.chunks_exact(8)) {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(chunk);
        *word = u64::from_ne_bytes(bytes);
    }
    words
}

pub(crate) fn to_hex(mac: &[u8; 32]) -> [u8; 64] {
    let mut out = [0; 64];
    for (pair, &byte) in out.chunks_exact_mut(2).zip(mac) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(byte)]);
    }
    out
}

/// The two lowercase hex digits of every byte: one lookup per byte when encoding a MAC.
const HEX_PAIRS: [[u8; 2]; 256] = {
    let mut pairs = [[0; 2]; 256];
    let mut byte = 0;
    while byte < 256 {
        pairs[byte] = [HEX[byte >> 4], HEX[byte & 0xf]];
        byte += 1;
    }
    pairs
};

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("secrets", &self.secrets)
            .field("tolerance", &self.tolerance)
            .field("reject_future", &self.reject_future)
            .field("clock", &format_args!("<clock>"))
            .field("diagnose", &self.diagnose)
            .finish()
    }
}

/// What a successful verification established: when the delivery was signed and which secret matched.
///
/// The layer inserts it into the request's extensions next to the [`Event`].
///
/// ```
/// # use tower_stripe_webhook::{generate_test_header, SigningSecret, SigningSecrets, Verifier};
/// let old = SigningSecret::new("whsec_old")?.with_label("previous");
/// let new = SigningSecret::new("whsec_new")?.with_label("current");
/// let verifier = Verifier::new(SigningSecrets::new(new).and(old.clone()));
/// let header = generate_test_header(b"{}", &old, Some(1000));
/// let verified = verifier.verify_at(header.as_bytes(), b"{}", 1010)?;
/// // Deliveries still signed with the old secret: the rotation is not finished.
/// assert_eq!((verified.secret_index(), verified.secret_label()), (1, Some("previous")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    timestamp: i64,
    age: i64,
    secret_index: usize,
    secret_label: Option<Arc<str>>,
    clock_skew: Option<u64>,
}

impl Verified {
    /// The signature timestamp `t`, in Unix seconds.
    ///
    /// ```
    /// # use tower_stripe_webhook::{generate_test_header, SigningSecret, Verifier};
    /// let secret = SigningSecret::new("whsec_example")?;
    /// let header = generate_test_header(b"{}", &secret, Some(1_000));
    /// assert_eq!(Verifier::new(secret).verify_at(&header, b"{}", 1_010)?.timestamp(), 1_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }

    /// Seconds between the signature timestamp and the verifier's clock; negative when the timestamp is
    /// ahead of the clock.
    ///
    /// ```
    /// # use tower_stripe_webhook::{generate_test_header, SigningSecret, Verifier};
    /// let secret = SigningSecret::new("whsec_example")?;
    /// let header = generate_test_header(b"{}", &secret, Some(1_000));
    /// let verifier = Verifier::new(secret);
    /// assert_eq!(verifier.verify_at(&header, b"{}", 1_010)?.age(), 10);
    /// // Signed ahead of the clock: a negative age.
    /// assert_eq!(verifier.verify_at(&header, b"{}", 990)?.age(), -10);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn age(&self) -> i64 {
        self.age
    }

    /// Position of the matching secret in the configured [`SigningSecrets`].
    ///
    /// ```
    /// # use tower_stripe_webhook::{generate_test_header, SigningSecret, SigningSecrets, Verifier};
    /// let (new, old) = (SigningSecret::new("whsec_new")?, SigningSecret::new("whsec_old")?);
    /// let verifier = Verifier::new(SigningSecrets::new(new.clone()).and(old.clone()));
    /// assert_eq!(verifier.verify_at(generate_test_header(b"{}", &new, Some(1)), b"{}", 1)?.secret_index(), 0);
    /// assert_eq!(verifier.verify_at(generate_test_header(b"{}", &old, Some(1)), b"{}", 1)?.secret_index(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn secret_index(&self) -> usize {
        self.secret_index
    }

    /// Label of the matching secret, if it has one.
    ///
    /// ```
    /// # use tower_stripe_webhook::{generate_test_header, SigningSecret, SigningSecrets, Verifier};
    /// let labeled = SigningSecret::new("whsec_new")?.with_label("current");
    /// let unlabeled = SigningSecret::new("whsec_old")?;
    /// let verifier = Verifier::new(SigningSecrets::new(labeled.clone()).and(unlabeled.clone()));
    /// assert_eq!(verifier.verify_at(generate_test_header(b"{}", &labeled, Some(1)), b"{}", 1)?.secret_label(), Some("current"));
    /// assert_eq!(verifier.verify_at(generate_test_header(b"{}", &unlabeled, Some(1)), b"{}", 1)?.secret_label(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn secret_label(&self) -> Option<&str> {
        self.secret_label.as_deref()
    }

    /// The label, shared (for metrics labels, without a copy).
    #[cfg(feature = "metrics")]
    pub(crate) fn secret_label_shared(&self) -> Option<&Arc<str>> {
        self.secret_label.as_ref()
    }

    /// `Some(seconds)` when the timestamp is further ahead of the clock than the tolerance. Stripe does not
    /// sign in the future, so this means the server's clock is about that many seconds behind.
    ///
    /// ```
    /// # use tower_stripe_webhook::{generate_test_header, SigningSecret, Verifier};
    /// let secret = SigningSecret::new("whsec_example")?;
    /// let verifier = Verifier::new(secret.clone());
    /// // Within the tolerance ahead of the clock: no skew reported.
    /// let header = generate_test_header(b"{}", &secret, Some(1_300));
    /// assert_eq!(verifier.verify_at(&header, b"{}", 1_000)?.clock_skew(), None);
    /// // Further ahead: accepted (as most SDKs do), and the skew is reported.
    /// let header = generate_test_header(b"{}", &secret, Some(2_000));
    /// assert_eq!(verifier.verify_at(&header, b"{}", 1_000)?.clock_skew(), Some(1_000));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clock_skew(&self) -> Option<u64> {
        self.clock_skew
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::{compute_signature, generate_test_header};
    use crate::SigningSecret;

    fn secret(s: &str) -> SigningSecret {
        SigningSecret::new(s).unwrap()
    }

    #[test]
    fn known_answer() {
        // python3 -c "import hmac,hashlib; print(hmac.new(b'whsec_test_secret',
        //   b'1700000000.{\"id\":\"evt_1\"}', hashlib.sha256).hexdigest())"
        let header = "t=1700000000,v1=248a374f50f943a28b0f6ab50faf9a7e7e29b710fa26df9fb1618b9bf8ea9c9a";
        let verifier = Verifier::new(secret("whsec_test_secret"));
        assert!(verifier
            .verify_at(header, br#"{"id":"evt_1"}"#, 1_700_000_000)
            .is_ok());
        assert!(verifier
            .verify_at(header, br#"{"id":"evt_2"}"#, 1_700_000_000)
            .is_err());
        assert_eq!(
            generate_test_header(
                br#"{"id":"evt_1"}"#,
                &secret("whsec_test_secret"),
                Some(1_700_000_000)
            ),
            header
        );
    }

    #[test]
    fn rotation_reports_the_matching_secret_in_either_header_order() {
        let (old, new) = (secret("whsec_old").with_label("previous"), secret("whsec_new"));
        let verifier = Verifier::new(SigningSecrets::new(new.clone()).and(old.clone()));
        let (s_old, s_new) = (
            compute_signature(b"{}", &old, 50),
            compute_signature(b"{}", &new, 50),
        );
        for header in [
            format!("t=50,v1={s_old},v1={s_new}"),
            format!("t=50,v1={s_new},v1={s_old}"),
        ] {
            let verified = verifier.verify_at(&header, b"{}", 60).unwrap();
            assert_eq!(verified.secret_index(), 0, "{header}");
            assert_eq!(verified.secret_label(), None);
        }
        let verified = verifier
            .verify_at(format!("t=50,v1=00,v1={s_old}"), b"{}", 60)
            .unwrap();
        assert_eq!(
            (verified.secret_index(), verified.secret_label()),
            (1, Some("previous"))
        );
    }

    /// A delivery signed with any of the secrets verifies, and the event is read either way.
    #[test]
    fn verify_event_with_rotation() {
        let (new, old) = (secret("whsec_new"), secret("whsec_old").with_label("previous"));
        let verifier = Verifier::new(SigningSecrets::new(new.clone()).and(old.clone())).clock(|| 60);
        let payload = Bytes::from_static(
            br#"{"id":"evt_1","object":"event","type":"a.b","created":1,"data":{"object":{}}}"#,
        );
        for (signer, index) in [(&new, 0), (&old, 1)] {
            let header = generate_test_header(&payload, signer, Some(50));
            let (event, verified) = verifier.verify_event(&header, payload.clone()).unwrap();
            assert_eq!((event.id(), verified.secret_index()), ("evt_1", index));
        }
        let header = generate_test_header(&payload, &secret("whsec_other"), Some(50));
        assert!(matches!(
            verifier.verify_event(&header, payload).unwrap_err().kind(),
            ErrorKind::NoMatchingSignature { secrets: 2, .. }
        ));
    }

    /// Authenticate, then parse: a body that is not an event is reported as such only when its signature
    /// and timestamp verify.
    #[test]
    fn verify_event_reports_the_signature_before_the_body() {
        let verifier = Verifier::new(secret("whsec_mine")).clock(|| 1_000);
        let body = Bytes::from_static(b"not json");
        let signed_by_other = generate_test_header(&body, &secret("whsec_other"), Some(1_000));
        let too_old = generate_test_header(&body, &secret("whsec_mine"), Some(1));
        let valid = generate_test_header(&body, &secret("whsec_mine"), Some(1_000));
        let kind = |header: &str| {
            verifier
                .verify_event(header, body.clone())
                .unwrap_err()
                .kind()
                .clone()
        };
        assert!(matches!(
            kind(&signed_by_other),
            ErrorKind::NoMatchingSignature { .. }
        ));
        assert!(matches!(kind(&too_old), ErrorKind::TimestampTooOld { .. }));
        assert!(matches!(kind(&valid), ErrorKind::NotAnEvent(_)));
        assert_eq!(kind("t=1000"), ErrorKind::NoV1Signature);
    }

    #[test]
    fn a_secret_that_is_not_configured_does_not_verify() {
        let header = generate_test_header(b"{}", &secret("whsec_other"), Some(5));
        let err = Verifier::new(secret("whsec_mine"))
            .verify_at(&header, b"{}", 5)
            .unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::NoMatchingSignature {
                signatures: 1,
                secrets: 1
            }
        );
    }

    #[test]
    fn candidates_that_can_never_match() {
        let s = secret("whsec_k");
        let good = compute_signature(b"x", &s, 1);
        let verifier = Verifier::new(s);
        for bad in [
            "",
            "0",
            &good[..63],
            &format!("{good}0"),
            &good.to_uppercase(),
            &format!(" {good}"),
        ] {
            let err = verifier.verify_at(format!("t=1,v1={bad}"), b"x", 1).unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::NoMatchingSignature { .. }),
                "{bad:?}"
            );
        }
        // An empty or malformed candidate next to a good one does not spoil it.
        assert!(verifier
            .verify_at(format!("t=1,v1=,v1=zz,v1={good}"), b"x", 1)
            .is_ok());
    }

    #[test]
    fn non_ascii_candidate_stops_the_search_like_python() {
        let s = secret("whsec_k");
        let good = compute_signature(b"x", &s, 1);
        let verifier = Verifier::new(s);
        assert!(verifier.verify_at(format!("t=1,v1={good},v1=é"), b"x", 1).is_ok());
        let err = verifier
            .verify_at(format!("t=1,v1=é,v1={good}"), b"x", 1)
            .unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::MalformedHeader(MalformedHeader::NonAsciiSignature)
        );
    }

    #[test]
    fn tolerance_edges_and_skew() {
        let s = secret("whsec_k");
        let header = generate_test_header(b"x", &s, Some(1000));
        let verifier = Verifier::new(s);
        assert_eq!(verifier.verify_at(&header, b"x", 1300).unwrap().age(), 300);
        assert_eq!(
            verifier.verify_at(&header, b"x", 1301).unwrap_err().kind(),
            &ErrorKind::TimestampTooOld {
                age: 301,
                tolerance: 300
            }
        );
        let ahead = verifier.verify_at(&header, b"x", 700).unwrap();
        assert_eq!((ahead.age(), ahead.clock_skew()), (-300, None));
        assert_eq!(
            verifier.verify_at(&header, b"x", 699).unwrap().clock_skew(),
            Some(301)
        );
        let strict = verifier.clone().reject_future_timestamps();
        assert!(strict.verify_at(&header, b"x", 700).is_ok());
        assert_eq!(
            strict.verify_at(&header, b"x", 699).unwrap_err().kind(),
            &ErrorKind::TimestampTooNew {
                ahead: 301,
                tolerance: 300
            }
        );
        let zero = verifier.clone().tolerance(Duration::ZERO);
        assert!(zero.verify_at(&header, b"x", 1000).is_ok());
        assert!(zero.verify_at(&header, b"x", 1001).is_err());
        let off = verifier.insecure_skip_timestamp_check();
        assert!(off.verify_at(&header, b"x", i64::MAX).is_ok());
        assert_eq!(off.verify_at(&header, b"x", i64::MIN).unwrap().clock_skew(), None);
    }

    #[test]
    fn timestamp_arithmetic_never_overflows() {
        let s = secret("whsec_k");
        let verifier = Verifier::new(s.clone());
        for t in [i64::MIN, -1, 0, i64::MAX] {
            let header = generate_test_header(b"x", &s, Some(t));
            for now in [i64::MIN, 0, i64::MAX] {
                let result = verifier.verify_at(&header, b"x", now);
                let age = i128::from(now) - i128::from(t);
                assert_eq!(result.is_ok(), age <= 300, "t={t} now={now}");
            }
        }
        let huge = format!("t={},v1=00", "9".repeat(39));
        assert!(verifier.verify_at(huge, b"x", i64::MAX).is_err());
    }

    #[test]
    fn the_signed_timestamp_text_is_normalized() {
        let s = secret("whsec_k");
        let normalized = compute_signature(b"x", &s, 17);
        let verifier = Verifier::new(s).insecure_skip_timestamp_check();
        for t in ["17", "017", "+17", " 17", "17\t", "\u{3000}17"] {
            assert!(
                verifier
                    .verify_at(format!("t={t},v1={normalized}"), b"x", 0)
                    .is_ok(),
                "{t:?}"
            );
        }
    }

    #[test]
    fn clocks() {
        let verifier = Verifier::new(secret("whsec_k")).clock(|| 42);
        assert_eq!(verifier.now(), 42);
        let now = SystemClock.now();
        let std_now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert!((i128::from(now) - i128::from(std_now)).abs() <= 1);
    }

    #[test]
    fn repeated_and_missing_headers() {
        let verifier = Verifier::new(secret("whsec_k"));
        let mut headers = HeaderMap::new();
        assert_eq!(
            verifier.verify_headers(&headers, b"").unwrap_err().kind(),
            &ErrorKind::MissingHeader
        );
        headers.append(STRIPE_SIGNATURE, "t=1,v1=00".parse().unwrap());
        headers.append(STRIPE_SIGNATURE, "t=1,v1=00".parse().unwrap());
        assert_eq!(
            verifier.verify_headers(&headers, b"").unwrap_err().kind(),
            &ErrorKind::MalformedHeader(MalformedHeader::Repeated)
        );
    }

    #[test]
    fn debug_does_not_leak() {
        let debug = format!("{:?}", Verifier::new(secret("whsec_SECRETVALUE")));
        assert!(!debug.contains("SECRETVALUE"), "{debug}");
    }
}
