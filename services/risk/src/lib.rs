//! risk: fraud assessment for payments — and the service with the bug.
//!
//! Module map:
//! - [`deep_scoring`]: **the leak and its fix, side by side** (scenario `detached-spawn`).
//!   Start here.
//! - [`model_scoring`]: the blocking pile-up and its fix (scenario `blocking-pileup`).
//! - [`rules`]: the fast path that settles most payments.
//! - [`mode`]: `risk_mode{mode}`; both scenarios switch at run time (`PUT /admin/mode` for
//!   `detached-spawn`, as ever, and `PUT /admin/scenarios/{name}` for either).
//! - [`server`]: HTTP routes (`POST /v1/assessments`, `GET|PUT /admin/mode`).
//! - [`store`]: assessments in the `risk` schema.
//! - [`types`]: the API's types (the contract's, [`contract::risk`]) and the modes.
//! - [`config`]: settings from the environment, including the incident's knobs.

pub mod config;
pub mod deep_scoring;
pub mod mode;
pub mod model_scoring;
pub mod rules;
pub mod server;
pub mod store;
pub mod types;

use std::sync::Arc;

use anyhow::Context as _;
use kit::{
    db::Db,
    metrics::Metrics,
    scenarios::{Mode, Scenario, Scenarios},
    server::{Application, Platform},
    telemetry::ServiceIdentity,
};
use prometheus::{IntCounter, IntGauge};

use crate::{
    deep_scoring::DeepScoringMetrics,
    mode::RiskModeCollector,
    model_scoring::{ModelMetrics, ModelScorer},
};

pub const IDENTITY: ServiceIdentity =
    ServiceIdentity::of(contract::service::Service::Risk, env!("CARGO_PKG_VERSION"));

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Connects, migrates and binds; [`Application::run_until_stopped`] serves.
pub async fn build(config: config::Config) -> anyhow::Result<Application> {
    let metrics = Metrics::new();
    let db = Db::connect(&config.database, "risk", &metrics).await?;
    db.migrate(&MIGRATOR).await?;

    let mut scenarios = Scenarios::new(&metrics)?;
    let detached = scenarios.host(Scenario::DetachedSpawn, config.mode)?;
    let blocking = scenarios.host(Scenario::BlockingPileup, Mode::Fixed)?;
    let in_flight = IntGauge::new(
        "risk_deep_scoring_in_flight",
        "Deep-scoring shard tasks alive (running or waiting).",
    )?;
    let cancelled = IntCounter::new(
        "risk_deep_scoring_cancelled_total",
        "Deep-scoring shard tasks cancelled before they finished.",
    )?;
    let model_in_flight = IntGauge::new(
        "risk_model_calls_in_flight",
        "Blocking fraud-model calls holding a thread, abandoned ones included.",
    )?;
    let model_abandoned = IntCounter::new(
        "risk_model_calls_abandoned_total",
        "Fraud-model calls whose caller stopped waiting while the blocking job went on.",
    )?;
    let registry = metrics.registry();
    registry
        .register(Box::new(RiskModeCollector::new(detached.clone())?))
        .context("registering risk_mode")?;
    registry
        .register(Box::new(model_in_flight.clone()))
        .context("registering the model gauge")?;
    registry
        .register(Box::new(model_abandoned.clone()))
        .context("registering the model counter")?;
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
        model: ModelScorer::new(
            config.model,
            ModelMetrics {
                in_flight: model_in_flight,
                abandoned: model_abandoned,
            },
            blocking,
        ),
        store,
        rules: config.rules,
        mode: detached,
        admin_token: admin_token.clone(),
    });
    // One admin token for risk's /admin/mode and kit's /debug/tasks.
    let mut server = config.server.clone();
    server.admin_token = admin_token;
    let platform = Platform {
        db,
        metrics,
        scenarios,
    };
    Application::build(&server, platform, move |cfg| {
        server::routes(cfg, state.clone())
    })
}
