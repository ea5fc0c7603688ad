#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code, unreachable_pub)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

mod error;
mod event;
mod header;
mod secret;
mod sign;
mod verify;

pub use error::{Error, ErrorKind};
pub use event::{Event, InvalidEvent};
pub use header::{MalformedHeader, SignatureHeader};
pub use secret::{SecretError, SigningSecret, SigningSecrets};
pub use sign::{compute_signature, generate_test_header};
pub use verify::{Clock, SystemClock, Verified, Verifier, DEFAULT_TOLERANCE, STRIPE_SIGNATURE};
