//! Driving a future that never waits (everything is in memory) without a runtime. Shared by the tests,
//! the benches and the fuzz targets.

use std::{
    future::Future,
    pin::pin,
    task::{Context, Poll, Waker},
};

/// Polls `future` to completion with a waker that does nothing: only for futures that are always ready.
pub fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}
