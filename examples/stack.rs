//! A production-shaped stack: tower-http's trace, timeouts and response headers around three webhook routes,
//! the platform endpoint, a Connect endpoint and a thin event destination, each with its own signing
//! secret.
//!
//! ```sh
//! STRIPE_WEBHOOK_SECRET=whsec_... STRIPE_CONNECT_WEBHOOK_SECRET=whsec_... \
//!     STRIPE_THIN_WEBHOOK_SECRET=whsec_... \
//!     cargo run --example stack --features axum          # serves 127.0.0.1:${PORT:-3002}
//! ```
//!
//! Stripe signs each delivery with the secret of the endpoint or destination it is sent to, so each route
//! gets its own layer (`route_layer`), and no route accepts another's deliveries. The thin route takes
//! thin event notifications only (`Accept::ThinEvents`): a snapshot event sent there is refused with
//! `unexpected_snapshot_event`, which says a destination points at the wrong URL.

use std::time::Duration;

use axum::{
    http::{header::CACHE_CONTROL, HeaderValue, StatusCode},
    routing::post,
    Router,
};
use tower::ServiceBuilder;
use tower_http::{
    set_header::SetResponseHeaderLayer,
    timeout::{RequestBodyTimeoutLayer, TimeoutLayer},
    trace::TraceLayer,
};
use tower_stripe_webhook::{
    Accept, Event, EventNotification, SigningSecret, SigningSecrets, StripeSignatureLayer,
};

async fn platform(event: Event) -> &'static str {
    println!("platform: {} {}", event.id(), event.event_type());
    "ok"
}

async fn connect(event: Event) -> Result<&'static str, StatusCode> {
    // Connect events name the connected account they belong to.
    let account = event.account().ok_or(StatusCode::UNPROCESSABLE_ENTITY)?;
    println!("connect: {} {} for {account}", event.id(), event.event_type());
    Ok("ok")
}

async fn thin(notification: EventNotification) -> &'static str {
    // Fetch the full event with your Stripe client: GET /v2/core/events/{id}.
    println!("thin: {} {}", notification.id(), notification.event_type());
    "ok"
}

/// The secrets in `name`, or a labelled placeholder so the example runs without configuration.
fn secrets(name: &str, placeholder: &str) -> Result<SigningSecrets, Box<dyn std::error::Error>> {
    match std::env::var(name) {
        Ok(_) => Ok(SigningSecrets::from_env(name)?),
        Err(_) => {
            println!("{name} is unset; using the placeholder {placeholder}");
            Ok(SigningSecret::new(placeholder)?
                .with_label(name.to_owned())
                .into())
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .init();
    let platform_layer =
        StripeSignatureLayer::new(secrets("STRIPE_WEBHOOK_SECRET", "whsec_placeholder_platform")?);
    let connect_layer = StripeSignatureLayer::new(secrets(
        "STRIPE_CONNECT_WEBHOOK_SECRET",
        "whsec_placeholder_connect",
    )?);
    let thin_layer =
        StripeSignatureLayer::new(secrets("STRIPE_THIN_WEBHOOK_SECRET", "whsec_placeholder_thin")?)
            .accept(Accept::ThinEvents);

    let app = Router::new()
        .route("/webhook", post(platform).route_layer(platform_layer))
        .route("/connect/webhook", post(connect).route_layer(connect_layer))
        .route("/thin/webhook", post(thin).route_layer(thin_layer))
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(10),
                ))
                // A client trickling a body byte by byte is cut off, whatever the body limit.
                .layer(RequestBodyTimeoutLayer::new(Duration::from_secs(5)))
                // Every answer, rejections included, passes through the outer layers.
                .layer(SetResponseHeaderLayer::overriding(
                    CACHE_CONTROL,
                    HeaderValue::from_static("no-store"),
                )),
        );

    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3002);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "listening on http://{}/webhook, /connect/webhook and /thin/webhook",
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}
