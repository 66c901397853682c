//! The test guard: goleak for tokio. A test fails when tasks it spawned are still alive after it.

mod glob;
mod install;
mod leaks;

use std::{
    collections::{HashMap, HashSet},
    panic::Location,
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::runtime::{Handle, RuntimeFlavor};

pub use leaks::{LeakedSite, Leaks};

use self::{glob::SitePattern, install::Installed};
use crate::{Census, runtimes, sites::AliveTask};

/// How long [`Guard::verify`] waits, by default, for the test's tasks to finish on their own.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(2);
/// The longest pause between two looks during the settle wait (it starts at 1 ms and doubles).
const MAX_PAUSE: Duration = Duration::from_millis(100);

/// Fails a test whose tokio tasks outlive it.
///
/// Take it first thing in the test, end the test with [`Guard::verify`]: every task spawned on
/// the test's runtime since — and on the runtimes of servers the test started in-process, see
/// [`Runtimes`](crate::Runtimes) — must have finished by then, or finish within a settle wait
/// (2 s by default, looking again after 1, 2, 4 … 100 ms). Otherwise `verify` panics with every
/// offending spawn site, how many tasks each holds, the oldest one's age, and (feature
/// `taskdump`) where one of them is parked.
///
/// ```
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() {
///     let guard = taskleak::Guard::new();
///     let worker = tokio::spawn(async { 2 + 2 });
///     assert_eq!(worker.await.unwrap(), 4);
///     guard.verify().await; // passes: the task ended
/// }
/// ```
///
/// Scope: a guard sees the tasks spawned on its own runtime and on runtimes registered into a
/// [`Runtimes`](crate::Runtimes) created on it, so tests running in parallel in one process
/// (`cargo test`) fail only for their own leaks. Tasks spawned with `Handle::spawn` from
/// another runtime's context are counted there.
///
/// What it needs: a build with `--cfg tokio_unstable`, and the census in front of the
/// process's subscriber. With no subscriber set, the guard installs the census itself; with a
/// `tracing_subscriber::fmt` subscriber (or any other) already set globally, it wraps that one
/// for the test's thread, which sees every spawn of a current-thread test; a multi-thread
/// test then needs the census installed globally, `taskleak::wrap(subscriber)` as the global
/// default. When the guard cannot see spawns it fails loudly rather than pass: tokio's own
/// count of alive tasks is compared with the census's.
///
/// Dropping a guard without `verify` checks too on a multi-thread runtime (so
/// `let _guard = taskleak::Guard::new();` is the whole change there), and panics on a
/// current-thread runtime, which cannot run the test's tasks from inside a `Drop`.
#[must_use = "end the test with `guard.verify().await`"]
pub struct Guard {
    checker: Checker,
    /// Kept for the guard's life: a thread-local census must stay installed until the check.
    _installed: Installed,
    done: bool,
}

/// What the check needs (`Send`, unlike the thread-local install it may come with).
struct Checker {
    census: Census,
    home: Handle,
    taken_at: &'static Location<'static>,
    ignores: Vec<SitePattern>,
    /// Tasks alive when the guard was taken, ignored (see [`Guard::ignore_current`]).
    baseline: HashSet<u64>,
    /// Tasks alive on the test's runtimes that the census did not see, when the guard was taken.
    unattributed_at_start: usize,
    settle: Duration,
    thread_local_census: bool,
}

impl Guard {
    /// Takes the guard on the current runtime.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    #[track_caller]
    pub fn new() -> Self {
        let taken_at = Location::caller();
        let home = Handle::try_current().unwrap_or_else(|_| {
            panic!("taskleak::Guard::new() at {taken_at} must run inside a tokio runtime")
        });
        let census = Census::global().clone();
        census.mark_guarded();
        let installed = install::ensure(&census);
        let mut checker = Checker {
            census,
            home,
            taken_at,
            ignores: Vec::new(),
            baseline: HashSet::new(),
            unattributed_at_start: 0,
            settle: DEFAULT_SETTLE,
            thread_local_census: installed.thread_local(),
        };
        checker.unattributed_at_start = checker.look().unattributed;
        Self {
            checker,
            _installed: installed,
            done: false,
        }
    }

    /// Ignores tasks spawned at sites matching `pattern`, a glob on `file:line` (`*` any run
    /// of characters, `?` one): tasks meant to outlive the test, such as a connection pool's.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let guard = taskleak::Guard::new()
    ///     .ignore("hyper-util-*/src/rt/tokio.rs:*")
    ///     .ignore("sqlx-core-*/src/pool/*");
    /// # guard.verify().await; }
    /// ```
    pub fn ignore(mut self, pattern: &str) -> Self {
        self.checker.ignores.push(SitePattern::new(pattern));
        self
    }

    /// Ignores every task alive in the guard's scope now (goleak's `IgnoreCurrent`).
    pub fn ignore_current(mut self) -> Self {
        let (_, alive) = self.checker.scope();
        self.checker.baseline = alive.iter().map(|t| t.task_id).collect();
        self
    }

    /// How long [`Guard::verify`] waits for the test's tasks to finish (default
    /// [`DEFAULT_SETTLE`]).
    pub fn settle(mut self, within: Duration) -> Self {
        self.checker.settle = within;
        self
    }

    /// Waits up to the settle time for the test's tasks to finish, then panics with the
    /// [`Leaks`] report if any is still alive, or if the guard cannot see spawns at all.
    pub async fn verify(self) {
        if let Err(leaks) = self.check().await {
            panic!("{leaks}");
        }
    }

    /// [`Guard::verify`] without the panic: the report as a value.
    pub async fn check(mut self) -> Result<(), Leaks> {
        self.done = true;
        self.checker.check().await
    }
}

impl Checker {
    async fn check(&self) -> Result<(), Leaks> {
        if let Err(blind) = self.census.status() {
            return Err(self.report(Vec::new(), 0, Duration::ZERO, Some(blind)));
        }
        let started = Instant::now();
        let deadline = started + self.settle;
        let mut pause = Duration::from_millis(1);
        loop {
            let look = self.look();
            if look.leaked.is_empty() && look.unattributed == 0 {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(self.describe(look, now - started).await);
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }

    /// The guard's runtimes (its own and those started from it) and their alive tasks.
    fn scope(&self) -> (Vec<Handle>, Vec<AliveTask>) {
        let family = runtimes::family(&self.home);
        let ids: Vec<_> = family.iter().map(Handle::id).collect();
        let alive = self
            .census
            .alive_tasks()
            .into_iter()
            .filter(|t| t.runtime.is_some_and(|r| ids.contains(&r)))
            .collect();
        (family, alive)
    }

    fn look(&self) -> Look {
        let (family, in_scope) = self.scope();
        let by_tokio: usize = family.iter().map(|h| h.metrics().num_alive_tasks()).sum();
        let unattributed = by_tokio
            .saturating_sub(in_scope.len())
            .saturating_sub(self.unattributed_at_start);
        let leaked = in_scope
            .into_iter()
            .filter(|t| !self.baseline.contains(&t.task_id))
            .filter(|t| !self.ignores.iter().any(|p| p.matches(&t.location)))
            .collect();
        Look {
            leaked,
            unattributed,
            family,
        }
    }

    async fn describe(&self, look: Look, waited: Duration) -> Leaks {
        let now = Instant::now();
        let mut by_site: HashMap<Arc<str>, LeakedSite> = HashMap::new();
        let mut tasks = look.leaked;
        tasks.sort_by_key(|t| t.spawned_at);
        for task in tasks {
            let site = by_site
                .entry(task.location.clone())
                .or_insert_with(|| LeakedSite {
                    site: task.location.to_string(),
                    tasks: 0,
                    oldest: now.saturating_duration_since(task.spawned_at),
                    parked_in: None,
                    task_ids: Vec::new(),
                });
            site.tasks += 1;
            if site.task_ids.len() < 8 {
                site.task_ids.push(task.task_id);
            }
        }
        let mut sites: Vec<LeakedSite> = by_site.into_values().collect();
        sites.sort_by(|a, b| b.tasks.cmp(&a.tasks).then_with(|| a.site.cmp(&b.site)));
        if crate::dump::AVAILABLE && !sites.is_empty() {
            let wanted = sites
                .iter()
                .map(|s| (s.site.clone(), s.task_ids.clone()))
                .collect();
            // The test is over and failing: a dump that strands its tasks costs nothing more,
            // so current-thread runtimes (`#[tokio::test]`'s, actix-web's) are dumped too.
            let gate = crate::dump::DumpGate::default().with_current_thread(true);
            if let Ok(mut stacks) = crate::dump::sample_stacks(&gate, look.family, wanted).await {
                for site in &mut sites {
                    site.parked_in = stacks.remove(&site.site).and_then(|s| s.parked_in);
                }
            }
        }
        self.report(sites, look.unattributed, waited, None)
    }

    fn report(
        &self,
        sites: Vec<LeakedSite>,
        unattributed: usize,
        waited: Duration,
        cannot_see: Option<crate::CensusError>,
    ) -> Leaks {
        Leaks {
            sites,
            unattributed,
            waited,
            cannot_see,
            taken_at: self.taken_at,
            thread_local_census: self.thread_local_census,
        }
    }
}

impl Default for Guard {
    #[track_caller]
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("taken_at", &self.checker.taken_at.to_string())
            .field("runtime", &self.checker.home.id())
            .field(
                "ignores",
                &self
                    .checker
                    .ignores
                    .iter()
                    .map(SitePattern::as_str)
                    .collect::<Vec<_>>(),
            )
            .field("settle", &self.checker.settle)
            .finish_non_exhaustive()
    }
}

/// One look at the test's runtimes.
struct Look {
    leaked: Vec<AliveTask>,
    unattributed: usize,
    family: Vec<Handle>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.done || std::thread::panicking() {
            return;
        }
        self.done = true;
        let checker = &self.checker;
        if checker.home.runtime_flavor() != RuntimeFlavor::MultiThread {
            panic!(
                "taskleak: the guard taken at {} was dropped without `guard.verify().await`; on \
                 a current-thread runtime the check must be awaited (the test's tasks cannot run \
                 inside a Drop)",
                checker.taken_at
            );
        }
        // The runtime's workers run the test's tasks meanwhile; this thread only waits, from a
        // thread of its own (a runtime cannot be blocked on from inside itself).
        let outcome = std::thread::scope(|scope| {
            scope
                .spawn(|| checker.home.block_on(checker.check()))
                .join()
        });
        match outcome {
            Ok(Err(leaks)) => panic!("{leaks}"),
            Ok(Ok(())) => {}
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}
