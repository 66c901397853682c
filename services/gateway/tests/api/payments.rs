//! End to end through all four services: money moves once, or not at all.

use std::time::Duration;

use crate::support::{DEEP_AMOUNT, FleetOptions, TestFleet, new_key, payment_body};
use risk::types::Mode;
use serde_json::Value;

#[tokio::test]
async fn an_approved_payment_is_authorized_and_the_ledger_holds_two_postings_summing_to_zero() {
    let guard = kit::testing::leak_guard();
    let fleet = TestFleet::spawn(FleetOptions::default()).await;
    let response = fleet
        .pay(&new_key(), &payment_body(1_999, "cus_alice"))
        .await;
    assert_eq!(response.status(), 201);
    let payment: Value = response.json().await.expect("payment JSON");
    assert_eq!(payment["status"], "authorized");
    assert_eq!(payment["risk"]["decision"], "approve");
    assert_eq!(payment["risk"]["path"], "fast");
    assert_eq!(payment["payment_method"]["last4"], "4242");
    assert_eq!(payment["payment_method"]["brand"], "visa");

    let id = payment["id"].as_str().expect("id");
    let fetched: Value = fleet.get_payment(id).await.json().await.expect("JSON");
    assert_eq!(fetched, payment);

    assert_eq!(fleet.balance("customer:cus_alice").await, -1_999);
    assert_eq!(fleet.balance("merchant:merchant_test").await, 1_999);
    let postings = fleet
        .scalar(&format!(
            "SELECT count(*) FROM ledger.postings p JOIN ledger.transfers t ON t.id = p.transfer_id \
             WHERE t.payment_id = '{id}'"
        ))
        .await;
    let sum = fleet
        .scalar(&format!(
            "SELECT coalesce(sum(p.amount), 99)::bigint FROM ledger.postings p \
             JOIN ledger.transfers t ON t.id = p.transfer_id WHERE t.payment_id = '{id}'"
        ))
        .await;
    assert_eq!((postings, sum), (2, 0));
    guard.verify().await;
}

#[tokio::test]
async fn an_idempotent_retry_returns_the_same_payment_and_moves_no_money_twice() {
    let guard = kit::testing::leak_guard();
    let fleet = TestFleet::spawn(FleetOptions::default()).await;
    let key = new_key();
    let body = payment_body(500, "cus_bob");
    let first: Value = fleet.pay(&key, &body).await.json().await.expect("JSON");

    let retry = fleet.pay(&key, &body).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(
        retry
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    let second: Value = retry.json().await.expect("JSON");
    assert_eq!(second["id"], first["id"]);
    assert_eq!(fleet.balance("merchant:merchant_test").await, 500);

    let reused = fleet.pay(&key, &payment_body(501, "cus_bob")).await;
    assert_eq!(reused.status(), 422);
    let error: Value = reused.json().await.expect("JSON");
    assert_eq!(error["error"]["code"], "idempotency_key_reused");
    assert_eq!(
        fleet.scalar("SELECT count(*) FROM payments.payments").await,
        1
    );
    assert_eq!(fleet.balance("merchant:merchant_test").await, 500);
    guard.verify().await;
}

#[tokio::test]
async fn concurrent_requests_with_one_key_make_exactly_one_payment() {
    let guard = kit::testing::leak_guard();
    let fleet = TestFleet::spawn(FleetOptions::default()).await;
    let key = new_key();
    let body = payment_body(700, "cus_carol");
    let responses = futures::future::join_all((0..8).map(|_| fleet.pay(&key, &body))).await;
    for response in &responses {
        // Either the payment, or "still in progress" for the requests that lost the race.
        assert!(
            matches!(response.status().as_u16(), 201 | 409),
            "{}",
            response.status()
        );
    }
    fleet.assert_written(1, 1).await;
    assert_eq!(fleet.balance("merchant:merchant_test").await, 700);
    guard.verify().await;
}

#[tokio::test]
async fn a_declined_payment_moves_no_money() {
    let guard = kit::testing::leak_guard();
    let fleet = TestFleet::spawn(FleetOptions::default()).await;
    let payment: Value = fleet
        .pay(&new_key(), &payment_body(900, "cus_blocked"))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(payment["status"], "declined");
    assert_eq!(payment["risk"]["decision"], "decline");
    assert_eq!(
        fleet.scalar("SELECT count(*) FROM ledger.transfers").await,
        0
    );
    assert_eq!(fleet.balance("customer:cus_blocked").await, 0);
    guard.verify().await;
}

#[tokio::test]
async fn a_large_payment_is_deep_scored_and_authorized_when_scoring_finishes_in_time() {
    let guard = kit::testing::leak_guard();
    let fleet = TestFleet::spawn(FleetOptions::default()).await;
    let payment: Value = fleet
        .pay(&new_key(), &payment_body(DEEP_AMOUNT, "cus_dave"))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(payment["risk"]["path"], "deep");
    assert_eq!(payment["status"], "authorized");
    assert_eq!(fleet.balance("merchant:merchant_test").await, DEEP_AMOUNT);
    guard.verify().await;
}

#[tokio::test]
async fn fixed_mode_degrades_slow_deep_scoring_to_review_without_moving_money() {
    let guard = kit::testing::leak_guard();
    let fleet = TestFleet::spawn(FleetOptions {
        risk_mode: Mode::Fixed,
        slow_dependency: Duration::from_secs(30),
        ..FleetOptions::default()
    })
    .await;
    let payment: Value = fleet
        .pay(&new_key(), &payment_body(DEEP_AMOUNT, "cus_erin"))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(payment["risk"]["path"], "degraded");
    assert_eq!(payment["status"], "review");
    assert_eq!(
        fleet.scalar("SELECT count(*) FROM ledger.transfers").await,
        0
    );
    guard.verify().await;
}

#[tokio::test]
async fn when_the_gateway_gives_up_the_payment_fails_without_moving_money_and_a_retry_says_so() {
    let guard = kit::testing::leak_guard();
    // Risk hangs (it accepts and never answers): every mode of the fleet's own risk answers
    // within its caller's deadline now, so a hung dependency is what makes the gateway give up.
    let fleet = TestFleet::spawn(FleetOptions {
        upstream_timeout: Duration::from_millis(1_500),
        risk_url: Some(crate::support::black_hole()),
        ..FleetOptions::default()
    })
    .await;
    let key = new_key();
    let body = payment_body(DEEP_AMOUNT, "cus_frank");
    let response = fleet.pay(&key, &body).await;
    assert_eq!(response.status(), 504);
    let error: Value = response.json().await.expect("JSON");
    assert_eq!(error["error"]["code"], "upstream_timeout");

    // Payments gave up on risk at the same deadline and recorded the outcome: a retry answers
    // 409 while the payment is still pending, then the failed payment (polled, not slept on).
    let retry = poll_until(Duration::from_secs(10), || async {
        let response = fleet.pay(&key, &body).await;
        (response.status() != 409).then_some(response)
    })
    .await;
    let retry: Value = retry.json().await.expect("JSON");
    assert_eq!(retry["status"], "failed");
    assert_eq!(retry["failure_reason"], "risk_timeout");
    assert_eq!(
        fleet.scalar("SELECT count(*) FROM ledger.transfers").await,
        0
    );
    guard.verify().await;
}

/// `probe` until it gives `Some`, for at most `within`.
async fn poll_until<T, F, Fut>(within: Duration, probe: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let give_up = tokio::time::Instant::now() + within;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < give_up,
            "not within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
