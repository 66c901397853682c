//! The census: which spawn sites hold the tasks that are alive right now.

use std::{
    fmt,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tracing::span::Attributes;

use crate::{
    fields::SpawnFields,
    sites::{AliveTask, LIFETIME_BOUNDS, SiteTable},
};

/// How many task ids a [`SiteSnapshot`] carries: the oldest few, for task dumps.
const SAMPLE_TASK_IDS: usize = 8;

/// Live tokio tasks counted by the `file:line` that spawned them.
///
/// A census is fed by [`CensusSubscriber`](crate::CensusSubscriber) (or, with the `layer`
/// feature, `CensusLayer`) from tokio's `runtime.spawn` spans, and read with
/// [`Census::snapshot`]. Cloning gives another handle to the same census. Most programs use the
/// process's [`Census::global`], which [`init`](crate::init), [`wrap`](crate::wrap) and
/// [`Guard`](crate::Guard) use.
///
/// ```
/// let census = taskleak::Census::new();
/// // Nothing feeds this census yet, and it says so rather than answer "0 tasks".
/// assert!(census.snapshot().is_err());
/// ```
#[derive(Clone, Default)]
pub struct Census {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    table: SiteTable,
    /// Set once a subscriber or layer feeding this census is turned into a dispatcher.
    installed: AtomicBool,
    /// Set once a [`Guard`](crate::Guard) reads this census: from then on each task's runtime
    /// is recorded (production without guards skips that lookup).
    guarded: AtomicBool,
}

/// Why a census cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CensusError {
    /// Built without `--cfg tokio_unstable`: tokio opens no spawn spans.
    NotCompiled,
    /// tracing's static maximum level (a `max_level_*` feature of `tracing`) compiles out TRACE
    /// spans, and tokio's spawn spans are TRACE.
    CompiledOut,
    /// No subscriber feeds this census: install [`init`](crate::init) or [`wrap`](crate::wrap).
    NotInstalled,
}

impl CensusError {
    /// A short stable name: `not_compiled`, `compiled_out` or `not_installed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NotCompiled => "not_compiled",
            Self::CompiledOut => "compiled_out",
            Self::NotInstalled => "not_installed",
        }
    }
}

impl fmt::Display for CensusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotCompiled => {
                "taskleak cannot see tokio tasks: this build lacks `--cfg tokio_unstable`, so tokio \
                 opens no spawn spans. Add to .cargo/config.toml: [build] rustflags = [\"--cfg\", \
                 \"tokio_unstable\"] (a RUSTFLAGS variable replaces that list: include it there too)"
            }
            Self::CompiledOut => {
                "taskleak cannot see tokio tasks: a `max_level_*` feature of the `tracing` crate \
                 compiles out TRACE spans, and tokio's spawn spans are TRACE"
            }
            Self::NotInstalled => {
                "taskleak cannot see tokio tasks: no subscriber feeds the census. Call \
                 taskleak::init() once, or install taskleak::wrap(your_subscriber)"
            }
        })
    }
}

impl std::error::Error for CensusError {}

/// The census at one moment: plain data, most alive tasks first.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Snapshot {
    /// Every site that has spawned a task since the census started, zero-alive ones included
    /// (so that a drained site reads 0 rather than vanishing).
    pub sites: Vec<SiteSnapshot>,
}

impl Snapshot {
    /// Tasks alive over all sites.
    pub fn alive(&self) -> usize {
        self.sites.iter().map(|s| s.alive).sum()
    }

    /// The site holding the most alive tasks, if any holds one.
    pub fn top(&self) -> Option<&SiteSnapshot> {
        self.sites.first().filter(|s| s.alive > 0)
    }
}

/// One spawn site in a [`Snapshot`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SiteSnapshot {
    /// `file:line` of the spawn call (see [`short_path`](crate::short_path)).
    pub site: String,
    /// Tasks spawned there that are alive.
    pub alive: usize,
    /// Age of the oldest of them; zero when none is alive.
    pub oldest: Duration,
    /// Tasks spawned there since the census started.
    pub spawned: u64,
    /// tokio ids of the oldest few alive tasks, oldest first.
    pub task_ids: Vec<u64>,
    /// How long the tasks spawned there that have ended lived.
    pub lifetimes: Lifetimes,
}

/// How long the ended tasks of a site lived, as a histogram (the Prometheus feature exports it
/// as `runtime_task_lifetime_seconds`). Tasks that usually end within a request, next to a few
/// alive for minutes, are tasks that lost their way out; tasks that all live long are long work.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Lifetimes {
    /// `(upper bound in seconds, tasks that lived at most that long)`, cumulative, ascending;
    /// the last bound is `f64::INFINITY` and its count is [`Lifetimes::ended`].
    pub buckets: Vec<(f64, u64)>,
    /// Tasks that ended.
    pub ended: u64,
    /// Their lifetimes, summed.
    pub sum: Duration,
}

impl Lifetimes {
    fn from_counts(counts: &[u64], sum: Duration) -> Self {
        let bounds = LIFETIME_BOUNDS.iter().copied().chain([f64::INFINITY]);
        let mut cumulative = 0;
        let buckets: Vec<(f64, u64)> = bounds
            .zip(counts)
            .map(|(bound, count)| {
                cumulative += count;
                (bound, cumulative)
            })
            .collect();
        Self {
            buckets,
            ended: cumulative,
            sum,
        }
    }
}

/// A task the census counted: where its feeder finds it again when the task's span is cloned,
/// first polled or closed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counted {
    pub(crate) site: u32,
    pub(crate) slot: usize,
    /// Spawned from outside any runtime (`Handle::spawn` from a plain thread): its runtime is
    /// filled in at its first poll.
    pub(crate) runtime_unknown: bool,
}

impl Census {
    /// A census of its own, fed by whatever subscriber you give it to.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process's census: the one [`init`](crate::init), [`wrap`](crate::wrap) and
    /// [`Guard`](crate::Guard) use.
    pub fn global() -> &'static Census {
        static GLOBAL: OnceLock<Census> = OnceLock::new();
        GLOBAL.get_or_init(Census::new)
    }

    /// Whether this census can see tasks at all; see [`CensusError`].
    pub fn status(&self) -> Result<(), CensusError> {
        if !cfg!(tokio_unstable) {
            return Err(CensusError::NotCompiled);
        }
        if tracing::level_filters::STATIC_MAX_LEVEL < tracing::level_filters::LevelFilter::TRACE {
            return Err(CensusError::CompiledOut);
        }
        if !self.inner.installed.load(Ordering::Relaxed) {
            return Err(CensusError::NotInstalled);
        }
        Ok(())
    }

    /// Alive tasks by spawn site, most first. An error, never an empty answer, when the census
    /// cannot see tasks.
    pub fn snapshot(&self) -> Result<Snapshot, CensusError> {
        self.status()?;
        let sites = self
            .inner
            .table
            .counts(SAMPLE_TASK_IDS)
            .into_iter()
            .map(|c| SiteSnapshot {
                site: c.location.to_string(),
                alive: c.alive,
                oldest: c.oldest,
                spawned: c.spawned,
                task_ids: c.task_ids,
                lifetimes: Lifetimes::from_counts(&c.lifetimes, c.lifetime_sum),
            })
            .collect();
        Ok(Snapshot { sites })
    }

    pub(crate) fn mark_guarded(&self) {
        self.inner.guarded.store(true, Ordering::Relaxed);
    }

    pub(crate) fn mark_installed(&self) {
        self.inner.installed.store(true, Ordering::Relaxed);
    }

    pub(crate) fn ptr_eq(&self, other: &Census) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub(crate) fn alive_tasks(&self) -> Vec<AliveTask> {
        self.inner.table.alive_tasks()
    }

    /// Counts the task of a `runtime.spawn` span at its site; `None` for the spans of tasks
    /// that are not runtime tasks (blocking, `block_on`, `LocalSet`).
    pub(crate) fn open(&self, attrs: &Attributes<'_>) -> Option<Counted> {
        let table = &self.inner.table;
        let mut fields = SpawnFields::new(table);
        attrs.record(&mut fields);
        let task = fields.runtime_task()?;
        // Guards scope tasks by runtime: the one whose context the spawn ran in, which is the
        // one the task runs on, except for `Handle::spawn` from outside any runtime (resolved at
        // the first poll instead). Looked up only once a guard wants it.
        let guarded = self.inner.guarded.load(Ordering::Relaxed);
        let runtime = guarded
            .then(|| tokio::runtime::Handle::try_current().ok().map(|h| h.id()))
            .flatten();
        let (site, slot) = table.open(task.file, task.line, task.task_id, runtime);
        Some(Counted {
            site,
            slot,
            runtime_unknown: guarded && runtime.is_none(),
        })
    }

    /// One more handle to a counted task's span.
    pub(crate) fn retain(&self, task: Counted) {
        self.inner
            .table
            .with_site(task.site, |s| s.retain(task.slot));
    }

    /// One handle fewer; returns whether the task was uncounted (its last handle).
    pub(crate) fn release(&self, task: Counted) -> bool {
        self.inner
            .table
            .with_site(task.site, |s| s.release(task.slot))
            .unwrap_or(false)
    }

    /// Records the runtime of a task spawned from outside one, from inside its first poll.
    pub(crate) fn resolve_runtime(&self, task: Counted) {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            self.inner
                .table
                .with_site(task.site, |s| s.resolve_runtime(task.slot, handle.id()));
        }
    }
}

impl fmt::Debug for Census {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Census")
            .field("status", &self.status().map_err(|e| e.as_str()))
            .finish_non_exhaustive()
    }
}
