//! The envelope reader on verified (signed) arbitrary bytes.
//! The properties are stated with the function: `tower_stripe_webhook_fuzz::envelope_target`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tower_stripe_webhook_fuzz::envelope_target(data));
