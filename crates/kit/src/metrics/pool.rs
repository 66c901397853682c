//! The database pool, as the OpenTelemetry database-client conventions name it:
//! `db_client_connections{state}` (used, idle), `db_client_connection_max`,
//! `db_client_connection_pending_requests` (callers waiting for a connection),
//! `db_client_connection_wait_time_seconds` (how long they waited) and
//! `db_client_connection_use_time_seconds` (how long a connection was held: the figure that
//! shows a connection kept across a slow await, before the pool runs dry).

use std::time::Duration;

use prometheus::{Histogram, HistogramOpts, IntGauge, IntGaugeVec, Opts, Registry};

use super::{LATENCY_BUCKETS, gauge_value};

#[derive(Clone)]
pub(super) struct PoolMetrics {
    connections: IntGaugeVec,
    max: IntGauge,
    pending: IntGauge,
    wait: Histogram,
    use_time: Histogram,
}

impl PoolMetrics {
    pub(super) fn register(registry: &Registry) -> prometheus::Result<Self> {
        let histogram = |name: &str, help: &str| {
            Histogram::with_opts(HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()))
        };
        let made = Self {
            connections: IntGaugeVec::new(
                Opts::new(
                    "db_client_connections",
                    "Connections in the database pool, by state (used, idle).",
                ),
                &["state"],
            )?,
            max: IntGauge::new(
                "db_client_connection_max",
                "The most connections the pool opens.",
            )?,
            pending: IntGauge::new(
                "db_client_connection_pending_requests",
                "Callers waiting for a connection from the pool.",
            )?,
            wait: histogram(
                "db_client_connection_wait_time_seconds",
                "Time spent waiting for a connection from the pool.",
            )?,
            use_time: histogram(
                "db_client_connection_use_time_seconds",
                "Time between taking a connection from the pool and giving it back.",
            )?,
        };
        registry.register(Box::new(made.connections.clone()))?;
        registry.register(Box::new(made.max.clone()))?;
        registry.register(Box::new(made.pending.clone()))?;
        registry.register(Box::new(made.wait.clone()))?;
        registry.register(Box::new(made.use_time.clone()))?;
        Ok(made)
    }

    pub(super) fn refresh(&self, pool: &sqlx::PgPool) {
        let idle = pool.num_idle();
        let used = (pool.size() as usize).saturating_sub(idle);
        self.connections
            .with_label_values(&["used"])
            .set(gauge_value(used));
        self.connections
            .with_label_values(&["idle"])
            .set(gauge_value(idle));
        self.max
            .set(i64::from(pool.options().get_max_connections()));
    }

    pub(super) fn waiting(&self, delta: i64) {
        self.pending.add(delta);
    }

    pub(super) fn waited(&self, waited: Duration) {
        self.wait.observe(waited.as_secs_f64());
    }

    pub(super) fn used(&self, held: Duration) {
        self.use_time.observe(held.as_secs_f64());
    }
}
