//! Verification speed against its physical floor, one HMAC-SHA256 pass, measured in the same run
//! (criterion medians), and `verify_event` on bodies crafted to be slow to read (`adversarial`).
//!
//! ```sh
//! cargo bench --bench verify                 # all groups
//! cargo bench --bench verify -- verify_event # one group
//! python3 benches/report.py                  # the medians and the ratios, as tables
//! ```

#[path = "shared/routines.rs"]
mod routines;
#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn benches(c: &mut Criterion) {
    for mut bench in routines::all() {
        let mut group = c.benchmark_group(bench.id);
        group.throughput(Throughput::Bytes(bench.size as u64));
        group.bench_function(BenchmarkId::from_parameter(bench.size), |b| {
            b.iter(&mut bench.call)
        });
        group.finish();
    }
    let mut group = c.benchmark_group("adversarial");
    group.sample_size(20);
    for mut bench in routines::adversarial() {
        group.throughput(Throughput::Bytes(bench.size as u64));
        group.bench_function(BenchmarkId::new(bench.id, bench.size), |b| {
            b.iter(&mut bench.call)
        });
    }
    group.finish();
}

criterion_group!(benches_group, benches);
criterion_main!(benches_group);
