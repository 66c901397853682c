//! The payment flow through payments' own API: money moves once per payment, a replay of the
//! same request moves none, a declined payment none, and a bad key is refused before any row.

use serde_json::Value;

use crate::support::{BLOCKED, TestPayments, new_key, payment, quick_merchant};

const TRANSFERS: &str = "SELECT count(*) FROM ledger.transfers";
const PAYMENTS: &str = "SELECT count(*) FROM payments.payments";

#[tokio::test]
async fn an_approved_payment_moves_money_once_and_its_replay_moves_none() {
    let guard = kit::testing::leak_guard();
    let payments = TestPayments::spawn(quick_merchant()).await;
    let (key, body) = (new_key(), payment(1_999, "cus_alice"));

    let first = payments.pay(&key, &body).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.expect("JSON");
    assert_eq!(first["status"], "authorized");
    assert_eq!(payments.scalar(TRANSFERS).await, 1);

    let again = payments.pay(&key, &body).await;
    assert_eq!(
        again
            .headers()
            .get(contract::payments::REPLAYED_HEADER)
            .map(|v| v.as_bytes()),
        Some(&b"true"[..]),
        "a replay says so"
    );
    let again: Value = again.json().await.expect("JSON");
    assert_eq!(again["id"], first["id"], "the same payment");
    assert_eq!(payments.scalar(TRANSFERS).await, 1, "no money moved twice");
    guard.verify().await;
}

#[tokio::test]
async fn a_declined_payment_moves_no_money() {
    let guard = kit::testing::leak_guard();
    let payments = TestPayments::spawn(quick_merchant()).await;
    let answer: Value = payments
        .pay(&new_key(), &payment(1_999, BLOCKED))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(answer["status"], "declined");
    assert_eq!(answer["risk"]["decision"], "decline");
    assert_eq!(payments.scalar(TRANSFERS).await, 0);
    guard.verify().await;
}

#[tokio::test]
async fn a_reused_or_missing_key_is_refused_and_writes_nothing_new() {
    let guard = kit::testing::leak_guard();
    let payments = TestPayments::spawn(quick_merchant()).await;
    let key = new_key();
    assert_eq!(
        payments
            .pay(&key, &payment(1_000, "cus_bob"))
            .await
            .status(),
        201
    );

    let reused = payments.pay(&key, &payment(2_000, "cus_bob")).await;
    assert_eq!(reused.status(), 422);
    let error: Value = reused.json().await.expect("JSON");
    assert_eq!(error["error"]["code"], "idempotency_key_reused");

    let missing = payments
        .http
        .post(format!("{}/v1/payments", payments.url))
        .json(&payment(1_000, "cus_bob"))
        .send()
        .await
        .expect("sent");
    assert_eq!(missing.status(), 400);
    let error: Value = missing.json().await.expect("JSON");
    assert_eq!(error["error"]["code"], "invalid_idempotency_key");
    assert_eq!(payments.scalar(PAYMENTS).await, 1, "only the first payment");
    assert_eq!(payments.scalar(TRANSFERS).await, 1);
    guard.verify().await;
}
