//! Model scoring: the `blocking-pileup` scenario, and its fix. Read after `deep_scoring.rs`.
//!
//! Deep-scored payments are also scored by a fraud model, through the model vendor's client
//! library — a *synchronous* one: a call blocks its thread until the model server answers (30 s
//! in the incident configuration: the model server is overloaded). Blocking calls do not belong
//! on the async workers, so both modes hand them to `tokio::task::spawn_blocking`. The difference
//! is the bound:
//!
//! - **leaky** spawns a blocking job per request, with no limit, and waits for it. The caller
//!   gives up after 10 s, but a blocking job cannot be aborted: dropping its `JoinHandle` only
//!   stops waiting. Each job holds a thread of the runtime's blocking pool for the whole 30 s, so
//!   the pool grows toward its maximum (`SERVER_MAX_BLOCKING_THREADS`; tokio's default is 512),
//!   and once it is full, new jobs queue behind the stuck ones — everything else that needs a
//!   blocking thread (DNS lookups, file reads) queues too. Tasks and heap barely move; the
//!   blocking pool's threads and queue depth give it away.
//! - **fixed** takes the limit before the work: at most `RISK_MODEL_CONCURRENCY` calls at once
//!   (a semaphore permit, waited for no longer than the request's budget, else the payment goes
//!   to review without the model), and each call gets the budget as its own timeout — the
//!   client's read timeout — so the thread frees itself when nobody waits for the answer.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use kit::{deadline::Deadline, scenarios::ScenarioSwitch};
use prometheus::{IntCounter, IntGauge};
use tokio::sync::Semaphore;

use crate::types::Mode;

/// The model's settings: the incident's knobs.
#[derive(Debug, Clone)]
pub struct ModelSettings {
    /// `RISK_MODEL_LATENCY_MS`: how long the model server takes to answer (default 30 s).
    pub latency: Duration,
    /// `RISK_MODEL_CONCURRENCY`: fixed mode's bound on calls in flight (default 4).
    pub concurrency: usize,
    /// `RISK_MODEL_BUDGET_MS`: fixed mode's own budget for a model call (default 300 ms).
    pub budget: Duration,
}

/// What the model said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelOutcome {
    /// 0–100.
    Scored(i16),
    /// No answer in time (or no slot): decide without it.
    Unavailable,
}

#[derive(Clone)]
pub struct ModelMetrics {
    /// Blocking model calls holding a thread right now (abandoned ones included).
    pub in_flight: IntGauge,
    /// Calls whose caller stopped waiting while the blocking job went on.
    pub abandoned: IntCounter,
}

#[derive(Clone)]
pub struct ModelScorer {
    settings: Arc<ModelSettings>,
    permits: Arc<Semaphore>,
    metrics: ModelMetrics,
    mode: ScenarioSwitch,
}

impl ModelScorer {
    pub fn new(settings: ModelSettings, metrics: ModelMetrics, mode: ScenarioSwitch) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            settings: Arc::new(settings),
            metrics,
            mode,
        }
    }

    #[tracing::instrument(name = "model scoring", skip_all, fields(leakstorm.scenario = "blocking-pileup", leakstorm.mode = self.mode.get().as_str()))]
    pub async fn score(&self, customer_id: &str, caller: Deadline) -> ModelOutcome {
        match self.mode.get() {
            Mode::Leaky => self.score_leaky(customer_id, caller).await,
            Mode::Fixed => self.score_fixed(customer_id, caller).await,
        }
    }

    /// THE BUG: one blocking job per request, no bound; the job outlives the caller's patience.
    async fn score_leaky(&self, customer_id: &str, caller: Deadline) -> ModelOutcome {
        let call = self.blocking_call(customer_id, None);
        let job = tokio::task::spawn_blocking(call);
        let abandoned = Abandonment(Some(self.metrics.abandoned.clone()));
        // Giving up here drops the JoinHandle; the blocking job keeps its thread regardless.
        match tokio::time::timeout_at(caller.instant(), job).await {
            Ok(Ok(score)) => {
                abandoned.answered();
                score.map_or(ModelOutcome::Unavailable, ModelOutcome::Scored)
            }
            Ok(Err(_panicked)) => {
                abandoned.answered();
                ModelOutcome::Unavailable
            }
            Err(_elapsed) => ModelOutcome::Unavailable,
        }
    }

    /// THE FIX: the limit is taken before the work, and the call itself stops at the deadline.
    async fn score_fixed(&self, customer_id: &str, caller: Deadline) -> ModelOutcome {
        let deadline = caller.min(Deadline::after(self.settings.budget));
        let permit =
            match tokio::time::timeout_at(deadline.instant(), self.permits.clone().acquire_owned())
                .await
            {
                Ok(Ok(permit)) => permit,
                // No slot in time (or the semaphore closed): decide without the model.
                _ => return ModelOutcome::Unavailable,
            };
        let call = self.blocking_call(customer_id, Some(deadline.instant()));
        let job = tokio::task::spawn_blocking(move || {
            let _permit = permit; // held exactly as long as the thread is
            call()
        });
        match job.await {
            Ok(Some(score)) => ModelOutcome::Scored(score),
            _ => ModelOutcome::Unavailable,
        }
    }

    /// The vendor's synchronous call, as a closure for the blocking pool: it blocks its thread
    /// until the model answers, or until `timeout` (the client's read timeout) if it has one.
    fn blocking_call(
        &self,
        customer_id: &str,
        timeout: Option<tokio::time::Instant>,
    ) -> impl FnOnce() -> Option<i16> + Send + 'static {
        let latency = self.settings.latency;
        let in_flight = self.metrics.in_flight.clone();
        let seed = customer_id
            .bytes()
            .fold(7_u64, |h, b| h.rotate_left(5) ^ u64::from(b));
        move || {
            in_flight.inc();
            let started = Instant::now();
            let answer_at = started + latency;
            let give_up_at = timeout.map(|t| t.into_std()).unwrap_or(answer_at);
            // A synchronous client waiting on its socket: the thread sleeps, as a blocked read's
            // would (the model's CPU is on the model server, not here).
            std::thread::sleep(answer_at.min(give_up_at).saturating_duration_since(started));
            in_flight.dec();
            (Instant::now() >= answer_at).then(|| i16::try_from(seed % 40).unwrap_or(0))
        }
    }
}

/// Counts a leaky model call as abandoned unless its answer was awaited: at the caller's
/// deadline, and also when the request itself is dropped first (the client hung up) — either
/// way the blocking job runs on without anyone waiting for it.
struct Abandonment(Option<IntCounter>);

impl Abandonment {
    fn answered(mut self) {
        self.0 = None;
    }
}

impl Drop for Abandonment {
    fn drop(&mut self) {
        if let Some(counter) = self.0.take() {
            counter.inc();
        }
    }
}
