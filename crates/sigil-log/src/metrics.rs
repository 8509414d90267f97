//! Prometheus metrics, rendered in the text exposition format by hand: a few atomics are all the log needs, and
//! the label sets are fixed at compile time (routes are the router's templates, statuses are 100–599), so a
//! flood of unique paths or methods cannot grow them.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// A histogram with fixed upper bounds.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    /// Sum of observations, in millionths of the unit (integer so it can be atomic).
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, v: f64) {
        if let Some(i) = self.bounds.iter().position(|b| v <= *b) {
            if let Some(c) = self.counts.get(i) {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        // Saturating float-to-int conversion: negative or NaN observations count as 0.
        self.sum_micros.fetch_add((v * 1e6) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            cumulative += c.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {count}");
    }
}

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
}

impl Default for LogMetrics {
    fn default() -> Self {
        Self {
            entries_appended: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            batch_size: Histogram::new(BATCH),
            integration_seconds: Histogram::new(SECONDS),
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
    "other",
];

/// Request counts by route and status, plus time to acknowledge appends.
#[derive(Debug)]
pub struct HttpMetrics {
    /// `ROUTES.len()` × 500 status codes (100–599).
    requests: Vec<AtomicU64>,
    pub append_seconds: Histogram,
    pub rejected_busy: AtomicU64,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self {
            requests: (0..ROUTES.len() * 500).map(|_| AtomicU64::new(0)).collect(),
            append_seconds: Histogram::new(SECONDS),
            rejected_busy: AtomicU64::new(0),
        }
    }
}

impl HttpMetrics {
    pub fn count(&self, route: &str, status: u16) {
        let r = ROUTES.iter().position(|x| *x == route).unwrap_or(ROUTES.len() - 1);
        let s = usize::from(status.clamp(100, 599) - 100);
        if let Some(c) = self.requests.get(r * 500 + s) {
            c.fetch_add(1, Ordering::Relaxed);
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
    let _ = writeln!(
        out,
        "# HELP sigil_log_http_requests_total Requests by route and status.\n# TYPE sigil_log_http_requests_total counter"
    );
    for (r, route) in ROUTES.iter().enumerate() {
        for s in 0..500 {
            let v = http.requests.get(r * 500 + s).map_or(0, |c| c.load(Ordering::Relaxed));
            if v > 0 {
                let _ = writeln!(
                    out,
                    "sigil_log_http_requests_total{{route=\"{route}\",status=\"{}\"}} {v}",
                    s + 100
                );
            }
        }
    }
    out
}
