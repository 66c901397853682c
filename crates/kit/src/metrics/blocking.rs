//! The tokio blocking pools of a server's runtimes (one per actix-web worker), summed:
//! `runtime_blocking_threads`, `runtime_idle_blocking_threads` and
//! `runtime_blocking_queue_depth` (jobs waiting for a thread: the pool is full). Read from
//! tokio's runtime metrics, which need `--cfg tokio_unstable` (the workspace builds with it);
//! without it the gauges are not exported at all rather than read 0.

use prometheus::{IntGauge, Registry};
use taskleak::Runtimes;

#[derive(Clone)]
pub(super) struct BlockingMetrics {
    threads: IntGauge,
    idle: IntGauge,
    queue: IntGauge,
}

impl BlockingMetrics {
    pub(super) fn register(registry: &Registry) -> prometheus::Result<Option<Self>> {
        if !cfg!(tokio_unstable) {
            return Ok(None);
        }
        let made = Self {
            threads: IntGauge::new(
                "runtime_blocking_threads",
                "Threads in the tokio blocking pools (spawn_blocking), over every runtime.",
            )?,
            idle: IntGauge::new(
                "runtime_idle_blocking_threads",
                "Idle threads in the tokio blocking pools, over every runtime.",
            )?,
            queue: IntGauge::new(
                "runtime_blocking_queue_depth",
                "Blocking jobs waiting for a thread (the pool is at its maximum), over every runtime.",
            )?,
        };
        registry.register(Box::new(made.threads.clone()))?;
        registry.register(Box::new(made.idle.clone()))?;
        registry.register(Box::new(made.queue.clone()))?;
        Ok(Some(made))
    }

    #[cfg(tokio_unstable)]
    pub(super) fn refresh(&self, runtimes: &Runtimes) {
        let (mut threads, mut idle, mut queue) = (0, 0, 0);
        for handle in runtimes.handles() {
            let metrics = handle.metrics();
            threads += metrics.num_blocking_threads();
            idle += metrics.num_idle_blocking_threads();
            queue += metrics.blocking_queue_depth();
        }
        self.threads.set(super::gauge_value(threads));
        self.idle.set(super::gauge_value(idle));
        self.queue.set(super::gauge_value(queue));
    }

    #[cfg(not(tokio_unstable))]
    pub(super) fn refresh(&self, _: &Runtimes) {}
}
