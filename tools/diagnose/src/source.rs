//! Where diagnose's observations come from: each service's `/metrics`, scraped now, or a
//! Prometheus that has been scraping them (its last two minutes at once, then what is new).

use std::{
    collections::BTreeMap,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context as _, bail};
use serde::Deserialize;

use super::observation::Observation;
use contract::prom_text::{self as prom, Series};

/// The series the rules read, as one PromQL name matcher.
const NAMES: &str = "runtime_alive_tasks_by_spawn_site|runtime_oldest_task_age_seconds|runtime_spawned_tasks_total|runtime_task_lifetime_seconds_bucket|runtime_blocking_queue_depth|db_client_connection_pending_requests|db_client_connection_use_time_seconds_bucket|channel_queued_messages|channel_received_messages_total|channel_capacity_messages|process_heap_allocated_bytes";

/// A Prometheus's history is read at this resolution (its scrape interval on the native fleet).
const STEP_S: f64 = 2.0;

pub enum Source {
    /// `(service, base URL)`: `GET {url}/metrics`.
    Scrape(Vec<(String, String)>),
    /// A Prometheus scraping the services (each service is a `job`).
    Prometheus {
        url: String,
        read_until: Option<f64>,
    },
}

pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Source {
    /// The observations made since the last call. A scrape is one per service that answered
    /// (an error when none did); a Prometheus gives its last two minutes the first time.
    pub async fn observe(&mut self, http: &reqwest::Client) -> anyhow::Result<Vec<Observation>> {
        match self {
            Source::Scrape(services) => scrape(http, services).await,
            Source::Prometheus { url, read_until } => {
                let end = unix_now();
                let start = read_until.map_or(end - 120.0, |t| t + 0.001);
                let observations = query_range(http, url, start, end).await?;
                *read_until = Some(end);
                Ok(observations)
            }
        }
    }
}

async fn scrape(
    http: &reqwest::Client,
    services: &[(String, String)],
) -> anyhow::Result<Vec<Observation>> {
    let scrapes = services.iter().map(|(name, url)| async move {
        let series = prom::scrape(http, url, Duration::from_secs(2)).await?;
        Some(Observation::from_series(name, unix_now(), &series))
    });
    let observations: Vec<Observation> = futures::future::join_all(scrapes)
        .await
        .into_iter()
        .flatten()
        .collect();
    if observations.is_empty() {
        let urls: Vec<&str> = services.iter().map(|(_, u)| u.as_str()).collect();
        bail!("no service answered at {}/metrics", urls.join(", "));
    }
    Ok(observations)
}

#[derive(Deserialize)]
struct RangeResponse {
    data: RangeData,
}

#[derive(Deserialize)]
struct RangeData {
    result: Vec<RangeSeries>,
}

#[derive(Deserialize)]
struct RangeSeries {
    metric: BTreeMap<String, String>,
    values: Vec<(f64, String)>,
}

/// The series the rules read between `start` and `end`, as one observation per service (job)
/// per step.
async fn query_range(
    http: &reqwest::Client,
    url: &str,
    start: f64,
    end: f64,
) -> anyhow::Result<Vec<Observation>> {
    if end - start < STEP_S / 2.0 {
        return Ok(Vec::new());
    }
    let query = format!("{{__name__=~\"{NAMES}\",job!=\"\"}}");
    let response: RangeResponse = http
        .get(format!("{}/api/v1/query_range", url.trim_end_matches('/')))
        .query(&[
            ("query", query),
            ("start", format!("{start:.3}")),
            ("end", format!("{end:.3}")),
            ("step", format!("{STEP_S}")),
        ])
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .with_context(|| format!("querying the Prometheus at {url}"))?
        .json()
        .await
        .context("reading Prometheus's answer")?;
    // (job, timestamp in ms) → the series at that moment.
    let mut moments: BTreeMap<(String, i64), Vec<Series>> = BTreeMap::new();
    for series in response.data.result {
        let mut labels = series.metric;
        let name = labels.remove("__name__").unwrap_or_default();
        let Some(job) = labels.remove("job") else {
            continue;
        };
        labels.remove("instance");
        for (t, value) in series.values {
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            moments
                .entry((job.clone(), (t * 1000.0).round() as i64))
                .or_default()
                .push(Series {
                    name: name.clone(),
                    labels: labels.clone(),
                    value,
                });
        }
    }
    Ok(moments
        .into_iter()
        .map(|((job, ms), series)| Observation::from_series(&job, ms as f64 / 1000.0, &series))
        .collect())
}
