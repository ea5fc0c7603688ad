//! The servers `load.sh`, `load_stores.sh` and `soak.sh` measure, and the one the process tests
//! (`tests/processes.rs`) run: one axum app, several ways, with no output per request unless asked.
//!
//! ```sh
//! cargo build --release -p tower-stripe-webhook-benches --bin load-server   # what benches/wrk.sh does
//! STRIPE_WEBHOOK_SECRET=whsec_... PORT=3931 target/release/load-server [--without-layer | --hmac-only]
//! STRIPE_WEBHOOK_SECRET=whsec_... PORT=0 target/release/load-server --store redis://127.0.0.1:6379/ --lease-ms 1000
//! ```
//!
//! * by default, `POST /webhook` behind `StripeSignatureLayer` with the secret(s) of
//!   `STRIPE_WEBHOOK_SECRET` and the body limit of `BODY_LIMIT` (1 MiB when unset);
//! * `--without-layer`: the same route reading the body and verifying nothing (the baseline);
//! * `--hmac-only`: the same route computing one HMAC-SHA256 of `"{t}.{body}"` and checking nothing
//!   else (the floor: what any verifier must spend). Never use it to serve.
//! * `--store <memory | redis://... | postgres://...>`: the default app with `IdempotencyLayer` inside
//!   `StripeSignatureLayer`, on a `MemoryStore`, a `RedisStore` (feature `redis`) or a `PostgresStore`
//!   (feature `postgres`; its table is created if absent). Its handler writes the line
//!   `handled event <id>` to stdout each time it runs (flushed at once, so that a test can count the
//!   runs across processes), unless `--quiet`. With it:
//!   * `--lease-ms <n>`: the layer's lease (default the layer's, 5 minutes);
//!   * `--namespace <name>`: the layer's key namespace (default `stripe`);
//!   * `--handler-delay-ms <n>`: the handler sleeps this long after logging, before it answers;
//!   * `--fail-first <n>`: the handler answers 500 to its first `n` runs (in this process), 200 after;
//!   * `--quiet`: no line per run (for the load runs).
//!
//! `PORT=0` binds a free port. Every mode writes `listening on 127.0.0.1:<port>` to stdout once it
//! listens (flushed), and binds 127.0.0.1 only.
//!
//! Every app copies an `x-request-id` request header onto the response, rejections included, so that
//! `soak.sh` can match each answer with its request, and so that the apps differ by the verification
//! (and the store) alone. The template for an application is `examples/axum.rs`, not this.

use std::{
    io::Write,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use axum::{
    extract::{FromRequest, Request},
    http::{HeaderName, StatusCode},
    routing::post,
    Router,
};
use bytes::Bytes;
use hmac::{KeyInit, Mac};
use tower_http::propagate_header::PropagateHeaderLayer;
use tower_stripe_webhook::{
    Event, IdempotencyLayer, IdempotencyStore, MemoryStore, StripeSignatureLayer, DEFAULT_BODY_LIMIT,
    STRIPE_SIGNATURE,
};

type Error = Box<dyn std::error::Error>;

/// The signature layer every verifying app uses.
fn signature_layer() -> Result<StripeSignatureLayer, Error> {
    let body_limit = std::env::var("BODY_LIMIT")
        .ok()
        .and_then(|limit| limit.parse().ok())
        .unwrap_or(DEFAULT_BODY_LIMIT);
    Ok(StripeSignatureLayer::from_env("STRIPE_WEBHOOK_SECRET")?.body_limit(body_limit))
}

/// The protected app: the handler takes the parsed event and answers at once.
fn with_layer() -> Result<Router, Error> {
    Ok(Router::new().route(
        "/webhook",
        post(|_: Event| async { "ok" }).layer(signature_layer()?),
    ))
}

/// What `--store` and the options that go with it ask for.
#[derive(Debug, Default)]
struct Idempotent {
    store: String,
    lease: Option<Duration>,
    namespace: Option<String>,
    handler_delay: Duration,
    fail_first: u64,
    quiet: bool,
}

/// The protected app with `IdempotencyLayer` inside `StripeSignatureLayer`, on `store`: the handler logs
/// each run, waits `handler_delay`, and fails its first `fail_first` runs.
fn idempotent<St: IdempotencyStore>(store: St, options: &Idempotent) -> Result<Router, Error> {
    let mut idempotency = IdempotencyLayer::new(store);
    if let Some(lease) = options.lease {
        idempotency = idempotency.lease(lease);
    }
    if let Some(namespace) = &options.namespace {
        idempotency = idempotency.namespace(namespace.clone());
    }
    let runs = Arc::new(AtomicU64::new(0));
    let (delay, fail_first, quiet) = (options.handler_delay, options.fail_first, options.quiet);
    let handler = move |event: Event| {
        let run = runs.fetch_add(1, Ordering::SeqCst);
        async move {
            if !quiet {
                let mut stdout = std::io::stdout().lock();
                // A test reads these lines: a failed write is worth a crash, not a silent miss.
                writeln!(stdout, "handled event {}", event.id()).expect("stdout");
                stdout.flush().expect("stdout");
            }
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if run < fail_first {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "failing as asked (--fail-first)\n",
                )
            } else {
                (StatusCode::OK, "ok")
            }
        }
    };
    Ok(Router::new().route(
        "/webhook",
        post(handler)
            .layer::<_, std::convert::Infallible>(idempotency)
            .layer(signature_layer()?),
    ))
}

/// The idempotent app on the store `--store` names.
async fn with_store(options: &Idempotent) -> Result<Router, Error> {
    let url = options.store.as_str();
    if url == "memory" {
        return idempotent(MemoryStore::new(), options);
    }
    if url.starts_with("redis://") || url.starts_with("rediss://") {
        #[cfg(feature = "redis")]
        {
            // Fail fast while the server is away (the layer answers 503), reconnect when it is back.
            let config = redis::aio::ConnectionManagerConfig::new()
                .set_number_of_retries(1)
                .set_connection_timeout(Some(Duration::from_secs(1)))
                .set_response_timeout(Some(Duration::from_secs(1)));
            let connection = redis::Client::open(url)?
                .get_connection_manager_with_config(config)
                .await?;
            return idempotent(tower_stripe_webhook::RedisStore::new(connection), options);
        }
        #[cfg(not(feature = "redis"))]
        return Err("--store redis://... needs the feature `redis` (--features redis)".into());
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        {
            let mut config = deadpool_postgres::Config::new();
            config.url = Some(url.to_owned());
            let pool = config.create_pool(None, deadpool_postgres::tokio_postgres::NoTls)?;
            let store = tower_stripe_webhook::PostgresStore::new(pool);
            store.migrate().await?;
            return idempotent(store, options);
        }
        #[cfg(not(feature = "postgres"))]
        return Err("--store postgres://... needs the feature `postgres` (--features postgres)".into());
    }
    Err(format!("unknown store {url}: memory, redis://... or postgres://...").into())
}

/// The baseline: the body is read, nothing is verified.
fn without_layer() -> Router {
    Router::new().route(
        "/webhook",
        post(|body: Bytes| async move {
            if body.is_empty() {
                "empty"
            } else {
                "ok"
            }
        }),
    )
}

/// The floor: one HMAC-SHA256 with a precomputed key. The body is read as the baseline reads it, and the
/// headers are read in place, not cloned, so that the floor costs the baseline plus the HMAC and nothing
/// more. The key is a constant: any key of up to 64 bytes becomes the same two precomputed SHA-256
/// states, so it does not change the cost.
fn hmac_only() -> Router {
    let keyed = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"whsec_floor_key_of_no_consequence")
        .expect("any key length");
    Router::new().route(
        "/webhook",
        post(move |request: Request| async move {
            let t = request
                .headers()
                .get(STRIPE_SIGNATURE)
                .and_then(|value| value.to_str().ok()?.strip_prefix("t=")?.split(',').next())
                .unwrap_or_default();
            let mut mac = keyed.clone();
            mac.update(t.as_bytes());
            mac.update(b".");
            let body = Bytes::from_request(request, &()).await?;
            mac.update(&body);
            std::hint::black_box(mac.finalize().into_bytes());
            Ok::<_, axum::extract::rejection::BytesRejection>("ok")
        }),
    )
}

/// Which app to serve.
enum Mode {
    WithLayer,
    WithoutLayer,
    HmacOnly,
    Idempotent(Idempotent),
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Mode, Error> {
    let mut mode = None;
    let mut idempotent = Idempotent::default();
    let mut store = None;
    fn number(flag: &str, value: Option<String>) -> Result<u64, Error> {
        value
            .and_then(|value| value.parse().ok())
            .ok_or_else(|| format!("{flag} takes a whole number").into())
    }
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--without-layer" => mode = Some(Mode::WithoutLayer),
            "--hmac-only" => mode = Some(Mode::HmacOnly),
            "--store" => store = Some(args.next().ok_or("--store takes memory, redis://... or postgres://...")?),
            "--lease-ms" => {
                idempotent.lease = Some(Duration::from_millis(number(&arg, args.next())?));
            }
            "--namespace" => idempotent.namespace = Some(args.next().ok_or("--namespace takes a name")?),
            "--handler-delay-ms" => {
                idempotent.handler_delay = Duration::from_millis(number(&arg, args.next())?);
            }
            "--fail-first" => idempotent.fail_first = number(&arg, args.next())?,
            "--quiet" => idempotent.quiet = true,
            other => {
                return Err(format!(
                    "unknown argument {other}: --without-layer, --hmac-only, or --store <memory|redis://...|postgres://...> \
                     [--lease-ms n] [--namespace name] [--handler-delay-ms n] [--fail-first n] [--quiet]"
                )
                .into())
            }
        }
    }
    match (mode, store) {
        (Some(_), Some(_)) => {
            Err("--store goes with the default app, not --without-layer or --hmac-only".into())
        }
        (Some(mode), None) => Ok(mode),
        (None, Some(store)) => {
            idempotent.store = store;
            Ok(Mode::Idempotent(idempotent))
        }
        (None, None) => Ok(Mode::WithLayer),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let app = match parse_args(std::env::args().skip(1))? {
        Mode::WithLayer => with_layer()?,
        Mode::WithoutLayer => without_layer(),
        Mode::HmacOnly => hmac_only(),
        Mode::Idempotent(options) => with_store(&options).await?,
    }
    .layer(PropagateHeaderLayer::new(HeaderName::from_static("x-request-id")));
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on {}", listener.local_addr()?)?;
        stdout.flush()?;
    }
    axum::serve(listener, app).await?;
    Ok(())
}
