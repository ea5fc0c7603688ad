//! The layer on arbitrary requests: the verification case of the `verify` target (see `Case`), sent with
//! or without a header, twice, with a `Content-Length` that is right, missing or lying either way, a size
//! hint, the body cut into arbitrary chunks (empty ones too), a stream error halfway, and a body limit
//! around the body's length.
//!
//! Properties: it never panics and always answers; the inner service is called exactly when the header,
//! the limit, the stream, the signature (as the model computes it) and, unless verify-only, the envelope
//! all pass, and then it receives exactly the bytes that were sent with the `Event`/`VerifiedPayload` and
//! `Verified` in the extensions; otherwise the answer is 413 for the limit and 400 for everything else,
//! with the reason the model expects attached.
#![no_main]

use std::{
    collections::VecDeque,
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{header::CONTENT_LENGTH, HeaderValue, Request, Response};
use libfuzzer_sys::fuzz_target;
use tower_layer::Layer;
use tower_service::Service;
use tower_stripe_webhook::{
    Error, ErrorKind, Event, MalformedHeader, StripeSignatureLayer, Verified, VerifiedBody, VerifiedPayload,
    STRIPE_SIGNATURE,
};
use tower_stripe_webhook_fuzz::{run, verdict, Case, Chunks, Never};

/// What the inner service saw.
#[derive(Clone, Debug)]
struct Received {
    body: Bytes,
    event: bool,
    payload: bool,
    verified: bool,
}

#[derive(Clone)]
struct Inner;

impl Service<Request<VerifiedBody>> for Inner {
    type Response = Response<Bytes>;
    type Error = Never;
    type Future = std::future::Ready<Result<Response<Bytes>, Never>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Never>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<VerifiedBody>) -> Self::Future {
        let (parts, body) = request.into_parts();
        let received = Received {
            body: body.into_bytes(),
            event: parts.extensions.get::<Event>().is_some(),
            payload: parts.extensions.get::<VerifiedPayload>().is_some(),
            verified: parts.extensions.get::<Verified>().is_some(),
        };
        let mut response = Response::new(Bytes::new());
        response.extensions_mut().insert(received);
        std::future::ready(Ok(response))
    }
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        // xorshift64*: deterministic chunking from the case's `n`.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(case) = Case::parse(data) else { return };
    let Ok(header) = HeaderValue::from_bytes(&case.header) else {
        return;
    };
    let body = Bytes::copy_from_slice(case.body);
    let n = case.n;
    let limit = (body.len() as i64 + (n & 0xff) as i64 - 128).max(0) as usize;
    let verify_only = case.flags & 16 != 0;

    // The request.
    let mut rng = Rng(n >> 8 | 1);
    // The frames the body delivers: `None` is a stream error.
    let mut frames: Vec<Option<Bytes>> = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let size = rng.below(body.len() / 3 + 2);
        frames.push(Some(body.slice(at..(at + size).min(body.len()))));
        at += size;
    }
    if n >> 43 & 1 == 1 {
        frames.insert(frames.len() / 2, None);
    }
    let chunks: VecDeque<_> = frames
        .iter()
        .map(|frame| {
            frame
                .clone()
                .ok_or_else(|| std::io::Error::other("connection reset"))
        })
        .collect();
    let declared_length = match n >> 40 & 3 {
        0 => None,
        1 => Some(body.len() as u64),
        2 => Some(body.len() as u64 / 2),
        _ => Some(body.len() as u64 + 1 + (n >> 48)),
    };
    let size_hint = (n >> 42 & 1 == 1).then_some(body.len() as u64);
    let mut request = Request::post("/webhook");
    if case.flags & 4 == 0 {
        request = request.header(STRIPE_SIGNATURE, header.clone());
        if case.flags & 8 != 0 {
            request = request.header(STRIPE_SIGNATURE, header.clone());
        }
    }
    if let Some(length) = declared_length {
        request = request.header(CONTENT_LENGTH, length);
    }
    let request = request.body(Chunks { chunks, size_hint }).unwrap();

    // The layer.
    let mut layer = StripeSignatureLayer::from_verifier(case.verifier()).body_limit(limit);
    if verify_only {
        layer = layer.verify_only();
    }
    let mut service = layer.layer(Inner);
    let response = run(async {
        std::future::poll_fn(|cx| Service::<Request<Chunks>>::poll_ready(&mut service, cx))
            .await
            .unwrap();
        service.call(request).await.unwrap()
    });

    // The model.
    let want: Result<(), ErrorKind> = (|| {
        if case.flags & 4 != 0 {
            return Err(ErrorKind::MissingHeader);
        }
        if case.flags & 8 != 0 {
            return Err(ErrorKind::MalformedHeader(MalformedHeader::Repeated));
        }
        if let Err(error) = tower_stripe_webhook::SignatureHeader::parse(&case.header) {
            return Err(error.kind().clone());
        }
        let too_large = ErrorKind::PayloadTooLarge { limit: limit as u64 };
        if declared_length
            .into_iter()
            .chain(size_hint)
            .any(|declared| declared > limit as u64)
        {
            return Err(too_large);
        }
        let mut read = 0;
        for frame in &frames {
            match frame {
                Some(chunk) if read + chunk.len() > limit => return Err(too_large),
                Some(chunk) => read += chunk.len(),
                None => return Err(ErrorKind::BodyRead),
            }
        }
        verdict(&case.secrets, &case.header, &body, &case.settings)?;
        if !verify_only {
            Event::from_verified_payload(body.clone()).map_err(|error| error.kind().clone())?;
        }
        Ok(())
    })();

    let received = response.extensions().get::<Received>().cloned();
    let error = response.extensions().get::<Error>();
    match (&want, received, error) {
        (Ok(()), Some(received), None) => {
            assert_eq!(response.status(), 200);
            assert_eq!(
                received.body, body,
                "the inner service gets exactly the bytes sent"
            );
            assert!(received.verified);
            assert_eq!((received.event, received.payload), (!verify_only, verify_only));
        }
        (Err(kind), None, Some(error)) => {
            assert_eq!(error.kind(), kind);
            let status = if matches!(kind, ErrorKind::PayloadTooLarge { .. }) {
                413
            } else {
                400
            };
            assert_eq!(response.status(), status);
        }
        (want, received, error) => {
            panic!("model {want:?}, layer called inner: {received:?}, error {error:?}")
        }
    }
});
