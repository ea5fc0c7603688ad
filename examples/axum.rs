//! The demo, and a template to copy: an axum app with a webhook route for snapshot events and one for
//! thin event notifications, each behind its own `StripeSignatureLayer` and an `IdempotencyLayer`, a
//! Prometheus `GET /metrics`, and a health check that no layer guards.
//!
//! ```sh
//! cargo run --example axum --features axum,tracing,metrics                 # serve, print commands to paste
//! cargo run --example axum --features axum,tracing,metrics -- --self-test  # send itself deliveries, exit
//! STRIPE_WEBHOOK_SECRET=whsec_... STRIPE_THIN_WEBHOOK_SECRET=whsec_... PORT=4242 \
//!     cargo run --example axum --features axum,tracing,metrics
//! ```
//!
//! Serves on `127.0.0.1:${PORT:-3000}`:
//! * `POST /webhook`: snapshot events, with the secret(s) of `STRIPE_WEBHOOK_SECRET`;
//! * `POST /webhook/thin`: thin event notifications, with the secret(s) of `STRIPE_THIN_WEBHOOK_SECRET`;
//! * `GET /metrics`: the crate's metrics in Prometheus's text format;
//! * `GET /health`: not guarded.
//!
//! Each variable holds one secret or several (`current=whsec_...,previous=whsec_...`); when one is unset
//! the demo generates a secret for it and prints it. `BODY_LIMIT` sets the body limit in bytes (1 MiB by
//! default). An `x-request-id` request header is copied onto the response, rejections included, to match
//! a delivery with its log line.
//!
//! Each event's handler runs to success once: a delivery of an event already handled is answered 200 with
//! `Idempotent-Replayed: true` without reaching the handler. `WEBHOOK_STORE` says where handled events are
//! recorded: unset for this process's memory; `redis://...` or `postgres://...` for a store that every
//! instance shares (with the cargo feature `redis` or `postgres`). Each run of a handler prints
//! `handled event <id>`. A rejected signature's body says why it did not match, when that can be told
//! (`Diagnose`), which the Stripe Dashboard shows beside the failed delivery.

use std::{net::SocketAddr, time::Duration};

use axum::{
    body::Body,
    http::{HeaderName, Method, StatusCode},
    routing::{get, post},
    Router,
};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Deserialize;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceBuilder;
use tower_http::{propagate_header::PropagateHeaderLayer, timeout::TimeoutLayer};
use tower_stripe_webhook::{
    test_helpers::{SignedRequest, TestEvent, TestNotification},
    Accept, Diagnose, Event, EventNotification, IdempotencyLayer, IdempotencyStore, MemoryStore,
    SigningSecret, SigningSecrets, StripeSignatureLayer, Verified, IDEMPOTENT_REPLAYED, STRIPE_SIGNATURE,
};

/// How long a handler may run: shorter than the idempotency lease (5 minutes by default), so that a stuck
/// handler is cut off (503, its claim released, Stripe retries) before another delivery could take over.
const HANDLER_TIMEOUT: Duration = Duration::from_secs(30);

/// The fields of `data.object` this demo uses; everything else in the object is ignored.
#[derive(Deserialize)]
struct Invoice {
    id: String,
    amount_paid: i64,
    customer: Option<String>,
}

#[derive(Deserialize)]
struct Subscription {
    id: String,
    customer: String,
}

/// Snapshot events: the layer verified the signature and parsed the envelope.
async fn webhook(event: Event, verified: Verified) -> Result<&'static str, (StatusCode, String)> {
    // One line per run, so that a script can count the runs across processes sharing a store.
    println!("handled event {}", event.id());
    let bad_object = |error: serde_json::Error| (StatusCode::UNPROCESSABLE_ENTITY, error.to_string());
    match event.event_type() {
        "invoice.paid" => {
            let invoice: Invoice = event.data_object().map_err(bad_object)?;
            println!(
                "invoice {} paid: {} cents by {:?}",
                invoice.id, invoice.amount_paid, invoice.customer
            );
        }
        "customer.subscription.deleted" => {
            let subscription: Subscription = event.data_object().map_err(bad_object)?;
            println!(
                "subscription {} of {} ended: revoke access",
                subscription.id, subscription.customer
            );
        }
        other => println!("{} {other}: not handled here, acknowledged", event.id()),
    }
    if verified.secret_index() > 0 {
        println!(
            "  (matched secret {:?}: finish the rotation)",
            verified.secret_label()
        );
    }
    Ok("ok")
}

/// Thin event notifications: an id, a type and what they are about; fetch the full event with your
/// own Stripe client (`GET /v2/core/events/{id}`, with `Stripe-Context: {context}` when there is one).
async fn thin_webhook(notification: EventNotification) -> &'static str {
    println!("handled event {}", notification.id());
    let about = notification
        .related_object()
        .map(|object| {
            let (kind, id) = (object.object_type.unwrap_or("?"), object.id.unwrap_or("?"));
            format!(" about {kind} {id}")
        })
        .unwrap_or_default();
    println!(
        "thin {} {}{about}: fetch it with GET /v2/core/events/{}",
        notification.event_type(),
        notification.id(),
        notification.id()
    );
    "ok"
}

/// The webhook routes, with handled events recorded in `store`. On each route, from the outside in: the
/// signature is verified, the event is claimed in the store (a duplicate is answered without reaching the
/// handler), and the handler's time is bounded.
fn webhooks<St: IdempotencyStore>(
    store: St,
    snapshot: StripeSignatureLayer,
    thin: StripeSignatureLayer,
) -> Router {
    let guard = |signature: StripeSignatureLayer, namespace: &str| {
        ServiceBuilder::new()
            .layer(signature)
            // A namespace per endpoint: one store can serve several.
            .layer(IdempotencyLayer::new(store.clone()).namespace(namespace))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                HANDLER_TIMEOUT,
            ))
    };
    // `route_layer`, not `Router::layer`: an unknown path gets 404 and a `GET /webhook` gets 405, as
    // without the layers (with `.layer`, both would be a 400).
    Router::new()
        .route("/webhook", post(webhook).route_layer(guard(snapshot, "snapshot")))
        .route(
            "/webhook/thin",
            post(thin_webhook).route_layer(guard(thin, "thin")),
        )
}

/// The webhook routes with the store `WEBHOOK_STORE` names (`url`): unset or `memory` for this process's
/// memory, else a Redis or PostgreSQL URL. The error is a message for the operator; it never repeats the
/// URL, which may hold a password.
async fn webhooks_for_store(
    url: Option<&str>,
    snapshot: StripeSignatureLayer,
    thin: StripeSignatureLayer,
) -> Result<Router, String> {
    let scheme = url.map(|url| url.split_once("://").map_or(url, |(scheme, _)| scheme));
    let needs = |feature: &str| {
        format!(
            "WEBHOOK_STORE is a {feature} URL: the {feature} store needs the cargo feature `{feature}` \
             (cargo run --example axum --features axum,tracing,metrics,{feature})"
        )
    };
    // The messages never repeat the URL: it may hold a password.
    let _ = &needs;
    match (scheme, url) {
        (None | Some("memory"), _) => Ok(webhooks(MemoryStore::new(), snapshot, thin)),
        #[cfg(feature = "redis")]
        (Some("redis" | "rediss"), Some(url)) => {
            let client =
                redis::Client::open(url).map_err(|_| "WEBHOOK_STORE is not a valid redis URL".to_owned())?;
            let store = tower_stripe_webhook::RedisStore::connect(client)
                .await
                .map_err(|error| format!("cannot reach the redis store: {error}"))?;
            Ok(webhooks(store, snapshot, thin))
        }
        #[cfg(not(feature = "redis"))]
        (Some("redis" | "rediss"), _) => Err(needs("redis")),
        #[cfg(feature = "postgres")]
        (Some("postgres" | "postgresql"), Some(url)) => {
            use deadpool_postgres::{tokio_postgres, Manager, Pool};
            let config: tokio_postgres::Config = url
                .parse()
                .map_err(|_| "WEBHOOK_STORE is not a valid postgres URL".to_owned())?;
            let pool = Pool::builder(Manager::new(config, tokio_postgres::NoTls))
                .build()
                .map_err(|error| format!("cannot build the postgres pool: {error}"))?;
            let store = tower_stripe_webhook::PostgresStore::new(pool);
            // Creates the table if it is not there yet.
            store
                .migrate()
                .await
                .map_err(|error| format!("cannot reach the postgres store: {error}"))?;
            Ok(webhooks(store, snapshot, thin))
        }
        #[cfg(not(feature = "postgres"))]
        (Some("postgres" | "postgresql"), _) => Err(needs("postgres")),
        (Some(other), _) => Err(format!(
            "WEBHOOK_STORE: unknown store `{other}`: leave it unset (memory), or give a redis:// or \
             postgres:// URL"
        )),
    }
}

/// The whole app: the webhook routes, `/metrics` and `/health`.
fn app(webhooks: Router, metrics: PrometheusHandle) -> Router {
    webhooks
        // Prometheus scrapes this; serve it on an internal port or keep it from the internet in production.
        .route("/metrics", get(move || std::future::ready(metrics.render())))
        .route("/health", get(|| async { "ok" }))
        // Outside the verification, so that rejections carry it too.
        .layer(PropagateHeaderLayer::new(HeaderName::from_static("x-request-id")))
}

/// Records the crate's metrics (feature `metrics`) for `GET /metrics`.
fn prometheus() -> Result<PrometheusHandle, Box<dyn std::error::Error>> {
    let handle = PrometheusBuilder::new().install_recorder()?;
    // The recorder keeps histogram samples until this upkeep folds them in.
    let upkeep = handle.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

/// The secrets of `name`, or a generated demo secret when it is unset.
fn secrets(name: &str, label: &str) -> Result<SigningSecrets, Box<dyn std::error::Error>> {
    if std::env::var_os(name).is_some() {
        return Ok(SigningSecrets::from_env(name)?);
    }
    let secret = demo_secret();
    println!("{name} is unset; using a generated demo secret: {secret}");
    Ok(SigningSecret::new(&secret)?.with_label(label).into())
}

/// A fresh demo secret, `whsec_demo_` + 32 random hex digits (std's randomly keyed hasher as the source).
fn demo_secret() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::from("whsec_demo_");
    for _ in 0..2 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(0);
        out.push_str(&format!("{:016x}", hasher.finish()));
    }
    out
}

/// What a route was configured with: enough to tell, from the log alone, which secrets are loaded.
fn describe(route: &str, layer: &StripeSignatureLayer, body_limit: usize) {
    let verifier = layer.verifier();
    let secrets = verifier.secrets();
    let tolerance = verifier
        .tolerance_secs()
        .map_or_else(|| "off".to_owned(), |secs| format!("{secs} s"));
    println!(
        "{route}: {} secret(s), tolerance {tolerance}, body limit {body_limit} bytes",
        secrets.len()
    );
    for (index, secret) in secrets.iter().enumerate() {
        println!(
            "  #{index} {:<10} fingerprint {}",
            secret.label().unwrap_or("(no label)"),
            secret.fingerprint()
        );
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let self_test = std::env::args().any(|arg| arg == "--self-test");
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_target(false)
        .init();

    let body_limit = std::env::var("BODY_LIMIT")
        .ok()
        .and_then(|limit| limit.parse().ok())
        .unwrap_or(tower_stripe_webhook::DEFAULT_BODY_LIMIT);
    let snapshot_secrets = secrets("STRIPE_WEBHOOK_SECRET", "demo")?;
    let thin_secrets = secrets("STRIPE_THIN_WEBHOOK_SECRET", "demo-thin")?;
    let snapshot_signer = snapshot_secrets.get(0).cloned().expect("at least one secret");
    let thin_signer = thin_secrets.get(0).cloned().expect("at least one secret");
    // `in_response`: a rejection's body says why the signature did not match, when that can be told
    // (newlines converted, JSON re-serialized, ...); the Stripe Dashboard shows it beside the delivery.
    // `Diagnose::with_secret` adds a secret that never accepts a delivery, only explains one (test mode's).
    let snapshot = StripeSignatureLayer::new(snapshot_secrets)
        .tolerance(Duration::from_secs(300))
        .body_limit(body_limit)
        .diagnose(Diagnose::new().in_response());
    let thin = StripeSignatureLayer::new(thin_secrets)
        .accept(Accept::ThinEvents)
        .body_limit(body_limit)
        .diagnose(Diagnose::new().in_response());
    describe("POST /webhook (snapshot events)", &snapshot, body_limit);
    describe("POST /webhook/thin (thin events)", &thin, body_limit);
    let store = std::env::var("WEBHOOK_STORE").ok();
    let webhooks = match webhooks_for_store(store.as_deref(), snapshot, thin).await {
        Ok(webhooks) => webhooks,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    };
    println!(
        "handled events recorded in {}\n",
        store
            .as_deref()
            .map_or("this process's memory", |_| "WEBHOOK_STORE")
    );

    let port: u16 = if self_test {
        0
    } else {
        std::env::var("PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(3000)
    };
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let router = app(webhooks, prometheus()?);
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    if self_test {
        let outcome = run_self_test(addr, &snapshot_signer, &thin_signer).await;
        server.abort();
        return outcome;
    }

    // One line, so that the command below sends exactly the bytes that were signed.
    let payload = sample_event().to_json().replace('\n', "");
    let signed = SignedRequest::new(payload.clone(), &snapshot_signer);
    println!("listening on http://{addr}/webhook and http://{addr}/webhook/thin\n");
    println!("Send a signed test event (signed now, so it verifies for 5 minutes):\n");
    println!(
        "  curl -i http://{addr}/webhook -H 'stripe-signature: {}' --data-binary '{payload}'\n",
        signed.signature_header()
    );
    println!("Or forward real test-mode events with the Stripe CLI:\n");
    println!("  stripe listen --forward-to {addr}/webhook \\");
    println!(
        "    --forward-thin-to {addr}/webhook/thin --thin-events v1.billing.meter.error_report_triggered\n"
    );
    println!(
        "It prints \"Your webhook signing secret is whsec_...\": until this demo uses that secret, every"
    );
    println!("delivery is refused with no_matching_signature. Stop the demo and start it again with it:\n");
    println!("  STRIPE_WEBHOOK_SECRET=whsec_... STRIPE_THIN_WEBHOOK_SECRET=whsec_... \\");
    println!("    cargo run --example axum --features axum,tracing,metrics\n");
    server.await??;
    Ok(())
}

fn sample_event() -> TestEvent {
    TestEvent::new(
        "invoice.paid",
        serde_json::json!({"id": "in_demo_1", "object": "invoice", "amount_paid": 1999, "customer": "cus_demo"}),
    )
    .id("evt_demo_1")
}

/// Sends the server an event twice, a tampered event, one with its newlines converted, an unsigned one, a
/// thin notification, an event to the thin route and a `GET`; checks the status of each and what its answer
/// must show, then that the handlers ran once per event (the idempotency counters of `/metrics`).
async fn run_self_test(
    addr: SocketAddr,
    signer: &SigningSecret,
    thin_signer: &SigningSecret,
) -> Result<(), Box<dyn std::error::Error>> {
    // Ids of this run only, so that the self-test also passes again against a store that remembers
    // earlier runs (WEBHOOK_STORE=redis://... or postgres://...).
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis());
    let event = sample_event().id(format!("evt_demo_{run}")).to_bytes();
    let signed = || SignedRequest::new(event.clone(), signer).build::<Body>();
    let tampered = signed().map(|_| Body::from(tamper(&event)));
    // What a proxy converting newlines delivers: the same event, signed as sent, with CRLF line endings.
    let crlf = signed().map(|_| Body::from(String::from_utf8_lossy(&event).replace('\n', "\r\n")));
    let mut unsigned = signed();
    unsigned.headers_mut().remove(STRIPE_SIGNATURE);
    let notification = TestNotification::new("v1.billing.meter.error_report_triggered")
        .id(format!("evt_demo_thin_{run}"))
        .related_object("mtr_demo_1", "billing.meter", "/v1/billing/meters/mtr_demo_1")
        .to_bytes();
    let thin = SignedRequest::new(notification, thin_signer)
        .uri("/webhook/thin")
        .build::<Body>();
    let snapshot_at_thin = SignedRequest::new(event.clone(), thin_signer)
        .uri("/webhook/thin")
        .build::<Body>();
    let get = SignedRequest::new("", signer).method(Method::GET).build::<Body>();
    // (name, request, expected status, what the answer must show)
    let cases = [
        ("signed event", signed(), StatusCode::OK, "ok"),
        // Stripe's retry of a delivered event: signed again, same id.
        (
            "same event again",
            signed(),
            StatusCode::OK,
            "Idempotent-Replayed: true",
        ),
        ("tampered body", tampered, StatusCode::BAD_REQUEST, "Diagnosis: "),
        (
            "CRLF newlines",
            crlf,
            StatusCode::BAD_REQUEST,
            "line_endings (proven)",
        ),
        ("unsigned", unsigned, StatusCode::BAD_REQUEST, "missing_header"),
        ("thin notification", thin, StatusCode::OK, "ok"),
        (
            "event at thin",
            snapshot_at_thin,
            StatusCode::BAD_REQUEST,
            "unexpected_snapshot_event",
        ),
        ("GET /webhook", get, StatusCode::METHOD_NOT_ALLOWED, ""),
    ];
    let mut failures = 0;
    for (name, request, expected, shows) in cases {
        let (status, text) = send(addr, request).await?;
        let ok = status == expected && text.contains(shows);
        failures += usize::from(!ok);
        let verdict = if ok { "as expected" } else { "UNEXPECTED" };
        // A diagnosed rejection: its code and the diagnosis, without the advice in between.
        let text = match text.split_once(": ").zip(text.split_once(" Diagnosis: ")) {
            Some(((code, _), (_, diagnosis))) => format!("{code} ... Diagnosis: {diagnosis}"),
            None => text,
        };
        println!("self-test {name:<17} -> {status} ({verdict}): {}", text.trim());
    }

    // Two events reached a handler (the event sent twice, the thin notification); the duplicate did not.
    let (_, metrics) = send(addr, http::Request::get("/metrics").body(Body::empty())?).await?;
    let count = |outcome: &str| {
        let prefix = format!("stripe_webhook_idempotency_total{{outcome=\"{outcome}\"}} ");
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .map_or(0, |n| n.trim().parse::<u64>().unwrap_or(0))
    };
    let (runs, duplicates) = (count("handled") + count("released"), count("duplicate"));
    let ok = runs == 2 && duplicates == 1;
    failures += usize::from(!ok);
    println!(
        "self-test {:<17} -> handler runs {runs}, duplicates answered without the handler {duplicates} ({})",
        "GET /metrics",
        if ok {
            "as expected"
        } else {
            "UNEXPECTED: expected 2 and 1"
        }
    );
    if failures > 0 {
        return Err(format!("{failures} self-test check(s) failed").into());
    }
    println!("self-test passed");
    Ok(())
}

/// The same event, paid 1 cent instead of 1999: what a forger would send.
fn tamper(event: &Bytes) -> Bytes {
    Bytes::from(String::from_utf8_lossy(event).replace("1999", "1"))
}

/// Sends `request`; answers its status and its body, after `Idempotent-Replayed: true` when it says so.
async fn send(
    addr: SocketAddr,
    mut request: http::Request<Body>,
) -> Result<(StatusCode, String), Box<dyn std::error::Error>> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    request
        .headers_mut()
        .insert(http::header::HOST, addr.to_string().parse()?);
    let response = sender.send_request(request).await?;
    let status = response.status();
    let replayed = response
        .headers()
        .get(IDEMPOTENT_REPLAYED)
        .is_some_and(|v| v == "true");
    let text = response.into_body().collect().await?.to_bytes();
    let text = String::from_utf8_lossy(&text);
    Ok((
        status,
        if replayed {
            format!("Idempotent-Replayed: true {text}")
        } else {
            text.into_owned()
        },
    ))
}
