//! The ledger's leak scenario end to end, through all four services against real Postgres: in
//! leaky mode the screened load drains the ledger's pool; in fixed mode the same load leaves it
//! alone. (Payments' scenarios are in services/payments/tests, risk's in services/risk/tests.)

use std::time::Duration;

use futures::future::join_all;
use kit::scenarios::{Mode, Scenario};

use crate::support::{FleetOptions, TestFleet, new_key, payment_body};

/// `count` payments of `amount` at once; every one must be answered 201.
async fn burst(fleet: &TestFleet, count: usize, amount: i64) {
    let answers = join_all((0..count).map(|i| {
        let body = payment_body(amount, &format!("cus_burst_{i}"));
        async move { fleet.pay(&new_key(), &body).await.status().as_u16() }
    }))
    .await;
    assert!(answers.iter().all(|s| *s == 201), "{answers:?}");
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
