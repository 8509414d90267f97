//! Prometheus metrics rendered by hand: a few atomics, label sets fixed at construction (routes are router
//! templates, statuses 100–599), so a flood of unique paths or methods cannot grow them.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// A histogram with fixed upper bounds.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    /// Sum of observations, in millionths of the unit (integer so it can be atomic).
    sum_micros: AtomicU64,
    count: AtomicU64,
}

/// Bucket bounds for request durations, in seconds.
pub const SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

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
        if let Some(c) = self
            .bounds
            .iter()
            .position(|b| v <= *b)
            .and_then(|i| self.counts.get(i))
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
        // Saturating float-to-int conversion: negative or NaN observations count as 0.
        self.sum_micros.fetch_add((v * 1e6) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Appends the exposition of this histogram to `out`.
    pub fn render(&self, name: &str, help: &str, out: &mut String) {
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

/// Request counts by route template and status, and request durations.
#[derive(Debug)]
pub struct RouteMetrics {
    prefix: &'static str,
    /// The router's templates; anything else counts as `other` (the last slot).
    routes: &'static [&'static str],
    requests: Vec<AtomicU64>,
    pub seconds: Histogram,
}

const STATUSES: usize = 500;

impl RouteMetrics {
    /// Metrics named `<prefix>_http_requests_total` / `<prefix>_http_request_seconds` for these routes.
    pub fn new(prefix: &'static str, routes: &'static [&'static str]) -> Self {
        Self {
            prefix,
            routes,
            requests: (0..(routes.len() + 1) * STATUSES).map(|_| AtomicU64::new(0)).collect(),
            seconds: Histogram::new(SECONDS),
        }
    }

    /// Counts one answer.
    pub fn count(&self, route: &str, status: u16) {
        let r = self
            .routes
            .iter()
            .position(|x| *x == route)
            .unwrap_or(self.routes.len());
        let s = usize::from(status.clamp(100, 599) - 100);
        if let Some(c) = self.requests.get(r * STATUSES + s) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Middleware body: counts the request under its matched route template and times it.
    pub async fn track(&self, req: Request, next: Next) -> Response {
        let started = std::time::Instant::now();
        let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
        let resp = next.run(req).await;
        self.count(route.as_deref().unwrap_or("other"), resp.status().as_u16());
        self.seconds.observe(started.elapsed().as_secs_f64());
        resp
    }

    /// Appends the exposition to `out`.
    pub fn render(&self, out: &mut String) {
        let name = format!("{}_http_requests_total", self.prefix);
        let _ = writeln!(
            out,
            "# HELP {name} Requests by route and status.\n# TYPE {name} counter"
        );
        for r in 0..=self.routes.len() {
            let route = self.routes.get(r).copied().unwrap_or("other");
            for s in 0..STATUSES {
                let v = self
                    .requests
                    .get(r * STATUSES + s)
                    .map_or(0, |c| c.load(Ordering::Relaxed));
                if v > 0 {
                    let _ = writeln!(out, "{name}{{route=\"{route}\",status=\"{}\"}} {v}", s + 100);
                }
            }
        }
        self.seconds.render(
            &format!("{}_http_request_seconds", self.prefix),
            "Time to answer a request.",
            out,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_routes_share_one_label() {
        let m = RouteMetrics::new("x", &["/a"]);
        for i in 0..1000 {
            m.count(&format!("/random/{i}"), 404);
        }
        m.count("/a", 200);
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains("x_http_requests_total{route=\"other\",status=\"404\"} 1000"));
        assert!(out.contains("x_http_requests_total{route=\"/a\",status=\"200\"} 1"));
        assert_eq!(out.matches("x_http_requests_total{").count(), 2);
    }
}
