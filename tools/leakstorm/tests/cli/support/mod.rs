//! A native fleet for tests: the real service binaries on ports chosen by the OS, a fresh
//! database, the embedded trace store; stopped and cleaned up by `Fleet::stop`.

pub mod tmux;

use std::time::Duration;

use fleet::{
    FleetOptions, NativeFleet, Ports,
    jaeger::{JaegerClient, Trace},
};
use kit::testing::TestDatabase;
use serde_json::json;
use uuid::Uuid;

pub const API_KEY: &str = "sk_test_leakstorm_demo";
pub const ADMIN_TOKEN: &str = "admin_leakstorm_demo";
pub const CARD: &str = "4242424242424242";

pub struct Fleet {
    pub fleet: Option<NativeFleet>,
    pub run_dir: std::path::PathBuf,
    _db: TestDatabase,
}

impl Fleet {
    pub async fn start(service_env: Vec<(&'static str, &str, &str)>) -> Self {
        let db = TestDatabase::create().await;
        let run_dir =
            std::env::temp_dir().join(format!("leakstorm-test-{}", Uuid::new_v4().simple()));
        let mut options = FleetOptions::new(run_dir.clone());
        options.ports = Ports::any();
        options.database_url = Some(db.url().to_owned());
        options.service_env = service_env
            .into_iter()
            .map(|(service, k, v)| (service, k.to_owned(), v.to_owned()))
            .collect();
        let fleet = NativeFleet::start(options)
            .await
            .expect("the native fleet starts");
        Self {
            fleet: Some(fleet),
            run_dir,
            _db: db,
        }
    }

    pub fn database_url(&self) -> &str {
        self._db.url()
    }

    pub fn fleet(&self) -> &NativeFleet {
        self.fleet.as_ref().expect("running")
    }

    pub async fn stop(mut self) {
        if let Some(fleet) = self.fleet.take() {
            fleet.stop().await;
        }
        let _ = std::fs::remove_dir_all(&self.run_dir);
    }

    /// Pays, and returns the HTTP status and the trace id from `traceresponse`.
    pub async fn pay(&self, amount: i64) -> (u16, String) {
        let gateway = self.fleet().url("gateway").expect("gateway");
        let response = reqwest::Client::new()
            .post(format!("{gateway}/v1/payments"))
            .bearer_auth(API_KEY)
            .header("Idempotency-Key", Uuid::new_v4().to_string())
            .json(&json!({
                "amount": amount, "currency": "EUR", "merchant_id": "merchant_demo",
                "customer_id": "cus_trace",
                "payment_method": {"type": "card", "card": {"number": CARD, "exp_month": 12, "exp_year": 2099, "cvc": "123"}}
            }))
            .send()
            .await
            .expect("payment sent");
        let header = response
            .headers()
            .get("traceresponse")
            .and_then(|v| v.to_str().ok())
            .expect("traceresponse header")
            .to_owned();
        let trace_id = header
            .split('-')
            .nth(1)
            .expect("W3C traceresponse")
            .to_owned();
        (response.status().as_u16(), trace_id)
    }

    /// Polls the trace API until `ready` holds for the trace.
    pub async fn trace(&self, trace_id: &str, ready: impl Fn(&Trace) -> bool) -> Trace {
        let jaeger = JaegerClient::new(&self.fleet().jaeger_url());
        for _ in 0..100 {
            if let Some(trace) = jaeger.trace(trace_id).await.expect("trace API answers")
                && ready(&trace)
            {
                return trace;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("trace {trace_id} never became complete");
    }
}
