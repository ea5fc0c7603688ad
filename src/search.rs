//! Byte searches in the `Stripe-Signature` header.
//!
//! Header values are a few dozen bytes: on x86_64, `memchr`'s SSE2 searchers are used directly (nothing
//! to set up, and a 256-bit search does not pay off on such short haystacks); other architectures use
//! `memchr`'s portable dispatch.

#[cfg(target_arch = "x86_64")]
mod imp {
    use memchr::arch::x86_64::sse2::memchr::{One, Two};

    pub(crate) fn find_byte(needle: u8, haystack: &[u8]) -> Option<usize> {
        match One::new(needle) {
            Some(one) => one.find(haystack),
            None => memchr::memchr(needle, haystack),
        }
    }

    pub(crate) fn find_either(first: u8, second: u8, haystack: &[u8]) -> Option<usize> {
        match Two::new(first, second) {
            Some(two) => two.find(haystack),
            None => memchr::memchr2(first, second, haystack),
        }
    }
}
#[cfg(not(target_arch = "x86_64"))]
mod imp {
    pub(crate) fn find_byte(needle: u8, haystack: &[u8]) -> Option<usize> {
        memchr::memchr(needle, haystack)
    }

    pub(crate) fn find_either(first: u8, second: u8, haystack: &[u8]) -> Option<usize> {
        memchr::memchr2(first, second, haystack)
    }
}

pub(crate) use imp::{find_byte, find_either};
