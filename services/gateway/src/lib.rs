//! gateway: the public edge of the payment fleet. Authenticates merchants by API key, requires
//! an `Idempotency-Key`, limits and validates the body, reduces card data to a summary, and
//! forwards to payments under a deadline (default 10 s) whose remainder travels downstream.
//!
//! Module map:
//! - [`server`]: the public routes and their error enum.
//! - [`auth`]: API keys (stored as digests) and the `Merchant` extractor.
//! - [`types`]: the public request types.
//! - [`card`]: card number and CVC newtypes that never print or travel.
//! - [`openapi`]: the OpenAPI 3 document served at `/openapi.json`.
//! - [`payments_client`]: payments as the gateway calls it (the contract's wire types).
//! - [`config`]: settings from the environment.

pub mod auth;
pub mod card;
pub mod config;
pub mod openapi;
pub mod payments_client;
pub mod server;
pub mod types;

use actix_web::web;
use anyhow::Context as _;
use contract::payments::MerchantId;
use kit::{
    db::Db,
    metrics::Metrics,
    server::{Application, Platform},
    telemetry::ServiceIdentity,
};

pub const IDENTITY: ServiceIdentity = ServiceIdentity::of(
    contract::service::Service::Gateway,
    env!("CARGO_PKG_VERSION"),
);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Connects, migrates, registers the demo API key and binds.
pub async fn build(config: config::Config) -> anyhow::Result<Application> {
    let metrics = Metrics::new();
    let db = Db::connect(&config.database, "gateway", &metrics).await?;
    db.migrate(&MIGRATOR).await?;
    let keys = auth::ApiKeys::new(db.clone());
    let demo_merchant = MerchantId::try_from(config.demo_merchant_id.clone())
        .map_err(anyhow::Error::msg)
        .context("DEMO_MERCHANT_ID")?;
    keys.register(&config.demo_api_key, &demo_merchant, "demo")
        .await?;
    let gateway = web::Data::new(server::Gateway {
        payments: payments_client::PaymentsClient::new(&config.payments_url)?,
        upstream_timeout: config.upstream_timeout,
        fingerprint_key: config.card_fingerprint_key.into_bytes(),
        openapi: openapi::document(),
    });
    // The gateway hosts no leak scenario; its /admin/scenarios lists none.
    let scenarios = kit::scenarios::Scenarios::new(&metrics)?;
    let platform = Platform {
        db,
        metrics,
        scenarios,
    };
    Application::build(&config.server, platform, move |cfg| {
        server::routes(cfg, gateway.clone(), keys.clone())
    })
}
