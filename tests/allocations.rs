//! A verified request through the layer, with a one-chunk body, allocates the same number of bytes
//! whatever the body's size: nothing copies the body. Counted with a global allocator wrapper.

mod support;

use std::{
    alloc::{GlobalAlloc, Layout, System},
    convert::Infallible,
    sync::atomic::{AtomicUsize, Ordering},
};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use tower::{Service, ServiceBuilder};
use tower_stripe_webhook::{Event, VerifiedBody};

struct Counting;

static BYTES: AtomicUsize = AtomicUsize::new(0);
static COUNT: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        COUNT.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        BYTES.fetch_add(new_size, Ordering::Relaxed);
        COUNT.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
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
    // The counters are global: one measurement at a time (the test harness runs tests in parallel).
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
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
