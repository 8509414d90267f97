//! Durable appends per second with 1, 16 and 256 concurrent clients (each append waits for its checkpoint).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sigil_log::{Log, LogOptions};

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let log = Arc::new(Log::open(tmp.path(), LogOptions::new("bench.example")).unwrap());
    let counter = Arc::new(AtomicU64::new(0));
    let mut group = c.benchmark_group("durable_append");
    group.sample_size(10).measurement_time(Duration::from_secs(3));
    for threads in [1u64, 16, 256] {
        let per_thread = if threads == 1 { 20 } else { 2_560 / threads };
        group.throughput(Throughput::Elements(threads * per_thread));
        group.bench_function(format!("{threads}_clients"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    let handles: Vec<_> = (0..threads)
                        .map(|_| {
                            let log = Arc::clone(&log);
                            let counter = Arc::clone(&counter);
                            std::thread::spawn(move || {
                                for _ in 0..per_thread {
                                    let n = counter.fetch_add(1, Ordering::Relaxed);
                                    log.append(format!("bench entry {n}").as_bytes()).unwrap();
                                }
                            })
                        })
                        .collect();
                    for h in handles {
                        h.join().unwrap();
                    }
                }
                start.elapsed()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
