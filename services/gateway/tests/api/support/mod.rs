//! The whole fleet in one test process: ledger, risk, payments and gateway on ports chosen by
//! the OS, sharing one fresh database (one schema each, as in production).

use std::time::Duration;

use kit::scenarios::Scenario;
use kit::{
    config::{DatabaseSettings, ServerSettings},
    testing::{TestDatabase, spawn_app},
};
use risk::{
    config::{DeepScoringSettings, RuleSettings},
    types::Mode,
};
use serde_json::{Value, json};
use uuid::Uuid;

pub const API_KEY: &str = "sk_test_fleet";
pub const MERCHANT: &str = "merchant_test";
pub const ADMIN_TOKEN: &str = "admin_test";
/// Payments of at least this amount need deep scoring.
pub const DEEP_AMOUNT: i64 = 50_000;
/// Transfers of at least this amount are screened by the ledger (scenario held-connection).
pub const SCREENING_MIN_AMOUNT: i64 = 20_000;

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
            webhooks: payments::webhooks::WebhookSettings {
                latency: Duration::from_millis(1),
                capacity: 64,
                receipt_bytes: 1024,
            },
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

/// Test settings, with one admin token for every service's admin API.
fn server_settings() -> ServerSettings {
    ServerSettings {
        admin_token: kit::auth::AdminToken::new(ADMIN_TOKEN),
        ..ServerSettings::for_tests()
    }
}

fn database(db: &TestDatabase) -> DatabaseSettings {
    db.settings()
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
            ledger::build(ledger::config::Config {
                server: server_settings(),
                database: DatabaseSettings {
                    max_connections: options.ledger_connections,
                    ..database(&db)
                },
                screening: ledger::screening::ScreeningSettings {
                    latency: options.screening_latency,
                    min_amount: SCREENING_MIN_AMOUNT,
                },
            })
            .await
            .expect("ledger builds"),
        );
        let risk = spawn_app(
            risk::build(risk::config::Config {
                server: server_settings(),
                database: database(&db),
                mode: options.risk_mode,
                admin_token: ADMIN_TOKEN.to_owned(),
                rules: RuleSettings {
                    deep_min_amount: DEEP_AMOUNT,
                    blocked_customers: vec!["cus_blocked".to_owned()],
                },
                deep: DeepScoringSettings {
                    shards: 2,
                    shard_buffer_bytes: 64 * 1024,
                    db_hold: Duration::from_millis(10),
                    cpu_passes: 1,
                    slow_dependency_latency: options.slow_dependency,
                    slow_dependency_capacity: 0,
                    budget: Duration::from_secs(2),
                },
                model: risk::model_scoring::ModelSettings {
                    latency: Duration::from_millis(10),
                    concurrency: 4,
                    budget: Duration::from_millis(300),
                },
            })
            .await
            .expect("risk builds"),
        );
        let payments = spawn_app(
            payments::build(payments::config::Config {
                server: server_settings(),
                database: database(&db),
                risk_url: options.risk_url.clone().unwrap_or_else(|| risk.clone()),
                ledger_url: ledger.clone(),
                recovery: payments::recovery::RecoverySettings {
                    interval: Duration::from_secs(60),
                    stuck_after: Duration::from_secs(60),
                    budget: Duration::from_secs(5),
                },
                webhooks: options.webhooks,
                lease_renew_every: Duration::from_millis(100),
            })
            .await
            .expect("payments builds"),
        );
        let gateway = spawn_app(
            gateway::build(gateway::config::Config {
                server: server_settings(),
                database: database(&db),
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
        let state: Value = self
            .http
            .put(format!("{host}/admin/scenarios/{scenario}"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({ "mode": mode }))
            .send()
            .await
            .expect("admin API answers")
            .error_for_status()
            .expect("switched")
            .json()
            .await
            .expect("JSON");
        assert_eq!(state["mode"], mode.as_str());
    }

    /// One sample (`name` or `name{labels}` verbatim) from a service's `/metrics`.
    pub async fn metric(&self, service_url: &str, series: &str) -> f64 {
        let text = self
            .http
            .get(format!("{service_url}/metrics"))
            .send()
            .await
            .expect("metrics scraped")
            .text()
            .await
            .expect("metrics text");
        kit::testing::metric_value(&text, series).unwrap_or(f64::NAN)
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

    /// Direct SQL on the fleet's database, for invariants the API does not show.
    pub async fn scalar(&self, sql: &str) -> i64 {
        let pool = sqlx::PgPool::connect(self.db.url()).await.expect("connect");
        let value: i64 = sqlx::query_scalar(sql)
            .fetch_one(&pool)
            .await
            .expect("query");
        pool.close().await;
        value
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
