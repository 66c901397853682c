//! ledger: a double-entry ledger in Postgres. Every transfer is two postings that sum to zero,
//! recorded once per payment (idempotent by payment id); postings are append-only.
//!
//! Module map:
//! - [`money`], [`types`]: `Amount` and `Currency`, and the API's types — the contract's
//!   ([`contract::money`], [`contract::ledger`]), which callers take without this server.
//! - [`store`]: transfers and postings in the `ledger` schema.
//! - [`screening`]: compliance screening of large transfers — a pooled connection held across a
//!   slow call, and its fix (scenario `held-connection`).
//! - [`server`]: HTTP routes and their error enum.
//! - [`config`]: settings from the environment.

pub mod config;
pub mod screening;
pub mod server;
pub mod store;

pub use contract::{ledger as types, money};

use kit::{
    db::Db,
    metrics::Metrics,
    scenarios::{Mode, Scenario, Scenarios},
    server::{Application, Platform},
    telemetry::ServiceIdentity,
};

pub const IDENTITY: ServiceIdentity = ServiceIdentity::of(
    contract::service::Service::Ledger,
    env!("CARGO_PKG_VERSION"),
);

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
