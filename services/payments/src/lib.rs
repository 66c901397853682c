//! payments: the payment state machine in Postgres. Creates a payment `pending` under its
//! idempotency key, asks risk, moves money through the ledger when risk approves, and settles in
//! `authorized`, `declined`, `review` or `failed`.
//!
//! Module map:
//! - [`flow`]: the state machine and the calls to risk and the ledger ([`clients`]: typed
//!   clients for both, on the contract's wire types).
//! - [`webhooks`]: merchant notifications — the unbounded queue and its fix (scenario
//!   `unbounded-queue`).
//! - [`lease`]: processing leases — the orphaned loop and its fix (scenario `orphaned-loop`).
//! - [`recovery`]: the owned background loop that settles payments left pending.
//! - [`store`]: payments in the `payments` schema; guarded status transitions.
//! - [`server`]: HTTP routes and their error enum.
//! - [`types`]: the API's types (the contract's, [`contract::payments`]: the gateway takes them
//!   without this server).
//! - [`config`]: settings from the environment.

pub mod clients;
pub mod config;
pub mod flow;
pub mod lease;
pub mod recovery;
pub mod server;
pub mod store;
pub mod webhooks;

pub use contract::payments as types;

use kit::{
    db::Db,
    metrics::Metrics,
    scenarios::{Mode, Scenario, Scenarios},
    server::{Application, Platform},
    telemetry::ServiceIdentity,
};
use prometheus::{Gauge, IntCounter, IntGauge, Opts};
use tokio_util::sync::CancellationToken;

pub const IDENTITY: ServiceIdentity = ServiceIdentity::of(
    contract::service::Service::Payments,
    env!("CARGO_PKG_VERSION"),
);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Connects, migrates and binds; [`Application::run_until_stopped`] serves (and runs recovery).
pub async fn build(config: config::Config) -> anyhow::Result<Application> {
    let metrics = Metrics::new();
    let db = Db::connect(&config.database, "payments", &metrics).await?;
    db.migrate(&MIGRATOR).await?;
    let mut scenarios = Scenarios::new(&metrics)?;
    let queue_mode = scenarios.host(Scenario::UnboundedQueue, Mode::Fixed)?;
    let lease_mode = scenarios.host(Scenario::OrphanedLoop, Mode::Fixed)?;
    let (webhooks, queues) =
        webhooks::Webhooks::new(config.webhooks, webhook_metrics(&metrics)?, queue_mode);
    let leases_held = IntGauge::new(
        "payments_leases_held",
        "Processing leases in the lease table (payments being driven, or orphaned).",
    )?;
    metrics.registry().register(Box::new(leases_held.clone()))?;
    let leases_stop = CancellationToken::new();
    let leases = lease::Leases::new(
        lease_mode,
        config.lease_renew_every,
        leases_held,
        leases_stop.clone(),
    );
    let flow = flow::PaymentFlow::new(
        store::PaymentStore::new(db.clone()),
        flow::Collaborators {
            risk: clients::risk::RiskClient::new(&config.risk_url)?,
            ledger: clients::ledger::LedgerClient::new(&config.ledger_url)?,
            leases,
            webhooks: webhooks.clone(),
        },
    );
    let routes_flow = flow.clone();
    let platform = Platform {
        db,
        metrics,
        scenarios,
    };
    let app = Application::build(&config.server, platform, move |cfg| {
        server::routes(cfg, routes_flow.clone())
    })?;
    let settings = config.recovery;
    app.spawn_owned(move |shutdown| recovery::run(flow, settings, shutdown));
    app.spawn_owned(move |shutdown| webhooks::deliver(queues, webhooks, shutdown));
    // Lease loops end with the server, whatever their scenario's mode.
    app.spawn_owned(move |shutdown| async move {
        shutdown.cancelled().await;
        leases_stop.cancel();
    });
    Ok(app)
}

/// `channel_queued_messages{channel="payments_webhooks"}` and the webhook outcomes.
fn webhook_metrics(metrics: &Metrics) -> anyhow::Result<webhooks::WebhookMetrics> {
    let channel =
        |name: &str, help: &str| Opts::new(name, help).const_label("channel", "payments_webhooks");
    let made = webhooks::WebhookMetrics {
        queued: IntGauge::with_opts(channel(
            "channel_queued_messages",
            "Messages waiting in a channel.",
        ))?,
        capacity: Gauge::with_opts(channel(
            "channel_capacity_messages",
            "How many messages a channel holds at most (+Inf: unbounded).",
        ))?,
        received: IntCounter::with_opts(channel(
            "channel_received_messages_total",
            "Messages taken off a channel by its consumer (its pace: how fast a backlog drains).",
        ))?,
        delivered: IntCounter::new(
            "payments_webhooks_delivered_total",
            "Webhook events delivered to merchants.",
        )?,
        shed: IntCounter::new(
            "payments_webhooks_shed_total",
            "Webhook events shed because the queue was full (the merchant reads the payment instead).",
        )?,
    };
    let registry = metrics.registry();
    registry.register(Box::new(made.queued.clone()))?;
    registry.register(Box::new(made.capacity.clone()))?;
    registry.register(Box::new(made.received.clone()))?;
    registry.register(Box::new(made.delivered.clone()))?;
    registry.register(Box::new(made.shed.clone()))?;
    Ok(made)
}
