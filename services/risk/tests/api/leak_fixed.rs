//! The leak detector stays quiet for the fix: in fixed mode, the same requests end at their
//! deadline, and alive tasks and heap are back at baseline once the callers are gone.

use std::time::Duration;

use crate::support::{SHARD_BUFFER_BYTES, SHARDS, TestRisk};
use risk::types::Mode;

const CALLERS: usize = 10;

#[tokio::test]
async fn fixed_mode_returns_tasks_and_heap_to_baseline_after_callers_give_up() {
    let guard = kit::testing::leak_guard();
    let risk = TestRisk::spawn(Mode::Fixed, Duration::from_secs(30)).await;
    risk.warm_up().await;
    let baseline = risk.settled_snapshot().await;

    let answers = risk.storm(CALLERS, Duration::from_secs(1)).await;
    // Fixed mode answers within its own 300 ms budget, degrading to review.
    for answer in &answers {
        let assessment = answer
            .as_ref()
            .expect("fixed mode answers before the caller gives up");
        assert_eq!(assessment["path"], "degraded");
        assert_eq!(assessment["decision"], "review");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    let (extra_tasks, extra_heap) = risk.snapshot().await.change_since(&baseline, "fixed");
    assert!(
        extra_tasks <= 0.0,
        "no task outlives its request: {extra_tasks} more than baseline"
    );
    // Less than one shard's buffer: every buffer was freed.
    assert!(
        extra_heap < SHARD_BUFFER_BYTES as f64,
        "heap back at baseline: {extra_heap} bytes above it"
    );
    let text = risk.metrics().await;
    let metric = |name| kit::testing::metric_value(&text, name).expect("exported");
    assert_eq!(metric("risk_deep_scoring_in_flight"), 0.0);
    assert_eq!(
        metric("risk_deep_scoring_cancelled_total"),
        (CALLERS * SHARDS) as f64
    );
    guard.verify().await;
}
