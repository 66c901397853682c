//! Which alerts a Prometheus fires, read from its HTTP API (`/api/v1/alerts`), and a watch that
//! records when each one first fired during a storm.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// How often the watch asks.
const POLL: Duration = Duration::from_secs(2);

/// One alert as Prometheus reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct Alert {
    pub labels: BTreeMap<String, String>,
    /// `pending` or `firing`.
    pub state: String,
}

impl Alert {
    pub fn name(&self) -> &str {
        self.labels.get("alertname").map_or("", String::as_str)
    }

    /// The service it is about (the scrape job).
    pub fn service(&self) -> &str {
        self.labels.get("job").map_or("", String::as_str)
    }

    /// The leak scenario a cause alert points at; `None` for a symptom alert.
    pub fn scenario(&self) -> Option<&str> {
        self.labels.get("scenario").map(String::as_str)
    }
}

/// An alert that fired, as the replay and drill reports give it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiredAlert {
    pub alert: String,
    pub service: String,
    /// The scenario it names (cause alerts), or `None` (symptoms).
    pub scenario: Option<String>,
    /// Seconds after the storm began at which it was first seen firing.
    pub after_s: f64,
}

/// A Prometheus's HTTP API.
#[derive(Debug, Clone)]
pub struct PrometheusClient {
    url: String,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(Deserialize)]
struct AlertList {
    alerts: Vec<Alert>,
}

impl PrometheusClient {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every alert pending or firing now.
    pub async fn alerts(&self) -> anyhow::Result<Vec<Alert>> {
        let list: Envelope<AlertList> = self
            .http
            .get(format!("{}/api/v1/alerts", self.url))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("asking {} for its alerts", self.url))?
            .json()
            .await
            .context("reading Prometheus's alerts")?;
        Ok(list.data.alerts)
    }

    /// The alerts firing now.
    pub async fn firing(&self) -> anyhow::Result<Vec<Alert>> {
        let mut alerts = self.alerts().await?;
        alerts.retain(|a| a.state == "firing");
        Ok(alerts)
    }
}

/// Records, in the background, each alert that starts firing after the watch began (those
/// already firing then belong to what came before), with the time since `storm_start`.
pub struct AlertWatch {
    fired: Arc<Mutex<Vec<FiredAlert>>>,
    stop: CancellationToken,
    task: TaskTracker,
}

impl AlertWatch {
    pub async fn start(client: PrometheusClient, storm_start: Instant) -> Self {
        let before: Vec<(String, String)> = client
            .firing()
            .await
            .unwrap_or_default()
            .iter()
            .map(|a| (a.name().to_owned(), a.service().to_owned()))
            .collect();
        let fired = Arc::new(Mutex::new(Vec::<FiredAlert>::new()));
        let stop = CancellationToken::new();
        let task = TaskTracker::new();
        let (record, token) = (fired.clone(), stop.clone());
        task.spawn(async move {
            let mut tick = tokio::time::interval(POLL);
            loop {
                tokio::select! {
                    () = token.cancelled() => return,
                    _ = tick.tick() => {}
                }
                let Ok(firing) = client.firing().await else {
                    continue;
                };
                let after_s = storm_start.elapsed().as_secs_f64();
                let mut fired = record.lock().unwrap_or_else(PoisonError::into_inner);
                for alert in firing {
                    let key = (alert.name().to_owned(), alert.service().to_owned());
                    let seen = fired.iter().any(|f| f.alert == key.0 && f.service == key.1);
                    if seen || before.contains(&key) {
                        continue;
                    }
                    fired.push(FiredAlert {
                        alert: key.0,
                        service: key.1,
                        scenario: alert.scenario().map(str::to_owned),
                        after_s: (after_s * 10.0).round() / 10.0,
                    });
                }
            }
        });
        task.close();
        Self { fired, stop, task }
    }

    /// What fired so far, in the order it fired.
    pub fn fired(&self) -> Vec<FiredAlert> {
        self.fired
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub async fn stop(self) -> Vec<FiredAlert> {
        self.stop.cancel();
        self.task.wait().await;
        self.fired()
    }
}
