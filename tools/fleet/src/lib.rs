//! The native lab every measuring command shares: the fleet as local processes (`leakstorm up`:
//! Postgres, the trace store, the four services, Prometheus), the load (k6), and the clients that
//! read what the fleet shows (the trace API, `/debug/tasks`, Prometheus's alerts).
//!
//! Module map:
//! - [`native`]: starts and stops the fleet; [`options`] what it is started with;
//!   [`postgres`] a throwaway cluster; [`process`] one service process; [`otel_env`] the
//!   `OTEL_*` variables passed to the services.
//! - [`alerting`]: the real Prometheus on the native road, and which alerts it fires.
//! - [`k6`]: running k6 and reading its per-request results.
//! - [`jaeger`]: the Jaeger HTTP API client and the outliving-span analysis.
//! - [`debug_tasks`]: a service's `/debug/tasks`, fetched and printed for a person.
//! - [`machine`]: the machine a measurement ran on.
//! - [`cli_args`]: flags several subcommands share; [`command`] is `leakstorm up` (and the
//!   fleet flags); [`serve_traces`] is `leakstorm trace-store`.

pub mod alerting;
pub mod cli_args;
pub mod command;
pub mod debug_tasks;
pub mod jaeger;
pub mod k6;
pub mod machine;
pub mod native;
pub mod options;
pub mod otel_env;
pub mod postgres;
pub mod process;
pub mod serve_traces;

pub use native::NativeFleet;
pub use options::{FleetOptions, Ports, PrometheusChoice, PrometheusStatus, default_bin_dir};
