//! The routines of `verify.rs`, timed as the minimum over many short batches instead of criterion's
//! median, with the routines interleaved: round after round, one batch of each. This machine has slow
//! phases lasting seconds (other tenants of the host), and they slow the envelope's scalar code by up to
//! half again while the SHA-NI rounds of the HMAC barely move. Timed one after the other, as criterion
//! does, a routine can land wholly in a slow phase and its ratio to the HMAC with it; interleaved, every
//! routine samples the same phases and the minimums compare like with like. Prints the tables of
//! BENCHMARKS.md.
//!
//! ```sh
//! cargo bench --bench min_time
//! ```

#[path = "shared/routines.rs"]
mod routines;
#[path = "../tests/support/mod.rs"]
mod support;

use std::{collections::HashMap, time::Instant};

/// Rounds (one batch of every routine each), and the time one batch should take: about 7 s in all.
const ROUNDS: usize = 300;
const BATCH_NANOS: u128 = 1_000_000;

/// `1234.6` as `1,235`.
fn grouped(value: f64) -> String {
    let digits = format!("{value:.0}");
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn main() {
    // `cargo bench` passes `--bench`; a filter is not supported.
    let mut benches = routines::all();
    // As many calls per batch as fit in BATCH_NANOS, from one timed warm-up batch each.
    let calls: Vec<u128> = benches
        .iter_mut()
        .map(|bench| {
            let start = Instant::now();
            let mut calls = 0u128;
            while start.elapsed().as_nanos() < BATCH_NANOS {
                (bench.call)();
                calls += 1;
            }
            calls
        })
        .collect();
    let mut min = vec![f64::MAX; benches.len()];
    for _ in 0..ROUNDS {
        for ((bench, calls), min) in benches.iter_mut().zip(&calls).zip(&mut min) {
            let start = Instant::now();
            for _ in 0..*calls {
                (bench.call)();
            }
            *min = min.min(start.elapsed().as_nanos() as f64 / *calls as f64);
        }
    }
    let best: HashMap<(&str, usize), f64> = benches
        .iter()
        .zip(min)
        .map(|(bench, min)| ((bench.id, bench.size), min))
        .collect();
    let mut ids: Vec<&str> = benches.iter().map(|bench| bench.id).collect();
    ids.dedup();

    let sizes = routines::SIZES;
    let header = |first: &str| {
        println!(
            "| {first} | {} |",
            sizes.map(|size| format!("{size} B")).join(" | ")
        );
        println!("|---|{}", "---:|".repeat(sizes.len()));
    };
    header("bench (minimum of 300 interleaved batches)");
    for id in ids {
        let cells = sizes.map(|size| {
            let ns = best[&(id, size)];
            format!("{} ns ({} MB/s)", grouped(ns), grouped(size as f64 / ns * 1e3))
        });
        println!("| `{id}` | {} |", cells.join(" | "));
    }
    println!();
    header("ratio (target)");
    let t = |id: &str, size: usize| best[&(id, size)];
    let rows: [(&str, &dyn Fn(usize) -> f64); 4] = [
        ("verify / hmac_baseline (<= 1.20 at 512, <= 1.10 above)", &|s| {
            t("verify", s) / t("hmac_baseline", s)
        }),
        (
            "verify_event / hmac_baseline (<= 2.0 at 512/2K, <= 1.5 at 8K/64K)",
            &|s| t("verify_event", s) / t("hmac_baseline", s),
        ),
        ("verify_rotation / verify (<= 2.1)", &|s| {
            t("verify_rotation", s) / t("verify", s)
        }),
        ("(layer - baseline_service) / verify_event (<= 1.15)", &|s| {
            (t("layer", s) - t("baseline_service", s)) / t("verify_event", s)
        }),
    ];
    for (name, ratio) in rows {
        println!(
            "| {name} | {} |",
            sizes.map(|size| format!("{:.2}", ratio(size))).join(" | ")
        );
    }
}
