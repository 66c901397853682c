//! "Root cause named": during a storm, watch the target's `/debug/tasks` each second and record
//! when one spawn site holds most of the alive tasks while `runtime_alive_tasks` is at or above
//! the alert threshold — the moment the lab can say *which line* leaks. (No task dump: the
//! fleet's actix-web workers are current-thread runtimes, which `/debug/tasks` declines to dump;
//! the test guard shows where a leaked task is parked.)

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::{sync::watch, task::JoinHandle};

use fleet::debug_tasks as tasks;

/// What the watch found over one storm.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RootCause {
    /// Seconds from the storm's start until one site held most of the alive tasks above the
    /// alert threshold; `None` if that never happened.
    pub named_after_s: Option<f64>,
    /// That site (`file:line`), its share of the alive tasks and its count at that moment.
    pub site: Option<String>,
    pub share: Option<f64>,
    pub site_tasks: Option<usize>,
    /// The most tasks any one site held at any sample of the storm, and which site.
    pub peak_site_tasks: usize,
    pub peak_site: Option<String>,
    /// Samples that could not be read (the service was too busy to answer within 2 s).
    pub missed_samples: u32,
}

/// A site "holds most of the alive tasks" above this share.
pub const MAJORITY: f64 = 0.5;

/// A watch running alongside a storm; [`RootCauseWatch::finish`] stops it.
pub struct RootCauseWatch {
    stop: watch::Sender<bool>,
    task: JoinHandle<RootCause>,
}

impl RootCauseWatch {
    pub fn start(url: String, admin_token: String, alert_tasks: u64) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(watch_storm(url, admin_token, alert_tasks, stopped));
        Self { stop, task }
    }

    pub async fn finish(self) -> RootCause {
        let _ = self.stop.send(true);
        self.task.await.unwrap_or_default()
    }
}

async fn watch_storm(
    url: String,
    admin_token: String,
    alert_tasks: u64,
    mut stopped: watch::Receiver<bool>,
) -> RootCause {
    let started = Instant::now();
    let mut found = RootCause::default();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => return found,
        }
        let report =
            match tokio::time::timeout(Duration::from_secs(2), tasks::fetch(&url, &admin_token))
                .await
            {
                Ok(Ok(report)) => report,
                _ => {
                    found.missed_samples += 1;
                    continue;
                }
            };
        let Some(top) = report.top_site() else {
            continue;
        };
        if top.tasks > found.peak_site_tasks {
            found.peak_site_tasks = top.tasks;
            found.peak_site = Some(top.site.clone());
        }
        let share = top.tasks as f64 / report.accounted_tasks.unwrap_or(0).max(1) as f64;
        let alerting = report.runtime_alive_tasks as u64 >= alert_tasks;
        if found.named_after_s.is_none() && alerting && share > MAJORITY {
            found.named_after_s = Some(started.elapsed().as_secs_f64());
            found.site = Some(top.site.clone());
            found.share = Some(share);
            found.site_tasks = Some(top.tasks);
        }
    }
}

/// The markdown cell for the report's tables.
pub fn cell(root_cause: Option<&RootCause>, alert_tasks: u64) -> String {
    match root_cause {
        None => "–".to_owned(),
        Some(RootCause {
            named_after_s: Some(after),
            site: Some(site),
            share,
            ..
        }) => format!(
            "{after:.0} s: `{site}` ({:.0} % of alive tasks)",
            share.unwrap_or(0.0) * 100.0
        ),
        Some(rc) if rc.peak_site_tasks < alert_tasks as usize => format!(
            "no site accumulated tasks (largest: {} at `{}`)",
            rc.peak_site_tasks,
            rc.peak_site.as_deref().unwrap_or("–")
        ),
        Some(rc) => format!(
            "not named: alive tasks spread over sites (largest {} at `{}`)",
            rc.peak_site_tasks,
            rc.peak_site.as_deref().unwrap_or("–")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_name_the_site_or_say_none_accumulated() {
        let named = RootCause {
            named_after_s: Some(7.2),
            site: Some("services/risk/src/deep_scoring.rs:107".into()),
            share: Some(0.93),
            ..RootCause::default()
        };
        assert_eq!(
            cell(Some(&named), 100),
            "7 s: `services/risk/src/deep_scoring.rs:107` (93 % of alive tasks)"
        );
        let quiet = RootCause {
            peak_site_tasks: 4,
            peak_site: Some("x.rs:1".into()),
            ..RootCause::default()
        };
        assert!(cell(Some(&quiet), 100).starts_with("no site accumulated tasks"));
        assert_eq!(cell(None, 100), "–");
    }
}
