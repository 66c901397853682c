//! Test support: a fresh database per test, dropped afterwards, and helpers to run apps.
//!
//! `DATABASE_URL` must point at a Postgres server whose user may create databases
//! (`make test` starts a throwaway cluster when it is unset).

use std::time::Duration;

use sqlx::{Connection as _, PgConnection};

use crate::config::DatabaseSettings;

/// A database that exists for the life of this value.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let admin_url = std::env::var("DATABASE_URL")
            .expect("DATABASE_URL must be set for database tests (run them with `make test`)");
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("connecting to the test Postgres server");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("creating the test database");
        let _ = admin.close().await;
        let url = with_database(&admin_url, &name);
        Self {
            admin_url,
            name,
            url,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn settings(&self) -> DatabaseSettings {
        DatabaseSettings {
            url: self.url.clone(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop cannot await, and may run inside a runtime: use a thread with its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("building a runtime to drop the test database");
            runtime.block_on(async move {
                let mut admin = PgConnection::connect(&admin_url).await?;
                sqlx::query(&statement).execute(&mut admin).await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}

/// Replaces the database name in a Postgres URL.
fn with_database(url: &str, database: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("DATABASE_URL is a valid URL");
    parsed.set_path(&format!("/{database}"));
    parsed.to_string()
}

/// Runs a built application in the background and returns its base URL.
pub fn spawn_app(app: crate::server::Application) -> String {
    let url = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    url
}

/// Scrapes one sample (`name` with no labels, or `name{labels}`) from a Prometheus text
/// exposition, with the contract's one parser ([`contract::prom_text`]).
pub fn metric_value(exposition: &str, series: &str) -> Option<f64> {
    contract::prom_text::value(exposition, series)
}

/// The leak guard every fleet test takes first and verifies last: `taskleak`'s guard, ignoring
/// the fleet's long-lived infrastructure tasks ([`crate::tasks::INFRASTRUCTURE_SITES`]) and this
/// harness's own server task ([`spawn_app`]). It sees the test's runtime and the worker runtimes
/// of every app the test builds (their `Metrics` are created on the test's runtime).
#[track_caller]
pub fn leak_guard() -> LeakGuard {
    install_task_accounting();
    let guard = crate::tasks::INFRASTRUCTURE_SITES
        .iter()
        .fold(taskleak::Guard::new(), |guard, site| guard.ignore(site))
        .ignore(HARNESS_SITES);
    LeakGuard(guard)
}

/// The spawns of this file: the server task of [`spawn_app`], alive for the whole test.
const HARNESS_SITES: &str = "crates/kit/src/testing.rs:*";

/// See [`leak_guard`].
#[must_use = "end the test with `guard.verify().await`"]
pub struct LeakGuard(taskleak::Guard);

impl LeakGuard {
    /// How long to wait for the test's tasks to end (taskleak's default is 2 s). A test that
    /// expects a leak has no reason to wait long for it.
    pub fn settle(self, within: Duration) -> Self {
        Self(self.0.settle(within))
    }

    /// Fails the test (panics) when tasks it spawned are still alive after the settle wait.
    pub async fn verify(self) {
        if let Err(leaks) = self.check().await {
            panic!("{leaks}");
        }
    }

    /// The report instead of the panic (for tests that expect a leak).
    pub async fn check(self) -> Result<(), taskleak::Leaks> {
        let started = std::time::Instant::now();
        let outcome = self.0.check().await;
        // What the guard costs a test (the README sums it over the suite).
        eprintln!(
            "leak guard: checked in {:.1} ms",
            started.elapsed().as_secs_f64() * 1000.0
        );
        outcome
    }
}

/// Installs task accounting by spawn site as this test process's subscriber (what
/// `telemetry::init` does in a service), so that `/debug/tasks` and the per-site metrics see
/// the tasks of apps spawned in the test. Idempotent.
pub fn install_task_accounting() {
    use tracing_subscriber::layer::SubscriberExt as _;
    let stack = tracing_subscriber::registry().with(crate::tasks::layers(0));
    // Only the first call in a process installs it; later ones find it set.
    let _ = tracing::dispatcher::set_global_default(crate::tasks::dispatch(stack));
}
