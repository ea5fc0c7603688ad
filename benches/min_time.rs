//! The routines of `verify.rs`, timed as the minimum over batches instead of criterion's median: on a
//! shared machine, where other tenants slow whole seconds of a run, the fastest of many short batches
//! moves by a few percent between runs where medians move by ten. Prints the tables of BENCHMARKS.md.
//!
//! ```sh
//! cargo bench --bench min_time
//! ```

#[path = "shared/routines.rs"]
mod routines;
#[path = "../tests/support/mod.rs"]
mod support;

use std::{collections::HashMap, time::Instant};

/// Batches per routine, and the time one batch should take.
const BATCHES: usize = 40;
const BATCH_NANOS: u128 = 2_000_000;

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
    // `cargo bench` passes `--bench`; a filter is not supported (the run takes about 20 s in all).
    let mut best: HashMap<(&str, usize), f64> = HashMap::new();
    let mut ids = Vec::new();
    routines::each(|id, size, routine| {
        if !ids.contains(&id) {
            ids.push(id);
        }
        // As many calls per batch as fit in BATCH_NANOS, from one timed warm-up batch.
        let start = Instant::now();
        let mut calls = 0u128;
        while start.elapsed().as_nanos() < BATCH_NANOS {
            routine();
            calls += 1;
        }
        let mut min = f64::MAX;
        for _ in 0..BATCHES {
            let start = Instant::now();
            for _ in 0..calls {
                routine();
            }
            min = min.min(start.elapsed().as_nanos() as f64 / calls as f64);
        }
        best.insert((id, size), min);
    });

    let sizes = routines::SIZES;
    let header = |first: &str| {
        println!(
            "| {first} | {} |",
            sizes.map(|size| format!("{size} B")).join(" | ")
        );
        println!("|---|{}", "---:|".repeat(sizes.len()));
    };
    header("bench (minimum of 40 batches)");
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
