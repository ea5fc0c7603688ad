//! The whole verification: arbitrary secrets, settings, header and body.
//! The properties are stated with the function: `tower_stripe_webhook_fuzz::verify_target`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tower_stripe_webhook_fuzz::verify_target(data));
