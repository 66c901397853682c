//! Deep scoring: where the incident lives, and its fix. Read this file first.
//!
//! A deep-scoring job runs in shards, concurrently. Every shard does the same four things:
//! allocates and touches a feature buffer (memory), reads the customer's history while holding
//! a pooled DB connection (pool pressure), folds over the buffer on the worker thread (CPU), and
//! waits on a slow external dependency (30 s in the incident configuration, slower as calls pile
//! up on it).
//!
//! [`DeepScorer::score_leaky`] and [`DeepScorer::score_fixed`] run exactly the same shards under
//! exactly the same deadline — the earlier of the caller's remaining budget (propagated in a
//! header) and risk's own deep-scoring budget — and both answer `review` when it passes. The
//! difference is ownership:
//!
//! - **leaky** is the first "fix" a team makes: the shards go to `tokio::spawn`, and the wait for
//!   them is wrapped in a timeout. The caller gets an answer at the deadline, so the gateway sees
//!   no timeout at all. But the timeout only drops the `JoinHandle`s, and dropping a
//!   `JoinHandle` *detaches* its task, it does not cancel it: the shards run on for the full
//!   30 s, each with its buffer, a pooled connection for part of its life and CPU, and every new
//!   request adds more. Alive tasks and heap climb; the pool starves and the CPU is busy with
//!   work nobody will read, so every request through risk slows down, fast path included.
//!   (actix-web does not drop a handler when its client disconnects, actix/actix-web#1313, so
//!   without the timeout not even the handler would notice that nobody is waiting.)
//! - **fixed** spawns the shards into a `JoinSet` owned by the request. When the deadline passes,
//!   the `JoinSet` is shut down, which aborts every shard: buffers are freed, connections go back
//!   to the pool, spans end marked cancelled. The timeout was never the fix; the owner is.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;
use kit::deadline::Deadline;
use prometheus::{IntCounter, IntGauge};
use tokio::task::JoinSet;
use tracing::{Instrument as _, Span, field::Empty};
use uuid::Uuid;

use crate::{
    config::DeepScoringSettings,
    store::{RiskStore, count_recent},
    types::Mode,
};

/// What deep scoring concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every shard answered; the combined 0–100 score.
    Scored(i16),
    /// Out of time (or a shard failed): decide without deep scoring.
    Incomplete,
}

/// One payment's deep-scoring job.
#[derive(Debug, Clone)]
pub struct Job {
    pub payment_id: Uuid,
    pub customer_id: Arc<str>,
    /// What the fast-path rules scored.
    pub base_score: i16,
}

/// Deep-scoring metrics: shards in flight, and shards cancelled before they finished.
#[derive(Clone)]
pub struct DeepScoringMetrics {
    pub in_flight: IntGauge,
    pub cancelled: IntCounter,
}

#[derive(Clone)]
pub struct DeepScorer {
    store: RiskStore,
    settings: Arc<DeepScoringSettings>,
    metrics: DeepScoringMetrics,
    dependency: SlowDependency,
}

impl DeepScorer {
    pub fn new(
        store: RiskStore,
        settings: DeepScoringSettings,
        metrics: DeepScoringMetrics,
    ) -> Self {
        Self {
            dependency: SlowDependency {
                latency: settings.slow_dependency_latency,
                capacity: settings.slow_dependency_capacity,
                in_flight: Arc::new(AtomicUsize::new(0)),
            },
            store,
            settings: Arc::new(settings),
            metrics,
        }
    }

    /// THE BUG: shards detached from the request. The deadline is there, and the caller gets
    /// its answer in time, but nothing stops the shards when it passes.
    pub async fn score_leaky(&self, job: &Job, caller_deadline: Deadline) -> Outcome {
        let deadline = caller_deadline.min(Deadline::after(self.settings.budget));
        let handles: Vec<_> = (0..self.settings.shards)
            .map(|index| {
                let shard = self.shard(job, index, Mode::Leaky);
                // Deliberate: this is the leak the project demonstrates. `tokio::spawn` puts the
                // shard on the runtime with no owner; its JoinHandle below only observes it.
                #[allow(clippy::disallowed_methods)]
                tokio::spawn(shard)
            })
            .collect();
        let all_scored = async {
            let mut scores = Vec::with_capacity(handles.len());
            for handle in handles {
                if let Ok(Ok(score)) = handle.await {
                    scores.push(score);
                }
            }
            scores
        };
        // At the deadline the timeout drops `all_scored`, and with it the JoinHandles: dropping a
        // JoinHandle detaches its task. The answer is on time; the work goes on without it.
        match tokio::time::timeout_at(deadline.instant(), all_scored).await {
            Ok(scores) => self.combine(job, &scores),
            Err(_elapsed) => Outcome::Incomplete,
        }
    }

    /// THE FIX: shards owned by the request, bounded by a deadline, aborted when it passes.
    pub async fn score_fixed(&self, job: &Job, caller_deadline: Deadline) -> Outcome {
        let deadline = caller_deadline.min(Deadline::after(self.settings.budget));
        // The JoinSet owns its tasks: when it is dropped, every task still in it is aborted.
        let mut shards = JoinSet::new();
        for index in 0..self.settings.shards {
            shards.spawn(self.shard(job, index, Mode::Fixed));
        }
        let all_scored = async {
            let mut scores = Vec::with_capacity(self.settings.shards);
            while let Some(joined) = shards.join_next().await {
                if let Ok(Ok(score)) = joined {
                    scores.push(score);
                }
            }
            scores
        };
        let outcome = match tokio::time::timeout_at(deadline.instant(), all_scored).await {
            Ok(scores) => self.combine(job, &scores),
            Err(_elapsed) => {
                tracing::info!(
                    budget_ms = self.settings.budget.as_millis() as i64,
                    "deep scoring out of budget: cancelling its shards"
                );
                Outcome::Incomplete
            }
        };
        // Abort whatever is still running and wait until it is gone, so that no shard (nor its
        // span) outlives this request. Dropping the JoinSet would abort them too, but would not
        // wait for the aborts to land.
        shards.shutdown().await;
        outcome
    }

    fn combine(&self, job: &Job, scores: &[i16]) -> Outcome {
        if scores.len() < self.settings.shards {
            return Outcome::Incomplete;
        }
        let worst = scores.iter().copied().max().unwrap_or(0);
        Outcome::Scored((job.base_score + worst).min(100))
    }

    /// One shard, ready to spawn, inside its own span (a child of the current request's span).
    fn shard(
        &self,
        job: &Job,
        index: usize,
        mode: Mode,
    ) -> impl Future<Output = anyhow::Result<i16>> + Send + 'static {
        let span = tracing::info_span!(
            "deep_scoring.shard",
            otel.name = "deep_scoring shard",
            otel.status_code = Empty,
            otel.status_description = Empty,
            error.type = Empty,
            payment.id = %job.payment_id,
            leakstorm.mode = mode.as_str(),
            leakstorm.shard = index as i64,
            leakstorm.cancelled = Empty,
        );
        let work = ShardWork {
            store: self.store.clone(),
            settings: self.settings.clone(),
            dependency: self.dependency.clone(),
            customer_id: job.customer_id.clone(),
            seed: job.payment_id.as_bytes()[index % 16],
        };
        let guard = ShardGuard::start(self.metrics.clone(), span.clone(), mode);
        async move {
            let score = work.run().await;
            guard.finish();
            score
        }
        .instrument(span)
    }
}

struct ShardWork {
    store: RiskStore,
    settings: Arc<DeepScoringSettings>,
    dependency: SlowDependency,
    customer_id: Arc<str>,
    seed: u8,
}

impl ShardWork {
    async fn run(self) -> anyhow::Result<i16> {
        // Memory: a feature buffer, every page written so that it is really resident.
        let mut features = vec![0_u8; self.settings.shard_buffer_bytes];
        features.fill(self.seed | 1);

        // DB: read the customer's history and keep the connection for the rest of feature
        // extraction (in real code: many small queries on one connection).
        let recent = {
            let mut conn = self
                .store
                .db()
                .acquire()
                .await
                .context("acquiring a connection for feature reads")?;
            let recent = count_recent(&mut conn, &self.customer_id).await?;
            tokio::time::sleep(self.settings.db_hold).await;
            recent
        };

        // CPU, on the worker thread, yielding between chunks so cancellation can land.
        let mut checksum = 0_u64;
        for _ in 0..self.settings.cpu_passes {
            for chunk in features.chunks(256 * 1024) {
                checksum = chunk
                    .iter()
                    .fold(checksum, |acc, b| acc.rotate_left(5) ^ u64::from(*b));
                tokio::task::yield_now().await;
            }
        }

        self.dependency.call().await;

        drop(features);
        let velocity = i16::try_from(recent.min(10)).unwrap_or(10);
        Ok(velocity * 3 + i16::try_from(checksum % 10).unwrap_or(0))
    }
}

/// The external dependency deep scoring waits on (a consortium fraud lookup in the story). Its
/// latency is the incident's trigger. Like any real shared server it slows down as calls pile up
/// on it (processor sharing): a call needs `latency` of work, done at a speed of
/// `1 / (1 + calls in flight / capacity)`. Leaked calls therefore slow every other call down, so
/// leaked work lives longer and alive tasks keep climbing for as long as the storm lasts; calls
/// cancelled at their deadline leave at once and never pile up.
#[derive(Clone)]
struct SlowDependency {
    latency: Duration,
    /// Calls in flight at which the dependency runs at half speed; 0 keeps latency constant.
    capacity: usize,
    in_flight: Arc<AtomicUsize>,
}

/// How often a call re-reads the dependency's load.
const DEPENDENCY_TICK: Duration = Duration::from_millis(500);

impl SlowDependency {
    async fn call(&self) {
        let in_flight = InFlightCall::enter(&self.in_flight);
        let span = tracing::info_span!(
            "consortium lookup",
            otel.kind = "client",
            peer.service = "consortium",
            leakstorm.dependency_in_flight = in_flight.count as i64,
        );
        async {
            if self.capacity == 0 {
                tokio::time::sleep(self.latency).await;
                return;
            }
            let mut work_left = self.latency.as_secs_f64();
            while work_left > 0.0 {
                let load = self.in_flight.load(Ordering::Relaxed) as f64 / self.capacity as f64;
                let speed = 1.0 / (1.0 + load);
                let step = DEPENDENCY_TICK.as_secs_f64().min(work_left / speed);
                tokio::time::sleep(Duration::from_secs_f64(step)).await;
                work_left -= step * speed;
            }
        }
        .instrument(span)
        .await;
    }
}

/// Counts a call for exactly as long as it lasts, cancelled or not.
struct InFlightCall<'a> {
    counter: &'a AtomicUsize,
    count: usize,
}

impl<'a> InFlightCall<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        let count = counter.fetch_add(1, Ordering::Relaxed) + 1;
        Self { counter, count }
    }
}

impl Drop for InFlightCall<'_> {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts a shard in flight for as long as it exists, and marks it cancelled if it is dropped
/// before finishing (an aborted task drops its future: this runs inside the abort).
struct ShardGuard {
    metrics: DeepScoringMetrics,
    span: Span,
    mode: Mode,
    started: Instant,
    finished: bool,
}

impl ShardGuard {
    fn start(metrics: DeepScoringMetrics, span: Span, mode: Mode) -> Self {
        metrics.in_flight.inc();
        Self {
            metrics,
            span,
            mode,
            started: Instant::now(),
            finished: false,
        }
    }

    fn finish(mut self) {
        self.finished = true;
    }
}

impl Drop for ShardGuard {
    fn drop(&mut self) {
        self.metrics.in_flight.dec();
        if !self.finished {
            self.metrics.cancelled.inc();
            self.span.record("leakstorm.cancelled", true);
            self.span.record("otel.status_code", "ERROR");
            self.span
                .record("otel.status_message", "cancelled: deadline exceeded");
            self.span.record("error.type", "cancelled");
            tracing::info!(
                parent: &self.span,
                mode = self.mode.as_str(),
                after_ms = self.started.elapsed().as_millis() as i64,
                "deep-scoring shard cancelled"
            );
        }
    }
}
