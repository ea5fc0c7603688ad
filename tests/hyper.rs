//! A real hyper 1 server on 127.0.0.1, driven by a real HTTP client (and a raw socket for lying lengths).

mod support;

use std::{convert::Infallible, net::SocketAddr};

use bytes::Bytes;
use http::{header, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use support::*;
use tokio::{net::TcpStream, time::timeout};
use tower_stripe_webhook::{Event, StripeSignatureLayer, VerifiedBody, STRIPE_SIGNATURE};

const LIMIT: usize = 64 * 1024;

/// Serves the layer around an echo handler on an ephemeral loopback port, for the life of the test.
async fn serve() -> SocketAddr {
    serve_with(layer().body_limit(LIMIT)).await
}

async fn serve_with(layer: StripeSignatureLayer) -> SocketAddr {
    support::serve(tower::ServiceBuilder::new().layer(layer).service_fn(
        |request: Request<VerifiedBody>| async move {
            let event_type = request
                .extensions()
                .get::<Event>()
                .map(|e| e.event_type().to_owned());
            let mut response = Response::new(Full::new(request.into_body().into_bytes()));
            response
                .headers_mut()
                .insert("x-event-type", event_type.unwrap_or_default().parse().unwrap());
            Ok::<_, Infallible>(response)
        },
    ))
    .await
}

/// Sends one request with a real HTTP/1 client and returns status, event type header and body.
async fn send<B>(addr: SocketAddr, request: Request<B>) -> (StatusCode, String, Bytes)
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    timeout(WAIT, async {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let response = sender.send_request(request).await.unwrap();
        let status = response.status();
        let event_type = response
            .headers()
            .get("x-event-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (
            status,
            event_type,
            response.into_body().collect().await.unwrap().to_bytes(),
        )
    })
    .await
    .expect("the server answered in time")
}

fn request<B>(payload: &[u8], signed: bool, body: B) -> Request<B> {
    let mut builder = Request::post("/webhook").header(header::HOST, "127.0.0.1");
    if signed {
        builder = builder.header(STRIPE_SIGNATURE, sign(payload));
    }
    builder.body(body).unwrap()
}

/// A chunked body (no Content-Length) in chunks of `size` bytes.
fn chunked(payload: &Bytes, size: usize) -> Chunks {
    Chunks::split(payload, size)
}

#[tokio::test]
async fn valid_tampered_and_unsigned() {
    let addr = serve().await;
    let payload = event_payload("invoice.paid", 2048);

    let (status, event_type, body) = send(addr, request(&payload, true, Full::new(payload.clone()))).await;
    assert_eq!((status, event_type.as_str()), (StatusCode::OK, "invoice.paid"));
    assert_eq!(body, payload);

    let mut tampered = payload.to_vec();
    tampered[100] ^= 1;
    let (status, _, body) = send(addr, request(&payload, true, Full::new(Bytes::from(tampered)))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.starts_with(b"no_matching_signature"));

    let (status, _, body) = send(addr, request(&payload, false, Full::new(payload.clone()))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.starts_with(b"missing_header"));
}

#[tokio::test]
async fn chunked_bodies() {
    let addr = serve().await;
    let payload = event_payload("customer.subscription.updated", 20_000);
    let (status, event_type, body) = send(addr, request(&payload, true, chunked(&payload, 999))).await;
    assert_eq!(
        (status, event_type.as_str()),
        (StatusCode::OK, "customer.subscription.updated")
    );
    assert_eq!(body, payload);
}

#[tokio::test]
async fn oversize_with_and_without_content_length() {
    let addr = serve().await;
    let payload = event_payload("invoice.paid", LIMIT + 1);
    let (status, _, body) = send(addr, request(&payload, true, Full::new(payload.clone()))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body.starts_with(b"payload_too_large"));
    let (status, _, _) = send(addr, request(&payload, true, chunked(&payload, 4096))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn content_length_that_lies_in_either_direction() {
    let addr = serve().await;
    let payload = event_payload("invoice.paid", 1000);
    let head = |length| raw_head(&payload, length);
    // Claims fewer bytes than sent: the server reads only those, and they do not verify.
    let response = raw(addr, head(payload.len() - 10), &payload).await;
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(response.contains("no_matching_signature"), "{response}");
    // Claims more than sent, then the client stops: the body cannot be read.
    let response = raw_then_eof(addr, head(payload.len() + 10), &payload).await;
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(response.contains("body_read"), "{response}");
    // The truth verifies.
    let response = raw(addr, head(payload.len()), &payload).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

/// A body limit of 1 TiB and a client announcing nearly that much: the buffer grows from what arrives,
/// so the announced length reserves nothing the client did not send (before, the second chunk made the
/// layer ask for 1 TiB at once, and the process aborted on the failed allocation).
#[tokio::test]
async fn a_huge_declared_length_under_a_huge_limit_reserves_nothing_it_did_not_receive() {
    let limit = 1 << 40;
    // A budget as large, so that the body is read: the default budget refuses such a length up front.
    let addr = serve_with(layer().body_limit(limit).max_buffered_bytes(limit)).await;
    let payload = event_payload("invoice.paid", 1000);
    let response = raw_in_parts_then_eof(
        addr,
        raw_head(&payload, limit - 1),
        &[&payload[..300], &payload[300..600], &payload[600..]],
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(response.contains("body_read"), "{response}");
    // The server is still there, and serves the next request.
    let response = raw(addr, raw_head(&payload, payload.len()), &payload).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    // Under the default budget (64 MiB), the same announcement is refused before the body is read.
    let addr = serve_with(layer().body_limit(limit)).await;
    let response = raw(addr, raw_head(&payload, limit - 1), &payload[..300]).await;
    assert!(response.starts_with("HTTP/1.1 503"), "{response}");
    assert!(response.contains("buffer_budget_exceeded"), "{response}");
}

/// Forty clients send signed 200 KiB bodies (chunked, no length) to a layer with a 4 MiB budget: each
/// sends 150 KiB, then holds until the test lets it finish. At most 27 can hold 150 KiB within the
/// budget, so at least 13 are refused with 503 and `Retry-After` while the others hold; once the others
/// go on, every answer is a 200 or a 503, some are 200, and then a delivery the size of the whole
/// budget is accepted: every byte was given back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_slow_bodies_share_one_budget_and_give_it_back() {
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        sync::{mpsc, watch},
    };

    const BUDGET: usize = 4 << 20;
    const CLIENTS: usize = 40;
    const HELD: usize = 150 * 1024;
    const CHUNK: usize = 10 * 1024;
    let addr = serve_with(layer().body_limit(BUDGET).max_buffered_bytes(BUDGET)).await;
    let payload = realistic_event(200 * 1024);
    let (go, wait) = watch::channel(false);
    let (responses, mut answered) = mpsc::unbounded_channel();

    for _ in 0..CLIENTS {
        let (payload, mut wait, responses) = (payload.clone(), wait.clone(), responses.clone());
        tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut reader, mut writer) = stream.into_split();
            // The answer is read as soon as it comes, even while this client still has bytes to send.
            let read = async move {
                let mut response = Vec::new();
                let result = reader.read_to_end(&mut response).await;
                let text = String::from_utf8_lossy(&response).into_owned();
                let _ = responses.send(if text.is_empty() {
                    format!("{result:?}")
                } else {
                    text
                });
            };
            // The write half stays open until the answer is in (hyper closes a connection whose client
            // shuts down its side before the answer).
            let write = async move {
                let head = format!(
                    "POST /webhook HTTP/1.1\r\nhost: 127.0.0.1\r\nstripe-signature: {}\r\n\
                     transfer-encoding: chunked\r\nconnection: close\r\n\r\n",
                    sign(&payload)
                );
                let mut sent = writer.write_all(head.as_bytes()).await;
                for (at, chunk) in payload.chunks(CHUNK).enumerate() {
                    if at * CHUNK == HELD {
                        let _ = wait.wait_for(|go| *go).await;
                    }
                    if sent.is_err() {
                        // Refused: the server closed the connection.
                        return writer;
                    }
                    let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
                    sent = writer.write_all(&frame).await;
                }
                let _ = writer.write_all(b"0\r\n\r\n").await;
                writer
            };
            let ((), _writer) = tokio::join!(read, write);
        });
    }

    let refused = |response: &str| {
        response.starts_with("HTTP/1.1 503")
            && response.contains("retry-after: 5")
            && response.contains("buffer_budget_exceeded")
    };
    timeout(WAIT, async {
        // While the holders hold, at least 13 are refused, and nothing else is answered.
        for _ in 0..CLIENTS - BUDGET / HELD {
            let response = answered.recv().await.unwrap();
            assert!(refused(&response), "{response}");
        }
        go.send(true).unwrap();
        let mut rest = Vec::new();
        for _ in CLIENTS - BUDGET / HELD..CLIENTS {
            rest.push(answered.recv().await.unwrap());
        }
        for response in &rest {
            assert!(
                refused(response) || response.starts_with("HTTP/1.1 200"),
                "{response}"
            );
        }
        let statuses: Vec<_> = rest.iter().map(|response| response.lines().next()).collect();
        assert!(
            rest.iter().any(|response| response.starts_with("HTTP/1.1 200")),
            "{statuses:?}"
        );

        let whole = realistic_event(BUDGET);
        let response = raw(addr, raw_head(&whole, whole.len()), &whole).await;
        assert!(response.starts_with("HTTP/1.1 200"), "{}", &response[..200]);
    })
    .await
    .expect("done in time");
}
