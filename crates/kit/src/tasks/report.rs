//! The JSON answer of `GET /debug/tasks`, shared by the services and `leakstorm tasks`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TasksReport {
    /// `on`; `off` (switched off with `LEAKSTORM_TASK_ACCOUNTING=off`); `not_compiled` (built
    /// without `--cfg tokio_unstable`, e.g. because `RUSTFLAGS` replaced the config's flags).
    pub accounting: String,
    /// Tasks alive over every runtime of the process, by tokio's own count (`num_alive_tasks`
    /// summed over the actix worker runtimes).
    pub runtime_alive_tasks: usize,
    /// Alive tasks over all spawn sites: runtime tasks of every runtime of the process
    /// (`LocalSet` tasks, blocking jobs and `block_on` futures excluded).
    pub accounted_tasks: usize,
    /// What happened to the task dump: `not_requested`, `ok`, `unavailable` (not Linux
    /// x86_64/aarch64), `busy` (another dump is running), `timed_out`, `failed`.
    pub dump: String,
    /// Sites with alive tasks, most tasks first.
    pub sites: Vec<SiteReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SiteReport {
    /// `file:line` of the spawn call.
    pub site: String,
    pub tasks: usize,
    pub oldest_age_seconds: f64,
    /// With `?dump=1`: the innermost function of our own code where a sample task of this site
    /// is parked (e.g. `risk::deep_scoring::SlowDependency::call`).
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
