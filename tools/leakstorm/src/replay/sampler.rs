//! Scrapes every service's `/metrics` once a second for the whole replay, and prints progress.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::prom;

/// One scrape of one service.
#[derive(Debug, Clone)]
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
}

/// What the progress line says the replay is doing.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub phase: String,
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
            let text = self
                .http
                .get(format!("{url}/metrics"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            let series = prom::parse(&text);
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
            })
        });
        futures::future::join_all(scrapes)
            .await
            .into_iter()
            .flatten()
            .collect()
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
    pub fn start(scraper: Scraper, progress_target: &'static str) -> Self {
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
                print_progress(&shown, &batch, rate, progress_target);
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

    pub fn set_phase(&self, phase: &str, length: Duration) {
        let mut progress = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
        *progress = Progress {
            phase: phase.to_owned(),
            phase_started: Some(Instant::now()),
            phase_length: length,
        };
    }

    /// `service`'s value from the last sample at or before `t`.
    pub fn value_at(&self, service: &str, t: f64, value: impl Fn(&Sample) -> f64) -> Option<f64> {
        let samples = self.samples.lock().unwrap_or_else(PoisonError::into_inner);
        samples
            .iter()
            .filter(|s| s.service == service && s.t <= t)
            .max_by(|a, b| a.t.total_cmp(&b.t))
            .map(value)
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

fn print_progress(progress: &Mutex<Progress>, batch: &[Sample], rate: Option<f64>, target: &str) {
    let progress = progress
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let Some(started) = progress.phase_started else {
        return;
    };
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
            " · {target}: heap {:>6.0} MiB, {:>5.0} alive tasks, {:>2.0} DB connections in use",
            s.heap_bytes / 1_048_576.0,
            s.alive_tasks,
            s.db_used
        )),
        None => line.push_str(&format!(" · {target}: no answer to the scrape")),
    }
    eprintln!("{line}");
}
