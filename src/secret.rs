//! Webhook signing secrets: one endpoint secret, and the ordered set the verifier tries.
//!
//! A Stripe signing secret is the whole `whsec_...` string: its UTF-8 bytes, prefix included, are the
//! HMAC-SHA256 key (no SDK base64-decodes it). Each [`SigningSecret`] computes the keyed HMAC state once, at
//! construction, so no request pays the key schedule, and it keeps nothing else of the secret: its `Debug`
//! shows only a label and a short fingerprint.

use std::{env::VarError, error::Error as StdError, ffi::OsString, fmt, sync::Arc};

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// The prefix every Stripe webhook signing secret carries.
const PREFIX: &str = "whsec_";

/// One webhook endpoint's signing secret (`whsec_...`), ready to verify signatures.
///
/// Construction refuses values that cannot be a signing secret, with an error that says what is wrong:
/// an empty value, whitespace anywhere (a trailing newline from an env file is the classic cause), an API
/// key given by mistake (`sk_`, `rk_`, `pk_`), or a value without the `whsec_` prefix (the prefix is part
/// of the key: stripping it is a classic way to get every signature rejected).
///
/// The secret itself is not retained: only the precomputed keyed HMAC state, an optional label and an
/// 8-hex-digit fingerprint (the start of the SHA-256 of the secret) that lets you tell two configured
/// secrets apart in logs without revealing either.
///
/// ```
/// use tower_stripe_webhook::SigningSecret;
///
/// let secret = SigningSecret::new("whsec_test_abc123")?.with_label("current");
/// assert_eq!(secret.label(), Some("current"));
/// // Debug never shows the secret.
/// assert!(!format!("{secret:?}").contains("abc123"));
///
/// let err = SigningSecret::new("whsec_test_abc123\n").unwrap_err();
/// assert!(err.to_string().contains("whitespace"));
/// # Ok::<(), tower_stripe_webhook::SecretError>(())
/// ```
#[derive(Clone)]
pub struct SigningSecret {
    keyed: HmacSha256,
    fingerprint: [u8; 4],
    label: Option<Arc<str>>,
}

impl SigningSecret {
    /// Validates `secret` and precomputes its keyed HMAC state.
    ///
    /// # Errors
    ///
    /// A [`SecretError`] saying why the value cannot be a webhook signing secret.
    ///
    /// ```
    /// # use tower_stripe_webhook::SigningSecret;
    /// let secret = SigningSecret::new("whsec_example")?;
    /// assert_eq!(secret.label(), None);
    /// // An API key is not a webhook signing secret: refused, and the error never shows the value.
    /// let error = SigningSecret::new("sk_live_abc123").unwrap_err();
    /// assert!(!error.to_string().contains("abc123"));
    /// # Ok::<(), tower_stripe_webhook::SecretError>(())
    /// ```
    pub fn new(secret: impl AsRef<str>) -> Result<Self, SecretError> {
        let secret = secret.as_ref();
        check(secret)?;
        let keyed = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
        let digest = Sha256::digest(secret.as_bytes());
        let mut fingerprint = [0; 4];
        fingerprint.copy_from_slice(&digest[..4]);
        Ok(Self {
            keyed,
            fingerprint,
            label: None,
        })
    }

    /// Names this secret, e.g. `"current"`/`"previous"` during a rotation or `"platform"`/`"connect"`.
    ///
    /// The label is reported with every verification ([`Verified::secret_label`](crate::Verified::secret_label))
    /// and logged with every verified delivery (`tracing` feature), so you can watch which secret deliveries
    /// match and finish a rotation. Because it is logged, a label must be 1 to 64 characters among `A-Z`,
    /// `a-z`, `0-9`, `_`, `-` and `.`, and must not start like a Stripe key or secret (`whsec_`, `sk_`,
    /// `rk_`, `pk_`, in any case): a label that could be a secret is never stored, so it cannot reach a log.
    ///
    /// This is meant for labels written in code. For a label from configuration, use
    /// [`try_with_label`](Self::try_with_label), which returns the error instead of panicking.
    ///
    /// ```
    /// # use tower_stripe_webhook::SigningSecret;
    /// let connect = SigningSecret::new("whsec_connect_example")?.with_label("connect");
    /// assert_eq!(connect.label(), Some("connect"));
    /// # Ok::<(), tower_stripe_webhook::SecretError>(())
    /// ```
    ///
    /// # Panics
    ///
    /// When the label breaks the rules above. The panic message says which rule, not the label.
    #[must_use]
    #[track_caller]
    pub fn with_label(self, label: impl Into<Arc<str>>) -> Self {
        match self.try_with_label(label) {
            Ok(secret) => secret,
            Err(error) => panic!("SigningSecret::with_label: {error}"),
        }
    }

    /// Names this secret, like [`with_label`](Self::with_label), or says which rule the label breaks.
    ///
    /// # Errors
    ///
    /// [`SecretError::EmptyLabel`], [`SecretError::LabelTooLong`], [`SecretError::LabelCharacter`] or
    /// [`SecretError::LabelLooksLikeKey`]; none of them contains the label.
    ///
    /// ```
    /// # use tower_stripe_webhook::{SecretError, SigningSecret};
    /// let secret = SigningSecret::new("whsec_example")?;
    /// assert_eq!(secret.clone().try_with_label("previous")?.label(), Some("previous"));
    /// assert!(matches!(
    ///     secret.try_with_label("whsec_LIVE"),
    ///     Err(SecretError::LabelLooksLikeKey { prefix: "whsec_" })
    /// ));
    /// # Ok::<(), tower_stripe_webhook::SecretError>(())
    /// ```
    pub fn try_with_label(mut self, label: impl Into<Arc<str>>) -> Result<Self, SecretError> {
        let label = label.into();
        check_label(&label)?;
        self.label = Some(label);
        Ok(self)
    }

    /// The label given with [`with_label`](Self::with_label), if any.
    ///
    /// ```
    /// # use tower_stripe_webhook::SigningSecret;
    /// assert_eq!(SigningSecret::new("whsec_example")?.label(), None);
    /// # Ok::<(), tower_stripe_webhook::SecretError>(())
    /// ```
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// A short, non-reversible fingerprint: the first 8 hex digits of the SHA-256 of the secret.
    ///
    /// Compare it between environments to see whether they load the same secret, without printing it.
    ///
    /// ```
    /// # use tower_stripe_webhook::SigningSecret;
    /// let a = SigningSecret::new("whsec_one")?;
    /// let b = SigningSecret::new("whsec_two")?;
    /// assert_eq!(a.fingerprint().len(), 8);
    /// assert_ne!(a.fingerprint(), b.fingerprint());
    /// # Ok::<(), tower_stripe_webhook::SecretError>(())
    /// ```
    pub fn fingerprint(&self) -> String {
        let mut out = String::with_capacity(8);
        for byte in self.fingerprint {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        out
    }

    pub(crate) fn label_arc(&self) -> Option<&Arc<str>> {
        self.label.as_ref()
    }

    /// HMAC-SHA256 over `"{timestamp}.{payload}"` (the timestamp given in pieces), from the precomputed
    /// keyed state: one pass over the payload.
    pub(crate) fn mac(&self, timestamp: &[&[u8]], payload: &[u8]) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        update_with_timestamp(&mut mac, timestamp);
        mac.update(payload);
        mac.finalize().into_bytes().into()
    }
}

/// Feeds `mac` the signed timestamp (in pieces) and the `.` after it.
fn update_with_timestamp(mac: &mut HmacSha256, timestamp: &[&[u8]]) {
    for piece in timestamp.iter().filter(|piece| !piece.is_empty()) {
        mac.update(piece);
    }
    mac.update(b".");
}

pub(crate) const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningSecret")
            .field("label", &self.label())
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl std::str::FromStr for SigningSecret {
    type Err = SecretError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

fn check(secret: &str) -> Result<(), SecretError> {
    if secret.is_empty() {
        return Err(SecretError::Empty);
    }
    // Before whitespace: `"whsec_..."\n` is first of all quoted.
    if secret.contains(QUOTES) {
        return Err(SecretError::Quoted);
    }
    if let Some((at, _)) = secret.char_indices().find(|(_, c)| c.is_whitespace()) {
        return Err(SecretError::Whitespace { at });
    }
    if secret.contains(';') {
        return Err(SecretError::Semicolon);
    }
    for prefix in ["sk_", "rk_", "pk_"] {
        if secret.starts_with(prefix) {
            return Err(SecretError::ApiKey { prefix });
        }
    }
    if !secret.starts_with(PREFIX) {
        return Err(SecretError::MissingPrefix);
    }
    if secret.len() == PREFIX.len() {
        return Err(SecretError::Empty);
    }
    Ok(())
}

/// Quotes, straight and typographic: never part of a Stripe secret, often left around one by a `.env` file,
/// a docker-compose `environment:` entry or a copy from a document.
const QUOTES: [char; 7] = ['"', '\'', '`', '\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}'];

/// The most characters a label may have.
const LABEL_MAX: usize = 64;

/// How Stripe keys and secrets start: a label starting so (in any case) could be one, and labels are logged.
const KEY_PREFIXES: [&str; 4] = [PREFIX, "sk_", "rk_", "pk_"];

/// The label rules of [`SigningSecret::with_label`]. The errors never contain the label.
fn check_label(label: &str) -> Result<(), SecretError> {
    if label.is_empty() {
        return Err(SecretError::EmptyLabel);
    }
    // First: whatever else is wrong with a label that could be a secret, this is what to say about it.
    for prefix in KEY_PREFIXES {
        if label
            .get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
        {
            return Err(SecretError::LabelLooksLikeKey { prefix });
        }
    }
    if let Some((at, _)) = label
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(SecretError::LabelCharacter { at });
    }
    // Only ASCII is left, so bytes are characters.
    if label.len() > LABEL_MAX {
        return Err(SecretError::LabelTooLong { len: label.len() });
    }
    Ok(())
}

impl SigningSecret {
    /// The HMAC of a fixed message under this secret: equal for equal secrets and, short of a SHA-256
    /// collision, different for different ones. It lets a set refuse a secret given twice without keeping
    /// the secrets' text (the 4-byte fingerprint is too short to tell them apart for sure).
    fn key_check(&self) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        mac.update(b"tower-stripe-webhook: is this secret configured twice?");
        mac.finalize().into_bytes().into()
    }
}

/// The ordered, non-empty set of signing secrets a verifier accepts.
///
/// A delivery verifies when any secret matches any `v1` signature. Order matters only for reporting and
/// cost: secrets are tried in order and the first match wins, so put the secret most deliveries use first.
/// Use several secrets to rotate one without downtime (`current`, `previous`), or to serve endpoints that
/// share a route but have their own secret (`platform`, `connect`).
///
/// ```
/// use tower_stripe_webhook::{SigningSecret, SigningSecrets};
///
/// let secrets = SigningSecrets::new(SigningSecret::new("whsec_new")?.with_label("current"))
///     .and(SigningSecret::new("whsec_old")?.with_label("previous"));
/// assert_eq!(secrets.len(), 2);
///
/// // The same from a configuration string (e.g. an environment variable):
/// let parsed: SigningSecrets = "current=whsec_new, previous=whsec_old".parse()?;
/// assert_eq!(parsed.iter().map(|s| s.label()).collect::<Vec<_>>(), [Some("current"), Some("previous")]);
/// # Ok::<(), tower_stripe_webhook::SecretError>(())
/// ```
#[derive(Clone, Debug)]
pub struct SigningSecrets {
    secrets: Vec<SigningSecret>,
}

impl SigningSecrets {
    /// A set holding one secret.
    ///
    /// ```
    /// # use tower_stripe_webhook::{SigningSecret, SigningSecrets};
    /// let secrets = SigningSecrets::new(SigningSecret::new("whsec_example")?);
    /// assert_eq!(secrets.len(), 1);
    /// # Ok::<(), tower_stripe_webhook::SecretError>(())
    /// ```
    pub fn new(secret: SigningSecret) -> Self {
        Self {
            secrets: vec![secret],
        }
    }

    /// Adds a secret after the ones already present.
    ///
    /// This cannot fail, so it does not refuse a secret or a label that is already in the set: the same
    /// secret twice is tried twice (the second never matches), and the same label twice makes logs
    /// ambiguous. Labels themselves are always valid ([`SigningSecret::with_label`]). To have duplicates
    /// refused, build the set with [`from_secrets`](Self::from_secrets) or [`parse`](Self::parse).
    ///
    /// ```
    /// # use tower_stripe_webhook::{SigningSecret, SigningSecrets};
    /// let set = SigningSecrets::new(SigningSecret::new("whsec_a")?).and(SigningSecret::new("whsec_b")?);
    /// assert_eq!(set.len(), 2);
    /// # Ok::<(), tower_stripe_webhook::SecretError>(())
    /// ```
    #[must_use]
    pub fn and(mut self, secret: SigningSecret) -> Self {
        self.secrets.push(secret);
        self
    }

    /// Builds a set from any list of secrets, refusing an empty list and duplicates.
    ///
    /// Two secrets are the same when their keys are (compared through an HMAC under each, since the text
    /// of a secret is not kept); two labels are the same when they are equal strings. Labels need no
    /// check here: [`SigningSecret::with_label`] and [`try_with_label`](SigningSecret::try_with_label)
    /// never store an invalid one.
    ///
    /// # Errors
    ///
    /// [`SecretError::NoSecrets`] when the list is empty; [`SecretError::DuplicateSecret`] or
    /// [`SecretError::DuplicateLabel`] with the (0-based) positions of the first pair that collides.
    ///
    /// ```
    /// # use tower_stripe_webhook::{SecretError, SigningSecret, SigningSecrets};
    /// let set = SigningSecrets::from_secrets(["whsec_a", "whsec_b"].map(|s| SigningSecret::new(s).unwrap()))?;
    /// assert_eq!(set.len(), 2);
    /// assert!(SigningSecrets::from_secrets(Vec::new()).is_err());
    ///
    /// let twice = ["whsec_a", "whsec_b", "whsec_a"].map(|s| SigningSecret::new(s).unwrap());
    /// let err = SigningSecrets::from_secrets(twice).unwrap_err();
    /// assert!(matches!(err, SecretError::DuplicateSecret { first: 0, second: 2 }));
    /// assert!(err.to_string().contains("#1 and #3"));
    /// # Ok::<(), tower_stripe_webhook::SecretError>(())
    /// ```
    pub fn from_secrets(secrets: impl IntoIterator<Item = SigningSecret>) -> Result<Self, SecretError> {
        let secrets: Vec<_> = secrets.into_iter().collect();
        if secrets.is_empty() {
            return Err(SecretError::NoSecrets);
        }
        let keys: Vec<_> = secrets.iter().map(SigningSecret::key_check).collect();
        for (second, secret) in secrets.iter().enumerate() {
            for (first, earlier) in secrets[..second].iter().enumerate() {
                if keys[first] == keys[second] {
                    return Err(SecretError::DuplicateSecret { first, second });
                }
                if secret.label().is_some() && earlier.label() == secret.label() {
                    return Err(SecretError::DuplicateLabel { first, second });
                }
            }
        }
        Ok(Self { secrets })
    }

    /// Parses one or several secrets separated by commas and/or whitespace, each optionally labelled
    /// `label=whsec_...`.
    ///
    /// Separators are whitespace too, so a trailing newline in an env file is harmless here (unlike in
    /// [`SigningSecret::new`], where it would be part of the key). Nothing else separates secrets: a `;`
    /// anywhere is refused. A label follows the rules of [`SigningSecret::with_label`] (1 to 64 characters
    /// among `A-Z a-z 0-9 _ - .`, not starting like a key); an empty one (`=whsec_...`) is refused too.
    /// Quotes are refused with a hint: they are never part of a secret, and a `.env` file or a
    /// docker-compose file can leave them in the value. A secret or a label given twice is refused, as by
    /// [`from_secrets`](Self::from_secrets).
    ///
    /// # Errors
    ///
    /// The first item that is refused, as [`SecretError::InList`] with its position, a duplicate (with
    /// both positions), or [`SecretError::NoSecrets`]. No error contains a secret or a label.
    ///
    /// ```
    /// # use tower_stripe_webhook::SigningSecrets;
    /// let set = SigningSecrets::parse("whsec_platform_secret\nconnect=whsec_connect_secret\n")?;
    /// assert_eq!(set.len(), 2);
    /// assert_eq!(set.get(1).and_then(|s| s.label()), Some("connect"));
    ///
    /// let err = SigningSecrets::parse("whsec_ok, sk_live_oops").unwrap_err();
    /// assert!(err.to_string().contains("API key"));
    ///
    /// let err = SigningSecrets::parse("current=whsec_new;previous=whsec_old").unwrap_err();
    /// assert!(err.to_string().contains("not `;`"));
    /// # Ok::<(), tower_stripe_webhook::SecretError>(())
    /// ```
    pub fn parse(list: &str) -> Result<Self, SecretError> {
        let items = || {
            list.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|item| !item.is_empty())
        };
        let in_list = |index, error| SecretError::InList {
            index,
            error: Box::new(error),
        };
        // A `;` means the list is written in some other format: say so before anything else goes wrong.
        if let Some(index) = items().position(|item| item.contains(';')) {
            return Err(in_list(index, SecretError::Semicolon));
        }
        let mut secrets = Vec::new();
        for (index, item) in items().enumerate() {
            // Before the split: `"current=whsec_..."` is quoted, not a label with a bad character.
            if item.contains(QUOTES) {
                return Err(in_list(index, SecretError::Quoted));
            }
            secrets.push(match item.split_once('=') {
                Some((label, value)) => {
                    // The label first: `whsec_...=` is a secret on the wrong side, not an empty secret.
                    check_label(label).map_err(|error| in_list(index, error))?;
                    SigningSecret::new(value)
                        .and_then(|secret| secret.try_with_label(label))
                        .map_err(|error| in_list(index, error))?
                }
                None => SigningSecret::new(item).map_err(|error| in_list(index, error))?,
            });
        }
        Self::from_secrets(secrets)
    }

    /// Reads the secrets from an environment variable, in the format of [`parse`](Self::parse).
    ///
    /// # Errors
    ///
    /// [`SecretError::EnvVar`] when the variable is unset or not Unicode, else as [`parse`](Self::parse).
    ///
    /// ```
    /// # use tower_stripe_webhook::SigningSecrets;
    /// let err = SigningSecrets::from_env("SURELY_UNSET_STRIPE_SECRET_VARIABLE").unwrap_err();
    /// assert!(err.to_string().contains("SURELY_UNSET_STRIPE_SECRET_VARIABLE"));
    /// ```
    pub fn from_env(name: &str) -> Result<Self, SecretError> {
        let value = std::env::var(name).map_err(|error| SecretError::EnvVar {
            name: name.to_owned(),
            error: match error {
                // The value is not kept: it is the secret, or near enough.
                VarError::NotUnicode(_) => VarError::NotUnicode(OsString::new()),
                VarError::NotPresent => VarError::NotPresent,
            },
        })?;
        Self::parse(&value).map_err(|error| SecretError::InEnvVar {
            name: name.to_owned(),
            error: Box::new(error),
        })
    }

    /// How many secrets the set holds (at least one).
    ///
    /// ```
    /// # use tower_stripe_webhook::SigningSecrets;
    /// let secrets: SigningSecrets = "whsec_new,whsec_old".parse()?;
    /// assert_eq!(secrets.len(), 2);
    /// # Ok::<(), tower_stripe_webhook::SecretError>(())
    /// ```
    #[allow(clippy::len_without_is_empty)] // never empty by construction
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// The secret at `index`, in configuration order.
    ///
    /// ```
    /// # use tower_stripe_webhook::SigningSecrets;
    /// let secrets: SigningSecrets = "current=whsec_new, previous=whsec_old".parse()?;
    /// assert_eq!(secrets.get(0).and_then(|secret| secret.label()), Some("current"));
    /// assert!(secrets.get(2).is_none());
    /// # Ok::<(), tower_stripe_webhook::SecretError>(())
    /// ```
    pub fn get(&self, index: usize) -> Option<&SigningSecret> {
        self.secrets.get(index)
    }

    /// The secrets, in configuration order.
    ///
    /// ```
    /// # use tower_stripe_webhook::SigningSecrets;
    /// let secrets: SigningSecrets = "current=whsec_new, previous=whsec_old".parse()?;
    /// // Log which secrets are configured, by label and fingerprint, never by value.
    /// for secret in secrets.iter() {
    ///     assert_eq!(secret.fingerprint().len(), 8);
    /// }
    /// assert_eq!(secrets.iter().filter_map(|secret| secret.label()).collect::<Vec<_>>(), ["current", "previous"]);
    /// # Ok::<(), tower_stripe_webhook::SecretError>(())
    /// ```
    pub fn iter(&self) -> std::slice::Iter<'_, SigningSecret> {
        self.secrets.iter()
    }
}

impl From<SigningSecret> for SigningSecrets {
    fn from(secret: SigningSecret) -> Self {
        Self::new(secret)
    }
}

impl std::str::FromStr for SigningSecrets {
    type Err = SecretError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'a> IntoIterator for &'a SigningSecrets {
    type Item = &'a SigningSecret;
    type IntoIter = std::slice::Iter<'a, SigningSecret>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Why a value cannot be used as a webhook signing secret. A configuration error: report it at startup.
///
/// The messages never contain the value, nor a label (which could be a secret in the wrong place). `Debug`
/// prints the same message as `Display`, so that an error returned from `main` reads as one.
///
/// ```
/// # use tower_stripe_webhook::SigningSecrets;
/// let err = SigningSecrets::parse("current=whsec_a, current=whsec_b").unwrap_err();
/// assert_eq!(format!("{err:?}"), err.to_string());
/// ```
#[non_exhaustive]
pub enum SecretError {
    /// The value is empty, or is only the `whsec_` prefix.
    Empty,
    /// The value contains whitespace at byte offset `at`.
    Whitespace {
        /// Byte offset of the first whitespace character.
        at: usize,
    },
    /// The value is a Stripe API key (`sk_`, `rk_` or `pk_`), not a webhook signing secret.
    ApiKey {
        /// The prefix that gave it away.
        prefix: &'static str,
    },
    /// The value does not start with `whsec_`.
    MissingPrefix,
    /// The value contains a quote (`"`, `'`, `` ` `` or a typographic one), which no signing secret does: the
    /// quotes of a `.env` or docker-compose file were taken as part of the value.
    Quoted,
    /// The value contains a `;`: secrets in a list are separated by commas or whitespace.
    Semicolon,
    /// A label is empty (`=whsec_...`).
    EmptyLabel,
    /// A label is longer than 64 characters.
    LabelTooLong {
        /// Its length in characters.
        len: usize,
    },
    /// A label has a character other than `A-Z a-z 0-9 _ - .`.
    LabelCharacter {
        /// Byte offset of the first such character in the label.
        at: usize,
    },
    /// A label starts like a Stripe key or secret (`whsec_`, `sk_`, `rk_` or `pk_`, in any case). Labels
    /// are logged, so one that could be a secret is refused.
    LabelLooksLikeKey {
        /// The prefix it starts with, in lower case.
        prefix: &'static str,
    },
    /// A list held no secret.
    NoSecrets,
    /// Two secrets of a list are the same secret.
    DuplicateSecret {
        /// Position (0-based) of the first one.
        first: usize,
        /// Position (0-based) of the second one.
        second: usize,
    },
    /// Two secrets of a list have the same label.
    DuplicateLabel {
        /// Position (0-based) of the first one.
        first: usize,
        /// Position (0-based) of the second one.
        second: usize,
    },
    /// The secret at `index` (0-based) of a list was refused.
    InList {
        /// Position in the list.
        index: usize,
        /// Why it was refused.
        error: Box<SecretError>,
    },
    /// The environment variable could not be read.
    EnvVar {
        /// The variable's name.
        name: String,
        /// Why it could not be read. For [`VarError::NotUnicode`], the value is not kept (the `OsString`
        /// is empty): it would be the secret.
        error: VarError,
    },
    /// The environment variable holds a refused value.
    InEnvVar {
        /// The variable's name.
        name: String,
        /// Why its value was refused.
        error: Box<SecretError>,
    },
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str(
                "the webhook signing secret is empty; copy the endpoint's signing secret (whsec_...) \
                 from the Stripe Dashboard or from `stripe listen`",
            ),
            Self::Whitespace { at } => write!(
                f,
                "the webhook signing secret contains whitespace at byte {at}; Stripe secrets never do \
                 (a trailing newline or space from an env file or a secret store is the usual cause)"
            ),
            Self::ApiKey { prefix } => write!(
                f,
                "this is an API key ({prefix}...), not a webhook signing secret; use the endpoint's \
                 signing secret, which starts with whsec_"
            ),
            Self::MissingPrefix => f.write_str(
                "a webhook signing secret starts with `whsec_`, and the whole string, prefix included, \
                 is the key; do not strip or decode it",
            ),
            Self::Quoted => f.write_str(
                "the webhook signing secret is in quotes; remove them: a signing secret never contains \
                 quotes (in a .env file or a docker-compose `environment:` entry they can end up in the value)",
            ),
            Self::Semicolon => f.write_str(
                "separate secrets with commas or whitespace, not `;` (a signing secret never contains `;`); \
                 the format is `whsec_...` or `label=whsec_...`, e.g. `current=whsec_...,previous=whsec_...`",
            ),
            Self::EmptyLabel => f.write_str(
                "the label before `=` is empty; give a name (`current=whsec_...`) or leave out the `=`",
            ),
            Self::LabelTooLong { len } => write!(
                f,
                "the label is {len} characters long; a label has at most {LABEL_MAX}"
            ),
            Self::LabelCharacter { at } => write!(
                f,
                "the label has a character other than A-Z, a-z, 0-9, `_`, `-` and `.` at byte {at}"
            ),
            Self::LabelLooksLikeKey { prefix } => write!(
                f,
                "the label starts like a Stripe key or secret ({prefix}...); labels are logged, so this is \
                 refused; the format is `label=whsec_...`, with a name such as `current` before the `=`"
            ),
            Self::NoSecrets => f.write_str("no webhook signing secret was configured"),
            Self::DuplicateSecret { first, second } => write!(
                f,
                "signing secrets #{} and #{} of the list are the same secret; configure each secret once",
                first + 1,
                second + 1
            ),
            Self::DuplicateLabel { first, second } => write!(
                f,
                "signing secrets #{} and #{} of the list have the same label; give each secret its own",
                first + 1,
                second + 1
            ),
            Self::InList { index, error } => write!(f, "signing secret #{} of the list: {error}", index + 1),
            Self::EnvVar { name, error } => {
                // Not `error`'s own message: for a value that is not Unicode, it prints the value.
                let why = match error {
                    VarError::NotPresent => "it is not set",
                    VarError::NotUnicode(_) => "its value is not valid Unicode",
                };
                match variable_name(name) {
                    Some(name) => write!(f, "cannot read the signing secrets from ${name}: {why}"),
                    None => write!(
                        f,
                        "cannot read the signing secrets: what was given as the variable's name is not one \
                         (pass the name, e.g. \"STRIPE_WEBHOOK_SECRET\", not the value): {why}"
                    ),
                }
            }
            Self::InEnvVar { name, error } => match variable_name(name) {
                Some(name) => write!(f, "${name}: {error}"),
                None => write!(f, "the signing secrets' variable: {error}"),
            },
        }
    }
}

/// `name` as the messages show it, or `None` when it is not a variable name: a value that starts like a key
/// or secret, or has other characters than `A-Z a-z 0-9 _`, is what `from_env(&secret)` passes by mistake,
/// and is not shown.
fn variable_name(name: &str) -> Option<&str> {
    let looks_like_key = KEY_PREFIXES.iter().any(|prefix| {
        name.get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
    });
    let plain = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    (plain && !looks_like_key).then_some(name)
}

/// The `Display` message: what `main` prints for an error it returns. The variants hold nothing secret, but
/// the message is what tells you what to fix.
impl fmt::Debug for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl StdError for SecretError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::InList { error, .. } | Self::InEnvVar { error, .. } => Some(&**error),
            Self::EnvVar { error, .. } => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_cannot_be_a_secret() {
        assert!(matches!(SigningSecret::new(""), Err(SecretError::Empty)));
        assert!(matches!(SigningSecret::new("whsec_"), Err(SecretError::Empty)));
        assert!(matches!(
            SigningSecret::new("whsec_abc\n"),
            Err(SecretError::Whitespace { at: 9 })
        ));
        assert!(matches!(
            SigningSecret::new(" whsec_abc"),
            Err(SecretError::Whitespace { at: 0 })
        ));
        assert!(matches!(
            SigningSecret::new("sk_live_123"),
            Err(SecretError::ApiKey { prefix: "sk_" })
        ));
        assert!(matches!(
            SigningSecret::new("rk_test_123"),
            Err(SecretError::ApiKey { prefix: "rk_" })
        ));
        assert!(matches!(
            SigningSecret::new("pk_test_123"),
            Err(SecretError::ApiKey { prefix: "pk_" })
        ));
        assert!(matches!(
            SigningSecret::new("abc123"),
            Err(SecretError::MissingPrefix)
        ));
        assert!(matches!(
            SigningSecret::new("WHSEC_abc"),
            Err(SecretError::MissingPrefix)
        ));
        assert!(SigningSecret::new("whsec_abc").is_ok());
    }

    #[test]
    fn messages_never_contain_the_value() {
        for value in [
            "whsec_SECRETVALUE\n",
            "sk_live_SECRETVALUE",
            "SECRETVALUE",
            "\"whsec_SECRETVALUE\"",
            "whsec_SECRETVALUE;previous=whsec_SECRETVALUE2",
        ] {
            let err = SigningSecret::new(value).unwrap_err();
            assert!(!err.to_string().contains("SECRETVALUE"), "{err}");
            assert!(!format!("{err:?}").contains("SECRETVALUE"), "{err:?}");
        }
        let err = SigningSecrets::parse("whsec_ok,sk_live_SECRETVALUE").unwrap_err();
        assert!(!err.to_string().contains("SECRETVALUE"));
        assert!(err.to_string().contains("#2"));
        for list in [
            "whsec_SECRETVALUE;previous=whsec_b",
            "current=whsec_SECRETVALUE;previous=whsec_b",
            "whsec_SECRETVALUE=whsec_b",
            "WHSEC_SECRETVALUE=whsec_b",
            "sk_live_SECRETVALUE=whsec_b",
            "SECRET/VALUE=whsec_b",
            &format!("{}=whsec_b", "SECRETVALUE".repeat(7)),
            "current='whsec_SECRETVALUE'",
            "\"current=whsec_SECRETVALUE\"",
            "whsec_SECRETVALUE,whsec_SECRETVALUE",
            "SECRETVALUE=whsec_a,SECRETVALUE=whsec_b",
        ] {
            let err = SigningSecrets::parse(list).unwrap_err();
            assert!(!err.to_string().contains("SECRETVALUE"), "{list}: {err}");
            assert!(!format!("{err:?}").contains("SECRETVALUE"), "{list}: {err:?}");
        }
        let secret = SigningSecret::new("whsec_a").unwrap();
        let err = secret.try_with_label("whsec_SECRETVALUE").unwrap_err();
        assert!(!format!("{err} {err:?}").contains("SECRETVALUE"), "{err}");
    }

    /// The two strings of the review (issue 13): no label that is (part of) a secret, no bogus secret.
    #[test]
    fn semicolons_are_refused_wherever_they_are() {
        for list in [
            "whsec_LIVE;previous=whsec_b",
            "current=whsec_a;previous=whsec_b",
            "whsec_a; whsec_b",
            "whsec_a,;,whsec_b",
        ] {
            let err = SigningSecrets::parse(list).unwrap_err();
            assert!(
                matches!(&err, SecretError::InList { error, .. } if matches!(**error, SecretError::Semicolon)),
                "{list}: {err}"
            );
            assert!(
                err.to_string()
                    .contains("separate secrets with commas or whitespace, not `;`"),
                "{err}"
            );
        }
        // Reported at the item that holds it, before anything else in the list goes wrong.
        assert!(matches!(
            SigningSecrets::parse("sk_live_x whsec_a whsec_b;"),
            Err(SecretError::InList { index: 2, .. })
        ));
        assert!(matches!(
            SigningSecret::new("whsec_a;previous=whsec_b"),
            Err(SecretError::Semicolon)
        ));
    }

    #[test]
    fn label_rules() {
        let label = |label: &str| SigningSecret::new("whsec_a").unwrap().try_with_label(label);
        for ok in [
            "current",
            "previous",
            "a",
            "A-z_0.9",
            &"x".repeat(64),
            "STRIPE_WEBHOOK_SECRET",
            "whsec",
            "sk-1",
            "rk",
        ] {
            assert_eq!(label(ok).unwrap().label(), Some(ok));
        }
        assert!(matches!(label(""), Err(SecretError::EmptyLabel)));
        assert!(matches!(
            label(&"x".repeat(65)),
            Err(SecretError::LabelTooLong { len: 65 })
        ));
        for (bad, at) in [("a b", 1), ("cur/rent", 3), ("é", 0), ("ab:", 2), ("a=b", 1)] {
            assert!(
                matches!(label(bad), Err(SecretError::LabelCharacter { at: found }) if found == at),
                "{bad}"
            );
        }
        for (bad, prefix) in [
            ("whsec_LIVE", "whsec_"),
            ("WHSEC_live", "whsec_"),
            ("Whsec_", "whsec_"),
            ("sk_live_x", "sk_"),
            ("SK_TEST", "sk_"),
            ("rk_live_x", "rk_"),
            ("pk_test_x", "pk_"),
            // Whatever else is wrong with it, a label that could be a secret is reported as one.
            ("whsec_LIVE;previous", "whsec_"),
            (&format!("whsec_{}", "x".repeat(80)), "whsec_"),
        ] {
            assert!(
                matches!(label(bad), Err(SecretError::LabelLooksLikeKey { prefix: found }) if found == prefix),
                "{bad}"
            );
        }
    }

    #[test]
    fn with_label_panics_without_showing_the_label() {
        let panic = std::panic::catch_unwind(|| {
            SigningSecret::new("whsec_a")
                .unwrap()
                .with_label("whsec_SECRETVALUE")
        })
        .unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(message.contains("starts like a Stripe key"), "{message}");
        assert!(!message.contains("SECRETVALUE"), "{message}");
    }

    #[test]
    fn parse_checks_labels() {
        let in_list = |list: &str| match SigningSecrets::parse(list) {
            Err(SecretError::InList { index, error }) => (index, *error),
            other => panic!("{list}: {other:?}"),
        };
        assert!(matches!(
            in_list("whsec_a, whsec_LIVE=whsec_b"),
            (1, SecretError::LabelLooksLikeKey { prefix: "whsec_" })
        ));
        // A secret left of the `=`: the label is what is wrong, not the (empty) value.
        assert!(matches!(
            in_list("whsec_LIVE="),
            (0, SecretError::LabelLooksLikeKey { .. })
        ));
        assert!(matches!(in_list("=whsec_b"), (0, SecretError::EmptyLabel)));
        assert!(matches!(
            in_list("cur:rent=whsec_b"),
            (0, SecretError::LabelCharacter { at: 3 })
        ));
        assert!(matches!(
            in_list(&format!("{}=whsec_b", "x".repeat(65))),
            (0, SecretError::LabelTooLong { len: 65 })
        ));
        let set = SigningSecrets::parse("current=whsec_a previous=whsec_b").unwrap();
        let labels: Vec<_> = set.iter().map(SigningSecret::label).collect();
        assert_eq!(labels, [Some("current"), Some("previous")]);
    }

    #[test]
    fn quotes_get_a_hint() {
        for value in [
            "\"whsec_a\"",
            "'whsec_a'",
            "whsec_a\"",
            "`whsec_a`",
            "\u{201c}whsec_a\u{201d}",
        ] {
            assert!(
                matches!(SigningSecret::new(value), Err(SecretError::Quoted)),
                "{value}"
            );
        }
        for (list, index) in [
            ("\"whsec_a\"", 0),
            ("current=\"whsec_a\"", 0),
            ("\"current=whsec_a\"", 0),
            ("'whsec_a, whsec_b'", 0),
            ("whsec_a, previous='whsec_b'", 1),
        ] {
            let err = SigningSecrets::parse(list).unwrap_err();
            assert!(
                matches!(&err, SecretError::InList { index: found, error } if *found == index && matches!(**error, SecretError::Quoted)),
                "{list}: {err}"
            );
            assert!(err.to_string().contains("in quotes; remove them"), "{err}");
        }
    }

    #[test]
    fn duplicates_are_refused_with_both_positions() {
        let err = SigningSecrets::parse("whsec_a, whsec_b, whsec_a").unwrap_err();
        assert!(
            matches!(err, SecretError::DuplicateSecret { first: 0, second: 2 }),
            "{err}"
        );
        assert!(err.to_string().contains("#1 and #3"), "{err}");
        // Labelled or not, the same secret is the same secret.
        assert!(matches!(
            SigningSecrets::parse("current=whsec_a previous=whsec_a"),
            Err(SecretError::DuplicateSecret { first: 0, second: 1 })
        ));
        let err = SigningSecrets::parse("current=whsec_a, whsec_b, current=whsec_c").unwrap_err();
        assert!(
            matches!(err, SecretError::DuplicateLabel { first: 0, second: 2 }),
            "{err}"
        );
        assert!(err.to_string().contains("#1 and #3"), "{err}");
        // Unlabelled secrets do not share a label; labels differing in case are different labels.
        assert_eq!(
            SigningSecrets::parse("whsec_a whsec_b c=whsec_c C=whsec_d")
                .unwrap()
                .len(),
            4
        );

        let secret = |value: &str, label: Option<&str>| {
            let secret = SigningSecret::new(value).unwrap();
            match label {
                Some(label) => secret.with_label(label),
                None => secret,
            }
        };
        assert!(matches!(
            SigningSecrets::from_secrets([
                secret("whsec_a", Some("x")),
                secret("whsec_b", None),
                secret("whsec_a", Some("y"))
            ]),
            Err(SecretError::DuplicateSecret { first: 0, second: 2 })
        ));
        assert!(matches!(
            SigningSecrets::from_secrets([
                secret("whsec_a", None),
                secret("whsec_b", Some("x")),
                secret("whsec_c", Some("x"))
            ]),
            Err(SecretError::DuplicateLabel { first: 1, second: 2 })
        ));
        // Secrets that differ only at the end, or by a prefix of one another, are different.
        assert!(SigningSecrets::from_secrets([
            secret("whsec_ab", None),
            secret("whsec_ac", None),
            secret("whsec_a", None)
        ])
        .is_ok());
    }

    #[test]
    fn debug_reads_as_display() {
        let errors = [
            SigningSecret::new("").unwrap_err(),
            SigningSecrets::parse("whsec_a;whsec_b").unwrap_err(),
            SigningSecrets::parse("whsec_a whsec_a").unwrap_err(),
            SigningSecrets::from_env("SURELY_UNSET_STRIPE_SECRET_VARIABLE_FOR_DEBUG").unwrap_err(),
        ];
        for err in errors {
            assert_eq!(format!("{err:?}"), err.to_string());
        }
        // What `main` prints for an error it returns.
        let boxed: Box<dyn StdError> = SigningSecrets::parse("whsec_LIVE;previous=whsec_b")
            .unwrap_err()
            .into();
        assert_eq!(
            format!("Error: {boxed:?}"),
            "Error: signing secret #1 of the list: separate secrets with commas or whitespace, not `;` \
             (a signing secret never contains `;`); the format is `whsec_...` or `label=whsec_...`, \
             e.g. `current=whsec_...,previous=whsec_...`"
        );
    }

    /// A value that is not Unicode is neither printed nor kept.
    #[cfg(unix)]
    #[test]
    fn a_value_that_is_not_unicode_is_not_kept() {
        use std::os::unix::ffi::OsStrExt;

        let name = "TOWER_STRIPE_WEBHOOK_TEST_NOT_UNICODE";
        std::env::set_var(name, std::ffi::OsStr::from_bytes(b"whsec_SECRETVALUE\xff"));
        let err = SigningSecrets::from_env(name).unwrap_err();
        std::env::remove_var(name);
        assert!(err.to_string().contains("not valid Unicode"), "{err}");
        let SecretError::EnvVar { error, .. } = &err else {
            panic!("{err}")
        };
        assert!(matches!(error, VarError::NotUnicode(value) if value.is_empty()));
        let source = err.source().unwrap();
        assert!(!format!("{err} {err:?} {source} {source:?}").contains("SECRETVALUE"));
    }

    #[test]
    fn debug_shows_label_and_fingerprint_only() {
        let secret = SigningSecret::new("whsec_SECRETVALUE")
            .unwrap()
            .with_label("current");
        let debug = format!("{secret:?}");
        assert!(!debug.contains("SECRETVALUE"), "{debug}");
        assert!(
            debug.contains("current") && debug.contains(&secret.fingerprint()),
            "{debug}"
        );
        let set = format!("{:?}", SigningSecrets::new(secret));
        assert!(!set.contains("SECRETVALUE"), "{set}");
    }

    #[test]
    fn fingerprint_is_the_start_of_the_sha256() {
        // `printf whsec_test | sha256sum` starts with 609b97b0.
        assert_eq!(
            SigningSecret::new("whsec_test").unwrap().fingerprint(),
            "609b97b0"
        );
    }

    #[test]
    fn parses_lists_with_labels_and_any_separator() {
        let set = SigningSecrets::parse(" whsec_a,\tprevious=whsec_b\n\nwhsec_c ,").unwrap();
        let labels: Vec<_> = set.iter().map(SigningSecret::label).collect();
        assert_eq!(labels, [None, Some("previous"), None]);
        assert!(matches!(
            SigningSecrets::parse(" , \n"),
            Err(SecretError::NoSecrets)
        ));
        // An empty label is a mistake (`$LABEL=whsec_...` with `LABEL` unset?), not "no label".
        assert!(matches!(
            SigningSecrets::parse("whsec_a,=whsec_b"),
            Err(SecretError::InList { index: 1, error }) if matches!(*error, SecretError::EmptyLabel)
        ));
    }

    #[test]
    fn precomputed_state_gives_the_plain_hmac() {
        let secret = SigningSecret::new("whsec_key").unwrap();
        let mut plain = HmacSha256::new_from_slice(b"whsec_key").unwrap();
        plain.update(b"123.{\"a\":1}");
        let expected: [u8; 32] = plain.finalize().into_bytes().into();
        assert_eq!(secret.mac(&[b"1", b"23"], b"{\"a\":1}"), expected);
    }
}
