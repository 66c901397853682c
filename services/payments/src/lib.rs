//! payments: the payment state machine in Postgres. Creates a payment `pending` under its
//! idempotency key, asks risk, moves money through the ledger when risk approves, and settles in
//! `authorized`, `declined`, `review` or `failed`.
//!
//! Module map:
//! - [`flow`]: the state machine and the calls to risk and the ledger.
//! - [`recovery`]: the owned background loop that settles payments left pending.
//! - [`store`]: payments in the `payments` schema; guarded status transitions.
//! - [`server`]: HTTP routes and their error enum.
//! - [`types`]: API types shared with the typed [`client`].
//! - [`config`]: settings from the environment.

pub mod client;
pub mod config;
pub mod flow;
pub mod recovery;
pub mod server;
pub mod store;
pub mod types;

use kit::{
    db::Db,
    metrics::Metrics,
    server::{Application, Platform},
    telemetry::ServiceIdentity,
};

pub const IDENTITY: ServiceIdentity = ServiceIdentity {
    name: "payments",
    version: env!("CARGO_PKG_VERSION"),
    default_port: 8081,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Connects, migrates and binds; [`Application::run_until_stopped`] serves (and runs recovery).
pub async fn build(config: config::Config) -> anyhow::Result<Application> {
    let metrics = Metrics::new();
    let db = Db::connect(&config.database, "payments", &metrics).await?;
    db.migrate(&MIGRATOR).await?;
    let flow = flow::PaymentFlow::new(
        store::PaymentStore::new(db.clone()),
        risk::client::RiskClient::new(&config.risk_url)?,
        ledger::client::LedgerClient::new(&config.ledger_url)?,
    );
    let routes_flow = flow.clone();
    let app = Application::build(&config.server, Platform { db, metrics }, move |cfg| {
        server::routes(cfg, routes_flow.clone())
    })?;
    let settings = config.recovery;
    app.spawn_owned(move |shutdown| recovery::run(flow, settings, shutdown));
    Ok(app)
}
