use contract::scenario::Scenario;

use super::ScenarioSpec;
use crate::report::{Moments, PhaseReport, Thresholds};

fn phase(signal: (u64, u64, u64), heap_mib: (u64, u64)) -> PhaseReport {
    PhaseReport {
        name: "storm".into(),
        mode: "leaky".into(),
        requests: 800,
        failed: 0,
        p50_ms: None,
        p95_ms: None,
        p99_ms: None,
        fast_path_p99_ms: None,
        tasks_alive: Moments::default(),
        heap_bytes: Moments {
            start: heap_mib.0 << 20,
            peak: heap_mib.1 << 20,
            end: heap_mib.1 << 20,
        },
        rss_bytes: Moments::default(),
        outliving_spans: 0,
        detected_after_s: None,
        deep_requests: 0,
        dropped_iterations: 0,
        traces_checked: 0,
        traces_sent: 0,
        root_cause: None,
        signal: Moments {
            start: signal.0,
            peak: signal.1,
            end: signal.2,
        },
        pool_pending_peak: 0,
        blocking_queued_peak: 0,
        start_s: 0.0,
        load_end_s: 40.0,
        end_s: 42.0,
    }
}

fn judge(
    scenario: Scenario,
    leaky: PhaseReport,
    recovery: PhaseReport,
    fixed: PhaseReport,
) -> (bool, bool) {
    let v = ScenarioSpec::of(scenario, 0.2, 60).verdict(
        &leaky,
        &recovery,
        &fixed,
        &Thresholds::default(),
    );
    (v.leak_reproduced, v.fix_verified)
}

#[test]
fn an_unbounded_queue_is_judged_by_its_growth_and_memory() {
    let grew = phase((0, 600, 600), (50, 130));
    let bounded = phase((600, 650, 250), (130, 120));
    let quiet = phase((600, 600, 600), (130, 130));
    assert_eq!(
        judge(
            Scenario::UnboundedQueue,
            grew.clone(),
            quiet.clone(),
            bounded
        ),
        (true, true)
    );
    let still_growing = phase((0, 700, 700), (50, 150));
    assert_eq!(
        judge(Scenario::UnboundedQueue, grew, quiet.clone(), still_growing),
        (true, false)
    );
    let flat = phase((0, 20, 10), (50, 51));
    assert!(!judge(Scenario::UnboundedQueue, flat.clone(), quiet, flat).0);
}

#[test]
fn orphaned_loops_are_the_ones_still_running_after_a_quiet_recovery() {
    let storm = phase((0, 800, 800), (50, 60));
    let orphans = phase((800, 800, 800), (60, 60));
    let drained = phase((800, 800, 0), (60, 50));
    let fixed = phase((800, 802, 800), (60, 60));
    assert_eq!(
        judge(
            Scenario::OrphanedLoop,
            storm.clone(),
            orphans,
            fixed.clone()
        ),
        (true, true)
    );
    assert!(
        !judge(Scenario::OrphanedLoop, storm.clone(), drained, fixed).0,
        "loops that end are not orphans"
    );
    let more = phase((800, 900, 900), (60, 60));
    let orphans = phase((800, 800, 800), (60, 60));
    assert!(!judge(Scenario::OrphanedLoop, storm, orphans, more).1);
}

#[test]
fn root_causes_of_signals_that_outlive_the_fix_give_the_fixed_storms_change() {
    let spec = |s| ScenarioSpec::of(s, 0.2, 60);
    let orphans = spec(Scenario::OrphanedLoop)
        .signal_report(
            &phase((51, 852, 852), (60, 60)),
            &phase((852, 852, 852), (60, 60)),
        )
        .root_cause;
    assert!(
        orphans.contains("+801 alive tasks on payments over the leaky storm"),
        "{orphans}"
    );
    assert!(orphans.contains("+0 over the fixed storm"), "{orphans}");
    let queue = spec(Scenario::UnboundedQueue)
        .signal_report(
            &phase((209, 849, 841), (50, 130)),
            &phase((781, 781, 247), (130, 60)),
        )
        .root_cause;
    assert!(queue.contains("grew from 209 to 841"), "{queue}");
    assert!(queue.contains("drained from 781 to 247"), "{queue}");
}

#[test]
fn held_connections_and_blocking_pileups_are_judged_on_their_pools() {
    let waits = phase((0, 300, 300), (20, 20));
    let none = phase((300, 300, 300), (20, 20));
    assert_eq!(
        judge(
            Scenario::HeldConnection,
            waits.clone(),
            none.clone(),
            none.clone()
        ),
        (true, true)
    );
    assert!(!judge(Scenario::HeldConnection, none.clone(), none.clone(), waits).0);
    let full = phase((0, 64, 64), (20, 20));
    let bounded = phase((2, 4, 0), (20, 20));
    assert_eq!(
        judge(
            Scenario::BlockingPileup,
            full.clone(),
            none.clone(),
            bounded
        ),
        (true, true)
    );
    assert!(!judge(Scenario::BlockingPileup, full.clone(), none, full).1);
}
