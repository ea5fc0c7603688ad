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

/// Bytes and allocations of one verified request through the layer (request built beforehand).
fn measure(size: usize) -> (usize, usize) {
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
        let request = support::signed_request(&payload, Full::new(payload.clone()));
        let (bytes, count) = (BYTES.load(Ordering::SeqCst), COUNT.load(Ordering::SeqCst));
        let response = support::run(async {
            std::future::poll_fn(|cx| Service::<Request<Full<Bytes>>>::poll_ready(&mut service, cx)).await?;
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
