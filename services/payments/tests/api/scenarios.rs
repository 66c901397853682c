//! The two leak scenarios payments hosts, both ways: unbounded-queue (merchant webhooks) and
//! orphaned-loop (processing leases). In leaky mode the load leaves its signal up; in fixed mode
//! the same load leaves it at baseline — and each test shows the path it vouches for ran.

use std::time::Duration;

use contract::scenario::{Mode, Scenario};
use futures::future::join_all;
use payments::webhooks::WebhookSettings;

use crate::support::{BLOCKED, TestPayments, new_key, payment, quick_merchant};

const WEBHOOK_QUEUE: &str = "channel_queued_messages{channel=\"payments_webhooks\"}";
const WEBHOOK_RECEIVED: &str = "channel_received_messages_total{channel=\"payments_webhooks\"}";
const LEASE: &str = "services/payments/src/lease.rs";
const ALIVE: &str = "runtime_alive_tasks_by_spawn_site";

/// `count` payments of `amount` at once, all approved: the money path.
async fn burst(payments: &TestPayments, count: usize, amount: i64) {
    burst_of(
        payments,
        count,
        amount,
        |i| format!("cus_burst_{i}"),
        "authorized",
    )
    .await;
}

/// `count` payments of `amount` at once, by `customer(i)`; every one must be answered 201 with
/// `status` (the path it took through the flow).
async fn burst_of(
    payments: &TestPayments,
    count: usize,
    amount: i64,
    customer: impl Fn(usize) -> String,
    status: &str,
) {
    let answers = join_all((0..count).map(|i| {
        let body = payment(amount, &customer(i));
        async move {
            let response = payments.pay(&new_key(), &body).await;
            let code = response.status().as_u16();
            let answer: serde_json::Value = response.json().await.unwrap_or_default();
            (
                code,
                answer["status"].as_str().unwrap_or_default().to_owned(),
            )
        }
    }))
    .await;
    assert!(
        answers.iter().all(|(code, s)| *code == 201 && s == status),
        "want 201 {status}: {answers:?}"
    );
}

/// Ten payments down the money path, ten that risk declines (a watchlisted customer): the
/// lease's two exit paths.
async fn both_lease_paths(payments: &TestPayments) {
    burst(payments, 10, 1_000).await;
    burst_of(payments, 10, 1_000, |_| BLOCKED.to_owned(), "declined").await;
}

/// A merchant so slow that the delivery loop takes one event off the queue during a test and
/// delivers none: the queue's figures are then exact, whatever the machine's speed.
fn slow_merchant() -> WebhookSettings {
    WebhookSettings {
        latency: Duration::from_secs(600),
        capacity: 8,
        receipt_bytes: 64 * 1024,
    }
}

#[tokio::test]
async fn unbounded_queue_leaky_piles_up_events_and_memory_while_no_task_leaks() {
    let guard = kit::testing::leak_guard();
    let payments = TestPayments::spawn(slow_merchant()).await;
    payments
        .set_scenario(Scenario::UnboundedQueue, Mode::Leaky)
        .await;
    burst(&payments, 40, 1_000).await;

    let queued = payments.metric(WEBHOOK_QUEUE).await;
    let taken = payments.metric(WEBHOOK_RECEIVED).await;
    assert!(
        taken <= 1.0,
        "the merchant is busy with one event at most: {taken}"
    );
    assert_eq!(
        queued + taken,
        40.0,
        "every event the merchant has not taken waits in the queue: {queued} queued"
    );
    let capacity = payments
        .metric("channel_capacity_messages{channel=\"payments_webhooks\"}")
        .await;
    assert!(
        capacity.is_infinite(),
        "an unbounded queue says so: {capacity}"
    );
    // Memory climbs with the queue, yet no task outlives the test: a census sees nothing.
    guard.verify().await;
}

#[tokio::test]
async fn unbounded_queue_fixed_sheds_what_does_not_fit() {
    let guard = kit::testing::leak_guard();
    let payments = TestPayments::spawn(slow_merchant()).await;
    payments
        .set_scenario(Scenario::UnboundedQueue, Mode::Fixed)
        .await;
    burst(&payments, 40, 1_000).await;

    let queued = payments.metric(WEBHOOK_QUEUE).await;
    assert_eq!(queued, 8.0, "the queue is full at its capacity");
    let taken = payments.metric(WEBHOOK_RECEIVED).await;
    let shed = payments.metric("payments_webhooks_shed_total").await;
    assert_eq!(
        queued + taken + shed,
        40.0,
        "the rest is shed, and counted: {shed} shed, {taken} taken by the merchant"
    );
    guard.verify().await;
}

#[tokio::test]
async fn orphaned_loop_leaky_leaves_the_loops_of_the_early_return_path_and_the_guard_names_them() {
    let guard = kit::testing::leak_guard().settle(Duration::from_millis(500));
    let payments = TestPayments::spawn(quick_merchant()).await;
    payments
        .set_scenario(Scenario::OrphanedLoop, Mode::Leaky)
        .await;
    both_lease_paths(&payments).await;

    // The money path's loops end as their requests do (a moment after the answer on a loaded
    // machine): polled down to the ten of the declined payments, which never end.
    let give_up = tokio::time::Instant::now() + Duration::from_secs(5);
    let loops = loop {
        let loops = payments.per_file(ALIVE, LEASE).await;
        if loops <= 10.0 || tokio::time::Instant::now() >= give_up {
            break loops;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        loops, 10.0,
        "the declined payments' renewal loops still run; the money path's ended"
    );
    let held = payments.metric("payments_leases_held").await;
    assert_eq!(held, 10.0, "and the table entries that keep them alive");
    let leaks = guard.check().await.expect_err("the loops outlive the test");
    assert!(
        leaks.sites[0]
            .site
            .starts_with("services/payments/src/lease.rs:"),
        "{leaks}"
    );
    assert_eq!(leaks.sites[0].tasks, 10, "{leaks}");
}

#[tokio::test]
async fn orphaned_loop_fixed_ends_every_loop_on_either_path() {
    let guard = kit::testing::leak_guard();
    let payments = TestPayments::spawn(quick_merchant()).await;
    payments
        .set_scenario(Scenario::OrphanedLoop, Mode::Fixed)
        .await;
    // Both paths ran (burst_of checks each payment's status), the early return included.
    both_lease_paths(&payments).await;
    let spawned = payments
        .per_file("runtime_spawned_tasks_total", LEASE)
        .await;
    assert_eq!(spawned, 20.0, "every payment took its lease");
    guard.verify().await;
    let held = payments.metric("payments_leases_held").await;
    assert_eq!(held, 0.0);
}
