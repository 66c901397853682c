//! Payments with the services it calls: ledger and risk (fixed, fast) on ports chosen by the OS,
//! sharing one fresh database, dropped afterwards. Payments is called as the gateway calls it.

use std::time::Duration;

use contract::{
    payments::IDEMPOTENCY_KEY_HEADER,
    scenario::{Mode, Scenario},
};
use kit::{
    config::ServerSettings,
    testing::{TestDatabase, spawn_app},
};
use payments::webhooks::WebhookSettings;
use serde_json::{Value, json};
use uuid::Uuid;

pub const ADMIN_TOKEN: &str = "admin_test";
pub const MERCHANT: &str = "merchant_test";
/// Risk declines this customer outright (its watchlist): the flow's early return.
pub const BLOCKED: &str = "cus_blocked";

pub struct TestPayments {
    pub url: String,
    pub http: reqwest::Client,
    pub db: TestDatabase,
}

fn server() -> ServerSettings {
    ServerSettings {
        admin_token: kit::auth::AdminToken::new(ADMIN_TOKEN),
        ..ServerSettings::for_tests()
    }
}

impl TestPayments {
    pub async fn spawn(webhooks: WebhookSettings) -> Self {
        let db = TestDatabase::create().await;
        let ledger = spawn_app(
            ledger::build(ledger::config::Config {
                server: server(),
                database: db.settings(),
                screening: ledger::screening::ScreeningSettings {
                    latency: Duration::from_millis(10),
                    min_amount: 20_000,
                },
            })
            .await
            .expect("ledger builds"),
        );
        let risk = spawn_app(
            risk::build(risk::config::Config {
                server: server(),
                database: db.settings(),
                mode: Mode::Fixed,
                admin_token: ADMIN_TOKEN.to_owned(),
                rules: risk::config::RuleSettings {
                    deep_min_amount: 50_000,
                    blocked_customers: vec![BLOCKED.to_owned()],
                },
                deep: risk::config::DeepScoringSettings {
                    shards: 2,
                    shard_buffer_bytes: 64 * 1024,
                    db_hold: Duration::from_millis(10),
                    cpu_passes: 1,
                    slow_dependency_latency: Duration::ZERO,
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
        let url = spawn_app(
            payments::build(payments::config::Config {
                server: server(),
                database: db.settings(),
                risk_url: risk,
                ledger_url: ledger,
                recovery: payments::recovery::RecoverySettings {
                    interval: Duration::from_secs(60),
                    stuck_after: Duration::from_secs(60),
                    budget: Duration::from_secs(5),
                },
                webhooks,
                lease_renew_every: Duration::from_millis(100),
            })
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
        self.http
            .put(format!("{}/admin/scenarios/{scenario}", self.url))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({ "mode": mode }))
            .send()
            .await
            .expect("admin API answers")
            .error_for_status()
            .expect("switched");
    }

    /// The service's `/metrics` page.
    pub async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.url))
            .send()
            .await
            .expect("metrics scraped")
            .text()
            .await
            .expect("metrics text")
    }

    pub async fn metric(&self, series: &str) -> f64 {
        kit::testing::metric_value(&self.metrics().await, series).unwrap_or(f64::NAN)
    }

    /// `metric{spawn_site}` summed over the spawn sites in `file`.
    pub async fn per_file(&self, metric: &str, file: &str) -> f64 {
        let in_file = |labels: &std::collections::BTreeMap<String, String>| {
            labels
                .get("spawn_site")
                .is_some_and(|site| site.starts_with(&format!("{file}:")))
        };
        let series = contract::prom_text::parse(&self.metrics().await);
        contract::prom_text::sum(&series, metric, in_file).unwrap_or(0.0)
    }

    /// Direct SQL on the database, for what the API does not show.
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

/// Webhooks delivered at once to a merchant that takes its events instantly.
pub fn quick_merchant() -> WebhookSettings {
    WebhookSettings {
        latency: Duration::from_millis(1),
        capacity: 64,
        receipt_bytes: 1024,
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
