//! The `leakstorm` command's library: the native fleet, the trace store and trace analysis.
//!
//! Module map:
//! - [`commands`]: `up`, `mode`, `replay`, `verify`, `chaos`.
//! - [`fleet`]: Postgres, the trace store and the four services as local processes.
//! - [`pg`]: a throwaway Postgres cluster from the local binaries.
//! - [`process`]: one service process: spawn, readiness, graceful stop, SIGKILL.
//! - [`prom`]: the Prometheus text format; [`promql`]: metric names in PromQL expressions.
//! - [`replay`]: the incident replay: phases, sampling, k6, trace analysis, report.
//! - [`verify`]: the money invariants on a fleet's database.
//! - [`trace_store`]: OTLP in, Jaeger UI and API out (`otlp-embedded`).
//! - [`jaeger`]: the Jaeger HTTP API client and the outliving-span analysis.

pub mod commands;
pub mod fleet;
pub mod jaeger;
pub mod pg;
pub mod process;
pub mod prom;
pub mod promql;
pub mod replay;
pub mod trace_store;
pub mod verify;
