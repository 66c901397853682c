//! What a failed guard reports, and how it says it.

use std::{fmt, panic::Location, time::Duration};

use crate::CensusError;

/// Why a [`Guard`](crate::Guard) failed: the test's tasks still alive after the settle wait, by
/// spawn site — or the reason the guard could not look at all.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Leaks {
    /// Sites of the leaked tasks, most tasks first.
    pub sites: Vec<LeakedSite>,
    /// Tasks alive on the test's runtimes (by tokio's own count) that the census could not put
    /// at a spawn site: spawned where the census does not see (see [`Guard`](crate::Guard)).
    pub unattributed: usize,
    /// How long the guard waited for the tasks to finish before it gave up.
    pub waited: Duration,
    /// Set when the guard could not see spawns at all; then nothing else is meaningful.
    pub cannot_see: Option<CensusError>,
    pub(crate) taken_at: &'static Location<'static>,
    /// The census was wrapped around another global subscriber for the test's thread only.
    pub(crate) thread_local_census: bool,
}

/// One spawn site in [`Leaks`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LeakedSite {
    /// `file:line` of the spawn call.
    pub site: String,
    /// Tasks spawned there during the test and still alive.
    pub tasks: usize,
    /// Age of the oldest of them.
    pub oldest: Duration,
    /// Where a sample task is parked: the innermost function of your own code on its async
    /// stack (feature `taskdump`, Linux x86_64/aarch64).
    pub parked_in: Option<String>,
    /// tokio ids of the oldest few.
    pub task_ids: Vec<u64>,
}

impl Leaks {
    /// Tasks leaked over all sites (not counting [`Leaks::unattributed`]).
    pub fn tasks(&self) -> usize {
        self.sites.iter().map(|s| s.tasks).sum()
    }
}

impl fmt::Display for Leaks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(blind) = &self.cannot_see {
            return write!(
                f,
                "taskleak: the guard taken at {} cannot check this test. {blind}",
                self.taken_at
            );
        }
        let leaked = self.tasks();
        if leaked > 0 {
            writeln!(
                f,
                "taskleak: {leaked} {} spawned during this test {} still alive {:.1} s after it \
                 ended (guard taken at {}):",
                plural(leaked, "task", "tasks"),
                plural(leaked, "is", "are"),
                self.waited.as_secs_f64(),
                self.taken_at
            )?;
            for site in &self.sites {
                write!(
                    f,
                    "  {} × {} (oldest {:.1} s)",
                    site.tasks,
                    site.site,
                    site.oldest.as_secs_f64()
                )?;
                if let Some(parked) = &site.parked_in {
                    write!(f, ", parked in {parked}")?;
                }
                writeln!(f)?;
            }
        }
        if self.unattributed > 0 {
            writeln!(
                f,
                "taskleak: {} more {} alive on this test's runtimes that the census did not see \
                 spawned{}",
                self.unattributed,
                plural(self.unattributed, "task is", "tasks are"),
                if self.thread_local_census {
                    ": a global subscriber without the census was set, so the guard wrapped it \
                     for this thread only and cannot see spawns on other threads. Install it \
                     wrapped instead: taskleak::wrap(your_subscriber) as the global default."
                } else {
                    " (spawned from another runtime's context, or before the census was \
                     installed)."
                }
            )?;
        }
        if leaked > 0 {
            let example = self.sites.first().map_or("file.rs:*", |s| s.site.as_str());
            writeln!(
                f,
                "A task that outlives its test was detached (its JoinHandle dropped) or never \
                 told to stop. If one is meant to live on, ignore its site: \
                 Guard::new().ignore(\"{example}\")"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Leaks {}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}
