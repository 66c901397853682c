//! The leak scenarios hosted by payments and the ledger, both directions, through the whole
//! fleet against real Postgres: in leaky mode the load leaves its scenario's signal up; in fixed
//! mode the same load leaves it at baseline. (Risk's scenarios are in services/risk/tests.)

mod support;

use std::time::Duration;

use futures::future::join_all;
use kit::scenarios::{Mode, Scenario};
use support::{FleetOptions, TestFleet, new_key, payment_body};

const WEBHOOK_QUEUE: &str = "channel_queued_messages{channel=\"payments_webhooks\"}";
const WEBHOOK_RECEIVED: &str = "channel_received_messages_total{channel=\"payments_webhooks\"}";

/// `count` payments of `amount` at once; every one must be answered 201.
async fn burst(fleet: &TestFleet, count: usize, amount: i64) {
    burst_of(
        fleet,
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
    fleet: &TestFleet,
    count: usize,
    amount: i64,
    customer: impl Fn(usize) -> String,
    status: &str,
) {
    let answers = join_all((0..count).map(|i| {
        let body = payment_body(amount, &customer(i));
        async move {
            let response = fleet.pay(&new_key(), &body).await;
            let code = response.status().as_u16();
            let payment: serde_json::Value = response.json().await.unwrap_or_default();
            (
                code,
                payment["status"].as_str().unwrap_or_default().to_owned(),
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
async fn both_lease_paths(fleet: &TestFleet) {
    burst(fleet, 10, 1_000).await;
    burst_of(fleet, 10, 1_000, |_| "cus_blocked".to_owned(), "declined").await;
}

/// The alive tasks spawned in `file`, over its spawn sites, from the service's own metrics.
async fn tasks_spawned_in(fleet: &TestFleet, service_url: &str, file: &str) -> f64 {
    per_file(
        fleet,
        service_url,
        "runtime_alive_tasks_by_spawn_site",
        file,
    )
    .await
}

/// `metric{spawn_site}` summed over the spawn sites in `file`.
async fn per_file(fleet: &TestFleet, service_url: &str, metric: &str, file: &str) -> f64 {
    let text = fleet
        .http
        .get(format!("{service_url}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let in_file = |labels: &std::collections::BTreeMap<String, String>| {
        labels
            .get("spawn_site")
            .is_some_and(|site| site.starts_with(&format!("{file}:")))
    };
    contract::prom_text::sum(&contract::prom_text::parse(&text), metric, in_file).unwrap_or(0.0)
}

/// A merchant so slow that the delivery loop takes one event off the queue during a test and
/// delivers none: the queue's figures are then exact, whatever the machine's speed.
fn slow_merchant() -> FleetOptions {
    FleetOptions {
        webhooks: payments::webhooks::WebhookSettings {
            latency: Duration::from_secs(600),
            capacity: 8,
            receipt_bytes: 64 * 1024,
        },
        ..FleetOptions::default()
    }
}

#[tokio::test]
async fn unbounded_queue_leaky_piles_up_events_and_memory_while_no_task_leaks() {
    let guard = kit::testing::leak_guard();
    let fleet = TestFleet::spawn(slow_merchant()).await;
    fleet
        .set_scenario(Scenario::UnboundedQueue, Mode::Leaky)
        .await;
    burst(&fleet, 40, 1_000).await;

    let queued = fleet.metric(&fleet.payments, WEBHOOK_QUEUE).await;
    let taken = fleet.metric(&fleet.payments, WEBHOOK_RECEIVED).await;
    assert!(
        taken <= 1.0,
        "the merchant is busy with one event at most: {taken}"
    );
    assert_eq!(
        queued + taken,
        40.0,
        "every event the merchant has not taken waits in the queue: {queued} queued"
    );
    let capacity = fleet
        .metric(
            &fleet.payments,
            "channel_capacity_messages{channel=\"payments_webhooks\"}",
        )
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
    let fleet = TestFleet::spawn(slow_merchant()).await;
    fleet
        .set_scenario(Scenario::UnboundedQueue, Mode::Fixed)
        .await;
    burst(&fleet, 40, 1_000).await;

    let queued = fleet.metric(&fleet.payments, WEBHOOK_QUEUE).await;
    assert_eq!(queued, 8.0, "the queue is full at its capacity");
    let taken = fleet.metric(&fleet.payments, WEBHOOK_RECEIVED).await;
    let shed = fleet
        .metric(&fleet.payments, "payments_webhooks_shed_total")
        .await;
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
    let fleet = TestFleet::spawn(FleetOptions::default()).await;
    fleet
        .set_scenario(Scenario::OrphanedLoop, Mode::Leaky)
        .await;
    both_lease_paths(&fleet).await;

    // The money path's loops end as their requests do (a moment after the answer on a loaded
    // machine): polled down to the ten of the declined payments, which never end.
    let give_up = tokio::time::Instant::now() + Duration::from_secs(5);
    let loops = loop {
        let loops =
            tasks_spawned_in(&fleet, &fleet.payments, "services/payments/src/lease.rs").await;
        if loops <= 10.0 || tokio::time::Instant::now() >= give_up {
            break loops;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        loops, 10.0,
        "the declined payments' renewal loops still run; the money path's ended"
    );
    let held = fleet.metric(&fleet.payments, "payments_leases_held").await;
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
    let fleet = TestFleet::spawn(FleetOptions::default()).await;
    fleet
        .set_scenario(Scenario::OrphanedLoop, Mode::Fixed)
        .await;
    // Both paths ran (burst_of checks each payment's status), the early return included.
    both_lease_paths(&fleet).await;
    let spawned = per_file(
        &fleet,
        &fleet.payments,
        "runtime_spawned_tasks_total",
        "services/payments/src/lease.rs",
    )
    .await;
    assert_eq!(spawned, 20.0, "every payment took its lease");
    guard.verify().await;
    let held = fleet.metric(&fleet.payments, "payments_leases_held").await;
    assert_eq!(held, 0.0);
}

/// Waits longer than half a second, and connections held longer than 0.75 s, at the ledger.
async fn slow_pool_figures(fleet: &TestFleet) -> (f64, f64) {
    let over = |name: &str, le: &str| {
        let (count, bucket) = (
            format!("db_client_connection_{name}_seconds_count"),
            format!("db_client_connection_{name}_seconds_bucket{{le=\"{le}\"}}"),
        );
        async move {
            fleet.metric(&fleet.ledger, &count).await - fleet.metric(&fleet.ledger, &bucket).await
        }
    };
    (
        over("wait_time", "0.5").await,
        over("use_time", "0.75").await,
    )
}

fn slow_screening() -> FleetOptions {
    FleetOptions {
        screening_latency: Duration::from_secs(1),
        ledger_connections: 2,
        ..FleetOptions::default()
    }
}

/// Large payments (screened by the ledger) at once, sampling the ledger's waiting callers.
async fn screened_burst(fleet: &TestFleet) -> f64 {
    let sampling = async {
        let mut most = 0.0_f64;
        for _ in 0..30 {
            let pending = fleet
                .metric(&fleet.ledger, "db_client_connection_pending_requests")
                .await;
            most = most.max(pending);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        most
    };
    let (_, most_pending) = tokio::join!(burst(fleet, 8, 25_000), sampling);
    most_pending
}

#[tokio::test]
async fn held_connection_leaky_drains_the_pool_while_screening() {
    let guard = kit::testing::leak_guard();
    let fleet = TestFleet::spawn(slow_screening()).await;
    fleet
        .set_scenario(Scenario::HeldConnection, Mode::Leaky)
        .await;
    let most_pending = screened_burst(&fleet).await;
    let (slow_waits, long_holds) = slow_pool_figures(&fleet).await;
    assert!(
        most_pending >= 1.0,
        "callers queue for a connection: {most_pending}"
    );
    assert!(
        slow_waits >= 1.0,
        "some wait over half a second: {slow_waits}"
    );
    assert!(
        long_holds >= 8.0,
        "each screened transfer holds its connection: {long_holds}"
    );
    let sum = fleet
        .scalar("SELECT coalesce(sum(amount), 0)::bigint FROM ledger.postings")
        .await;
    assert_eq!(sum, 0, "and still, postings sum to zero");
    guard.verify().await;
}

#[tokio::test]
async fn held_connection_fixed_screens_before_taking_a_connection() {
    let guard = kit::testing::leak_guard();
    let fleet = TestFleet::spawn(slow_screening()).await;
    fleet
        .set_scenario(Scenario::HeldConnection, Mode::Fixed)
        .await;
    screened_burst(&fleet).await;
    let (slow_waits, long_holds) = slow_pool_figures(&fleet).await;
    assert_eq!(slow_waits, 0.0, "nobody waits long for a connection");
    assert_eq!(
        long_holds, 0.0,
        "no connection is held across the screening"
    );
    let transfers = fleet.scalar("SELECT count(*) FROM ledger.transfers").await;
    assert_eq!(transfers, 8, "every payment moved its money, once");
    guard.verify().await;
}
