//! The verification core on its own: sign an event as Stripe would, verify it, and show what a tampered
//! body, a wrong secret, a stale timestamp and a missing signature get.
//!
//! ```sh
//! cargo run --example verify
//! STRIPE_WEBHOOK_SECRET=whsec_... cargo run --example verify
//! ```

use bytes::Bytes;
use tower_stripe_webhook::{generate_test_header, SigningSecret, SigningSecrets, Verifier};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secrets = match std::env::var("STRIPE_WEBHOOK_SECRET") {
        Ok(_) => SigningSecrets::from_env("STRIPE_WEBHOOK_SECRET")?,
        Err(_) => {
            SigningSecrets::new(SigningSecret::new("whsec_demo_only_not_a_real_secret")?.with_label("demo"))
        }
    };
    let signer = secrets.get(0).expect("a set holds at least one secret").clone();
    let verifier = Verifier::new(secrets);
    println!("configured: {:?}\n", verifier.secrets());

    let body = Bytes::from_static(
        br#"{"id":"evt_demo","object":"event","api_version":"2025-01-27.acacia","created":1700000000,"data":{"object":{"id":"in_1","object":"invoice","amount_paid":1999}},"livemode":false,"pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":"invoice.paid"}"#,
    );
    let header = generate_test_header(&body, &signer, None);

    match verifier.verify_event(header.as_bytes(), body.clone()) {
        Ok((event, verified)) => println!(
            "signed event:      accepted: {} {} (secret #{} {:?}, {} s old)",
            event.event_type(),
            event.id(),
            verified.secret_index(),
            verified.secret_label(),
            verified.age()
        ),
        Err(error) => println!("signed event:      rejected: {error}"),
    }

    let tampered = body
        .iter()
        .map(|&b| if b == b'9' { b'0' } else { b })
        .collect::<Vec<_>>();
    report("tampered body", verifier.verify(&header, &tampered).map(drop));

    let other = SigningSecret::new("whsec_some_other_endpoint")?;
    report(
        "wrong secret",
        verifier
            .verify(generate_test_header(&body, &other, None), &body)
            .map(drop),
    );

    let stale = generate_test_header(&body, &signer, Some(verifier.now() - 3600));
    report("an hour old", verifier.verify(&stale, &body).map(drop));

    report(
        "no signature",
        verifier.verify_headers(&http::HeaderMap::new(), &body).map(drop),
    );
    Ok(())
}

fn report(what: &str, result: Result<(), tower_stripe_webhook::Error>) {
    match result {
        Ok(()) => println!("{what:<18} accepted"),
        Err(error) => println!("{what:<18} rejected [{}]: {error}", error.code()),
    }
}
