//! risk: fraud assessment for payments — and the service with the bug.
//!
//! Module map:
//! - [`deep_scoring`]: **the leak and its fix, side by side.** Start here.
//! - [`rules`]: the fast path that settles most payments.
//! - [`mode`]: `leaky` / `fixed`, switchable at run time (`PUT /admin/mode`).
//! - [`server`]: HTTP routes (`POST /v1/assessments`, `GET|PUT /admin/mode`).
//! - [`store`]: assessments in the `risk` schema.
//! - [`types`]: API types shared with the typed [`client`].
//! - [`config`]: settings from the environment, including the incident's knobs.

pub mod client;
pub mod config;
pub mod deep_scoring;
pub mod mode;
pub mod rules;
pub mod server;
pub mod store;
pub mod types;

use std::sync::Arc;

use anyhow::Context as _;
use kit::{
    db::Db,
    metrics::Metrics,
    server::{Application, Platform},
    telemetry::ServiceIdentity,
};
use prometheus::{IntCounter, IntGauge, IntGaugeVec, Opts};

use crate::{deep_scoring::DeepScoringMetrics, mode::ModeSwitch};

pub const IDENTITY: ServiceIdentity = ServiceIdentity {
    name: "risk",
    version: env!("CARGO_PKG_VERSION"),
    default_port: 8082,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Connects, migrates and binds; [`Application::run_until_stopped`] serves.
pub async fn build(config: config::Config) -> anyhow::Result<Application> {
    let metrics = Metrics::new();
    let db = Db::connect(&config.database, "risk", &metrics).await?;
    db.migrate(&MIGRATOR).await?;

    let mode_gauge = IntGaugeVec::new(
        Opts::new(
            "risk_mode",
            "1 for the active deep-scoring mode, 0 for the other.",
        ),
        &["mode"],
    )?;
    let in_flight = IntGauge::new(
        "risk_deep_scoring_in_flight",
        "Deep-scoring shard tasks alive (running or waiting).",
    )?;
    let cancelled = IntCounter::new(
        "risk_deep_scoring_cancelled_total",
        "Deep-scoring shard tasks cancelled before they finished.",
    )?;
    let registry = metrics.registry();
    registry
        .register(Box::new(mode_gauge.clone()))
        .context("registering risk_mode")?;
    registry
        .register(Box::new(in_flight.clone()))
        .context("registering in-flight gauge")?;
    registry
        .register(Box::new(cancelled.clone()))
        .context("registering cancelled counter")?;

    let store = store::RiskStore::new(db.clone());
    let admin_token = kit::auth::AdminToken::new(&config.admin_token);
    let state = Arc::new(server::RiskState {
        scorer: deep_scoring::DeepScorer::new(
            store.clone(),
            config.deep,
            DeepScoringMetrics {
                in_flight,
                cancelled,
            },
        ),
        store,
        rules: config.rules,
        mode: ModeSwitch::new(config.mode, mode_gauge),
        admin_token: admin_token.clone(),
    });
    // One admin token for risk's /admin/mode and kit's /debug/tasks.
    let mut server = config.server.clone();
    server.admin_token = admin_token;
    Application::build(&server, Platform { db, metrics }, move |cfg| {
        server::routes(cfg, state.clone())
    })
}
