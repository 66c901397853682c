//! Payments with the services it calls: ledger and risk (fixed, fast) on ports chosen by the OS,
//! sharing one fresh database, dropped afterwards (the configurations are the shared test
//! fleet's). Payments is called as the gateway calls it.

use std::time::Duration;

use contract::{
    payments::IDEMPOTENCY_KEY_HEADER,
    scenario::{Mode, Scenario},
};
use kit::testing::{TestDatabase, spawn_app};
use payments::webhooks::WebhookSettings;
use serde_json::{Value, json};
pub use test_fleet::BLOCKED_CUSTOMER as BLOCKED;
use test_fleet::{config, http};
use uuid::Uuid;

pub use config::quick_merchant;

pub const MERCHANT: &str = "merchant_test";

pub struct TestPayments {
    pub url: String,
    pub http: reqwest::Client,
    pub db: TestDatabase,
}

impl TestPayments {
    pub async fn spawn(webhooks: WebhookSettings) -> Self {
        let db = TestDatabase::create().await;
        let ledger = spawn_app(
            ledger::build(config::ledger(&db, Duration::from_millis(10), 10))
                .await
                .expect("ledger builds"),
        );
        let risk = spawn_app(
            risk::build(config::risk(&db, Mode::Fixed, Duration::ZERO))
                .await
                .expect("risk builds"),
        );
        let url = spawn_app(
            payments::build(config::payments(&db, risk, ledger, webhooks))
                .await
                .expect("payments builds"),
        );
        Self {
            url,
            http: reqwest::Client::new(),
            db,
        }
    }

    /// `POST /v1/payments` as the gateway sends it.
    pub async fn pay(&self, key: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/payments", self.url))
            .header(IDEMPOTENCY_KEY_HEADER, key)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn set_scenario(&self, scenario: Scenario, mode: Mode) {
        http::set_scenario(&self.http, &self.url, scenario, mode).await;
    }

    pub async fn metric(&self, series: &str) -> f64 {
        http::metric(&self.http, &self.url, series).await
    }

    /// `metric{spawn_site}` summed over the spawn sites in `file`.
    pub async fn per_file(&self, metric: &str, file: &str) -> f64 {
        http::per_file(&self.http, &self.url, metric, file).await
    }

    pub async fn scalar(&self, sql: &str) -> i64 {
        http::scalar(self.db.url(), sql).await
    }
}

/// A payment as the gateway forwards it (card reduced to its summary).
pub fn payment(amount: i64, customer: &str) -> Value {
    json!({
        "merchant_id": MERCHANT,
        "customer_id": customer,
        "amount": amount,
        "currency": "EUR",
        "card": {"brand": "visa", "last4": "4242", "fingerprint": "fp_test"},
    })
}

pub fn new_key() -> String {
    Uuid::new_v4().to_string()
}
