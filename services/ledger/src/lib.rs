//! ledger: a double-entry ledger in Postgres. Every transfer is two postings that sum to zero,
//! recorded once per payment (idempotent by payment id); postings are append-only.
//!
//! Module map:
//! - [`money`]: `Amount` and `Currency`, parsed at the boundary (shared with payments and gateway).
//! - [`types`]: API types shared by the server and the typed client.
//! - [`store`]: transfers and postings in the `ledger` schema.
//! - [`screening`]: compliance screening of large transfers — a pooled connection held across a
//!   slow call, and its fix (scenario `held-connection`).
//! - [`server`]: HTTP routes and their error enum.
//! - [`client`]: the typed client other services use.
//! - [`config`]: settings from the environment.

pub mod client;
pub mod config;
pub mod money;
pub mod screening;
pub mod server;
pub mod store;
pub mod types;

use kit::{
    db::Db,
    metrics::Metrics,
    scenarios::{Mode, Scenario, Scenarios},
    server::{Application, Platform},
    telemetry::ServiceIdentity,
};

pub const IDENTITY: ServiceIdentity = ServiceIdentity {
    name: "ledger",
    version: env!("CARGO_PKG_VERSION"),
    default_port: 8083,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Connects, migrates and binds; [`Application::run_until_stopped`] serves.
pub async fn build(config: config::Config) -> anyhow::Result<Application> {
    let metrics = Metrics::new();
    let db = Db::connect(&config.database, "ledger", &metrics).await?;
    db.migrate(&MIGRATOR).await?;
    let mut scenarios = Scenarios::new(&metrics)?;
    let held = scenarios.host(Scenario::HeldConnection, Mode::Fixed)?;
    let screening = screening::Screening::new(config.screening, held);
    let store = store::LedgerStore::new(db.clone(), screening);
    let platform = Platform {
        db,
        metrics,
        scenarios,
    };
    Application::build(&config.server, platform, move |cfg| {
        server::routes(cfg, store.clone())
    })
}
