//! The `leakstorm` command's own subcommands, one folder each with its arguments and `run` in
//! `command.rs` beside its logic; the measuring ones live in crates of their own (`fleet`:
//! `up` and `trace-store`; `replay`; `diagnose`: `diagnose` and `drill`), and `main.rs` only
//! dispatches.
//!
//! Module map:
//! - [`top`]: `leakstorm top` — the live terminal view of a running fleet.
//! - [`tasks`]: `leakstorm tasks` — each service's `/debug/tasks` for a person.
//! - [`scenario`]: `leakstorm scenario` and `leakstorm mode` — the scenarios' switches.
//! - [`bench`]: `leakstorm bench` — the cost of looking.
//! - [`chaos`]: `leakstorm chaos` — SIGKILL per service during payments, then the invariants.
//! - [`verify`]: `leakstorm verify` — the money invariants on a fleet's database.
//! - [`promql`]: metric names in PromQL expressions (the observability test reads them).

pub mod bench;
pub mod chaos;
pub mod promql;
pub mod scenario;
pub mod tasks;
pub mod top;
pub mod verify;
