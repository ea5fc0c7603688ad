//! A verified request through the layer, with a one-chunk body, allocates the same number of bytes
//! whatever the body's size: nothing copies the body. A body over the limit is cut off with at most the
//! limit buffered. Counted with a global allocator wrapper.

mod support;

use std::{
    alloc::{GlobalAlloc, Layout, System},
    cell::Cell,
    convert::Infallible,
    sync::atomic::{AtomicIsize, AtomicUsize, Ordering},
};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use tower::{Service, ServiceBuilder};
use tower_stripe_webhook::{Event, VerifiedBody};

struct Counting;

/// Bytes allocated and allocations made (never decreasing).
static BYTES: AtomicUsize = AtomicUsize::new(0);
static COUNT: AtomicUsize = AtomicUsize::new(0);
/// Bytes live now, the most live at once (signed: a measuring thread may free what it allocated before
/// it measured), and the largest single allocation.
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Only the measuring thread counts: the harness allocates on its own threads at any moment (a
    /// finished test's report), which made the counts flaky.
    static MEASURING: Cell<bool> = const { Cell::new(false) };
}

fn measuring() -> bool {
    MEASURING.try_with(Cell::get).unwrap_or(false)
}

/// Counts this thread's allocations until dropped.
struct Measuring;

impl Measuring {
    fn start() -> Self {
        MEASURING.with(|measuring| measuring.set(true));
        Self
    }
}

impl Drop for Measuring {
    fn drop(&mut self) {
        MEASURING.with(|measuring| measuring.set(false));
    }
}

fn freed(size: usize) {
    if measuring() {
        LIVE.fetch_sub(size as isize, Ordering::Relaxed);
    }
}

fn allocated(size: usize) {
    if !measuring() {
        return;
    }
    BYTES.fetch_add(size, Ordering::Relaxed);
    COUNT.fetch_add(1, Ordering::Relaxed);
    let live = LIVE.fetch_add(size as isize, Ordering::Relaxed) + size as isize;
    PEAK.fetch_max(live, Ordering::Relaxed);
    LARGEST.fetch_max(size, Ordering::Relaxed);
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        allocated(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        freed(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as a new allocation next to the old one (a copying realloc holds both for a moment).
        allocated(new_size);
        freed(layout.size());
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// The counters are global: one measurement at a time (the test harness runs tests in parallel), and
/// only on the measuring thread.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes and allocations of one verified request through the layer, with a one-chunk body.
fn measure(size: usize) -> (usize, usize) {
    measure_with(size, |payload| Full::new(payload.clone()))
}

/// The same with the body `make` builds (the request is built before counting starts).
fn measure_with<B>(size: usize, make: impl Fn(&Bytes) -> B) -> (usize, usize)
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let _guard = one_at_a_time();
    let _measuring = Measuring::start();
    let payload = support::realistic_event(size);
    let mut service = ServiceBuilder::new().layer(support::layer()).service_fn(
        move |request: Request<VerifiedBody>| async move {
            let event = request.extensions().get::<Event>().expect("verified");
            assert_eq!(
                (event.payload().len(), request.body().clone().into_bytes().len()),
                (size, size)
            );
            Ok::<_, Infallible>(Response::new(()))
        },
    );
    let mut result = (0, 0);
    // Twice: the first call pays one-time costs (lazily initialized statics).
    for _ in 0..2 {
        let request = support::signed_request(&payload, make(&payload));
        let (bytes, count) = (BYTES.load(Ordering::SeqCst), COUNT.load(Ordering::SeqCst));
        let response = support::run(async {
            std::future::poll_fn(|cx| Service::<Request<B>>::poll_ready(&mut service, cx)).await?;
            service.call(request).await
        })
        .unwrap();
        result = (
            BYTES.load(Ordering::SeqCst) - bytes,
            COUNT.load(Ordering::SeqCst) - count,
        );
        assert!(response.status().is_success());
    }
    result
}

#[test]
fn allocations_do_not_grow_with_the_body() {
    let small = measure(2048);
    let large = measure(65536);
    println!("allocated per verified request: 2 KiB body: {} bytes in {} allocations; 64 KiB body: {} bytes in {} allocations", small.0, small.1, large.0, large.1);
    assert_eq!(small, large, "the body must not be copied");
    assert!(small.0 < 2048, "far less than one body: {small:?}");
    // What README.md claims: the two typed extensions (the extensions map, its table, a box each for
    // `Event` and `Verified`) and serde_json's 8-byte stack of open containers while it skips nested
    // values; the `Event` has no allocation of its own. With the `metrics` feature, each metric with
    // labels not known at compile time hands the recorder a new label list (one for the request
    // counter, one for the body-size histogram).
    let most = if cfg!(feature = "metrics") { 7 } else { 5 };
    assert!(
        small.1 <= most,
        "at most {most} allocations per verified request: {small:?}"
    );
}

#[test]
fn a_body_in_many_chunks_that_announces_its_size_is_joined_in_one_allocation() {
    let one_chunk = measure(65536);
    let chunked = measure_with(65536, |payload| {
        let mut body = support::Chunks::split(payload, 4096);
        body.exact_size = Some(payload.len() as u64);
        body
    });
    println!(
        "64 KiB in 16 chunks: {} bytes in {} allocations",
        chunked.0, chunked.1
    );
    // Beyond the one-chunk case: the joined body, allocated once at its full size (growing it would
    // reallocate 4, 8, 16, 32 KiB... on the way), and the small reference count `bytes` adds when the
    // joined buffer is first shared.
    let (extra_bytes, extra_allocations) = (chunked.0 - one_chunk.0, chunked.1 - one_chunk.1);
    assert!(
        (65536..65536 + 64).contains(&extra_bytes),
        "{extra_bytes} extra bytes"
    );
    assert!(extra_allocations <= 2, "{extra_allocations} extra allocations");
}

/// A body that never ends and never says its length: 64 KiB chunks of a static buffer (so the body
/// itself allocates nothing), counting what it hands out.
struct Endless {
    sent: std::sync::Arc<AtomicUsize>,
}

impl http_body::Body for Endless {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        static CHUNK: [u8; 65536] = [b'x'; 65536];
        self.sent.fetch_add(CHUNK.len(), Ordering::SeqCst);
        std::task::Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from_static(&CHUNK)))))
    }
}

#[test]
fn a_body_over_the_limit_without_a_length_is_cut_off_with_at_most_the_limit_buffered() {
    let _guard = one_at_a_time();
    let _measuring = Measuring::start();
    // Not a power of two: a buffer that doubles would overshoot it.
    let limit = 1_000_000;
    let mut service = ServiceBuilder::new()
        .layer(support::layer().body_limit(limit))
        .service_fn(|_: Request<VerifiedBody>| async {
            panic!("an endless body is never verified");
            #[allow(unreachable_code)]
            Ok::<_, Infallible>(Response::new(()))
        });
    let sent = std::sync::Arc::new(AtomicUsize::new(0));
    let request = support::signed_request(b"{}", Endless { sent: sent.clone() });
    let baseline = LIVE.load(Ordering::SeqCst);
    PEAK.store(baseline, Ordering::SeqCst);
    LARGEST.store(0, Ordering::SeqCst);
    let response = support::run(async {
        std::future::poll_fn(|cx| Service::<Request<Endless>>::poll_ready(&mut service, cx)).await?;
        service.call(request).await
    })
    .unwrap();
    let (peak, largest) = (
        (PEAK.load(Ordering::SeqCst) - baseline) as usize,
        LARGEST.load(Ordering::SeqCst),
    );
    let read = sent.load(Ordering::SeqCst);
    println!(
        "endless body, limit {limit}: read {read} bytes, largest allocation {largest} bytes, peak live {peak} bytes"
    );
    assert_eq!(response.status(), 413);
    // Reading stops at the first chunk that would cross the limit.
    assert!(read <= limit + 65536, "read {read}");
    // The buffer never grows past the limit. While it grows, the old buffer (smaller than the new one)
    // and the new one coexist for a moment, as counted here (glibc moves large blocks with mremap,
    // without a copy).
    assert!(largest <= limit, "largest allocation {largest}");
    assert!(peak < 2 * limit, "peak {peak}");
}
