//! [`ResponseFuture`]: buffer the body under the limit, verify, then call the inner service.

use std::{
    future::Future,
    pin::Pin,
    sync::{atomic::Ordering, Arc},
    task::{ready, Context, Poll},
};

use bytes::{Buf, Bytes};
use http::{header::CONNECTION, request::Parts, HeaderValue, Request, Response, Version};
use http_body::Body;
use pin_project_lite::pin_project;
use tower_service::Service;

use super::{
    body::{ResponseBody, VerifiedBody},
    layer::Parse,
    rejection::RejectionResponse,
    service::{CheckedHeader, Shared},
};

use crate::{
    log, AnyEvent, Error, ErrorKind, Event, EventNotification, SignatureHeader, Verified, VerifiedPayload,
};

pin_project! {
    /// Response future of [`StripeSignature`](super::StripeSignature).
    pub struct ResponseFuture<S, B, R>
    where
        S: Service<Request<VerifiedBody>>,
    {
        #[pin]
        state: State<S, S::Future, B>,
        shared: Reservation,
        rejection: R,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, F, B> {
        /// Reading the body; `request` is taken when it ends.
        Buffering {
            #[pin]
            body: B,
            buffer: Buffer,
            request: Option<Pending<S>>,
        },
        /// Verified: the inner service's future.
        Calling {
            #[pin]
            future: F,
        },
        /// Refused; `error` is taken when polled. `close` when the body was not read to its end.
        Rejected {
            error: Option<Error>,
            close: bool,
        },
    }
}

/// What the inner call needs once the body is in.
struct Pending<S> {
    parts: Parts,
    inner: S,
    header: CheckedHeader,
}

impl<S, B, R> ResponseFuture<S, B, R>
where
    S: Service<Request<VerifiedBody>>,
{
    pub(crate) fn buffering(
        body: B,
        parts: Parts,
        inner: S,
        header: CheckedHeader,
        expected: usize,
        shared: Arc<Shared>,
        rejection: R,
    ) -> Self {
        Self {
            state: State::Buffering {
                buffer: Buffer::expecting(expected, shared.config.limit),
                body,
                request: Some(Pending { parts, inner, header }),
            },
            shared: Reservation::none(shared),
            rejection,
        }
    }

    /// Refused before reading the body; `unread` when the body has something left to read.
    pub(crate) fn rejected(
        error: Error,
        parts: &Parts,
        unread: bool,
        shared: Arc<Shared>,
        rejection: R,
    ) -> Self {
        log::rejected_early(&shared, &error, parts);
        Self {
            state: State::Rejected {
                error: Some(error),
                close: unread && http1(parts),
            },
            shared: Reservation::none(shared),
            rejection,
        }
    }
}

impl<S, B, R, ResBody> Future for ResponseFuture<S, B, R>
where
    S: Service<Request<VerifiedBody>, Response = Response<ResBody>>,
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    R: RejectionResponse,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Calling { future } => {
                    let output = ready!(future.poll(cx));
                    this.shared.release();
                    return Poll::Ready(output.map(|response| response.map(ResponseBody::inner)));
                }
                StateProj::Rejected { error, close } => {
                    let error = error.take().expect("ResponseFuture polled after completion");
                    this.shared.release();
                    return Poll::Ready(Ok(reject(this.rejection, error, *close)));
                }
                StateProj::Buffering {
                    mut body,
                    buffer,
                    request,
                } => {
                    let limit = this.shared.config.limit;
                    let ended = match ready!(body.as_mut().poll_frame(cx)) {
                        Some(Ok(frame)) => {
                            // Trailers are not part of what Stripe signs; only data frames count.
                            if let Ok(mut data) = frame.into_data() {
                                if buffer.len() + data.remaining() > limit {
                                    let error =
                                        Error::new(ErrorKind::PayloadTooLarge { limit: limit as u64 });
                                    let rejected = rejected_while_reading(this.shared, error, request);
                                    this.state.set(rejected);
                                    continue;
                                }
                                if !this.shared.reserve(data.remaining()) {
                                    let budget = this.shared.config.max_buffered as u64;
                                    let error = Error::new(ErrorKind::BufferBudgetExceeded { budget });
                                    let rejected = rejected_while_reading(this.shared, error, request);
                                    this.state.set(rejected);
                                    continue;
                                }
                                buffer.push(data.copy_to_bytes(data.remaining()));
                            }
                            // A body that knows it has ended (hyper's with a `Content-Length`, `Full`)
                            // spares a poll for the end.
                            body.is_end_stream()
                        }
                        Some(Err(source)) => {
                            let error = Error::with_boxed_source(ErrorKind::BodyRead, source.into());
                            let rejected = rejected_while_reading(this.shared, error, request);
                            this.state.set(rejected);
                            continue;
                        }
                        None => true,
                    };
                    if !ended {
                        continue;
                    }
                    let Pending {
                        mut parts,
                        mut inner,
                        header,
                    } = request.take().expect("ResponseFuture polled after completion");
                    let payload = buffer.take();
                    match verify(this.shared, &header, &payload, &mut parts) {
                        Ok(()) => {
                            let request = Request::from_parts(parts, VerifiedBody::new(payload));
                            let future = inner.call(request);
                            this.state.set(State::Calling { future });
                        }
                        Err(error) => {
                            log::rejected(this.shared, &error, Some(&payload), Some(header.header(&parts)));
                            // The body was read to its end: the connection can be reused.
                            this.state.set(State::Rejected {
                                error: Some(error),
                                close: false,
                            });
                        }
                    }
                }
            }
        }
    }
}

/// The layer's configuration and state, with the bytes of body this request holds against the layer's
/// buffer budget (`max_buffered_bytes`). They are counted as they arrive and given back when the response
/// is ready, or when the future is dropped (the client went away, a timeout dropped the request).
struct Reservation {
    shared: Arc<Shared>,
    held: usize,
}

impl Reservation {
    fn none(shared: Arc<Shared>) -> Self {
        Self { shared, held: 0 }
    }

    /// Counts `bytes` more, unless the layer's total would go over its budget.
    fn reserve(&mut self, bytes: usize) -> bool {
        let budget = self.shared.config.max_buffered;
        let reserved =
            self.shared
                .state
                .buffered
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |total| {
                    total.checked_add(bytes).filter(|&total| total <= budget)
                });
        if let Ok(before) = reserved {
            self.held += bytes;
            crate::metrics::buffered(before + bytes);
        }
        reserved.is_ok()
    }

    fn release(&mut self) {
        if self.held > 0 {
            let held = std::mem::take(&mut self.held);
            let before = self.shared.state.buffered.fetch_sub(held, Ordering::Relaxed);
            crate::metrics::buffered(before - held);
        }
    }
}

impl std::ops::Deref for Reservation {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.release();
    }
}

/// The state after `error` stopped the body's reading: logged, and closing an HTTP/1 connection, whose
/// unread rest of the body cannot be skipped.
fn rejected_while_reading<S, F, B>(
    shared: &Shared,
    error: Error,
    request: &Option<Pending<S>>,
) -> State<S, F, B> {
    log::rejected(shared, &error, None, pending_header(request));
    let close = request.as_ref().is_some_and(|pending| http1(&pending.parts));
    State::Rejected {
        error: Some(error),
        close,
    }
}

fn pending_header<S>(request: &Option<Pending<S>>) -> Option<SignatureHeader<'_>> {
    request
        .as_ref()
        .map(|pending| pending.header.header(&pending.parts))
}

/// Verifies the payload and records the outcome in the request's extensions.
fn verify(shared: &Shared, header: &CheckedHeader, payload: &Bytes, parts: &mut Parts) -> Result<(), Error> {
    let verifier = &shared.config.verifier;
    let verified = verifier.verify_header_at(&header.header(parts), payload, verifier.now())?;
    // Authenticate, then parse: the payload is read only now that its signature has verified.
    let len = payload.len();
    let payload = payload.clone();
    match shared.config.parse {
        Parse::Nothing => {
            log::accepted(shared, &verified, None, len);
            parts.extensions.insert(VerifiedPayload::new(payload));
        }
        Parse::Snapshot => accept(shared, &verified, parts, Event::from_verified_payload(payload)?),
        Parse::Thin => accept(
            shared,
            &verified,
            parts,
            EventNotification::from_verified_payload(payload)?,
        ),
        Parse::Any => accept(
            shared,
            &verified,
            parts,
            AnyEvent::from_verified_payload(payload)?,
        ),
    }
    parts.extensions.insert(verified);
    Ok(())
}

/// Logs the accepted `event` and puts it in the request's extensions.
fn accept<T: Delivered>(shared: &Shared, verified: &Verified, parts: &mut Parts, event: T) {
    log::accepted(
        shared,
        verified,
        Some((event.id(), event.event_type())),
        event.payload().len(),
    );
    parts.extensions.insert(event);
}

/// What the layer can insert for a verified delivery.
trait Delivered: Clone + Send + Sync + 'static {
    fn id(&self) -> &str;
    fn event_type(&self) -> &str;
    fn payload(&self) -> &Bytes;
}

macro_rules! delivered {
    ($($ty:ty),*) => {$(
        impl Delivered for $ty {
            fn id(&self) -> &str {
                <$ty>::id(self)
            }
            fn event_type(&self) -> &str {
                <$ty>::event_type(self)
            }
            fn payload(&self) -> &Bytes {
                <$ty>::payload(self)
            }
        }
    )*};
}

delivered!(Event, EventNotification, AnyEvent);

fn reject<B, R: RejectionResponse>(
    rejection: &mut R,
    error: Error,
    close: bool,
) -> Response<ResponseBody<B>> {
    let mut response = rejection.response(&error).map(ResponseBody::rejection);
    if close {
        // The rest of the body is still on the connection, unread: hyper cannot reuse it and closes it
        // after this response. Saying so lets a keep-alive client open a new connection for its next
        // request instead of writing it into a closing one (RFC 9112, section 9.6).
        response
            .headers_mut()
            .entry(CONNECTION)
            .or_insert(HeaderValue::from_static("close"));
    }
    response.extensions_mut().insert(error);
    response
}

/// `Connection` is an HTTP/1 header (HTTP/2 and later forbid it).
fn http1(parts: &Parts) -> bool {
    parts.version <= Version::HTTP_11
}

/// The most a `Content-Length` (or size hint) can make a buffer reserve before the bytes arrive: a
/// Stripe event (a few KiB) is joined in one allocation, and a client that announces more than it sends
/// makes the layer reserve this much at most, whatever the body limit.
const PREALLOCATE_AT_MOST: usize = 64 * 1024;

/// The body as it arrives. A body in one chunk is kept as that chunk, without a copy; a body in several
/// is joined into one allocation of the size it announced (when it did, up to [`PREALLOCATE_AT_MOST`]),
/// then grown from what arrived, by doubling up to the limit, never beyond it: the most a request can
/// hold is `limit` bytes of body, and only once it has sent them.
struct Buffer {
    expected: usize,
    limit: usize,
    chunks: Chunks,
}

#[derive(Default)]
enum Chunks {
    #[default]
    Empty,
    One(Bytes),
    /// A `Vec` rather than a `BytesMut`: `reserve_exact` lets growth stop at the limit (a `BytesMut`
    /// doubles past it), and `Bytes::from(Vec)` takes the allocation over without copying.
    Many(Vec<u8>),
}

impl Buffer {
    fn expecting(expected: usize, limit: usize) -> Self {
        Self {
            expected: expected.min(PREALLOCATE_AT_MOST),
            limit,
            chunks: Chunks::Empty,
        }
    }

    fn len(&self) -> usize {
        match &self.chunks {
            Chunks::Empty => 0,
            Chunks::One(bytes) => bytes.len(),
            Chunks::Many(bytes) => bytes.len(),
        }
    }

    /// Appends a chunk; the caller has checked that the total stays within the limit.
    fn push(&mut self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        self.chunks = match std::mem::take(&mut self.chunks) {
            Chunks::Empty => Chunks::One(chunk),
            Chunks::One(first) => {
                let mut joined = Vec::with_capacity(self.expected.max(first.len() + chunk.len()));
                joined.extend_from_slice(&first);
                joined.extend_from_slice(&chunk);
                Chunks::Many(joined)
            }
            Chunks::Many(mut joined) => {
                let needed = joined.len() + chunk.len();
                if needed > joined.capacity() {
                    let grown = (joined.capacity() * 2).min(self.limit).max(needed);
                    joined.reserve_exact(grown - joined.len());
                }
                joined.extend_from_slice(&chunk);
                Chunks::Many(joined)
            }
        };
    }

    fn take(&mut self) -> Bytes {
        match std::mem::take(&mut self.chunks) {
            Chunks::Empty => Bytes::new(),
            Chunks::One(bytes) => bytes,
            Chunks::Many(bytes) => Bytes::from(bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(expected: usize, limit: usize, chunks: &[&'static [u8]]) -> Buffer {
        let mut buffer = Buffer::expecting(expected, limit);
        for chunk in chunks {
            buffer.push(Bytes::from_static(chunk));
        }
        buffer
    }

    fn capacity(buffer: &Buffer) -> usize {
        match &buffer.chunks {
            Chunks::Many(joined) => joined.capacity(),
            Chunks::One(bytes) => bytes.len(),
            Chunks::Empty => 0,
        }
    }

    #[test]
    fn a_lying_length_reserves_at_most_the_preallocation_cap() {
        // Declares 1 TiB under a 1 TiB limit, sends 6 bytes: the old code asked the allocator for 1 TiB
        // here, and the process aborted.
        let buffer = joined(1 << 40, 1 << 40, &[b"abc", b"def"]);
        assert_eq!(buffer.len(), 6);
        assert_eq!(capacity(&buffer), PREALLOCATE_AT_MOST);
        // A 200-byte body under the default limit, announcing 1 MiB, does not reserve 1 MiB.
        let buffer = joined(1 << 20, 1 << 20, &[&[b'x'; 100], &[b'y'; 100]]);
        assert!(capacity(&buffer) <= PREALLOCATE_AT_MOST);
    }

    #[test]
    fn an_honest_length_is_joined_in_one_allocation_and_beyond_the_cap_grows_from_what_arrived() {
        let buffer = joined(4000, 1 << 20, &[&[b'x'; 1000], &[b'y'; 3000]]);
        assert_eq!((buffer.len(), capacity(&buffer)), (4000, 4000));

        let mut buffer = Buffer::expecting(1 << 20, 1 << 20);
        let chunk = Bytes::from(vec![b'z'; 16 * 1024]);
        let mut most = 0;
        for _ in 0..8 {
            buffer.push(chunk.clone());
            most = most.max(capacity(&buffer));
        }
        // 128 KiB arrived: the cap, then one doubling; never the announced 1 MiB.
        assert_eq!(buffer.len(), 128 * 1024);
        assert_eq!(most, 2 * PREALLOCATE_AT_MOST);
    }
}
