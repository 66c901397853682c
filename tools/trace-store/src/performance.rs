//! Service performance from the spans received: what Jaeger's Monitor tab shows (call rate, error
//! rate and latency quantiles per service, and per operation), answered through Jaeger's own
//! `/api/metrics/{calls,errors,latencies}` API — where Jaeger itself would ask a Prometheus fed by
//! the collector's spanmetrics.
//!
//! Bounded: spans are counted into 30-second buckets per (service, operation, span kind), with a
//! log-scale latency histogram each, kept for six hours and for at most [`MAX_SERIES`] series.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
};

use super::model::{SpanKind, Status, StoredSpan};

/// Width of a bucket, in milliseconds.
pub const BUCKET_MS: u64 = 30_000;
/// How long buckets are kept.
const KEEP_MS: u64 = 6 * 3600 * 1000;
/// (service, operation, kind) series counted at most; spans of further series are dropped.
pub const MAX_SERIES: usize = 1_000;
/// Latency histogram: bucket `i` holds durations up to `FIRST_BOUND_MS * GROWTH^i`.
const FIRST_BOUND_MS: f64 = 0.25;
const GROWTH: f64 = 1.25;
const LATENCY_BUCKETS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    pub service: String,
    pub operation: String,
    /// Jaeger's span kind names: `server`, `client`, `internal`, `producer`, `consumer`.
    pub kind: &'static str,
}

#[derive(Debug, Clone)]
struct Bucket {
    calls: u64,
    errors: u64,
    latencies: [u32; LATENCY_BUCKETS],
}

impl Default for Bucket {
    fn default() -> Self {
        Self {
            calls: 0,
            errors: 0,
            latencies: [0; LATENCY_BUCKETS],
        }
    }
}

/// What a window of buckets adds up to.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub calls: u64,
    pub errors: u64,
    latencies: Vec<u64>,
}

impl Window {
    /// The `q` quantile of the latencies, in milliseconds, interpolated linearly inside its
    /// bucket as Prometheus's `histogram_quantile` does; `None` without calls.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let total: u64 = self.latencies.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total as f64;
        let mut seen = 0;
        for (i, &count) in self.latencies.iter().enumerate() {
            if count > 0 && (seen + count) as f64 >= rank {
                let upper = FIRST_BOUND_MS * GROWTH.powi(i as i32);
                let lower = if i == 0 { 0.0 } else { upper / GROWTH };
                let into = (rank - seen as f64) / count as f64;
                return Some(lower + (upper - lower) * into.clamp(0.0, 1.0));
            }
            seen += count;
        }
        None
    }
}

#[derive(Debug, Default)]
pub struct Performance {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    series: HashMap<SeriesKey, BTreeMap<u64, Bucket>>,
    newest_bucket: u64,
}

fn kind_name(kind: SpanKind) -> &'static str {
    match kind {
        SpanKind::Server => "server",
        SpanKind::Client => "client",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
        SpanKind::Internal | SpanKind::Unspecified => "internal",
    }
}

fn latency_bucket(ms: f64) -> usize {
    if ms <= FIRST_BOUND_MS {
        return 0;
    }
    ((ms / FIRST_BOUND_MS).ln() / GROWTH.ln())
        .ceil()
        .clamp(0.0, (LATENCY_BUCKETS - 1) as f64) as usize
}

impl Performance {
    /// Counts a batch of spans at their end time.
    pub fn record(&self, spans: &[StoredSpan]) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for span in spans {
            let end_ms = span.end_ns / 1_000_000;
            let bucket = end_ms / BUCKET_MS * BUCKET_MS;
            let key = SeriesKey {
                service: span.process.service.clone(),
                operation: span.name.clone(),
                kind: kind_name(span.kind),
            };
            if !inner.series.contains_key(&key) && inner.series.len() >= MAX_SERIES {
                continue;
            }
            let duration_ms = span.end_ns.saturating_sub(span.start_ns) as f64 / 1e6;
            let counts = inner
                .series
                .entry(key)
                .or_default()
                .entry(bucket)
                .or_default();
            counts.calls += 1;
            counts.errors += u64::from(matches!(span.status, Status::Error(_)));
            counts.latencies[latency_bucket(duration_ms)] += 1;
            inner.newest_bucket = inner.newest_bucket.max(bucket);
        }
        let oldest = inner.newest_bucket.saturating_sub(KEEP_MS);
        inner.series.retain(|_, buckets| {
            buckets.retain(|&at, _| at >= oldest);
            !buckets.is_empty()
        });
    }

    /// The series of `service` (of `kind`, if given), by operation.
    pub fn series(&self, service: &str, kind: Option<&str>) -> Vec<SeriesKey> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut keys: Vec<SeriesKey> = inner
            .series
            .keys()
            .filter(|k| k.service == service && kind.is_none_or(|kind| k.kind == kind))
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    /// The sum of `keys`' buckets overlapping `(from_ms, to_ms]` (the one still filling included,
    /// so that the Monitor tab shows the last seconds too).
    pub fn window(&self, keys: &[SeriesKey], from_ms: u64, to_ms: u64) -> Window {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut window = Window {
            latencies: vec![0; LATENCY_BUCKETS],
            ..Window::default()
        };
        for key in keys {
            let Some(buckets) = inner.series.get(key) else {
                continue;
            };
            // Bucket `[b, b + BUCKET_MS)` overlaps the window when `from - BUCKET_MS < b <= to`.
            let first = (from_ms + 1).saturating_sub(BUCKET_MS);
            for (_, bucket) in buckets.range(first..=to_ms) {
                window.calls += bucket.calls;
                window.errors += bucket.errors;
                for (total, count) in window.latencies.iter_mut().zip(bucket.latencies) {
                    *total += u64::from(count);
                }
            }
        }
        window
    }

    /// Series held (for the store's own statistics).
    pub fn series_count(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .series
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::{BUCKET_MS, LATENCY_BUCKETS, Window, latency_bucket};

    #[test]
    fn latencies_fall_in_log_scale_buckets_and_quantiles_read_back() {
        assert_eq!(latency_bucket(0.1), 0);
        assert!(latency_bucket(10.0) < latency_bucket(10_000.0));
        let mut latencies = vec![0; LATENCY_BUCKETS];
        latencies[latency_bucket(5.0)] = 99;
        latencies[latency_bucket(10_000.0)] = 1;
        let window = Window {
            calls: 100,
            errors: 0,
            latencies,
        };
        let p50 = window.quantile_ms(0.5).unwrap();
        let p100 = window.quantile_ms(1.0).unwrap();
        assert!((4.0..6.3).contains(&p50), "{p50}");
        assert!((8_000.0..12_500.0).contains(&p100), "{p100}");
        assert_eq!(Window::default().quantile_ms(0.5), None);
        assert_eq!(BUCKET_MS, 30_000);
    }
}
