//! The leak alerts, fired by the real Prometheus: [`server`] runs one for the native fleet
//! (`prometheus/alerts.yml`, the same rules as the Docker fleet's); [`watch`] reads which alerts
//! fire, and when, for the replay's and the drill's reports.

pub mod server;
pub mod watch;

pub use server::{PrometheusServer, PrometheusSettings};
pub use watch::{AlertWatch, FiredAlert, PrometheusClient};
