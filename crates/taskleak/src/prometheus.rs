//! The census as Prometheus metrics (feature `prometheus`, for the `prometheus` crate).
//!
//! - `runtime_alive_tasks_by_spawn_site{spawn_site}`: tasks alive by the `file:line` that
//!   spawned them; every site seen so far, zero included, so a drained site reads 0.
//! - `runtime_oldest_task_age_seconds{spawn_site}`: age of the oldest of them.
//! - `runtime_spawned_tasks_total{spawn_site}`: tasks spawned there since the census started.
//! - `taskleak_census_available`: 1 when the census sees tasks; 0 when it cannot (then the
//!   per-site series are absent, never a reassuring 0).
//!
//! ```
//! let registry = prometheus::Registry::new();
//! registry
//!     .register(Box::new(taskleak::prometheus::SpawnSiteCollector::global()))
//!     .unwrap();
//! let text = prometheus::TextEncoder::new().encode_to_string(&registry.gather()).unwrap();
//! assert!(text.contains("taskleak_census_available"));
//! ```

use prometheus::{
    GaugeVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    core::{Collector, Desc},
    proto::MetricFamily,
};

use crate::Census;

/// A [`Collector`] that reads the census at every scrape.
#[derive(Debug, Clone)]
pub struct SpawnSiteCollector {
    census: Census,
    metrics: Metrics,
}

#[derive(Debug, Clone)]
struct Metrics {
    alive: IntGaugeVec,
    oldest: GaugeVec,
    spawned: IntCounterVec,
    available: IntGauge,
}

impl Metrics {
    fn new() -> Self {
        let site = &["spawn_site"];
        // The names and help texts are fixed: registration cannot fail.
        Self {
            alive: IntGaugeVec::new(
                Opts::new(
                    "runtime_alive_tasks_by_spawn_site",
                    "Tokio tasks alive by the code location (file:line) that spawned them.",
                ),
                site,
            )
            .expect("valid metric"),
            oldest: GaugeVec::new(
                Opts::new(
                    "runtime_oldest_task_age_seconds",
                    "Age of the oldest alive tokio task, by the code location that spawned it.",
                ),
                site,
            )
            .expect("valid metric"),
            spawned: IntCounterVec::new(
                Opts::new(
                    "runtime_spawned_tasks_total",
                    "Tokio tasks spawned, by the code location that spawned them.",
                ),
                site,
            )
            .expect("valid metric"),
            available: IntGauge::new(
                "taskleak_census_available",
                "1 when the task census sees tokio's spawns; 0 when it cannot (see /debug/tasks).",
            )
            .expect("valid metric"),
        }
    }
}

impl SpawnSiteCollector {
    /// Reads `census`.
    pub fn new(census: Census) -> Self {
        Self {
            census,
            metrics: Metrics::new(),
        }
    }

    /// Reads the process's census ([`Census::global`]).
    pub fn global() -> Self {
        Self::new(Census::global().clone())
    }
}

impl Collector for SpawnSiteCollector {
    fn desc(&self) -> Vec<&Desc> {
        let m = &self.metrics;
        [
            m.alive.desc(),
            m.oldest.desc(),
            m.spawned.desc(),
            m.available.desc(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        // Fresh vectors per scrape: a site's series exist exactly as the census has them.
        let m = Metrics::new();
        let Ok(snapshot) = self.census.snapshot() else {
            m.available.set(0);
            return m.available.collect();
        };
        m.available.set(1);
        for site in &snapshot.sites {
            let label = [site.site.as_str()];
            m.alive
                .with_label_values(&label)
                .set(i64::try_from(site.alive).unwrap_or(i64::MAX));
            m.oldest
                .with_label_values(&label)
                .set(site.oldest.as_secs_f64());
            m.spawned.with_label_values(&label).inc_by(site.spawned);
        }
        [
            m.alive.collect(),
            m.oldest.collect(),
            m.spawned.collect(),
            m.available.collect(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}
