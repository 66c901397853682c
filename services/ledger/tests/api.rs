//! The ledger's HTTP API against a fresh Postgres database.

use futures::future::join_all;
use kit::testing::{TestDatabase, spawn_app};
use ledger::types::Transfer;
use serde_json::{Value, json};
use uuid::Uuid;

struct TestLedger {
    url: String,
    http: reqwest::Client,
    _db: TestDatabase,
}

impl TestLedger {
    async fn spawn() -> Self {
        let db = TestDatabase::create().await;
        let config = test_fleet::config::ledger(&db, std::time::Duration::from_millis(10), 10);
        let app = ledger::build(config).await.expect("ledger builds");
        Self {
            url: spawn_app(app),
            http: reqwest::Client::new(),
            _db: db,
        }
    }

    async fn post_transfer(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/transfers", self.url))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    async fn balance(&self, account: &str) -> Value {
        self.http
            .get(format!("{}/v1/accounts/{account}/balance", self.url))
            .send()
            .await
            .expect("request sent")
            .json()
            .await
            .expect("balance is JSON")
    }
}

fn transfer_body(payment_id: Uuid, amount: i64) -> Value {
    json!({
        "payment_id": payment_id,
        "debit_account": "customer:cus_1",
        "credit_account": "merchant:m_1",
        "amount": amount,
        "currency": "EUR",
    })
}

#[tokio::test]
async fn a_transfer_is_two_postings_that_sum_to_zero() {
    let guard = kit::testing::leak_guard();
    let ledger = TestLedger::spawn().await;
    let response = ledger
        .post_transfer(&transfer_body(Uuid::new_v4(), 1250))
        .await;
    assert_eq!(response.status(), 201);
    let transfer: Transfer = response.json().await.expect("transfer JSON");
    assert_eq!(transfer.postings.len(), 2);
    assert_eq!(transfer.postings.iter().map(|p| p.amount).sum::<i64>(), 0);

    assert_eq!(
        ledger.balance("customer:cus_1").await["balances"],
        json!([{"currency": "EUR", "amount": -1250}])
    );
    assert_eq!(
        ledger.balance("merchant:m_1").await["balances"],
        json!([{"currency": "EUR", "amount": 1250}])
    );
    guard.verify().await;
}

#[tokio::test]
async fn replaying_a_transfer_moves_no_money_twice_and_a_different_one_conflicts() {
    let guard = kit::testing::leak_guard();
    let ledger = TestLedger::spawn().await;
    let payment_id = Uuid::new_v4();
    let first: Transfer = ledger
        .post_transfer(&transfer_body(payment_id, 700))
        .await
        .json()
        .await
        .expect("JSON");

    let replay = ledger.post_transfer(&transfer_body(payment_id, 700)).await;
    assert_eq!(replay.status(), 200);
    let replayed: Transfer = replay.json().await.expect("JSON");
    assert_eq!(replayed.id, first.id);

    let conflict = ledger.post_transfer(&transfer_body(payment_id, 701)).await;
    assert_eq!(conflict.status(), 409);
    let error: Value = conflict.json().await.expect("JSON");
    assert_eq!(error["error"]["code"], "transfer_conflict");

    assert_eq!(
        ledger.balance("merchant:m_1").await["balances"],
        json!([{"currency": "EUR", "amount": 700}])
    );
    guard.verify().await;
}

#[tokio::test]
async fn concurrent_requests_for_one_payment_record_one_transfer() {
    let guard = kit::testing::leak_guard();
    let ledger = TestLedger::spawn().await;
    let payment_id = Uuid::new_v4();
    let body = transfer_body(payment_id, 100);
    let responses = join_all((0..8).map(|_| ledger.post_transfer(&body))).await;
    let created = responses.iter().filter(|r| r.status() == 201).count();
    let replayed = responses.iter().filter(|r| r.status() == 200).count();
    assert_eq!((created, replayed), (1, 7));
    assert_eq!(
        ledger.balance("merchant:m_1").await["balances"],
        json!([{"currency": "EUR", "amount": 100}])
    );
    guard.verify().await;
}

#[tokio::test]
async fn bad_transfers_are_rejected_with_json_errors_and_write_nothing() {
    let guard = kit::testing::leak_guard();
    let ledger = TestLedger::spawn().await;
    let id = Uuid::new_v4();
    let valid = transfer_body(id, 100);
    let with = |key: &str, value: Value| {
        let mut body = valid.clone();
        body[key] = value;
        body.to_string()
    };
    let cases: Vec<(&str, String, &str, u16, &str)> = vec![
        (
            "zero amount",
            with("amount", json!(0)),
            "application/json",
            422,
            "invalid_body",
        ),
        (
            "negative amount",
            with("amount", json!(-5)),
            "application/json",
            422,
            "invalid_body",
        ),
        (
            "huge amount",
            with("amount", json!(1e30)),
            "application/json",
            422,
            "invalid_body",
        ),
        (
            "fractional amount",
            with("amount", json!(1.5)),
            "application/json",
            422,
            "invalid_body",
        ),
        (
            "unknown currency",
            with("currency", json!("XYZ")),
            "application/json",
            422,
            "invalid_body",
        ),
        (
            "bad account",
            with("debit_account", json!("nobody")),
            "application/json",
            422,
            "invalid_body",
        ),
        (
            "unknown field",
            with("extra", json!(1)),
            "application/json",
            422,
            "invalid_body",
        ),
        (
            "malformed JSON",
            "{\"payment_id\":".to_owned(),
            "application/json",
            400,
            "malformed_json",
        ),
        (
            "wrong content type",
            valid.to_string(),
            "text/plain",
            415,
            "unsupported_media_type",
        ),
    ];
    for (name, body, content_type, status, code) in cases {
        let response = ledger
            .http
            .post(format!("{}/v1/transfers", ledger.url))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status().as_u16(), status, "{name}");
        let error: Value = response.json().await.expect("error is JSON");
        assert_eq!(error["error"]["code"], code, "{name}");
    }
    assert_eq!(ledger.balance("merchant:m_1").await["balances"], json!([]));
    guard.verify().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json_errors() {
    let guard = kit::testing::leak_guard();
    let ledger = TestLedger::spawn().await;
    let missing = ledger
        .http
        .get(format!("{}/v1/nope", ledger.url))
        .send()
        .await
        .expect("sent");
    assert_eq!(missing.status(), 404);
    let wrong_method = ledger
        .http
        .get(format!("{}/v1/transfers", ledger.url))
        .send()
        .await
        .expect("sent");
    assert_eq!(wrong_method.status(), 405);
    let body: Value = wrong_method.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "method_not_allowed");
    let unknown = ledger
        .http
        .get(format!(
            "{}/v1/transfers/by-payment/{}",
            ledger.url,
            Uuid::new_v4()
        ))
        .send()
        .await
        .expect("sent");
    assert_eq!(unknown.status(), 404);
    guard.verify().await;
}
