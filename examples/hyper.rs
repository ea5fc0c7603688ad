//! `StripeSignatureLayer` in front of a plain hyper 1 service, no framework.
//!
//! ```sh
//! STRIPE_WEBHOOK_SECRET=whsec_... cargo run --example hyper      # serves 127.0.0.1:${PORT:-3001}
//! ```

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper_util::{rt::TokioIo, server::conn::auto, service::TowerToHyperService};
use tokio::net::TcpListener;
use tower_stripe_webhook::{Event, StripeSignatureLayer, VerifiedBody};

/// The handler: the layer has verified the request; the event is in the extensions, the body is untouched.
async fn handle(request: Request<VerifiedBody>) -> Result<Response<Full<Bytes>>, Infallible> {
    let event = request.extensions().get::<Event>().cloned();
    let status = match &event {
        Some(event) => {
            println!(
                "{} {} ({} bytes)",
                event.id(),
                event.event_type(),
                event.payload().len()
            );
            StatusCode::OK
        }
        None => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut response = Response::new(Full::new(Bytes::from_static(b"ok")));
    *response.status_mut() = status;
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let layer = StripeSignatureLayer::from_env("STRIPE_WEBHOOK_SECRET")?;
    let service = tower::ServiceBuilder::new().layer(layer).service_fn(handle);

    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3001);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "listening on http://{}/ (every path is the webhook)",
        listener.local_addr()?
    );
    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            if let Err(error) = auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("connection error: {error}");
            }
        });
    }
}
