use super::{Moments, PhaseReport, Thresholds, detected_after, moments, verdict};
use crate::sampler::Sample;

fn phase(tasks: (u64, u64), heap_mib: (u64, u64), outliving: u64, p99: f64) -> PhaseReport {
    PhaseReport {
        name: "storm".into(),
        mode: "leaky".into(),
        requests: 800,
        failed: 0,
        p50_ms: Some(p99 / 2.0),
        p95_ms: Some(p99),
        p99_ms: Some(p99),
        fast_path_p99_ms: Some(p99),
        tasks_alive: Moments {
            start: tasks.0,
            peak: tasks.1,
            end: tasks.1,
        },
        heap_bytes: Moments {
            start: heap_mib.0 << 20,
            peak: heap_mib.1 << 20,
            end: heap_mib.1 << 20,
        },
        rss_bytes: Moments::default(),
        outliving_spans: outliving,
        detected_after_s: None,
        deep_requests: 160,
        dropped_iterations: 0,
        traces_checked: 800,
        traces_sent: 800,
        root_cause: None,
        signal: Moments::default(),
        pool_pending_peak: 0,
        blocking_queued_peak: 0,
        start_s: 0.0,
        load_end_s: 40.0,
        end_s: 42.0,
    }
}

#[test]
fn a_fixed_storm_whose_traces_were_lost_is_not_verified() {
    let mut fixed = phase((5, 5), (20, 22), 0, 400.0);
    fixed.mode = "fixed".into();
    fixed.traces_checked = 700; // of 800: the store lost an eighth of the evidence
    let v = verdict(
        &phase((5, 400), (20, 900), 600, 10_000.0),
        &fixed,
        &Thresholds::default(),
    );
    assert!(v.leak_reproduced);
    assert!(
        !v.fix_verified,
        "zero outliving spans among too few traces proves nothing"
    );
    assert!(
        v.reasons
            .iter()
            .any(|r| r.contains("700 of 800 traced requests of the fixed storm")),
        "{:?}",
        v.reasons
    );
    fixed.traces_checked = 0;
    fixed.traces_sent = 0;
    let v = verdict(
        &phase((5, 400), (20, 900), 600, 10_000.0),
        &fixed,
        &Thresholds::default(),
    );
    assert!(
        !v.fix_verified,
        "no traced request at all is no evidence either"
    );
    fixed.traces_checked = 760;
    fixed.traces_sent = 800;
    let v = verdict(
        &phase((5, 400), (20, 900), 600, 10_000.0),
        &fixed,
        &Thresholds::default(),
    );
    assert!(v.fix_verified, "95 % found is enough: {:?}", v.reasons);
}

#[test]
fn a_clear_leak_and_a_clean_fix_pass() {
    let v = verdict(
        &phase((5, 400), (20, 900), 600, 10_000.0),
        &phase((5, 5), (20, 22), 0, 400.0),
        &Thresholds::default(),
    );
    assert!(v.leak_reproduced && v.fix_verified, "{:?}", v.reasons);
    assert!(v.reasons.is_empty());
}

#[test]
fn no_deep_scoring_means_no_leak_and_says_why() {
    let mut leaky = phase((5, 6), (20, 21), 0, 50.0);
    leaky.deep_requests = 0;
    let v = verdict(
        &leaky,
        &phase((5, 5), (20, 20), 0, 40.0),
        &Thresholds::default(),
    );
    assert!(!v.leak_reproduced);
    assert!(
        v.reasons
            .iter()
            .any(|r| r.contains("no request reached deep scoring: raise the deep share"))
    );
}

#[test]
fn a_fix_that_leaves_tasks_or_spans_behind_is_not_verified() {
    let leaky = phase((5, 400), (20, 900), 600, 10_000.0);
    let v = verdict(
        &leaky,
        &phase((5, 60), (20, 22), 0, 400.0),
        &Thresholds::default(),
    );
    assert!(v.leak_reproduced && !v.fix_verified);
    let v = verdict(
        &leaky,
        &phase((5, 5), (20, 22), 3, 400.0),
        &Thresholds::default(),
    );
    assert!(!v.fix_verified);
    let v = verdict(
        &leaky,
        &phase((5, 5), (20, 22), 0, 9_000.0),
        &Thresholds::default(),
    );
    assert!(
        !v.fix_verified,
        "a fix that does not bring p99 down is no fix"
    );
}

fn sample(t: f64, tasks: f64) -> Sample {
    Sample {
        t,
        service: "risk".into(),
        alive_tasks: tasks,
        heap_bytes: tasks * 10.0,
        ..Sample::default()
    }
}

#[test]
fn moments_and_detection_time_come_from_the_samples() {
    let samples: Vec<Sample> = vec![
        sample(9.5, 4.0),
        sample(10.5, 40.0),
        sample(11.5, 150.0),
        sample(12.5, 300.0),
        sample(13.5, 120.0),
    ];
    let m = moments(&samples, "risk", 10.0, 13.0, |s| s.alive_tasks);
    assert_eq!(
        m,
        Moments {
            start: 4,
            peak: 300,
            end: 120
        }
    );
    assert_eq!(detected_after(&samples, "risk", 10.0, 13.0, 100), Some(1.5));
    assert_eq!(detected_after(&samples, "risk", 10.0, 13.0, 1_000), None);
}
