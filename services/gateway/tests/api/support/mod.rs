//! The whole fleet in one test process: ledger, risk, payments and gateway on ports chosen by
//! the OS, sharing one fresh database (one schema each, as in production).

use std::time::Duration;

use contract::scenario::{Mode, Scenario};
use kit::testing::{TestDatabase, spawn_app};
use serde_json::{Value, json};
pub use test_fleet::{ADMIN_TOKEN, DEEP_AMOUNT};
use test_fleet::{config, http};
use uuid::Uuid;

pub const API_KEY: &str = "sk_test_fleet";
pub const MERCHANT: &str = "merchant_test";

pub struct FleetOptions {
    pub risk_mode: Mode,
    pub slow_dependency: Duration,
    pub upstream_timeout: Duration,
    /// The leak scenarios' knobs, sized for tests unless a test says otherwise.
    pub webhooks: payments::webhooks::WebhookSettings,
    pub screening_latency: Duration,
    pub ledger_connections: u32,
    /// Where payments calls risk instead of the fleet's own (a risk that hangs, say).
    pub risk_url: Option<String>,
}

impl Default for FleetOptions {
    fn default() -> Self {
        Self {
            risk_mode: Mode::Fixed,
            slow_dependency: Duration::ZERO,
            upstream_timeout: Duration::from_secs(10),
            webhooks: config::quick_merchant(),
            screening_latency: Duration::from_millis(10),
            ledger_connections: 10,
            risk_url: None,
        }
    }
}

pub struct TestFleet {
    pub gateway: String,
    pub payments: String,
    pub ledger: String,
    pub risk: String,
    pub http: reqwest::Client,
    pub db: TestDatabase,
}

/// A service that accepts connections and never answers: a hung dependency. It lives on a plain
/// thread (no task of any runtime) until the process ends.
pub fn black_hole() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    url
}

impl TestFleet {
    pub async fn spawn(options: FleetOptions) -> Self {
        let db = TestDatabase::create().await;
        let ledger = spawn_app(
            ledger::build(config::ledger(
                &db,
                options.screening_latency,
                options.ledger_connections,
            ))
            .await
            .expect("ledger builds"),
        );
        let risk = spawn_app(
            risk::build(config::risk(
                &db,
                options.risk_mode,
                options.slow_dependency,
            ))
            .await
            .expect("risk builds"),
        );
        let payments = spawn_app(
            payments::build(config::payments(
                &db,
                options.risk_url.clone().unwrap_or_else(|| risk.clone()),
                ledger.clone(),
                options.webhooks,
            ))
            .await
            .expect("payments builds"),
        );
        let gateway = spawn_app(
            gateway::build(gateway::config::Config {
                server: config::server(),
                database: db.settings(),
                payments_url: payments.clone(),
                upstream_timeout: options.upstream_timeout,
                demo_api_key: API_KEY.to_owned(),
                demo_merchant_id: MERCHANT.to_owned(),
                card_fingerprint_key: "test-key".to_owned(),
            })
            .await
            .expect("gateway builds"),
        );
        Self {
            gateway,
            payments,
            ledger,
            risk,
            http: reqwest::Client::new(),
            db,
        }
    }

    /// Switches a leak scenario through its host's admin API, as an operator would.
    pub async fn set_scenario(&self, scenario: Scenario, mode: Mode) {
        let host = match scenario.host() {
            "risk" => &self.risk,
            "payments" => &self.payments,
            _ => &self.ledger,
        };
        http::set_scenario(&self.http, host, scenario, mode).await;
    }

    /// One sample (`name` or `name{labels}`) from a service's `/metrics`.
    pub async fn metric(&self, service_url: &str, series: &str) -> f64 {
        http::metric(&self.http, service_url, series).await
    }

    pub async fn pay(&self, key: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/payments", self.gateway))
            .bearer_auth(API_KEY)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get_payment(&self, id: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/v1/payments/{id}", self.gateway))
            .bearer_auth(API_KEY)
            .send()
            .await
            .expect("request sent")
    }

    /// The ledger's balance of an account in EUR (0 when it has no postings).
    pub async fn balance(&self, account: &str) -> i64 {
        let body: Value = self
            .http
            .get(format!("{}/v1/accounts/{account}/balance", self.ledger))
            .send()
            .await
            .expect("request sent")
            .json()
            .await
            .expect("balance JSON");
        body["balances"]
            .as_array()
            .expect("balances list")
            .iter()
            .filter(|b| b["currency"] == "EUR")
            .map(|b| b["amount"].as_i64().expect("integer amount"))
            .sum()
    }

    /// Exactly `payments` payments and `transfers` ledger transfers were written.
    pub async fn assert_written(&self, payments: i64, transfers: i64) {
        let counted = (
            self.scalar("SELECT count(*) FROM payments.payments").await,
            self.scalar("SELECT count(*) FROM ledger.transfers").await,
        );
        assert_eq!(
            counted,
            (payments, transfers),
            "(payments, transfers) written"
        );
    }

    /// Direct SQL on the fleet's database, for invariants the API does not show.
    pub async fn scalar(&self, sql: &str) -> i64 {
        http::scalar(self.db.url(), sql).await
    }
}

pub fn payment_body(amount: i64, customer: &str) -> Value {
    json!({
        "amount": amount,
        "currency": "EUR",
        "merchant_id": MERCHANT,
        "customer_id": customer,
        "payment_method": {
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2099, "cvc": "123"}
        }
    })
}

pub fn new_key() -> String {
    Uuid::new_v4().to_string()
}
