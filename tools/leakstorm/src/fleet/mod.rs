//! The native fleet (`leakstorm up`): Postgres, the trace store, the four services and
//! Prometheus as local processes.
//!
//! Module map: [`command`] is `leakstorm up` and the fleet flags other commands share;
//! [`native`] starts and stops the fleet; [`postgres`] a throwaway cluster; [`process`] one
//! service process; [`otel_env`] the `OTEL_*` variables passed to the services.

pub mod command;
pub mod native;
pub mod otel_env;
pub mod postgres;
pub mod process;

pub use native::{
    FleetOptions, NativeFleet, Ports, PrometheusChoice, PrometheusStatus, SERVICES, default_bin_dir,
};
