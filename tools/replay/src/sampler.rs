//! Scrapes every service's `/metrics` once a second for the whole replay, and prints progress.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use tokio_util::{sync::CancellationToken, task::TaskTracker};

use contract::prom_text as prom;

/// One scrape of one service.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Seconds since the replay started.
    pub t: f64,
    pub service: String,
    pub alive_tasks: f64,
    pub heap_bytes: f64,
    pub rss_bytes: f64,
    pub db_used: f64,
    /// Gateway only: payments answered so far (for the request rate).
    pub payments_answered: f64,
    /// The other scenarios' signals (see `scenario.rs`): messages queued in channels,
    pub queued_messages: f64,
    /// callers waiting for a pooled connection, and (cumulative) waits over 0.5 s and holds
    /// over 0.75 s,
    pub pool_pending: f64,
    pub pool_slow_waits: f64,
    pub pool_slow_holds: f64,
    /// busy blocking threads and blocking jobs queued,
    pub blocking_busy: f64,
    pub blocking_queued: f64,
    /// and the alive tasks spawned in one source file, with the oldest age: (file, alive, age).
    pub sites: Vec<(String, f64, f64)>,
}

/// What the progress line says the replay is doing.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub phase: String,
    /// The service whose figures the progress line shows (the scenario's host).
    pub target: String,
    pub phase_started: Option<Instant>,
    pub phase_length: Duration,
}

#[derive(Clone)]
pub struct Scraper {
    http: reqwest::Client,
    services: Vec<(String, String)>,
    started: Instant,
}

impl Scraper {
    pub fn new(services: Vec<(String, String)>, started: Instant) -> Self {
        Self {
            http: reqwest::Client::new(),
            services,
            started,
        }
    }

    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// One scrape of every service now; services that do not answer within 2 s are skipped.
    pub async fn scrape_all(&self) -> Vec<Sample> {
        let t = self.elapsed();
        let scrapes = self.services.iter().map(|(name, url)| async move {
            let series = prom::scrape(&self.http, url, Duration::from_secs(2)).await?;
            let get = |name: &str| prom::sum(&series, name, |_| true).unwrap_or(0.0);
            Some(Sample {
                t,
                service: name.clone(),
                alive_tasks: get("runtime_alive_tasks"),
                heap_bytes: get("process_heap_allocated_bytes"),
                rss_bytes: get("process_resident_memory_bytes"),
                db_used: prom::sum(&series, "db_client_connections", |l| {
                    l.get("state").map(String::as_str) == Some("used")
                })
                .unwrap_or(0.0),
                payments_answered: prom::sum(
                    &series,
                    "http_server_request_duration_seconds_count",
                    |l| l.get("http_route").map(String::as_str) == Some("/v1/payments"),
                )
                .unwrap_or(0.0),
                queued_messages: get("channel_queued_messages"),
                pool_pending: get("db_client_connection_pending_requests"),
                pool_slow_waits: over(&series, "db_client_connection_wait_time_seconds", "0.5"),
                pool_slow_holds: over(&series, "db_client_connection_use_time_seconds", "0.75"),
                blocking_busy: get("runtime_blocking_threads")
                    - get("runtime_idle_blocking_threads"),
                blocking_queued: get("runtime_blocking_queue_depth"),
                sites: our_sites(&series),
            })
        });
        futures::future::join_all(scrapes)
            .await
            .into_iter()
            .flatten()
            .collect()
    }
}

/// Observations of histogram `name` above the bucket `le` (cumulative over the service's life).
fn over(series: &[prom::Series], name: &str, le: &str) -> f64 {
    let count = prom::sum(series, &format!("{name}_count"), |_| true).unwrap_or(0.0);
    let within = prom::sum(series, &format!("{name}_bucket"), |l| {
        l.get("le").map(String::as_str) == Some(le)
    })
    .unwrap_or(count);
    count - within
}

/// Alive tasks and oldest age per source file of the workspace's own code (`services/`,
/// `crates/`), summed over a file's spawn sites.
fn our_sites(series: &[prom::Series]) -> Vec<(String, f64, f64)> {
    let mut files: Vec<(String, f64, f64)> = Vec::new();
    for s in series {
        let Some(site) = s.labels.get("spawn_site") else {
            continue;
        };
        if !(site.starts_with("services/") || site.starts_with("crates/")) {
            continue;
        }
        let file = site.rsplit_once(':').map_or(site.as_str(), |(f, _)| f);
        let index = match files.iter().position(|(f, _, _)| f == file) {
            Some(i) => i,
            None => {
                files.push((file.to_owned(), 0.0, 0.0));
                files.len() - 1
            }
        };
        match s.name.as_str() {
            "runtime_alive_tasks_by_spawn_site" => files[index].1 += s.value,
            "runtime_oldest_task_age_seconds" => files[index].2 = files[index].2.max(s.value),
            _ => {}
        }
    }
    files
}

impl Sample {
    /// Alive tasks spawned in `file`, and the oldest one's age.
    pub fn tasks_in(&self, file: &str) -> (f64, f64) {
        self.sites
            .iter()
            .find(|(f, _, _)| f == file)
            .map_or((0.0, 0.0), |(_, alive, age)| (*alive, *age))
    }
}

/// The background sampler: owned by the replay, stopped (and awaited) when it ends.
pub struct Sampler {
    samples: Arc<Mutex<Vec<Sample>>>,
    progress: Arc<Mutex<Progress>>,
    stop: CancellationToken,
    task: TaskTracker,
}

impl Sampler {
    pub fn start(scraper: Scraper) -> Self {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let progress = Arc::new(Mutex::new(Progress::default()));
        let stop = CancellationToken::new();
        let task = TaskTracker::new();
        let (store, shown, token) = (samples.clone(), progress.clone(), stop.clone());
        task.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let mut last_answered: Option<(f64, f64)> = None;
            loop {
                tokio::select! {
                    () = token.cancelled() => return,
                    _ = tick.tick() => {}
                }
                let batch = scraper.scrape_all().await;
                let rate = batch.iter().find(|s| s.service == "gateway").and_then(|g| {
                    let previous = last_answered.replace((g.t, g.payments_answered));
                    previous.map(|(t, n)| (g.payments_answered - n) / (g.t - t).max(0.001))
                });
                print_progress(&shown, &batch, rate);
                store
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend(batch);
            }
        });
        task.close();
        Self {
            samples,
            progress,
            stop,
            task,
        }
    }

    pub fn set_phase(&self, phase: &str, length: Duration, target: &str) {
        let mut progress = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
        *progress = Progress {
            phase: phase.to_owned(),
            target: target.to_owned(),
            phase_started: Some(Instant::now()),
            phase_length: length,
        };
    }

    /// `service`'s last sample at or before `t`.
    pub fn sample_at(&self, service: &str, t: f64) -> Option<Sample> {
        let samples = self.samples.lock().unwrap_or_else(PoisonError::into_inner);
        samples
            .iter()
            .filter(|s| s.service == service && s.t <= t)
            .max_by(|a, b| a.t.total_cmp(&b.t))
            .cloned()
    }

    pub fn record(&self, batch: Vec<Sample>) {
        self.samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(batch);
    }

    pub async fn stop(self) -> Vec<Sample> {
        self.stop.cancel();
        self.task.wait().await;
        let mut samples =
            std::mem::take(&mut *self.samples.lock().unwrap_or_else(PoisonError::into_inner));
        samples.sort_by(|a, b| a.t.total_cmp(&b.t));
        samples
    }
}

fn print_progress(progress: &Mutex<Progress>, batch: &[Sample], rate: Option<f64>) {
    let progress = progress
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let Some(started) = progress.phase_started else {
        return;
    };
    let target = progress.target.as_str();
    let risk = batch.iter().find(|s| s.service == target);
    let mut line = format!(
        "  [{:<14} {:>4.0}s/{:>3}s]",
        progress.phase,
        started.elapsed().as_secs_f64(),
        progress.phase_length.as_secs()
    );
    if let Some(rate) = rate {
        line.push_str(&format!(" {rate:>5.1} req/s"));
    }
    match risk {
        Some(s) => line.push_str(&format!(
            " · {target}: heap {:>6.0} MiB, {:>5.0} alive tasks, {:>2.0} DB connections in use ({:.0} waiting), {:.0} queued messages, {:.0} busy blocking threads",
            s.heap_bytes / 1_048_576.0,
            s.alive_tasks,
            s.db_used,
            s.pool_pending,
            s.queued_messages,
            s.blocking_busy
        )),
        None => line.push_str(&format!(" · {target}: no answer to the scrape")),
    }
    eprintln!("{line}");
}
