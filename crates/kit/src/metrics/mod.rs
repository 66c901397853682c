//! The Prometheus metrics every service exports (names are a contract with the dashboards,
//! alert rules and the replay; docs/architecture.md says where each contract is defined):
//!
//! - `runtime_alive_tasks`: tokio tasks alive, summed over every actix worker runtime.
//! - `runtime_alive_tasks_by_spawn_site{spawn_site}`, `runtime_oldest_task_age_seconds{spawn_site}`
//!   and `runtime_spawned_tasks_total{spawn_site}`: tasks by the `file:line` that spawned them
//!   (every runtime of the process; `taskleak`'s census, see [`crate::tasks`]).
//! - `process_resident_memory_bytes`, `process_heap_allocated_bytes` (jemalloc's live heap).
//! - `http_server_request_duration_seconds{http_route,http_request_method,http_response_status_code}`.
//! - the database pool (`pool.rs`): `db_client_connections{state="used"|"idle"}`,
//!   `db_client_connection_max`, `db_client_connection_pending_requests`,
//!   `db_client_connection_wait_time_seconds`, `db_client_connection_use_time_seconds`.
//! - the blocking pools (`blocking.rs`): `runtime_blocking_threads`,
//!   `runtime_idle_blocking_threads`, `runtime_blocking_queue_depth`.
//!
//! Each service owns one [`Metrics`] (no global registry) and may register its own metrics on it.

use std::{sync::Arc, time::Duration};

mod blocking;
mod pool;

use prometheus::{Encoder as _, HistogramOpts, HistogramVec, IntGauge, Registry, TextEncoder};
use taskleak::{Runtimes, prometheus::SpawnSiteCollector};

use crate::alloc;

/// Seconds; spans the fast path (ms), the fixed-mode budget (100s of ms) and the leaky
/// gateway timeout (10 s) up to a 30 s slow dependency.
pub(crate) const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 15.0, 30.0,
    60.0,
];

#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    runtimes: Runtimes,
    alive_tasks: IntGauge,
    resident_memory: IntGauge,
    heap_allocated: IntGauge,
    http_duration: HistogramVec,
    pool: pool::PoolMetrics,
    blocking: Option<blocking::BlockingMetrics>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Create it on the runtime that builds the server (a test's runtime in tests): worker
    /// runtimes then join that runtime's leak guards (see [`taskleak::Runtimes`]).
    pub fn new() -> Self {
        let registry = Registry::new();
        let alive_tasks = IntGauge::new(
            "runtime_alive_tasks",
            "Tokio tasks alive, summed over every actix worker runtime.",
        )
        .expect("valid metric");
        let resident_memory = IntGauge::new(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
        )
        .expect("valid metric");
        let heap_allocated = IntGauge::new(
            "process_heap_allocated_bytes",
            "Bytes allocated by the application and not yet freed (jemalloc stats.allocated).",
        )
        .expect("valid metric");
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_server_request_duration_seconds",
                "Duration of HTTP server requests.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &[
                "http_route",
                "http_request_method",
                "http_response_status_code",
            ],
        )
        .expect("valid metric");
        for collector in [
            Box::new(alive_tasks.clone()) as Box<dyn prometheus::core::Collector>,
            // runtime_alive_tasks_by_spawn_site, runtime_oldest_task_age_seconds, ...
            Box::new(SpawnSiteCollector::global()),
            Box::new(resident_memory.clone()),
            Box::new(heap_allocated.clone()),
            Box::new(http_duration.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        let pool = pool::PoolMetrics::register(&registry).expect("metric names are unique");
        let blocking =
            blocking::BlockingMetrics::register(&registry).expect("metric names are unique");
        Self {
            inner: Arc::new(Inner {
                registry,
                runtimes: Runtimes::new(),
                alive_tasks,
                resident_memory,
                heap_allocated,
                http_duration,
                pool,
                blocking,
            }),
        }
    }

    /// For service-specific metrics.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    pub fn runtimes(&self) -> &Runtimes {
        &self.inner.runtimes
    }

    pub fn observe_http(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.inner
            .http_duration
            .with_label_values(&[route, method, &status.to_string()])
            .observe(elapsed.as_secs_f64());
    }

    /// A caller starts (`+1`) or stops (`-1`) waiting for a pooled connection.
    pub fn pool_waiting(&self, delta: i64) {
        self.inner.pool.waiting(delta);
    }

    pub fn observe_pool_wait(&self, waited: Duration) {
        self.inner.pool.waited(waited);
    }

    /// A pooled connection went back after being held for `held`.
    pub fn observe_pool_use(&self, held: Duration) {
        self.inner.pool.used(held);
    }

    /// Refreshes the gauges read at scrape time and renders the text exposition format.
    pub fn render(&self, pool: &sqlx::PgPool) -> String {
        let inner = &self.inner;
        inner
            .alive_tasks
            .set(gauge_value(inner.runtimes.alive_tasks()));
        inner
            .resident_memory
            .set(gauge_value(alloc::resident_memory_bytes()));
        inner
            .heap_allocated
            .set(gauge_value(alloc::heap_allocated_bytes()));
        inner.pool.refresh(pool);
        if let Some(blocking) = &inner.blocking {
            blocking.refresh(&inner.runtimes);
        }

        let mut buffer = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metric families.
        let _ = TextEncoder::new().encode(&inner.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}

pub(crate) fn gauge_value(v: impl TryInto<i64>) -> i64 {
    v.try_into().unwrap_or(i64::MAX)
}
