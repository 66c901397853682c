//! The `leakstorm` command's library: one folder per subcommand, each with its arguments and
//! run function in `command.rs` beside its logic; `main.rs` only dispatches.
//!
//! Module map:
//! - [`fleet`]: `leakstorm up` — Postgres, the trace store, the four services and Prometheus as
//!   local processes (and the fleet flags other commands share).
//! - [`replay`]: `leakstorm replay` — the incident and its fix, measured, and the report.
//! - [`diagnose`]: `leakstorm diagnose` — which leak is it, from the signals alone.
//! - [`drill`]: `leakstorm drill` — the game day: hidden leaks on fresh fleets, scored.
//! - [`top`]: `leakstorm top` — the live terminal view of a running fleet.
//! - [`tasks`]: `leakstorm tasks` — each service's `/debug/tasks` for a person.
//! - [`scenario`]: `leakstorm scenario` and `leakstorm mode` — the scenarios' switches.
//! - [`bench`]: `leakstorm bench` — the cost of looking.
//! - [`chaos`]: `leakstorm chaos` — SIGKILL per service during payments, then the invariants.
//! - [`verify`]: `leakstorm verify` — the money invariants on a fleet's database.
//! - [`traces`]: `leakstorm trace-store`, and the Jaeger API client with the outliving-span
//!   analysis.
//! - Shared: [`alerting`] (the real Prometheus and the alerts it fires), [`cli_args`] (flags
//!   several subcommands take), [`promql`] (metric names in PromQL expressions).

pub mod alerting;
pub mod bench;
pub mod chaos;
pub mod cli_args;
pub mod diagnose;
pub mod drill;
pub mod fleet;
pub mod promql;
pub mod replay;
pub mod scenario;
pub mod tasks;
pub mod top;
pub mod traces;
pub mod verify;
