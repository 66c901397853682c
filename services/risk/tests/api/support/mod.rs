//! Spawns risk against a fresh database, with incident knobs sized for tests.

use std::time::Duration;

use kit::testing::{TestDatabase, metric_value, spawn_app};
use risk::{config::Config, types::Mode};
use serde_json::{Value, json};
use uuid::Uuid;

pub use test_fleet::ADMIN_TOKEN;
pub const DEEP_AMOUNT: i64 = 60_000;
pub const SHARDS: usize = 4;
pub const SHARD_BUFFER_BYTES: usize = 2 * 1024 * 1024;
/// Where the leak lives.
pub const LEAK_FILE: &str = "services/risk/src/deep_scoring.rs";

/// The lines of `fn name` in deep_scoring.rs: from its signature to the next `fn`. The tests
/// name the function, so moving the spawn within it (or the function within the file) keeps
/// them meaningful.
pub fn function_lines(name: &str) -> std::ops::Range<u32> {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/deep_scoring.rs"))
            .expect("deep_scoring.rs readable");
    let lines: Vec<&str> = source.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.contains(&format!("fn {name}(")))
        .expect("function present");
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.contains(" fn "))
        .map_or(lines.len(), |i| start + 1 + i);
    (start as u32 + 1)..(end as u32 + 1)
}

/// The guard's failure, as a user reads it: the top site is the `tokio::spawn` inside
/// `DeepScorer::score_leaky`, holding at least `shards` tasks, and nothing of the fleet's own
/// infrastructure is blamed.
pub fn assert_the_guard_names_score_leaky(leaks: &taskleak::Leaks, shards: usize) {
    let message = leaks.to_string();
    eprintln!("{message}");
    let top = &leaks.sites[0];
    let (file, line) = top.site.rsplit_once(':').expect("file:line");
    assert_eq!(file, LEAK_FILE, "{message}");
    let line: u32 = line.parse().expect("line number");
    let score_leaky = function_lines("score_leaky");
    assert!(
        score_leaky.contains(&line),
        "the guard names line {line}, inside score_leaky (lines {score_leaky:?}): {message}"
    );
    assert!(top.tasks >= shards, "{message}");
    assert!(
        message.contains(&format!("{LEAK_FILE}:{line}")),
        "the message names the spawn: {message}"
    );
    assert_eq!(leaks.sites.len(), 1, "only the leak is blamed: {message}");
}

/// Where a test expects risk's leak, the guard need not wait long to see it.
pub const EXPECTED_LEAK_SETTLE: Duration = Duration::from_millis(500);

pub struct TestRisk {
    pub url: String,
    pub http: reqwest::Client,
    _db: TestDatabase,
}

pub struct Snapshot {
    pub alive_tasks: f64,
    pub heap_bytes: f64,
}

impl Snapshot {
    /// (alive tasks, live heap bytes) more than `baseline`, printed for the log as `label`.
    pub fn change_since(&self, baseline: &Snapshot, label: &str) -> (f64, f64) {
        let (tasks, heap) = (
            self.alive_tasks - baseline.alive_tasks,
            self.heap_bytes - baseline.heap_bytes,
        );
        eprintln!(
            "{label}: alive tasks {} -> {} ({tasks:+}), heap {} -> {} ({heap:+} bytes)",
            baseline.alive_tasks, self.alive_tasks, baseline.heap_bytes, self.heap_bytes
        );
        (tasks, heap)
    }
}

impl TestRisk {
    pub async fn spawn(mode: Mode, slow_dependency: Duration) -> Self {
        Self::spawn_with(mode, slow_dependency, |_| {}).await
    }

    /// [`Self::spawn`], with the config adjusted by `tweak` before the app is built.
    pub async fn spawn_with(
        mode: Mode,
        slow_dependency: Duration,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        kit::testing::install_task_accounting();
        let db = TestDatabase::create().await;
        // The shared test configuration, with the shards and budget these tests measure.
        let mut config = test_fleet::config::risk(&db, mode, slow_dependency);
        config.server.workers = 2;
        config.deep.shards = SHARDS;
        config.deep.shard_buffer_bytes = SHARD_BUFFER_BYTES;
        config.deep.db_hold = Duration::from_millis(50);
        config.deep.budget = Duration::from_millis(300);
        tweak(&mut config);
        let app = risk::build(config).await.expect("risk builds");
        Self {
            url: spawn_app(app),
            // No idle keep-alive connections: each would be a live connection task in risk.
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .expect("client builds"),
            _db: db,
        }
    }

    /// One assessment; `give_up_after` is the caller's timeout (also sent as its budget).
    pub async fn assess(
        &self,
        amount: i64,
        give_up_after: Duration,
    ) -> Result<Value, reqwest::Error> {
        let body = json!({
            "payment_id": Uuid::new_v4(),
            "merchant_id": "merchant_demo",
            "customer_id": format!("cus_{}", Uuid::new_v4().simple()),
            "amount": amount,
            "currency": "EUR",
            "card_brand": "visa",
        });
        self.http
            .post(format!("{}/v1/assessments", self.url))
            .header(
                kit::deadline::BUDGET_HEADER,
                give_up_after.as_millis().to_string(),
            )
            .timeout(give_up_after)
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    pub async fn metrics(&self) -> String {
        test_fleet::http::metrics(&self.http, &self.url).await
    }

    /// `GET /debug/tasks`, with a task dump when `dump` is set.
    pub async fn debug_tasks(&self, dump: bool) -> taskleak::report::TasksReport {
        self.http
            .get(format!("{}/debug/tasks", self.url))
            .query(&[("dump", if dump { "1" } else { "0" })])
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("debug/tasks answers")
            .error_for_status()
            .expect("debug/tasks succeeds")
            .json()
            .await
            .expect("debug/tasks JSON")
    }

    /// Switches a leak scenario through the admin API.
    pub async fn set_scenario(&self, scenario: kit::scenarios::Scenario, mode: Mode) {
        test_fleet::http::set_scenario(&self.http, &self.url, scenario, mode).await;
    }

    pub async fn healthy(&self) -> bool {
        self.http
            .get(format!("{}/healthz", self.url))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    /// The two figures the leak alert and the dashboards read.
    pub async fn snapshot(&self) -> Snapshot {
        let text = self.metrics().await;
        Snapshot {
            alive_tasks: metric_value(&text, "runtime_alive_tasks")
                .expect("runtime_alive_tasks exported"),
            heap_bytes: metric_value(&text, "process_heap_allocated_bytes")
                .expect("process_heap_allocated_bytes exported"),
        }
    }

    /// A baseline: [`Self::snapshot`] once alive tasks read the same twice in a row, 200 ms
    /// apart, so that a connection or pool task still winding down from the warm-up is not
    /// counted in it (it would end during the storm and hide a leaked task).
    pub async fn settled_snapshot(&self) -> Snapshot {
        let mut last = self.snapshot().await;
        for _ in 0..25 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = self.snapshot().await;
            if now.alive_tasks == last.alive_tasks {
                return now;
            }
            last = now;
        }
        eprintln!(
            "alive tasks still moving after 5 s; baseline {}",
            last.alive_tasks
        );
        last
    }

    /// Fast-path traffic so that pools, caches and connections exist before a baseline is taken.
    pub async fn warm_up(&self) {
        for _ in 0..10 {
            self.assess(1_000, Duration::from_secs(5))
                .await
                .expect("fast path answers");
        }
    }

    /// `callers` concurrent deep-scoring requests whose callers give up after `give_up_after`;
    /// returns once every caller has given up or been answered.
    pub async fn storm(
        &self,
        callers: usize,
        give_up_after: Duration,
    ) -> Vec<Result<Value, reqwest::Error>> {
        futures::future::join_all((0..callers).map(|_| self.assess(DEEP_AMOUNT, give_up_after)))
            .await
    }
}
