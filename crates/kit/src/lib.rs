//! Shared plumbing for the leakstorm services. No business logic lives here.
//!
//! Module map:
//! - [`alloc`]: jemalloc as the global allocator, and its live-heap statistic.
//! - [`auth`]: bearer tokens.
//! - [`config`]: typed environment variables with clear errors; server and database settings.
//! - [`telemetry`]: tracing + OpenTelemetry (OTLP/gRPC) set up in one call, and the guard that
//!   flushes spans on every exit path.
//! - [`root_span`]: the actix root span, with current HTTP semantic-convention attribute names.
//! - [`error`]: the JSON error envelope, the [`error::ApiError`] trait every handler error enum
//!   implements, and extractor error handlers that answer bad input with the right 4xx.
//! - [`db`]: the Postgres pool (one schema per service), migrations, and pool-wait metrics.
//! - [`metrics`]: the Prometheus registry with the metrics every service exports, including
//!   `runtime_alive_tasks` summed over every actix worker runtime.
//! - [`tasks`]: task accounting by spawn site (tokio's `runtime.spawn` spans), guarded task
//!   dumps, `GET /debug/tasks`, and tokio-console.
//! - [`deadline`]: the request budget carried between services in a header.
//! - [`idempotency`]: the required `Idempotency-Key` header as an extractor.
//! - [`client`]: the traced HTTP client used for service-to-service calls.
//! - [`healthcheck`]: the `healthcheck` subcommand every service binary answers.
//! - [`scenarios`]: the leak scenarios' names, run-time mode switches and admin API.
//! - [`server`]: builds an actix server with health, readiness, metrics and the shared middleware.
//! - `testing` (feature `testing`): throwaway databases and helpers for tests.

pub mod alloc;
pub mod auth;
pub mod client;
pub mod config;
pub mod db;
pub mod deadline;
pub mod error;
pub mod healthcheck;
pub mod idempotency;
pub mod metrics;
pub mod root_span;
pub mod scenarios;
pub mod server;
pub mod tasks;
pub mod telemetry;

#[cfg(feature = "testing")]
pub mod testing;
