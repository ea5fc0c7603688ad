//! Byte searches on the hot path, with the SIMD width chosen per search on x86_64.
//!
//! Short haystacks (header items, envelope strings) use `memchr`'s SSE2 searchers directly: nothing to
//! set up, and a 256-bit search does not pay off on a few dozen bytes. The one long search, for the line
//! that closes `data.object`, uses AVX2 where the CPU has it (detected at run time), SSE2 otherwise.
//! `verify_event − verify`, minimum over 40 batches, SSE2 → AVX2: 453–471 → 455–467 ns at 512 bytes,
//! 505–519 → 475–487 ns at 2 KiB, 710–723 → 602–617 ns at 8 KiB, 2,797–2,840 → 1,794–2,050 ns at
//! 64 KiB. (An earlier reading of a ~300 ns penalty for AVX2 code right after the SHA-NI rounds, which
//! had pinned every search to SSE2, did not reproduce with minimum-of-batches timing.) Other
//! architectures use `memchr`'s portable dispatch.

#[cfg(target_arch = "x86_64")]
mod imp {
    use memchr::arch::x86_64::{
        avx2,
        sse2::{memchr::One, memchr::Two, packedpair::Finder},
    };

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

    pub(crate) fn find_bytes(needle: &[u8], haystack: &[u8]) -> Option<usize> {
        // `find` requires a haystack of at least `min_haystack_len` bytes.
        if let Some(finder) = avx2::packedpair::Finder::new(needle) {
            if haystack.len() >= finder.min_haystack_len() {
                return finder.find(haystack, needle);
            }
        }
        match Finder::new(needle) {
            Some(finder) if haystack.len() >= finder.min_haystack_len() => finder.find(haystack, needle),
            _ => haystack.windows(needle.len()).position(|window| window == needle),
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

    pub(crate) fn find_bytes(needle: &[u8], haystack: &[u8]) -> Option<usize> {
        memchr::memmem::find(haystack, needle)
    }
}

pub(crate) use imp::{find_byte, find_bytes, find_either};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_like_the_obvious_loops() {
        let haystack = b"t=1700000000,v1=abc=def,v0=00\n    },\n  }\n    }";
        for needle in [b',', b'=', b'}', b'x'] {
            assert_eq!(
                find_byte(needle, haystack),
                haystack.iter().position(|&b| b == needle)
            );
        }
        assert_eq!(find_either(b'=', b',', &haystack[2..]), Some(10));
        for len in 0..haystack.len() {
            let hay = &haystack[..len];
            let naive = hay.windows(6).position(|w| w == b"\n    }");
            assert_eq!(find_bytes(b"\n    }", hay), naive, "{len}");
        }
    }
}
