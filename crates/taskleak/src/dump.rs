//! Guarded tokio task dumps (feature `taskdump`): where a sample task of each spawn site is
//! parked, as an async stack.
//!
//! A dump re-polls every task of a runtime in tracing mode and records a backtrace where each is
//! parked. It is expensive (the runtime pauses while it runs) and on current-thread runtimes,
//! which every actix-web worker is, it must run *inside* the runtime being dumped. There tokio
//! (1.54) has a bug: the dump holds the scheduler while it polls, and a task that is woken or
//! spawned onto the same runtime meanwhile panics it ("RefCell already borrowed"); the tasks the
//! dump had in hand are then never polled again. What taskleak does about it:
//! - on a current-thread runtime the dump waits, yielding, for a moment when no other task is
//!   queued (a queued task is one about to make progress, and progress is what spawns and
//!   wakes), and gives up ([`DumpError::TimedOut`]) rather than dump a busy runtime;
//! - dumps are asked for, never taken on their own, and one at a time per [`DumpGate`];
//! - each runtime dumps itself in a task spawned onto it, so a panic ends that task (tokio
//!   reports it through its `JoinHandle`), not the worker thread;
//! - the whole dump has a deadline; symbols are resolved on the blocking pool, for the sampled
//!   tasks only.
//!
//! What it cannot prevent: a wake from *another thread* landing while a task is being traced —
//! with a connection pool shared between actix-web workers, a storm of them. Measured in this
//! repository: 3 of 5 runs of a test asking for dumps during a load burst stranded a worker's
//! tasks. So current-thread runtimes are left out of dumps unless a gate says otherwise
//! ([`DumpGate::with_current_thread`]): the test guard does, once the test is over and failing.
//!
//! Available with the `taskdump` feature on Linux x86_64/aarch64 under `--cfg tokio_unstable`
//! (tokio's own limits); elsewhere [`sample_stacks`] answers [`DumpError::Unavailable`].

use std::{collections::HashMap, fmt, sync::Arc, time::Duration};

use tokio::{
    runtime::{Handle, RuntimeFlavor},
    sync::Semaphore,
};

/// Whether this build can take task dumps.
pub const AVAILABLE: bool = cfg!(all(
    feature = "taskdump",
    tokio_unstable,
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
));

/// Where a sample task of a site is parked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StackSample {
    /// The innermost frame of your own code on its stack: `path::to::function (file:line)`, or
    /// just `file:line` where debug info names only an anonymous async block.
    pub parked_in: Option<String>,
    /// `function at file:line`, innermost first, runtime and std frames left out.
    pub frames: Vec<String>,
}

/// Why no stacks came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DumpError {
    /// Not this build (feature `taskdump`, Linux x86_64/aarch64, `--cfg tokio_unstable`).
    Unavailable,
    /// Another dump through the same gate is running.
    Busy,
    /// The dump did not finish before the gate's deadline.
    TimedOut,
    /// Every runtime to dump is current-thread, which this gate leaves out (see the module doc
    /// and [`DumpGate::with_current_thread`]).
    CurrentThreadOnly,
    /// Every runtime's dump failed.
    Failed,
}

impl DumpError {
    /// A short stable name: `unavailable`, `busy`, `timed_out`, `current_thread_only`, `failed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Busy => "busy",
            Self::TimedOut => "timed_out",
            Self::CurrentThreadOnly => "current_thread_only",
            Self::Failed => "failed",
        }
    }
}

impl fmt::Display for DumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unavailable => {
                "task dumps are not available in this build (feature `taskdump`, Linux \
                 x86_64/aarch64, --cfg tokio_unstable)"
            }
            Self::Busy => "another task dump is running",
            Self::TimedOut => "the task dump did not finish in time",
            Self::CurrentThreadOnly => {
                "every runtime is current-thread, where a tokio task dump can strand tasks; \
                 DumpGate::with_current_thread(true) allows it"
            }
            Self::Failed => "the task dump failed",
        })
    }
}

impl std::error::Error for DumpError {}

/// One dump at a time, with a deadline, of multi-thread runtimes only unless told otherwise.
/// Clones share the one permit.
///
/// ```
/// let gate = taskleak::dump::DumpGate::default().with_timeout(std::time::Duration::from_secs(2));
/// # let _ = gate;
/// ```
#[derive(Debug, Clone)]
pub struct DumpGate {
    permits: Arc<Semaphore>,
    timeout: Duration,
    current_thread: bool,
}

impl Default for DumpGate {
    fn default() -> Self {
        Self {
            permits: Arc::new(Semaphore::new(1)),
            timeout: Duration::from_secs(5),
            current_thread: false,
        }
    }
}

impl DumpGate {
    /// The deadline for a whole dump (default 5 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Dump current-thread runtimes too (default: no). tokio's dump there can panic the
    /// runtime's scheduler and strand the tasks it had in hand when another thread wakes one of
    /// them mid-dump (see the module doc): worth it where the runtime is going away anyway, or
    /// on an instance you can restart.
    pub fn with_current_thread(mut self, allow: bool) -> Self {
        self.current_thread = allow;
        self
    }
}

/// Samples one stack per wanted site: `wanted` maps a site to task ids spawned there (oldest
/// first); the answer maps a site to the stack of the first of its tasks found in a dump of
/// `runtimes`.
pub async fn sample_stacks(
    gate: &DumpGate,
    runtimes: Vec<Handle>,
    wanted: HashMap<String, Vec<u64>>,
) -> Result<HashMap<String, StackSample>, DumpError> {
    let asked = runtimes.len();
    let runtimes: Vec<Handle> = runtimes
        .into_iter()
        .filter(|h| gate.current_thread || h.runtime_flavor() != RuntimeFlavor::CurrentThread)
        .collect();
    if AVAILABLE && asked > 0 && runtimes.is_empty() {
        return Err(DumpError::CurrentThreadOnly);
    }
    let Ok(_permit) = gate.permits.try_acquire() else {
        return Err(DumpError::Busy);
    };
    imp::sample_stacks(runtimes, wanted, gate.timeout).await
}

#[cfg(all(
    feature = "taskdump",
    tokio_unstable,
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod imp {
    use std::{collections::HashMap, time::Duration};

    use tokio::{
        runtime::{Dump, Handle, RuntimeFlavor, dump::Trace},
        time::Instant,
    };

    use super::{DumpError, StackSample, frames};

    pub(super) async fn sample_stacks(
        runtimes: Vec<Handle>,
        wanted: HashMap<String, Vec<u64>>,
        timeout: Duration,
    ) -> Result<HashMap<String, StackSample>, DumpError> {
        // Each runtime dumps itself, from a task of its own (required on current-thread
        // runtimes); a panicking dump fails only that task.
        let give_up = Instant::now() + timeout;
        let dumps: Vec<_> = runtimes
            .into_iter()
            .map(|handle| {
                handle.spawn(async move {
                    quiet_moment(give_up)
                        .await
                        .then_some(())
                        .ok_or(DumpError::TimedOut)?;
                    Ok::<Dump, DumpError>(Handle::current().dump().await)
                })
            })
            .collect();
        let joined = tokio::time::timeout(timeout, async {
            let mut out = Vec::with_capacity(dumps.len());
            for dump in dumps {
                out.push(dump.await);
            }
            out
        })
        .await
        .map_err(|_| DumpError::TimedOut)?;
        let mut dumps = Vec::new();
        let mut failure = None;
        for outcome in joined {
            match outcome {
                Ok(Ok(dump)) => dumps.push(dump),
                Ok(Err(error)) => failure = Some(error),
                Err(_panicked) => failure = Some(DumpError::Failed),
            }
        }
        if let (true, Some(error)) = (dumps.is_empty(), failure) {
            return Err(error);
        }
        // Symbolising reads debug info: CPU and disk, so off the async workers; and only for
        // one task per site.
        tokio::task::spawn_blocking(move || {
            let by_id: HashMap<u64, &Trace> = dumps
                .iter()
                .flat_map(|dump| dump.tasks().iter())
                .filter_map(|task| Some((task.id().to_string().parse().ok()?, task.trace())))
                .collect();
            wanted
                .into_iter()
                .filter_map(|(site, ids)| {
                    let trace = ids.iter().find_map(|id| by_id.get(id))?;
                    Some((site, frames::sample(trace)))
                })
                .collect()
        })
        .await
        .map_err(|_| DumpError::Failed)
    }

    /// On a current-thread runtime: whether a moment came, before `give_up`, when no other task
    /// was queued (see the module doc). Multi-thread runtimes stop their workers for a dump.
    async fn quiet_moment(give_up: Instant) -> bool {
        let handle = Handle::current();
        if handle.runtime_flavor() != RuntimeFlavor::CurrentThread {
            return true;
        }
        let metrics = handle.metrics();
        while metrics.worker_local_queue_depth(0) > 0 || metrics.global_queue_depth() > 0 {
            if Instant::now() >= give_up {
                return false;
            }
            tokio::task::yield_now().await;
        }
        true
    }
}

#[cfg(not(all(
    feature = "taskdump",
    tokio_unstable,
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
mod imp {
    use std::{collections::HashMap, time::Duration};

    use tokio::runtime::Handle;

    use super::{DumpError, StackSample};

    pub(super) async fn sample_stacks(
        _: Vec<Handle>,
        _: HashMap<String, Vec<u64>>,
        _: Duration,
    ) -> Result<HashMap<String, StackSample>, DumpError> {
        Err(DumpError::Unavailable)
    }
}

#[cfg(all(
    feature = "taskdump",
    tokio_unstable,
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod frames;
