//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub, unused_imports)]

use std::{
    collections::VecDeque,
    io,
    net::SocketAddr,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use http::Request;
use http_body::{Body, Frame, SizeHint};
use tower_stripe_webhook::{
    generate_test_header, test_helpers::SignedRequest, SigningSecret, StripeSignatureLayer, STRIPE_SIGNATURE,
};

pub const SECRET: &str = "whsec_test_layer_secret_0123456789";
pub const NOW: i64 = 1_800_000_000;

mod run;
pub use run::run;

pub fn secret() -> SigningSecret {
    SigningSecret::new(SECRET).unwrap()
}

/// The layer under test: the test secret and a fixed clock.
pub fn layer() -> StripeSignatureLayer {
    StripeSignatureLayer::new(secret()).clock(|| NOW)
}

/// A realistic event payload, pretty-printed as Stripe sends it, padded to about `size` bytes.
pub fn event_payload(event_type: &str, size: usize) -> Bytes {
    let head = format!(
        "{{\n  \"id\": \"evt_1Test\",\n  \"object\": \"event\",\n  \"api_version\": \"2025-01-27.acacia\",\n  \
         \"created\": {NOW},\n  \"data\": {{\n    \"object\": {{\n      \"id\": \"in_1Test\",\n      \
         \"object\": \"invoice\",\n      \"amount_paid\": 1999,\n      \"note\": \"tab\\there \\u00e9 \\\"q\\\"\",\n      \"description\": \""
    );
    let tail = format!(
        "\"\n    }}\n  }},\n  \"livemode\": false,\n  \"pending_webhooks\": 1,\n  \"request\": {{\n    \
         \"id\": \"req_1\",\n    \"idempotency_key\": \"k-1\"\n  }},\n  \"type\": \"{event_type}\"\n}}"
    );
    let pad = size.saturating_sub(head.len() + tail.len());
    // Multi-byte characters, no escapes: cutting the filler anywhere keeps the JSON valid.
    let filler: String = "caf\u{e9} \u{1f600} line ".chars().cycle().take(pad).collect();
    Bytes::from(format!("{head}{filler}{tail}"))
}

/// The `Stripe-Signature` header for `payload`, signed with the test secret at `NOW`: the public helper.
pub fn sign(payload: &[u8]) -> String {
    generate_test_header(payload, &secret(), Some(NOW))
}

/// `POST /webhook` signed for `payload` at `NOW`, carrying `body` (any body type: the tests send
/// chunked, failing or stalled bodies, and tampered ones whose bytes differ from the signed payload),
/// plus an `x-request-marker` header to see that the layer passes the request's parts through.
/// The request is the public `test_helpers::SignedRequest`'s; only its body is swapped.
pub fn signed_request<B>(payload: &[u8], body: B) -> Request<B> {
    SignedRequest::new(Bytes::copy_from_slice(payload), &secret())
        .timestamp(Some(NOW))
        .header(
            http::HeaderName::from_static("x-request-marker"),
            http::HeaderValue::from_static("kept"),
        )
        .build::<Bytes>()
        .map(|_| body)
}

/// A body that yields the given chunks (or errors) one by one, and says nothing about its length.
#[derive(Debug, Default)]
pub struct Chunks {
    chunks: VecDeque<Result<Bytes, io::Error>>,
    pub exact_size: Option<u64>,
}

impl Chunks {
    pub fn new<I: IntoIterator<Item = Bytes>>(chunks: I) -> Self {
        Self {
            chunks: chunks.into_iter().map(Ok).collect(),
            exact_size: None,
        }
    }

    /// Splits `payload` into chunks of `size` bytes.
    pub fn split(payload: &[u8], size: usize) -> Self {
        Self::new(
            payload
                .chunks(size)
                .map(Bytes::copy_from_slice)
                .collect::<Vec<_>>(),
        )
    }

    pub fn then_error(mut self) -> Self {
        self.chunks.push_back(Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "peer went away",
        )));
        self
    }
}

impl Body for Chunks {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        Poll::Ready(self.chunks.pop_front().map(|chunk| chunk.map(Frame::data)))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        self.exact_size.map(SizeHint::with_exact).unwrap_or_default()
    }
}

/// A realistic invoice event (nested objects, arrays, numbers, nulls, escapes, Unicode), pretty-printed as
/// Stripe sends it, exactly `size` bytes long (at least 420): invoice lines while they fit, then a
/// description padded to the size. Deterministic.
pub fn realistic_event(size: usize) -> Bytes {
    let line = |i: usize| {
        let amount = 1000 + i * 7;
        format!(
            ",\n          {{\"id\": \"il_1Q{i:08}\", \"object\": \"line_item\", \"amount\": {amount}, \
             \"currency\": \"eur\", \"description\": \"1 \\u00d7 Caf\u{e9} cr\u{e8}me \\\"grand\\\"\", \
             \"metadata\": {{}}, \"period\": {{\"end\": 1803000000, \"start\": 1800400000}}, \"price\": \
             {{\"id\": \"price_1Q{i:06}\", \"active\": true, \"nickname\": null, \"unit_amount\": {amount}, \
             \"recurring\": {{\"interval\": \"month\"}}}}, \"proration\": false, \"quantity\": 1, \
             \"tax_amounts\": [{{\"amount\": 0, \"inclusive\": true}}, {{\"amount\": 12.5, \"inclusive\": false}}]}}"
        )
    };
    let head = format!(
        "{{\n  \"id\": \"evt_1QBench0000\",\n  \"object\": \"event\",\n  \"api_version\": \"2025-01-27.acacia\",\n  \
         \"created\": {NOW},\n  \"data\": {{\n    \"object\": {{\n      \"id\": \"in_1QBench\",\n      \
         \"object\": \"invoice\",\n      \"amount_paid\": 4999,\n      \"lines\": [\n          {{}}"
    );
    let tail = "\n      ],\n      \"paid\": true\n    }\n  },\n  \"livemode\": false,\n  \
                \"pending_webhooks\": 1,\n  \"request\": {\"id\": null, \"idempotency_key\": null},\n  \
                \"type\": \"invoice.paid\"\n}";
    let description_open = ",\n      \"description\": \"";
    let description_close = "\"";
    let fixed = head.len() + tail.len() + description_open.len() + description_close.len();
    assert!(size >= fixed, "realistic_event needs at least {fixed} bytes");
    let mut body = head;
    let mut i = 0;
    loop {
        let next = line(i);
        if body.len() + next.len() + tail.len() + description_open.len() + description_close.len() > size {
            break;
        }
        body.push_str(&next);
        i += 1;
    }
    let pad = size - body.len() - tail.len() - description_open.len() - description_close.len();
    body.push_str("\n      ]");
    // Move the closing of the lines array into the body so the description is an invoice field.
    let tail = &tail["\n      ]".len()..];
    body.push_str(description_open);
    body.extend(std::iter::repeat_n('x', pad));
    body.push_str(description_close);
    body.push_str(tail);
    assert_eq!(body.len(), size);
    Bytes::from(body)
}

/// How long a test waits for a loopback server before it fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// Serves `service` over HTTP/1 on an ephemeral 127.0.0.1 port, one task per connection (as a hyper
/// server does), for the life of the test.
pub async fn serve<S, B>(service: S) -> SocketAddr
where
    S: tower::Service<Request<hyper::body::Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = hyper_util::service::TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// Writes a raw HTTP/1.1 request and reads the whole response (empty if the server closed the connection
/// without one). The request should say `connection: close`.
pub async fn raw(addr: SocketAddr, head: String, body: &[u8]) -> String {
    raw_exchange(addr, head, &[body], false).await
}

/// The same, then closes the write half: a client that stops sending (hyper sees the end of the stream
/// where it expected more body).
pub async fn raw_then_eof(addr: SocketAddr, head: String, body: &[u8]) -> String {
    raw_exchange(addr, head, &[body], true).await
}

/// The body in `parts`, 20 ms apart (so that the server reads them one by one), then closes the write
/// half.
pub async fn raw_in_parts_then_eof(addr: SocketAddr, head: String, parts: &[&[u8]]) -> String {
    raw_exchange(addr, head, parts, true).await
}

async fn raw_exchange(addr: SocketAddr, head: String, parts: &[&[u8]], eof: bool) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tokio::time::timeout(WAIT, async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            stream.write_all(part).await.unwrap();
        }
        if eof {
            stream.shutdown().await.unwrap();
        }
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response).await;
        String::from_utf8_lossy(&response).into_owned()
    })
    .await
    .expect("the server answered in time")
}

/// The head of a raw signed POST of `payload` to `/webhook`, declaring `length` bytes.
pub fn raw_head(payload: &[u8], length: usize) -> String {
    format!(
        "POST /webhook HTTP/1.1\r\nhost: 127.0.0.1\r\nstripe-signature: {}\r\ncontent-length: {length}\r\n\
         connection: close\r\n\r\n",
        sign(payload)
    )
}

/// Everything a `tracing` subscriber writes, as text.
#[derive(Clone, Default)]
pub struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Capture {
    /// Captures every event at `level` and above on this thread until the guard is dropped.
    pub fn start(level: tracing::Level) -> (Self, tracing::subscriber::DefaultGuard) {
        let capture = Self::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (capture, tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The project's root: this package's directory, or its parent from the `benches` workspace member
/// (whose property tests share this module).
pub fn project_root() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    if manifest.join("tests/vectors").is_dir() {
        manifest.to_path_buf()
    } else {
        manifest.parent().expect("the workspace root").to_path_buf()
    }
}

/// Real Stripe payloads with their class (`full`, `thin`, `edge-not-full`): `STRIPE_REAL_EVENTS`, else
/// `../shared/real-events/` beside the project (307 payloads, provenance in its MANIFEST.tsv), else the
/// vendored subset `tests/vectors/real-events/`.
pub fn real_events() -> Vec<(String, String, Vec<u8>)> {
    let shared = project_root().join("../shared/real-events");
    let root = match std::env::var_os("STRIPE_REAL_EVENTS") {
        Some(dir) => dir.into(),
        None if shared.is_dir() => shared,
        None => project_root().join("tests/vectors/real-events"),
    };
    let manifest = std::fs::read_to_string(root.join("MANIFEST.tsv"))
        .unwrap_or_else(|error| panic!("{}: {error}", root.display()));
    println!("real events: {}", root.display());
    manifest
        .lines()
        .skip(1)
        .map(|line| {
            let columns: Vec<_> = line.split('\t').collect();
            let (file, class) = (columns[0].to_owned(), columns[5].to_owned());
            let payload = std::fs::read(root.join("payloads").join(&file)).unwrap();
            (file, class, payload)
        })
        .collect()
}
