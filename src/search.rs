//! Byte searches on the hot path, pinned to SSE2 on x86_64.
//!
//! Why not `memchr`'s default dispatch: it picks AVX2 where available, and on the machines measured here
//! running 256-bit AVX2 code between the SHA-NI rounds of the HMAC cost ~300 ns per request (more than the
//! whole envelope read at 512 bytes: see BENCHMARKS.md). The haystacks here are short (header items,
//! envelope strings) or searched once (`data.object`'s closing line), where SSE2 is as fast. Other
//! architectures use `memchr`'s portable dispatch.

#[cfg(target_arch = "x86_64")]
mod imp {
    use memchr::arch::x86_64::sse2::{memchr::One, memchr::Two, packedpair::Finder};

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
        match Finder::new(needle) {
            // `find` requires a haystack of at least `min_haystack_len` bytes.
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
