//! The `GET /debug/tasks` answer (feature `serde`): what the census sees, as JSON, and how to
//! collect it. The actix-web and axum handlers ([`crate::actix`], [`crate::axum`]) serve it;
//! any other framework can serve [`DebugTasks::report`] the same way.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{
    Census, Runtimes,
    dump::{self, DumpGate},
};

/// Sites listed when the query names no `limit`.
const DEFAULT_LIMIT: usize = 20;

/// The state a `/debug/tasks` endpoint needs, shared by every worker (cheap to clone).
///
/// ```
/// let state = taskleak::report::DebugTasks::new(taskleak::Runtimes::new());
/// # let _ = state;
/// ```
#[derive(Debug, Clone)]
pub struct DebugTasks {
    census: Census,
    runtimes: Runtimes,
    dumps: DumpGate,
}

/// The query string of `/debug/tasks`: `?dump=1` for a (guarded) task dump, `?limit=N` sites.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TasksQuery {
    /// `1`, `true` or `yes`: sample where a task of each site is parked (feature `taskdump`).
    #[serde(default)]
    pub dump: Option<String>,
    /// Sites to list (default 20); the rest still count in the totals.
    #[serde(default)]
    pub limit: Option<usize>,
}

impl TasksQuery {
    fn wants_dump(&self) -> bool {
        matches!(self.dump.as_deref(), Some("1" | "true" | "yes"))
    }
}

/// The JSON answer of `GET /debug/tasks`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TasksReport {
    /// `on`, or why the census cannot see tasks: `not_compiled` (no `--cfg tokio_unstable`),
    /// `compiled_out` (tracing's static max level), `not_installed` (nothing feeds it).
    pub accounting: String,
    /// The same, in words, when `accounting` is not `on`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Tasks alive over the server's runtimes, by tokio's own count.
    pub runtime_alive_tasks: usize,
    /// Alive tasks over all spawn sites, every runtime of the process; `null` when the census
    /// cannot see tasks (never a reassuring 0).
    pub accounted_tasks: Option<usize>,
    /// The task dump: `not_requested`, `ok`, `unavailable`, `busy`, `timed_out`, `failed`.
    pub dump: String,
    /// Sites with alive tasks, most tasks first.
    pub sites: Vec<SiteReport>,
}

/// One spawn site in a [`TasksReport`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SiteReport {
    /// `file:line` of the spawn call.
    pub site: String,
    /// Tasks alive.
    pub tasks: usize,
    /// Age of the oldest, in seconds (one decimal).
    pub oldest_age_seconds: f64,
    /// Tasks spawned there since the census started.
    #[serde(default)]
    pub spawned: u64,
    /// With `?dump=1`: the innermost function of your own code where a sample task is parked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parked_in: Option<String>,
    /// With `?dump=1`: that task's async stack, innermost first, `function at file:line`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sample_stack: Vec<String>,
}

impl TasksReport {
    /// The site holding the most alive tasks, if any holds one.
    pub fn top_site(&self) -> Option<&SiteReport> {
        self.sites.first().filter(|s| s.tasks > 0)
    }
}

impl DebugTasks {
    /// The process's census ([`Census::global`]) over `runtimes`, dumps one at a time.
    pub fn new(runtimes: Runtimes) -> Self {
        Self {
            census: Census::global().clone(),
            runtimes,
            dumps: DumpGate::default(),
        }
    }

    /// Reads `census` instead of the global one.
    pub fn with_census(mut self, census: Census) -> Self {
        self.census = census;
        self
    }

    /// Dumps through `gate` (its deadline; one at a time).
    pub fn with_dump_gate(mut self, gate: DumpGate) -> Self {
        self.dumps = gate;
        self
    }

    /// Collects the report for `query`.
    pub async fn report(&self, query: &TasksQuery) -> TasksReport {
        let runtime_alive_tasks = self.runtimes.alive_tasks();
        let snapshot = match self.census.snapshot() {
            Ok(snapshot) => snapshot,
            Err(e) => {
                return TasksReport {
                    accounting: e.as_str().to_owned(),
                    error: Some(e.to_string()),
                    runtime_alive_tasks,
                    accounted_tasks: None,
                    dump: "not_requested".to_owned(),
                    sites: Vec::new(),
                };
            }
        };
        let accounted_tasks = snapshot.alive();
        let listed: Vec<_> = snapshot
            .sites
            .into_iter()
            .filter(|s| s.alive > 0)
            .take(query.limit.unwrap_or(DEFAULT_LIMIT))
            .collect();
        let (dump, mut stacks) = if query.wants_dump() && !listed.is_empty() {
            let wanted: HashMap<String, Vec<u64>> = listed
                .iter()
                .map(|s| (s.site.clone(), s.task_ids.clone()))
                .collect();
            match dump::sample_stacks(&self.dumps, self.runtimes.handles(), wanted).await {
                Ok(stacks) => ("ok", stacks),
                Err(e) => (e.as_str(), HashMap::new()),
            }
        } else {
            ("not_requested", HashMap::new())
        };
        let sites = listed
            .into_iter()
            .map(|site| {
                let sample = stacks.remove(&site.site);
                SiteReport {
                    tasks: site.alive,
                    oldest_age_seconds: (site.oldest.as_secs_f64() * 10.0).round() / 10.0,
                    spawned: site.spawned,
                    parked_in: sample.as_ref().and_then(|s| s.parked_in.clone()),
                    sample_stack: sample.map(|s| s.frames).unwrap_or_default(),
                    site: site.site,
                }
            })
            .collect();
        TasksReport {
            accounting: "on".to_owned(),
            error: None,
            runtime_alive_tasks,
            accounted_tasks: Some(accounted_tasks),
            dump: dump.to_owned(),
            sites,
        }
    }
}
