//! Properties of the verification, for any input (proptest): what signs verifies, and nothing else does.
//!
//! * sign then verify round-trips for any body, any timestamp within the tolerance and any secret set;
//! * flipping, inserting or deleting any byte of the body or of the header is rejected, unless the header
//!   still carries the same timestamp and the same signature (a leading zero, an ignored item);
//! * the right HMAC under a secret that is not configured is rejected;
//! * empty, short, long, non-hex and uppercase `v1` values are never accepted;
//! * timestamp and tolerance arithmetic is exact and never overflows, for any `t` (any number of digits)
//!   and any `now` and tolerance (tests run with overflow checks on).

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz;

use std::time::Duration;

use proptest::prelude::*;
use tower_stripe_webhook::{
    compute_signature, generate_test_header, ErrorKind, MalformedHeader, SignatureHeader, SigningSecret,
    SigningSecrets, Verifier,
};

const NOW: i64 = 1_800_000_000;

fn secret_text() -> impl Strategy<Value = String> {
    "whsec_[A-Za-z0-9]{1,48}"
}

fn secret(text: &str) -> SigningSecret {
    SigningSecret::new(text).expect("the strategy makes valid secrets")
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..2048)
}

/// The byte edits the mutation properties apply.
#[derive(Clone, Debug)]
enum Edit {
    Flip { at: usize, bit: u8 },
    Insert { at: usize, byte: u8 },
    Delete { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Edit::Flip { at, bit }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Insert { at, byte }),
        any::<usize>().prop_map(|at| Edit::Delete { at }),
    ]
}

impl Edit {
    fn apply(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let mut out = bytes.to_vec();
        match *self {
            Edit::Flip { at, bit } => *out.get_mut(at.checked_rem(bytes.len())?)? ^= 1 << bit,
            Edit::Insert { at, byte } => out.insert(at % (bytes.len() + 1), byte),
            Edit::Delete { at } => {
                out.remove(at.checked_rem(bytes.len())?);
            }
        }
        Some(out)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn what_is_signed_verifies(
        body in body(),
        secrets in prop::collection::vec(secret_text(), 1..4),
        signer in any::<prop::sample::Index>(),
        age in -10_000i64..=300,
    ) {
        // A list names each secret once (`from_secrets` refuses a repeat): keep the first of each.
        let mut secrets = secrets;
        let mut seen = std::collections::HashSet::new();
        secrets.retain(|s| seen.insert(s.clone()));
        let set = SigningSecrets::from_secrets(secrets.iter().map(|s| secret(s))).unwrap();
        let signer = signer.index(secrets.len());
        let t = NOW - age;
        let header = generate_test_header(&body, &secret(&secrets[signer]), Some(t));
        let verified = Verifier::new(set).verify_at(&header, &body, NOW).unwrap();
        // The first configured secret equal to the signer's matches.
        let first = secrets.iter().position(|s| *s == secrets[signer]).unwrap();
        prop_assert_eq!(verified.secret_index(), first);
        prop_assert_eq!(verified.timestamp(), t);
        prop_assert_eq!(verified.age(), age);
        prop_assert_eq!(verified.clock_skew(), (age < -300).then(|| age.unsigned_abs()));
    }

    #[test]
    fn any_edit_of_the_body_is_rejected(body in body(), secret_text in secret_text(), edit in edit()) {
        let Some(edited) = edit.apply(&body) else { return Ok(()) };
        prop_assume!(edited != body);
        let header = generate_test_header(&body, &secret(&secret_text), Some(NOW));
        let error = Verifier::new(secret(&secret_text)).verify_at(&header, &edited, NOW).unwrap_err();
        prop_assert!(
            matches!(error.kind(), ErrorKind::NoMatchingSignature { signatures: 1, secrets: 1 }),
            "{:?}", error
        );
    }

    /// An edited header verifies only if it still says the same timestamp and still carries the signature
    /// unchanged as a `v1` value: nothing else about it can make a forgery pass.
    #[test]
    fn an_edited_header_verifies_only_with_the_same_timestamp_and_signature(
        body in body(),
        secret_text in secret_text(),
        t in 0i64..=NOW,
        extra in prop::sample::select(vec!["", ",v0=abc", ",v1=00", ",x=1,v1=deadbeef"]),
        edit in edit(),
    ) {
        let signature = compute_signature(&body, &secret(&secret_text), t);
        let header = format!("t={t},v1={signature}{extra}");
        let Some(edited) = edit.apply(header.as_bytes()) else { return Ok(()) };
        let verifier = Verifier::new(secret(&secret_text)).insecure_skip_timestamp_check();
        if verifier.verify_at(&edited, &body, NOW).is_ok() {
            let parsed = SignatureHeader::parse(&edited).unwrap();
            prop_assert_eq!(parsed.timestamp(), t);
            prop_assert!(parsed.signatures().any(|v1| v1 == signature.as_bytes()));
        }
    }

    #[test]
    fn the_right_hmac_under_another_secret_is_rejected(
        body in body(),
        configured in prop::collection::vec(secret_text(), 1..4),
        other in secret_text(),
    ) {
        prop_assume!(!configured.contains(&other));
        // A list names each secret once (`from_secrets` refuses a repeat): keep the first of each.
        let mut configured = configured;
        let mut seen = std::collections::HashSet::new();
        configured.retain(|s| seen.insert(s.clone()));
        let set = SigningSecrets::from_secrets(configured.iter().map(|s| secret(s))).unwrap();
        let header = generate_test_header(&body, &secret(&other), Some(NOW));
        let error = Verifier::new(set).verify_at(&header, &body, NOW).unwrap_err();
        prop_assert_eq!(
            error.kind(),
            &ErrorKind::NoMatchingSignature { signatures: 1, secrets: configured.len() }
        );
    }

    /// Prefixes of the right signature (the empty one too), the right one with anything appended, its
    /// uppercase form, and arbitrary text: never accepted, next to other candidates or alone.
    #[test]
    fn wrong_v1_values_are_never_accepted(
        body in body(),
        secret_text in secret_text(),
        cut in 0usize..64,
        suffix in "[0-9a-fA-F=x ]{1,8}",
        arbitrary in "[^,=]{0,80}",
        position in 0usize..3,
    ) {
        let right = compute_signature(&body, &secret(&secret_text), NOW);
        let verifier = Verifier::new(secret(&secret_text)).clock(|| NOW);
        let wrong = [
            right[..cut].to_string(),
            format!("{right}{suffix}"),
            right.to_uppercase(),
            arbitrary.clone(),
            format!(" {right}"),
        ];
        for candidate in wrong {
            if candidate == right || (candidate.starts_with(&right) && candidate[64..].starts_with('=')) {
                // `v1=<sig>=junk` carries `<sig>` in every SDK; the value itself is then right.
                continue;
            }
            let mut items = vec!["v1=0000".to_string(), "v0=ff".to_string()];
            items.insert(position.min(items.len()), format!("v1={candidate}"));
            let header = format!("t={NOW},{}", items.join(","));
            let error = verifier.verify(&header, &body).unwrap_err();
            prop_assert!(
                matches!(
                    error.kind(),
                    ErrorKind::NoMatchingSignature { .. }
                        | ErrorKind::MalformedHeader(MalformedHeader::NonAsciiSignature)
                ),
                "{:?} for {:?}", error, header
            );
        }
    }

    /// Any `t` that fits 128 bits (written with any sign and leading zeros), any clock and any tolerance:
    /// no overflow, and the verdict is exactly the age compared with the tolerance in exact arithmetic.
    #[test]
    fn timestamp_arithmetic_is_exact_and_never_overflows(
        t in any::<i128>(),
        zeros in 0usize..3,
        plus in any::<bool>(),
        now in any::<i64>(),
        tolerance in prop_oneof![any::<u64>(), 0u64..1000, Just(u64::MAX)],
        reject_future in any::<bool>(),
        skip in any::<bool>(),
    ) {
        prop_assume!(t != i128::MIN); // the magnitude must fit: the crate is exact to ±(2^127 - 1)
        let secret_text = "whsec_overflow";
        let body = b"{}";
        let sign = if t < 0 { "-" } else if plus { "+" } else { "" };
        let header = format!(
            "t={sign}{}{},v1={}",
            "0".repeat(zeros),
            t.unsigned_abs(),
            fuzz::signature(secret_text, t, body)
        );
        let mut verifier = Verifier::new(secret(secret_text)).tolerance(Duration::from_secs(tolerance));
        if reject_future {
            verifier = verifier.reject_future_timestamps();
        }
        if skip {
            verifier = verifier.insecure_skip_timestamp_check();
        }
        let got = verifier.verify_at(&header, body, now);
        let age = i128::from(now) - t;
        let limit = i128::from(tolerance);
        let clamp = |v: i128| v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        let saturate = |v: i128| u64::try_from(v).unwrap_or(u64::MAX);
        match got {
            Ok(verified) => {
                prop_assert!(skip || age <= limit);
                prop_assert!(skip || !reject_future || -age <= limit);
                prop_assert_eq!(verified.age(), clamp(age));
                prop_assert_eq!(verified.timestamp(), clamp(t));
                prop_assert_eq!(verified.clock_skew(), (!skip && -age > limit).then(|| saturate(-age)));
            }
            Err(error) => match error.kind() {
                ErrorKind::TimestampTooOld { age: reported, tolerance: reported_tolerance } => {
                    prop_assert!(!skip && age > limit);
                    prop_assert_eq!((*reported, *reported_tolerance), (saturate(age), tolerance));
                }
                ErrorKind::TimestampTooNew { ahead, tolerance: reported_tolerance } => {
                    prop_assert!(!skip && reject_future && -age > limit);
                    prop_assert_eq!((*ahead, *reported_tolerance), (saturate(-age), tolerance));
                }
                other => prop_assert!(false, "{:?} for {}", other, header),
            },
        }
    }

    /// Timestamps too long for 128 bits are refused as such, never wrapped or truncated.
    #[test]
    fn timestamps_beyond_128_bits_are_out_of_range(digits in "[1-9][0-9]{39,60}", negative in any::<bool>()) {
        let sign = if negative { "-" } else { "" };
        let header = format!("t={sign}{digits},v1=00");
        let error = SignatureHeader::parse(header.as_bytes()).unwrap_err();
        prop_assert_eq!(error.kind(), &ErrorKind::MalformedHeader(MalformedHeader::TimestampOutOfRange));
    }
}
