//! The `blocking-pileup` scenario, both directions: in leaky mode, fraud-model calls handed to
//! `spawn_blocking` without a bound keep their threads after their callers are answered, fill
//! the blocking pool and queue behind it; in fixed mode the same load holds at most the bound,
//! and each call frees its thread at the deadline. Neither leaves a task behind: the blocking
//! pool's own figures are the signal, not the task census.

use std::time::Duration;

use crate::support::{DEEP_AMOUNT, TestRisk};
use kit::scenarios::Scenario;
use risk::types::Mode;

const CALLS: usize = 12;
/// Per worker; risk runs two workers in these tests.
const MAX_BLOCKING_THREADS: usize = 4;
const MODEL_CONCURRENCY: usize = 2;

async fn risk_with_a_slow_model() -> TestRisk {
    TestRisk::spawn_with(Mode::Fixed, Duration::from_secs(30), |config| {
        // Far longer than the test: the abandoned calls still hold their threads when it reads.
        config.model.latency = Duration::from_secs(20);
        config.model.concurrency = MODEL_CONCURRENCY;
        config.server.max_blocking_threads = Some(MAX_BLOCKING_THREADS);
    })
    .await
}

/// `CALLS` deep-scored assessments at once, each caller giving up after 500 ms (risk answers
/// at that deadline either way, degraded to review; the caller may be gone by then).
async fn deep_burst(risk: &TestRisk) {
    futures::future::join_all(
        (0..CALLS).map(|_| risk.assess(DEEP_AMOUNT, Duration::from_millis(500))),
    )
    .await;
    // Let the handlers finish answering before the figures are read.
    tokio::time::sleep(Duration::from_millis(200)).await;
}

async fn metric(risk: &TestRisk, name: &str) -> f64 {
    kit::testing::metric_value(&risk.metrics().await, name).unwrap_or(f64::NAN)
}

/// `name` once it reaches `want`, or as it is after 5 s: on a loaded machine the last handlers
/// reach their deadline a moment after their callers gave up.
async fn metric_reaching(risk: &TestRisk, name: &str, want: f64) -> f64 {
    let give_up = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let value = metric(risk, name).await;
        if value >= want || tokio::time::Instant::now() >= give_up {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn leaky_model_calls_keep_their_threads_and_queue_for_more() {
    let guard = kit::testing::leak_guard();
    let risk = risk_with_a_slow_model().await;
    risk.set_scenario(Scenario::BlockingPileup, Mode::Leaky)
        .await;
    deep_burst(&risk).await;
    let abandoned = metric_reaching(&risk, "risk_model_calls_abandoned_total", CALLS as f64).await;
    assert_eq!(
        abandoned, CALLS as f64,
        "every caller stopped waiting for its model call"
    );

    let in_flight = metric(&risk, "risk_model_calls_in_flight").await;
    let threads = metric(&risk, "runtime_blocking_threads").await;
    let queued = metric(&risk, "runtime_blocking_queue_depth").await;
    eprintln!(
        "leaky: model calls in flight {in_flight}, blocking threads {threads}, queued {queued}"
    );
    let pool = (2 * MAX_BLOCKING_THREADS) as f64;
    assert_eq!(
        in_flight, pool,
        "every blocking thread is held by an abandoned call"
    );
    assert_eq!(threads, pool, "the pools are at their maximum");
    assert_eq!(
        queued,
        CALLS as f64 - pool,
        "and the rest wait for a thread"
    );
    guard.verify().await;
}

#[tokio::test]
async fn fixed_model_calls_stay_within_the_bound_and_free_their_threads_at_the_deadline() {
    let guard = kit::testing::leak_guard();
    let risk = risk_with_a_slow_model().await;
    risk.set_scenario(Scenario::BlockingPileup, Mode::Fixed)
        .await;
    // The calls in flight, sampled while the burst runs (afterwards every call has reached its
    // deadline and the figure reads 0 with or without the bound).
    let mut peak = 0.0_f64;
    let burst = deep_burst(&risk);
    tokio::pin!(burst);
    loop {
        tokio::select! {
            () = &mut burst => break,
            () = tokio::time::sleep(Duration::from_millis(20)) => {
                peak = peak.max(metric(&risk, "risk_model_calls_in_flight").await);
            }
        }
    }
    assert!(
        (1.0..=MODEL_CONCURRENCY as f64).contains(&peak),
        "during the burst, model calls ran, and at most the bound at once: peak {peak}"
    );
    // (The blocking queue itself may hold a job for a moment: with four threads a worker, the
    // runtime's own blocking work — a DNS lookup for a new connection — can find them busy.)
    assert_eq!(
        metric_reaching_zero(&risk, "risk_model_calls_in_flight").await,
        0.0,
        "each call stopped at its deadline"
    );
    guard.verify().await;
}

/// `name` once it is back to 0, or as it is after 5 s.
async fn metric_reaching_zero(risk: &TestRisk, name: &str) -> f64 {
    let give_up = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let value = metric(risk, name).await;
        if value == 0.0 || tokio::time::Instant::now() >= give_up {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
