//! Byte searches on the hot path.
//!
//! Short haystacks (header items, envelope strings) use `memchr`'s SSE2 searchers directly on x86_64:
//! nothing to set up, and a 256-bit search does not pay off on a few dozen bytes; other architectures use
//! `memchr`'s portable dispatch. The one long search, for the line that closes `data.object`, uses
//! `memchr::memmem` everywhere (AVX2 where the CPU has it, detected at run time), with the searchers for
//! the usual indentations built once: building one cost ~200 instructions per request, as much as
//! reading three envelope members. It reads 512 bytes at a time, with the HMAC's next block between two
//! windows, so that on long payloads it runs while SHA-NI waits (`verify_event/65536` ~0.5 µs faster).
//! Measurements behind these choices are in BENCHMARKS.md.

use std::sync::OnceLock;

use memchr::memmem::Finder;

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

/// The most spaces of indentation whose closing-line searcher is built once.
const CACHED_INDENT: usize = 16;

/// How many bytes the closing-line search reads between two calls of its `between` callback: about what
/// `memmem` searches in the time SHA-NI takes for one block, so that the search runs in the HMAC's waits
/// (see `Verifier::verify_event`).
const WINDOW: usize = 512;

/// Where the first line holding only `indent` and `}` starts in `haystack` (at its `\n`), if anywhere.
/// `None` too for an indentation deeper than 62 bytes, which the caller then skips without the hint.
/// `between` is called after every [`WINDOW`] bytes searched, until it returns `false` (nothing more to
/// do between windows): the rest is then searched in one go.
pub(crate) fn find_closing_line(
    indent: &[u8],
    haystack: &[u8],
    between: impl FnMut() -> bool,
) -> Option<usize> {
    static SPACES: OnceLock<Vec<Finder<'static>>> = OnceLock::new();
    if indent.len() <= CACHED_INDENT && indent.iter().all(|&b| b == b' ') {
        let finders = SPACES.get_or_init(|| {
            // Index `n` searches for `n` spaces (a `map`, so no entry can go missing and shift the rest).
            (0..=CACHED_INDENT)
                .map(|spaces| {
                    Finder::new(&[b"\n", &[b' '; CACHED_INDENT][..spaces], b"}"].concat()).into_owned()
                })
                .collect()
        });
        if let Some(finder) = finders.get(indent.len()) {
            return find_in_windows(finder, haystack, between);
        }
    }
    // Other indentations (tabs, deeper): rare, so the searcher is built here, with the needle on the stack.
    memchr::memmem::find(haystack, closing_line(indent, &mut [0; 64])?)
}

/// `finder`'s first match in `haystack`, searched [`WINDOW`] bytes at a time, calling `between` before
/// each window after the first, and searching all the rest at once when it returns `false` (a window is
/// one more `memmem` call: ~0.75 µs over 64 KiB when nothing runs between them). Windows overlap by the
/// needle's length less one byte, so a match across the end of one is found whole in the next, and the
/// first match is found first.
fn find_in_windows(finder: &Finder<'_>, haystack: &[u8], mut between: impl FnMut() -> bool) -> Option<usize> {
    let overlap = finder.needle().len().saturating_sub(1);
    let mut start = 0;
    loop {
        let end = haystack.len().min(start + WINDOW);
        if let Some(found) = finder.find(&haystack[start..end]) {
            return Some(start + found);
        }
        if end == haystack.len() {
            return None;
        }
        // The needle is shorter than a window (at most CACHED_INDENT + 2 bytes), so this moves forward.
        start = end - overlap;
        if !between() {
            return finder.find(&haystack[start..]).map(|found| start + found);
        }
    }
}

/// `\n`, `indent`, `}`, written into `buffer`; `None` when it does not fit.
fn closing_line<'a>(indent: &[u8], buffer: &'a mut [u8; 64]) -> Option<&'a [u8]> {
    let needle = buffer.get_mut(..indent.len() + 2)?;
    needle[0] = b'\n';
    needle[1..=indent.len()].copy_from_slice(indent);
    needle[indent.len() + 1] = b'}';
    Some(needle)
}

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
            for indent in [&b""[..], b"  ", b"    ", b"\t", b" \t"] {
                let needle = closing_line(indent, &mut [0; 64]).unwrap().to_vec();
                let naive = hay.windows(needle.len()).position(|w| w == needle);
                assert_eq!(find_closing_line(indent, hay, || true), naive, "{len} {indent:?}");
            }
        }
        // Cached and built searchers find the same, up to and beyond the cached indentations.
        for spaces in 0..CACHED_INDENT + 3 {
            let indent = vec![b' '; spaces];
            let needle = closing_line(&indent, &mut [0; 64]).unwrap().to_vec();
            let hay = [&b"x\n   }\n"[..], &needle, b" tail"].concat();
            let naive = hay.windows(needle.len()).position(|w| w == needle);
            assert_eq!(find_closing_line(&indent, &hay, || true), naive, "{spaces}");
        }
        // Deeper than the needle buffer holds: not searched (the caller skips exactly instead).
        let deep = [b' '; 63];
        let hay = [&b"\n"[..], &deep, b"}"].concat();
        assert_eq!(find_closing_line(&deep, &hay, || true), None);
    }

    /// Searched window by window, the first closing line is found wherever it lies, across a window's
    /// end included, and `between` is called once per window after the first.
    #[test]
    fn windows_find_what_one_search_finds() {
        for indent in [&b""[..], b"    "] {
            let needle = closing_line(indent, &mut [0; 64]).unwrap().to_vec();
            for at in (0..3 * WINDOW)
                .step_by(7)
                .chain(WINDOW - needle.len()..WINDOW + 2)
            {
                let mut hay = vec![b'x'; 3 * WINDOW + 40];
                hay[at..at + needle.len()].copy_from_slice(&needle);
                // A later match must not win over the first.
                hay[3 * WINDOW + 10..3 * WINDOW + 10 + needle.len()].copy_from_slice(&needle);
                let mut calls = 0;
                let counting = || {
                    calls += 1;
                    true
                };
                assert_eq!(find_closing_line(indent, &hay, counting), Some(at), "{at}");
                // Found in the first window that holds its end: window k ends at k * stride + WINDOW.
                let stride = WINDOW - (needle.len() - 1);
                assert_eq!(
                    calls,
                    (at + needle.len()).saturating_sub(WINDOW).div_ceil(stride),
                    "{at}"
                );
            }
            // 2,000 bytes: four windows, whatever the small overlap.
            let mut calls = 0;
            let counting = || {
                calls += 1;
                true
            };
            assert_eq!(find_closing_line(indent, &[b'x'; 2000], counting), None);
            assert_eq!(calls, 3);
            // Once `between` has nothing more to do, the rest is one search, which finds the same.
            for budget in 0..4 {
                let mut calls = 0;
                let until = || {
                    calls += 1;
                    calls <= budget
                };
                let hay = [&[b'x'; 1500][..], &needle, &needle].concat();
                assert_eq!(find_closing_line(indent, &hay, until), Some(1500), "{budget}");
                assert_eq!(calls, (budget + 1).min(2), "{budget}");
            }
        }
    }
}
