//! The native fleet (`leakstorm up`): Postgres, the trace store, the four services and
//! Prometheus as local processes.
//!
//! Module map: [`command`] is `leakstorm up` and the fleet flags other commands share;
//! [`options`] what it is started with; [`native`] starts and stops it; [`postgres`] a throwaway cluster; [`process`] one
//! service process; [`otel_env`] the `OTEL_*` variables passed to the services.

pub mod command;
pub mod native;
pub mod options;
pub mod otel_env;
pub mod postgres;
pub mod process;

pub use native::NativeFleet;
pub use options::{FleetOptions, Ports, PrometheusChoice, PrometheusStatus, default_bin_dir};
