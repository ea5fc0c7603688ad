//! The whole verification: arbitrary secrets, settings, header and body (see `Case` for the format; the
//! header's `#k` markers become real signatures, so accepting paths run too).
//!
//! Properties: it never panics; the verdict, the rejection reason and the secret that matched are exactly
//! the model's, which computes the HMAC from scratch with `hmac` and compares `v1` values as plain bytes.
//! So a header verifies only if it carries the HMAC of this body, at its `t`, under a configured secret,
//! within the tolerance. What an accepted verification reports (age, clock skew) is exact, whatever `t`
//! and `now` are.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_stripe_webhook_fuzz::{check_header, check_verdict, verdict, Case};

fuzz_target!(|data: &[u8]| {
    let Some(case) = Case::parse(data) else { return };
    let verifier = case.verifier();
    let got = verifier.verify(&case.header, case.body);
    let want = verdict(&case.secrets, &case.header, case.body, &case.settings);
    check_verdict(&got, &want, &case);
    if let Ok(verified) = &got {
        let (t, _) = check_header(&case.header).expect("verified, so parsed");
        let age = i128::from(case.settings.now) - t;
        let clamp = |v: i128| v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        assert_eq!(verified.age(), clamp(age));
        assert_eq!(verified.timestamp(), clamp(t));
        let skew = match case.settings.tolerance {
            Some(tolerance) if -age > i128::from(tolerance) => Some(u64::try_from(-age).unwrap_or(u64::MAX)),
            _ => None,
        };
        assert_eq!(verified.clock_skew(), skew);
    }
});
