//! The `Stripe-Signature` parser on arbitrary bytes.
//!
//! Properties: it never panics; it agrees with the model grammar (`fuzz/src/lib.rs`) on the verdict, the
//! rejection reason, the timestamp and every `v1` value in order; and it is deterministic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_stripe_webhook::SignatureHeader;

fuzz_target!(|data: &[u8]| {
    let first = tower_stripe_webhook_fuzz::check_header(data);
    // Parsing again gives the same header (the parser keeps no state between calls).
    let again = SignatureHeader::parse(data).ok();
    assert_eq!(first.is_some(), again.is_some());
});
