//! The `leakstorm` command's library: the native fleet, the trace store and trace analysis.
//!
//! Module map:
//! - [`alerting`]: the real Prometheus on the native road, and which alerts it fires.
//! - [`commands`]: `up`, `mode`, `scenario`, `replay`, `verify`, `chaos`, `trace-store`, `tasks`,
//!   `bench`.
//! - [`bench`]: the cost of looking: one fleet per telemetry setup, latency, throughput, CPU.
//! - [`diagnose`]: which leak is it: the five rules over the signals, and their answers.
//! - [`drill`]: the game day: hidden leaks on fresh fleets, answered and scored.
//! - [`fleet`]: Postgres, the trace store and the four services as local processes.
//! - [`pg`]: a throwaway Postgres cluster from the local binaries.
//! - [`process`]: one service process: spawn, readiness, graceful stop, SIGKILL.
//! - [`promql`]: metric names in PromQL expressions.
//! - [`replay`]: the incident replay: phases, sampling, k6, trace analysis, report.
//! - [`verify`]: the money invariants on a fleet's database.
//! - [`tasks`]: a service's `/debug/tasks`, fetched and printed for a person.
//! - [`top`]: `leakstorm top`, the live terminal view of a running fleet.
//! - [`otel_env`]: the `OTEL_*` variables passed to the services, and where traces go.
//! - [`jaeger`]: the Jaeger HTTP API client and the outliving-span analysis.

pub mod alerting;
pub mod bench;
pub mod commands;
pub mod diagnose;
pub mod drill;
pub mod fleet;
pub mod jaeger;
pub mod otel_env;
pub mod pg;
pub mod process;
pub mod promql;
pub mod replay;
pub mod tasks;
pub mod top;
pub mod verify;
