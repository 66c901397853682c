//! The report: per-phase figures, and the verdict computed from them with stated thresholds.

use fleet::k6::RequestResult;
use serde::Serialize;

use crate::{
    sampler::Sample,
    stats::{per_10k, percentile},
};

/// `start`, `peak` and `end` of a measurement over a phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Moments {
    pub start: u64,
    pub peak: u64,
    pub end: u64,
}

impl Moments {
    /// What was still there at the end that was not there at the start.
    pub fn left(&self) -> i64 {
        self.end as i64 - self.start as i64
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    pub name: String,
    pub mode: String,
    pub requests: u64,
    pub failed: u64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// p99 of the requests that never needed deep scoring: the collateral damage.
    pub fast_path_p99_ms: Option<f64>,
    pub tasks_alive: Moments,
    pub heap_bytes: Moments,
    pub rss_bytes: Moments,
    /// Spans that ended after their trace's root span (the request) had ended.
    pub outliving_spans: u64,
    /// Seconds from the phase's start until `runtime_alive_tasks` crossed the alert threshold.
    pub detected_after_s: Option<f64>,
    // Beyond the brief's fields: enough to check the figures above.
    pub deep_requests: u64,
    pub dropped_iterations: u64,
    /// Traces found in the trace store, of `traces_sent` traced requests (k6 recorded their ids).
    pub traces_checked: u64,
    pub traces_sent: u64,
    /// Storms only: the spawn site named as holding the alive tasks, and when.
    pub root_cause: Option<super::root_cause::RootCause>,
    /// The scenario's own signal on its host (see `scenario.rs`), and two figures beside it.
    pub signal: Moments,
    pub pool_pending_peak: u64,
    pub blocking_queued_peak: u64,
    /// Seconds since the replay started: the phase's start, its load's end, its end sample.
    pub start_s: f64,
    pub load_end_s: f64,
    pub end_s: f64,
}

/// The rules behind the verdict, written into the report.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Thresholds {
    /// The leak alert: `runtime_alive_tasks` of the target at or above this.
    pub alert_tasks: u64,
    /// Leak reproduced: the leaky storm leaves at least this many more alive tasks...
    pub leak_min_tasks_left: u64,
    /// ...and at least this much more live heap at its end than at its start.
    pub leak_min_heap_left_bytes: u64,
    /// Fix verified: the fixed storm leaves at most this many more alive tasks...
    pub fix_max_tasks_left: u64,
    /// ...and at most this much more live heap,
    pub fix_max_heap_left_bytes: u64,
    /// ...no span outlives its request, and its p99 is at most this fraction of the leaky p99.
    pub fix_max_p99_ratio: f64,
    /// The span check counts only when traces were found for at least this share of a storm's
    /// traced requests; below it the store lost evidence and no verdict rests on it.
    pub min_trace_coverage: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            alert_tasks: 100,
            leak_min_tasks_left: 100,
            leak_min_heap_left_bytes: 64 * 1024 * 1024,
            fix_max_tasks_left: 5,
            fix_max_heap_left_bytes: 32 * 1024 * 1024,
            fix_max_p99_ratio: 0.5,
            min_trace_coverage: 0.95,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub leak_reproduced: bool,
    pub fix_verified: bool,
    /// Plain words for every rule that failed, with what to try.
    pub reasons: Vec<String>,
}

/// Applies the thresholds to the leaky and fixed storm phases.
pub fn verdict(leaky: &PhaseReport, fixed: &PhaseReport, t: &Thresholds) -> Verdict {
    let mut leak = Vec::new();
    if leaky.requests == 0 {
        leak.push(
            "the leaky storm sent no request: is k6 installed and the gateway reachable?"
                .to_owned(),
        );
    } else if leaky.deep_requests == 0 {
        leak.push(
            "no request reached deep scoring: raise the deep share (--deep-share)".to_owned(),
        );
    }
    if leaky.tasks_alive.left() < t.leak_min_tasks_left as i64 {
        leak.push(format!(
            "alive tasks rose by only {} over the leaky storm (needed {}): raise --rate or --deep-share, or make the slow dependency (--slow-dependency-ms) outlast the storm's end sample",
            leaky.tasks_alive.left(),
            t.leak_min_tasks_left
        ));
    }
    if leaky.heap_bytes.left() < t.leak_min_heap_left_bytes as i64 {
        leak.push(format!(
            "live heap rose by only {:.1} MiB over the leaky storm (needed {:.0} MiB): raise --shard-buffer-bytes",
            mib(leaky.heap_bytes.left()),
            mib(t.leak_min_heap_left_bytes as i64)
        ));
    }
    if leaky.outliving_spans == 0 {
        leak.push("no span outlived its request in the leaky storm: is the trace store receiving spans (OTEL_EXPORTER_OTLP_ENDPOINT)?".to_owned());
    }

    let mut fix = Vec::new();
    if fixed.requests == 0 {
        fix.push("the fixed storm sent no request".to_owned());
    }
    if fixed.tasks_alive.left() > t.fix_max_tasks_left as i64 {
        fix.push(format!(
            "the fixed storm left {} more alive tasks than it started with (allowed {})",
            fixed.tasks_alive.left(),
            t.fix_max_tasks_left
        ));
    }
    if fixed.heap_bytes.left() > t.fix_max_heap_left_bytes as i64 {
        fix.push(format!(
            "the fixed storm left {:.1} MiB more live heap (allowed {:.0} MiB)",
            mib(fixed.heap_bytes.left()),
            mib(t.fix_max_heap_left_bytes as i64)
        ));
    }
    if let Some(gap) = trace_gap(fixed, t) {
        fix.push(gap);
    } else if fixed.outliving_spans > 0 {
        fix.push(format!(
            "{} spans outlived their request in the fixed storm",
            fixed.outliving_spans
        ));
    }
    match (leaky.p99_ms, fixed.p99_ms) {
        (Some(l), Some(f)) if f > l * t.fix_max_p99_ratio => fix.push(format!(
            "fixed p99 {f:.0} ms is not below {:.0} % of leaky p99 {l:.0} ms",
            t.fix_max_p99_ratio * 100.0
        )),
        _ => {}
    }
    Verdict {
        leak_reproduced: leak.is_empty(),
        fix_verified: fix.is_empty(),
        reasons: leak
            .into_iter()
            .map(|r| format!("leak not reproduced: {r}"))
            .chain(fix.into_iter().map(|r| format!("fix not verified: {r}")))
            .collect(),
    }
}

/// Why the spans of `storm` cannot be judged: too few of its traced requests' traces were found.
fn trace_gap(storm: &PhaseReport, t: &Thresholds) -> Option<String> {
    let found = storm.traces_checked as f64;
    let sent = storm.traces_sent as f64;
    if sent > 0.0 && found >= sent * t.min_trace_coverage {
        return None;
    }
    Some(format!(
        "the trace check could not be made: traces found for {} of {} traced requests of the {} storm (needed {:.0} %)",
        storm.traces_checked,
        storm.traces_sent,
        storm.mode,
        t.min_trace_coverage * 100.0
    ))
}

fn mib(bytes: i64) -> f64 {
    bytes as f64 / 1_048_576.0
}

/// Latency figures over a phase's requests (timed-out ones count at their timeout).
pub struct Latency {
    pub requests: u64,
    pub failed: u64,
    pub deep: u64,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub fast_p99: Option<f64>,
}

pub fn latency(requests: &[RequestResult]) -> Latency {
    let all: Vec<f64> = requests.iter().map(|r| r.duration_ms).collect();
    let fast: Vec<f64> = requests
        .iter()
        .filter(|r| r.path == "fast")
        .map(|r| r.duration_ms)
        .collect();
    Latency {
        requests: requests.len() as u64,
        failed: requests.iter().filter(|r| r.failed).count() as u64,
        deep: requests.iter().filter(|r| r.path == "deep").count() as u64,
        p50: percentile(&all, 50.0),
        p95: percentile(&all, 95.0),
        p99: percentile(&all, 99.0),
        fast_p99: percentile(&fast, 99.0),
    }
}

/// `start` is the last sample at or before `start_s`, `end` the first at or after `end_s`, `peak`
/// the highest in between (inclusive).
pub fn moments(
    samples: &[Sample],
    service: &str,
    start_s: f64,
    end_s: f64,
    value: impl Fn(&Sample) -> f64,
) -> Moments {
    let own: Vec<&Sample> = samples.iter().filter(|s| s.service == service).collect();
    let start = own
        .iter()
        .rev()
        .find(|s| s.t <= start_s)
        .or_else(|| own.first())
        .map(|s| value(s));
    let end = own
        .iter()
        .find(|s| s.t >= end_s)
        .or_else(|| own.last())
        .map(|s| value(s));
    let peak = own
        .iter()
        .filter(|s| s.t >= start_s && s.t <= end_s)
        .map(|s| value(s))
        .chain(start)
        .chain(end)
        .reduce(f64::max);
    Moments {
        start: start.unwrap_or(0.0) as u64,
        peak: peak.unwrap_or(0.0) as u64,
        end: end.unwrap_or(0.0) as u64,
    }
}

/// Seconds after `start_s` at which `service`'s alive tasks first reached `threshold`.
pub fn detected_after(
    samples: &[Sample],
    service: &str,
    start_s: f64,
    end_s: f64,
    threshold: u64,
) -> Option<f64> {
    samples
        .iter()
        .filter(|s| s.service == service && s.t >= start_s && s.t <= end_s)
        .find(|s| s.alive_tasks >= threshold as f64)
        .map(|s| s.t - start_s)
}

/// Per-10k figures for the before/after table.
pub fn per_10k_requests(amount: i64, phase: &PhaseReport) -> Option<f64> {
    per_10k(amount as f64, phase.requests)
}

#[cfg(test)]
mod tests;
