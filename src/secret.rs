//! Webhook signing secrets: one endpoint secret, and the ordered set the verifier tries.
//!
//! A Stripe signing secret is the whole `whsec_...` string: its UTF-8 bytes, prefix included, are the
//! HMAC-SHA256 key (no SDK base64-decodes it). Each [`SigningSecret`] computes the keyed HMAC state once, at
//! construction, so no request pays the key schedule, and it keeps nothing else of the secret: its `Debug`
//! shows only a label and a short fingerprint.

use std::{error::Error as StdError, fmt, sync::Arc};

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
    /// The label is reported with every verification ([`Verified::secret_label`](crate::Verified::secret_label)),
    /// so you can watch which secret deliveries match and finish a rotation.
    ///
    /// ```
    /// # use tower_stripe_webhook::SigningSecret;
    /// let connect = SigningSecret::new("whsec_connect_example")?.with_label("connect");
    /// assert_eq!(connect.label(), Some("connect"));
    /// # Ok::<(), tower_stripe_webhook::SecretError>(())
    /// ```
    #[must_use]
    pub fn with_label(mut self, label: impl Into<Arc<str>>) -> Self {
        self.label = Some(label.into());
        self
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
    if let Some((at, _)) = secret.char_indices().find(|(_, c)| c.is_whitespace()) {
        return Err(SecretError::Whitespace { at });
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
    pub fn new(secret: SigningSecret) -> Self {
        Self {
            secrets: vec![secret],
        }
    }

    /// Adds a secret after the ones already present.
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

    /// Builds a set from any list of secrets.
    ///
    /// # Errors
    ///
    /// [`SecretError::NoSecrets`] when the list is empty.
    ///
    /// ```
    /// # use tower_stripe_webhook::{SigningSecret, SigningSecrets};
    /// let set = SigningSecrets::from_secrets(["whsec_a", "whsec_b"].map(|s| SigningSecret::new(s).unwrap()))?;
    /// assert_eq!(set.len(), 2);
    /// assert!(SigningSecrets::from_secrets(Vec::new()).is_err());
    /// # Ok::<(), tower_stripe_webhook::SecretError>(())
    /// ```
    pub fn from_secrets(secrets: impl IntoIterator<Item = SigningSecret>) -> Result<Self, SecretError> {
        let secrets: Vec<_> = secrets.into_iter().collect();
        if secrets.is_empty() {
            return Err(SecretError::NoSecrets);
        }
        Ok(Self { secrets })
    }

    /// Parses one or several secrets separated by commas and/or whitespace, each optionally labelled
    /// `label=whsec_...`.
    ///
    /// Separators are whitespace too, so a trailing newline in an env file is harmless here (unlike in
    /// [`SigningSecret::new`], where it would be part of the key).
    ///
    /// # Errors
    ///
    /// The first secret that is refused (with its position), or [`SecretError::NoSecrets`].
    ///
    /// ```
    /// # use tower_stripe_webhook::SigningSecrets;
    /// let set = SigningSecrets::parse("whsec_platform_secret\nconnect=whsec_connect_secret\n")?;
    /// assert_eq!(set.len(), 2);
    /// assert_eq!(set.get(1).and_then(|s| s.label()), Some("connect"));
    ///
    /// let err = SigningSecrets::parse("whsec_ok, sk_live_oops").unwrap_err();
    /// assert!(err.to_string().contains("API key"));
    /// # Ok::<(), tower_stripe_webhook::SecretError>(())
    /// ```
    pub fn parse(list: &str) -> Result<Self, SecretError> {
        let mut secrets = Vec::new();
        for (index, item) in list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|item| !item.is_empty())
            .enumerate()
        {
            let (label, value) = match item.split_once('=') {
                Some((label, value)) => (Some(label), value),
                None => (None, item),
            };
            let label = label.filter(|label| !label.is_empty());
            let secret = SigningSecret::new(value).map_err(|error| SecretError::InList {
                index,
                error: Box::new(error),
            })?;
            secrets.push(match label {
                Some(label) => secret.with_label(label),
                None => secret,
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
            error,
        })?;
        Self::parse(&value).map_err(|error| SecretError::InEnvVar {
            name: name.to_owned(),
            error: Box::new(error),
        })
    }

    /// How many secrets the set holds (at least one).
    #[allow(clippy::len_without_is_empty)] // never empty by construction
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// The secret at `index`, in configuration order.
    pub fn get(&self, index: usize) -> Option<&SigningSecret> {
        self.secrets.get(index)
    }

    /// The secrets, in configuration order.
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
/// The messages never contain the value.
#[derive(Debug)]
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
    /// A list held no secret.
    NoSecrets,
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
        /// Why it could not be read.
        error: std::env::VarError,
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
            Self::NoSecrets => f.write_str("no webhook signing secret was configured"),
            Self::InList { index, error } => write!(f, "signing secret #{} of the list: {error}", index + 1),
            Self::EnvVar { name, error } => {
                write!(f, "cannot read the signing secrets from ${name}: {error}")
            }
            Self::InEnvVar { name, error } => write!(f, "${name}: {error}"),
        }
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
        for value in ["whsec_SECRETVALUE\n", "sk_live_SECRETVALUE", "SECRETVALUE"] {
            let err = SigningSecret::new(value).unwrap_err();
            assert!(!err.to_string().contains("SECRETVALUE"), "{err}");
            assert!(!format!("{err:?}").contains("SECRETVALUE"), "{err:?}");
        }
        let err = SigningSecrets::parse("whsec_ok,sk_live_SECRETVALUE").unwrap_err();
        assert!(!err.to_string().contains("SECRETVALUE"));
        assert!(err.to_string().contains("#2"));
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
        assert!(matches!(
            SigningSecrets::parse("whsec_a,=whsec_b"),
            Ok(set) if set.get(1).unwrap().label().is_none()
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
