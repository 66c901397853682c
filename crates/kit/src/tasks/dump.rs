//! Guarded tokio task dumps: one sample async stack per spawn site.
//!
//! A dump re-polls every task of a runtime in tracing mode and records a backtrace where each is
//! parked. It is expensive (the runtime stops while it runs) and on `current_thread` runtimes,
//! which every actix worker is, it must run *inside* the runtime being dumped; tokio also has an
//! open bug there ("RefCell already borrowed" when a traced task wakes another). So:
//! - dumps are opt-in (`GET /debug/tasks?dump=1`) and one at a time per process ([`DumpGate`]);
//! - each runtime dumps itself in a task spawned onto it: a panic in the dump ends that task,
//!   never the worker (tokio catches a task's panic and reports it through its `JoinHandle`);
//! - the whole dump has a deadline; symbols are resolved on the blocking pool, for the sampled
//!   tasks only.
//!
//! Available on Linux x86_64/aarch64 with `--cfg tokio_unstable` (tokio's `taskdump` feature);
//! elsewhere [`sample_stacks`] answers [`DumpError::Unavailable`].

use std::{collections::HashMap, sync::Arc, time::Duration};

use tokio::{runtime::Handle, sync::Semaphore};

/// Where a sample task of a site is parked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackSample {
    /// The innermost frame of our own code on the stack: `path::to::function (file:line)`, or
    /// just `file:line` where debug info names only an anonymous async block.
    pub parked_in: Option<String>,
    /// `function at file:line`, innermost first, runtime and std frames left out.
    pub frames: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DumpError {
    #[error(
        "task dumps are not available in this build (Linux x86_64/aarch64 with tokio_unstable only)"
    )]
    Unavailable,
    #[error("another task dump is running")]
    Busy,
    #[error("the task dump did not finish in time")]
    TimedOut,
    #[error("the task dump failed")]
    Failed,
}

/// One dump at a time per process.
#[derive(Clone)]
pub struct DumpGate {
    permits: Arc<Semaphore>,
    pub timeout: Duration,
}

impl Default for DumpGate {
    fn default() -> Self {
        Self {
            permits: Arc::new(Semaphore::new(1)),
            timeout: Duration::from_secs(5),
        }
    }
}

/// Samples one stack per wanted task: `wanted` maps a site to task ids of that site (oldest
/// first); the answer maps a site to the stack of the first of its tasks found in the dump.
pub async fn sample_stacks(
    gate: &DumpGate,
    runtimes: Vec<Handle>,
    wanted: HashMap<String, Vec<u64>>,
) -> Result<HashMap<String, StackSample>, DumpError> {
    let Ok(_permit) = gate.permits.try_acquire() else {
        return Err(DumpError::Busy);
    };
    imp::sample_stacks(runtimes, wanted, gate.timeout).await
}

#[cfg(all(
    tokio_unstable,
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod imp {
    use std::{collections::HashMap, time::Duration};

    use tokio::runtime::{Dump, Handle, dump::Trace};

    use super::{DumpError, StackSample, frames};

    pub(super) async fn sample_stacks(
        runtimes: Vec<Handle>,
        wanted: HashMap<String, Vec<u64>>,
        timeout: Duration,
    ) -> Result<HashMap<String, StackSample>, DumpError> {
        // Each runtime dumps itself, from a task of its own (required on current_thread
        // runtimes); a panicking dump fails only that task.
        let dumps = runtimes
            .into_iter()
            .map(|handle| handle.spawn(async { Handle::current().dump().await }))
            .collect();
        let joined = tokio::time::timeout(timeout, join_all(dumps))
            .await
            .map_err(|_| DumpError::TimedOut)?;
        let (dumps, failures): (Vec<_>, Vec<_>) = joined.into_iter().partition(Result::is_ok);
        let dumps: Vec<Dump> = dumps.into_iter().filter_map(Result::ok).collect();
        if dumps.is_empty() && !failures.is_empty() {
            return Err(DumpError::Failed);
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

    /// Awaits every handle (a tiny join_all; kit does not depend on `futures`).
    async fn join_all<T>(
        handles: Vec<tokio::task::JoinHandle<T>>,
    ) -> Vec<Result<T, tokio::task::JoinError>> {
        let mut out = Vec::with_capacity(handles.len());
        for handle in handles {
            out.push(handle.await);
        }
        out
    }
}

#[cfg(not(all(
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
    tokio_unstable,
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod frames;
