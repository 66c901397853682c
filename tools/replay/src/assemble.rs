//! Turning one replay's runs and samples into its report: each phase's figures, each
//! scenario's verdict and signal, the spans that outlived their request, the slowest requests.

use futures::{StreamExt as _, stream};

use super::{
    ScenarioReport, SlowRequest,
    phases::PhaseRun,
    report::{self, PhaseReport, Thresholds, Verdict, detected_after, latency, moments},
    sampler::Sample,
    scenario::{ScenarioSpec, SignalReport},
};
use fleet::{jaeger::JaegerClient, k6::K6Results};

pub(super) fn scenario_report(
    spec: &ScenarioSpec,
    phases: Vec<PhaseReport>,
    t: &Thresholds,
) -> ScenarioReport {
    let find = |name: &str| phases.iter().find(|p| p.name == name);
    let (verdict, signal) = match (
        find("leaky_storm"),
        find("leaky_recovery"),
        find("fixed_storm"),
    ) {
        (Some(leaky), Some(recovery), Some(fixed)) => (
            spec.verdict(leaky, recovery, fixed, t),
            spec.signal_report(leaky, fixed),
        ),
        _ => (
            Verdict {
                leak_reproduced: false,
                fix_verified: false,
                reasons: vec![format!(
                    "{}: the replay did not run both storms",
                    spec.scenario
                )],
            },
            SignalReport {
                metric: spec.metric(),
                service: spec.host().to_owned(),
                leaky: report::Moments::default(),
                fixed: report::Moments::default(),
                location: None,
                root_cause: "not measured".into(),
            },
        ),
    };
    ScenarioReport {
        scenario: spec.scenario,
        host: spec.host().to_owned(),
        phases,
        verdict,
        signal,
        alerts_fired: None,
    }
}

/// Fetches every traced request's trace and counts the spans that ended after its root span.
pub(super) async fn outliving_spans(jaeger: &JaegerClient, k6: &K6Results) -> (u64, u64) {
    let counts: Vec<anyhow::Result<Option<u64>>> = stream::iter(k6.traced.iter())
        .map(|traced| async move {
            let trace = jaeger.trace(&traced.trace_id).await?;
            Ok(trace.map(|t| t.outliving_spans().len() as u64))
        })
        .buffer_unordered(16)
        .collect()
        .await;
    if let Some(Err(e)) = counts.iter().find(|c| c.is_err()) {
        let failed = counts.iter().filter(|c| c.is_err()).count();
        eprintln!(
            "leakstorm: {failed} of {} traces could not be read: {e:#}",
            counts.len()
        );
    }
    let found: Vec<u64> = counts
        .into_iter()
        .filter_map(|c| c.ok().flatten())
        .collect();
    (found.iter().sum(), found.len() as u64)
}

pub(super) fn phase_report(
    run: &PhaseRun,
    samples: &[Sample],
    spec: &ScenarioSpec,
    thresholds: &Thresholds,
) -> PhaseReport {
    let (outliving, checked) = run.outliving.unwrap_or_default();
    let target = spec.host();
    let l = latency(&run.k6.requests);
    let (start, end) = (run.start_s, run.end_s);
    PhaseReport {
        name: run.spec.name.to_owned(),
        mode: run.spec.mode.as_str().to_owned(),
        requests: l.requests,
        failed: l.failed,
        p50_ms: l.p50,
        p95_ms: l.p95,
        p99_ms: l.p99,
        fast_path_p99_ms: l.fast_p99,
        tasks_alive: moments(samples, target, start, end, |s| s.alive_tasks),
        heap_bytes: moments(samples, target, start, end, |s| s.heap_bytes),
        rss_bytes: moments(samples, target, start, end, |s| s.rss_bytes),
        outliving_spans: outliving,
        // The alert only means something while load arrives (a recovery starts above it).
        detected_after_s: run
            .spec
            .load
            .and_then(|_| detected_after(samples, target, start, end, thresholds.alert_tasks)),
        deep_requests: l.deep,
        dropped_iterations: run.k6.dropped_iterations,
        traces_checked: checked,
        traces_sent: run.k6.traced.len() as u64,
        root_cause: run.root_cause.clone(),
        signal: moments(samples, target, start, end, |s| spec.signal(s)),
        pool_pending_peak: moments(samples, target, start, end, |s| s.pool_pending).peak,
        blocking_queued_peak: moments(samples, target, start, end, |s| s.blocking_queued).peak,
        start_s: start,
        load_end_s: run.load_end_s,
        end_s: end,
    }
}

pub(super) fn slowest_requests(run: &PhaseRun, jaeger: &str) -> Vec<SlowRequest> {
    let mut traced = run.k6.traced.clone();
    traced.sort_by(|a, b| b.duration_ms.total_cmp(&a.duration_ms));
    traced
        .into_iter()
        .filter(|_| run.spec.name.contains("storm"))
        .take(3)
        .map(|t| SlowRequest {
            phase: run.spec.name.to_owned(),
            path: t.path,
            duration_ms: t.duration_ms,
            trace_url: format!("{}/trace/{}", jaeger.trim_end_matches('/'), t.trace_id),
            trace_id: t.trace_id,
        })
        .collect()
}
