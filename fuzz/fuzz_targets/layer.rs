//! The layer on arbitrary requests, chunkings, lengths and limits.
//! The properties are stated with the function: `tower_stripe_webhook_fuzz::layer_target`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tower_stripe_webhook_fuzz::layer_target(data));
