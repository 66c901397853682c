//! Task accounting by spawn site names the leak, both directions: in leaky mode the shard
//! tasks that outlive their callers are counted at the `tokio::spawn` inside
//! `DeepScorer::score_leaky` (services/risk/src/deep_scoring.rs); in fixed mode the same load
//! leaves no site with tasks. Task dumps asked for over and over under load are declined (the
//! workers are current-thread runtimes, where a tokio dump can strand tasks) and the service
//! keeps serving. The test guard agrees: it fails the leaky tests, naming the same spawn and
//! where a shard is parked (its dump runs once the test is over), and passes the fixed one.

use std::time::Duration;

use crate::support::{
    EXPECTED_LEAK_SETTLE, LEAK_FILE, SHARDS, TestRisk, assert_the_guard_names_score_leaky,
    function_lines,
};
use risk::types::Mode;
use taskleak::report::{SiteReport, TasksReport};

const CALLERS: usize = 10;

fn line_of(site: &SiteReport) -> Option<(&str, u32)> {
    let (file, line) = site.site.rsplit_once(':')?;
    Some((file, line.parse().ok()?))
}

fn deep_scoring_sites(report: &TasksReport) -> Vec<&SiteReport> {
    report
        .sites
        .iter()
        .filter(|s| s.site.starts_with(LEAK_FILE))
        .collect()
}

#[tokio::test]
async fn leaky_mode_the_spawn_in_score_leaky_holds_the_alive_tasks() {
    let guard = kit::testing::leak_guard().settle(EXPECTED_LEAK_SETTLE);
    let risk = TestRisk::spawn(Mode::Leaky, Duration::from_secs(30)).await;
    risk.warm_up().await;
    let _ = risk.storm(CALLERS, Duration::from_secs(1)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    let report = risk.debug_tasks(true).await;
    eprintln!("{report:#?}");
    assert_eq!(report.accounting, "on");
    let top = report.top_site().expect("a site holds tasks");
    let (file, line) = line_of(top).expect("file:line");
    assert_eq!(
        file, LEAK_FILE,
        "the top site is in deep_scoring.rs: {top:?}"
    );
    let score_leaky = function_lines("score_leaky");
    assert!(
        score_leaky.contains(&line),
        "the top site's line {line} is inside DeepScorer::score_leaky (lines {score_leaky:?})"
    );
    assert!(
        top.tasks >= CALLERS * SHARDS,
        "every leaked shard is counted there: {} < {}",
        top.tasks,
        CALLERS * SHARDS
    );
    assert!(top.oldest_age_seconds >= 2.0, "they outlived their callers");
    assert_eq!(
        report.dump, "current_thread_only",
        "actix-web workers are current-thread runtimes: /debug/tasks declines to dump them"
    );

    // The same figure in Prometheus, by the one `spawn_site` label.
    let text = risk.metrics().await;
    let series = format!(
        "runtime_alive_tasks_by_spawn_site{{spawn_site=\"{}\"}}",
        top.site
    );
    let exported = kit::testing::metric_value(&text, &series).expect("per-site gauge exported");
    assert!(
        exported >= (CALLERS * SHARDS) as f64,
        "{series} = {exported}"
    );
    // And the test guard fails the test, naming the same spawn.
    let leaks = guard.check().await.expect_err("leaky mode fails the guard");
    assert_the_guard_names_score_leaky(&leaks, CALLERS * SHARDS);
    if cfg!(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    )) {
        // Where a sample shard waits: in `SlowDependency::call`, named by function where debug
        // info has its path, else by a line of deep_scoring.rs inside that function.
        let parked = leaks.sites[0].parked_in.as_deref().unwrap_or_default();
        let call = function_lines("call");
        let in_call = parked.contains("SlowDependency::call")
            || parked
                .rsplit_once(&format!("{LEAK_FILE}:"))
                .and_then(|(_, l)| l.trim_end_matches(')').parse::<u32>().ok())
                .is_some_and(|l| call.contains(&l));
        assert!(
            in_call,
            "a sample shard is parked in SlowDependency::call (lines {call:?}), not {parked:?}"
        );
    }
}

#[tokio::test]
async fn fixed_mode_the_same_load_leaves_no_site_with_tasks() {
    let guard = kit::testing::leak_guard();
    let risk = TestRisk::spawn(Mode::Fixed, Duration::from_secs(30)).await;
    risk.warm_up().await;
    let answers = risk.storm(CALLERS, Duration::from_secs(1)).await;
    // The path this test vouches for ran: every request deep-scored, its shards spawned and
    // cancelled at the deadline (not an empty census because nothing was spawned).
    assert!(
        answers
            .iter()
            .all(|a| a.as_ref().is_ok_and(|a| a["path"] == "degraded")),
        "{answers:?}"
    );
    let cancelled =
        kit::testing::metric_value(&risk.metrics().await, "risk_deep_scoring_cancelled_total");
    assert_eq!(cancelled, Some((CALLERS * SHARDS) as f64));
    tokio::time::sleep(Duration::from_secs(2)).await;

    let report = risk.debug_tasks(false).await;
    eprintln!("{report:#?}");
    assert_eq!(report.accounting, "on");
    assert!(
        deep_scoring_sites(&report).is_empty(),
        "no deep-scoring task outlives its request: {:?}",
        deep_scoring_sites(&report)
    );
    // Whatever else is alive (connections, the pool's reaper) is a handful, not a pile.
    assert!(
        report.sites.iter().all(|s| s.tasks < SHARDS),
        "no site accumulated tasks: {:?}",
        report.sites
    );
    guard.verify().await;
}

#[tokio::test]
async fn dumps_asked_for_under_load_are_declined_and_the_service_keeps_serving() {
    let guard = kit::testing::leak_guard().settle(EXPECTED_LEAK_SETTLE);
    let risk = TestRisk::spawn(Mode::Leaky, Duration::from_secs(30)).await;
    risk.warm_up().await;
    // Leaked shards keep running, and requests share the database pool across both workers
    // (wakes from one worker's thread to the other's tasks), while dumps are asked for.
    let storm = risk.storm(CALLERS, Duration::from_secs(1));
    let dumps = futures::future::join_all((0..12).map(|_| risk.debug_tasks(true)));
    let (_, reports) = tokio::join!(storm, dumps);
    let outcomes: Vec<&str> = reports.iter().map(|r| r.dump.as_str()).collect();
    eprintln!("dump outcomes: {outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| ["current_thread_only", "unavailable"].contains(o)),
        "every dump request was declined, none taken: {outcomes:?}"
    );
    assert!(
        risk.healthy().await,
        "the service still answers after the dumps"
    );
    risk.assess(1_000, Duration::from_secs(5))
        .await
        .expect("and still serves assessments");
    // Leaky mode: the storm's shards outlive the test, and the guard says so.
    let leaks = guard.check().await.expect_err("leaky mode fails the guard");
    assert_the_guard_names_score_leaky(&leaks, CALLERS * SHARDS);
}
