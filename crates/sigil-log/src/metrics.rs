//! Prometheus metrics, rendered in the text exposition format by hand: a few atomics are all the log needs, and
//! the label sets are fixed at compile time (routes are the router's templates, statuses are 100–599), so a
//! flood of unique paths or methods cannot grow them.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use sigil_http::{Histogram, RouteMetrics};

const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const BATCH: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0,
];

/// What the storage core reports: batches and their cost.
#[derive(Debug)]
pub struct LogMetrics {
    pub entries_appended: AtomicU64,
    pub duplicates: AtomicU64,
    pub batch_size: Histogram,
    /// From taking a batch to its checkpoint being durable and published.
    pub integration_seconds: Histogram,
    /// Index pairs staged in memory and not yet committed to the index database.
    pub index_backlog: AtomicU64,
}

impl Default for LogMetrics {
    fn default() -> Self {
        Self {
            entries_appended: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            batch_size: Histogram::new(BATCH),
            integration_seconds: Histogram::new(SECONDS),
            index_backlog: AtomicU64::new(0),
        }
    }
}

/// Routes known to the HTTP layer; anything else is `other`.
pub const ROUTES: &[&str] = &[
    "/api/v1/log/entries",
    "/api/v1/log/entries/{uuid}",
    "/api/v1/log/entries/retrieve",
    "/api/v1/log",
    "/api/v1/log/publicKey",
    "/api/v1/log/proof",
    "/api/v1/index/retrieve",
    "/api/v2/log/entries",
    "/checkpoint",
    "/tile/{*path}",
    "/healthz",
    "/metrics",
];

/// Request counts by route and status, plus time to acknowledge appends.
#[derive(Debug)]
pub struct HttpMetrics {
    pub routes: RouteMetrics,
    pub append_seconds: Histogram,
    pub rejected_busy: AtomicU64,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self {
            routes: RouteMetrics::new("sigil_log", ROUTES),
            append_seconds: Histogram::new(SECONDS),
            rejected_busy: AtomicU64::new(0),
        }
    }
}

/// The whole exposition.
pub fn render(log: &LogMetrics, http: &HttpMetrics, tree_size: u64) -> String {
    let mut out = String::new();
    let counter = |out: &mut String, name: &str, help: &str, v: u64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
    };
    counter(
        &mut out,
        "sigil_log_entries_appended_total",
        "New entries durably integrated.",
        log.entries_appended.load(Ordering::Relaxed),
    );
    counter(
        &mut out,
        "sigil_log_duplicate_submissions_total",
        "Submissions of entries already in the log.",
        log.duplicates.load(Ordering::Relaxed),
    );
    counter(
        &mut out,
        "sigil_log_rejected_busy_total",
        "Submissions refused with 429 because too many were pending.",
        http.rejected_busy.load(Ordering::Relaxed),
    );
    let _ = writeln!(
        out,
        "# HELP sigil_log_tree_size Entries in the latest checkpoint.\n# TYPE sigil_log_tree_size gauge\nsigil_log_tree_size {tree_size}"
    );
    let _ = writeln!(
        out,
        "# HELP sigil_log_index_backlog Entries integrated but not yet committed to the de-duplication index \
         (looked up in memory meanwhile).\n# TYPE sigil_log_index_backlog gauge\nsigil_log_index_backlog {}",
        log.index_backlog.load(Ordering::Relaxed)
    );
    log.batch_size
        .render("sigil_log_batch_size", "Entries integrated per batch.", &mut out);
    log.integration_seconds.render(
        "sigil_log_integration_seconds",
        "Time to make a batch durable and sign its checkpoint.",
        &mut out,
    );
    http.append_seconds.render(
        "sigil_log_append_seconds",
        "Time from receiving a submission to acknowledging it.",
        &mut out,
    );
    http.routes.render(&mut out);
    out
}
