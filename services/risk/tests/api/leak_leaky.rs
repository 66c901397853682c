//! The leak detectors catch the leak: in leaky mode, deep-scoring requests are answered on time
//! (`review` at the deadline, as in the fixed mode) and still leave their shard tasks and
//! buffers alive after their callers are gone — in the metrics, and in the test guard, which
//! fails the test naming the spawn in `score_leaky`.

use std::time::Duration;

use crate::support::{
    EXPECTED_LEAK_SETTLE, SHARD_BUFFER_BYTES, SHARDS, TestRisk, assert_the_guard_names_score_leaky,
};
use risk::types::Mode;

const CALLERS: usize = 10;

#[tokio::test]
async fn leaky_mode_leaves_tasks_and_heap_behind_after_callers_give_up() {
    let guard = kit::testing::leak_guard().settle(EXPECTED_LEAK_SETTLE);
    let risk = TestRisk::spawn(Mode::Leaky, Duration::from_secs(30)).await;
    risk.warm_up().await;
    let baseline = risk.settled_snapshot().await;

    let answers = risk.storm(CALLERS, Duration::from_secs(5)).await;
    // The timeout around the detached shards answers every caller at risk's 300 ms budget: the
    // leak is not in what the caller sees.
    for answer in &answers {
        let answer = answer.as_ref().expect("answered before the caller gave up");
        assert_eq!(answer["decision"], "review", "{answer}");
        assert_eq!(answer["path"], "degraded", "{answer}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    let (leaked_tasks, leaked_heap) = risk.snapshot().await.change_since(&baseline, "leaky");
    assert!(
        leaked_tasks >= (CALLERS * SHARDS) as f64,
        "expected at least {} shard tasks still alive, found {leaked_tasks} more than baseline",
        CALLERS * SHARDS
    );
    let expected_heap = (CALLERS * SHARDS * SHARD_BUFFER_BYTES) as f64 * 0.9;
    assert!(
        leaked_heap >= expected_heap,
        "expected at least {expected_heap} bytes of shard buffers still live, found {leaked_heap}"
    );
    let text = risk.metrics().await;
    let in_flight =
        kit::testing::metric_value(&text, "risk_deep_scoring_in_flight").expect("exported");
    assert_eq!(
        in_flight,
        (CALLERS * SHARDS) as f64,
        "every shard is still in flight"
    );
    let leaks = guard.check().await.expect_err("leaky mode fails the guard");
    assert_the_guard_names_score_leaky(&leaks, CALLERS * SHARDS);
}
