//! The census as Prometheus metrics (feature `prometheus`, for the `prometheus` crate).
//!
//! - `runtime_alive_tasks_by_spawn_site{spawn_site}`: tasks alive by the `file:line` that
//!   spawned them; every site seen so far, zero included, so a drained site reads 0.
//! - `runtime_oldest_task_age_seconds{spawn_site}`: age of the oldest of them.
//! - `runtime_spawned_tasks_total{spawn_site}`: tasks spawned there since the census started.
//! - `runtime_task_lifetime_seconds{spawn_site}`: a histogram of how long the tasks spawned
//!   there that have ended lived (`_count` is the tasks ended).
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

use std::collections::HashMap;

use prometheus::{
    GaugeVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    core::{Collector, Desc},
    proto::{self, MetricFamily},
};

use crate::{Census, SiteSnapshot};

const LIFETIME_NAME: &str = "runtime_task_lifetime_seconds";
const LIFETIME_HELP: &str =
    "How long ended tokio tasks lived, by the code location (file:line) that spawned them.";

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
    /// Describes `runtime_task_lifetime_seconds`, built by hand at each scrape from the census's
    /// own buckets (the crate's `Histogram` only counts observations made through it).
    lifetime: Desc,
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
            lifetime: Desc::new(
                LIFETIME_NAME.to_owned(),
                LIFETIME_HELP.to_owned(),
                vec!["spawn_site".to_owned()],
                HashMap::new(),
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
        .chain([&m.lifetime])
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
            vec![lifetimes(&snapshot.sites)],
            m.available.collect(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// `runtime_task_lifetime_seconds` for every site, from the census's cumulative buckets.
fn lifetimes(sites: &[SiteSnapshot]) -> MetricFamily {
    let metrics = sites
        .iter()
        .map(|site| {
            let mut label = proto::LabelPair::default();
            label.set_name("spawn_site".to_owned());
            label.set_value(site.site.clone());
            let buckets = site
                .lifetimes
                .buckets
                .iter()
                .filter(|(bound, _)| bound.is_finite())
                .map(|&(bound, count)| {
                    let mut bucket = proto::Bucket::default();
                    bucket.set_upper_bound(bound);
                    bucket.set_cumulative_count(count);
                    bucket
                })
                .collect();
            let mut histogram = proto::Histogram::default();
            histogram.set_sample_count(site.lifetimes.ended);
            histogram.set_sample_sum(site.lifetimes.sum.as_secs_f64());
            histogram.set_bucket(buckets);
            let mut metric = proto::Metric::default();
            metric.set_label(vec![label]);
            metric.set_histogram(histogram);
            metric
        })
        .collect();
    let mut family = MetricFamily::default();
    family.set_name(LIFETIME_NAME.to_owned());
    family.set_help(LIFETIME_HELP.to_owned());
    family.set_field_type(proto::MetricType::HISTOGRAM);
    family.set_metric(metrics);
    family
}

#[cfg(all(test, tokio_unstable))]
mod tests {
    use std::time::Duration;

    use prometheus::{Registry, TextEncoder};
    use tracing::Dispatch;

    use super::SpawnSiteCollector;
    use crate::{Census, CensusSubscriber};

    /// Spawns one task that ends at once and one that lives 150 ms, at two lines, and reads the
    /// text a scrape would get.
    #[test]
    fn lifetimes_are_exported_as_a_histogram_per_site() {
        let census = Census::new();
        let dispatch = Dispatch::new(CensusSubscriber::new(
            tracing_subscriber::registry(),
            census.clone(),
        ));
        let (quick, slow) = tracing::dispatcher::with_default(&dispatch, || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let quick = line!() + 1;
                tokio::spawn(async {}).await.expect("ends");
                let slow = line!() + 1;
                tokio::spawn(tokio::time::sleep(Duration::from_millis(150)))
                    .await
                    .expect("ends");
                (quick, slow)
            })
        });
        let registry = Registry::new();
        registry
            .register(Box::new(SpawnSiteCollector::new(census)))
            .expect("registers");
        let text = TextEncoder::new()
            .encode_to_string(&registry.gather())
            .expect("encodes");
        assert!(
            text.contains("# TYPE runtime_task_lifetime_seconds histogram"),
            "{text}"
        );
        let series = |line: u32, le: &str| {
            let site = format!("crates/taskleak/src/prometheus.rs:{line}");
            let wanted = format!(
                "runtime_task_lifetime_seconds_bucket{{spawn_site=\"{site}\",le=\"{le}\"}}"
            );
            text.lines()
                .find(|l| l.starts_with(&wanted))
                .and_then(|l| l.rsplit(' ').next())
                .map(str::to_owned)
        };
        assert_eq!(series(quick, "0.01").as_deref(), Some("1"), "{text}");
        assert_eq!(series(slow, "0.1").as_deref(), Some("0"), "{text}");
        assert_eq!(series(slow, "0.5").as_deref(), Some("1"), "{text}");
        assert_eq!(series(slow, "+Inf").as_deref(), Some("1"), "{text}");
    }
}
