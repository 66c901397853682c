//! What `leakstorm top` knows about each service: the latest scrape of its `/metrics` and
//! `/debug/tasks`, the figures derived from the last few scrapes (request rate, latency
//! quantiles, error rate: differences of Prometheus counters and histogram buckets), and a few
//! minutes of history for the sparklines.

use std::{collections::VecDeque, time::Instant};

use taskleak::report::TasksReport;

use contract::prom_text::{self as prom, Series};

/// History kept per figure (one point a second: five minutes).
pub const HISTORY: usize = 300;
/// Rates and quantiles are over this many seconds of scrapes.
const WINDOW: usize = 10;
/// The routes the latency figures leave out (probes and scrapes, not traffic).
const NOT_TRAFFIC: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// One scrape of a service's request counters: (total, 5xx) and the latency histogram's
/// cumulative buckets (upper bound in seconds, count).
#[derive(Debug, Clone, Default)]
struct Counters {
    at: Option<Instant>,
    requests: f64,
    errors: f64,
    buckets: Vec<(f64, f64)>,
}

/// The figures of one service, as shown.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub heap_bytes: f64,
    pub rss_bytes: f64,
    pub alive_tasks: f64,
    pub requests_per_s: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub error_rate: Option<f64>,
    pub db_used: f64,
    pub db_max: f64,
    pub db_waiting: f64,
    pub risk_mode: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct ServiceState {
    pub name: String,
    pub url: String,
    /// `Err` with the reason when the last scrape failed (the service is unreachable).
    pub figures: Result<Figures, String>,
    pub tasks: Option<TasksReport>,
    counters: VecDeque<Counters>,
    pub heap_history: VecDeque<u64>,
    pub tasks_history: VecDeque<u64>,
    pub p99_history: VecDeque<u64>,
    pub rate_history: VecDeque<u64>,
}

impl ServiceState {
    pub fn new(name: &str, url: &str) -> Self {
        Self {
            name: name.to_owned(),
            url: url.to_owned(),
            figures: Err("not scraped yet".into()),
            tasks: None,
            counters: VecDeque::new(),
            heap_history: VecDeque::new(),
            tasks_history: VecDeque::new(),
            p99_history: VecDeque::new(),
            rate_history: VecDeque::new(),
        }
    }

    /// Takes one scrape (`/metrics` text, or why it failed) and the `/debug/tasks` answer.
    pub fn update(&mut self, metrics: Result<String, String>, tasks: Option<TasksReport>) {
        self.tasks = tasks;
        let text = match metrics {
            Ok(text) => text,
            Err(why) => {
                self.figures = Err(why);
                return;
            }
        };
        let series = prom::parse(&text);
        let get = |name: &str| prom::sum(&series, name, |_| true).unwrap_or(0.0);
        self.counters.push_back(counters(&series));
        while self.counters.len() > WINDOW + 1 {
            self.counters.pop_front();
        }
        let mut figures = Figures {
            heap_bytes: get("process_heap_allocated_bytes"),
            rss_bytes: get("process_resident_memory_bytes"),
            alive_tasks: get("runtime_alive_tasks"),
            db_used: prom::sum(&series, "db_client_connections", |l| {
                l.get("state").map(String::as_str) == Some("used")
            })
            .unwrap_or(0.0),
            db_max: get("db_client_connection_max"),
            db_waiting: get("db_client_connection_pending_requests"),
            risk_mode: prom::sum(&series, "risk_mode", |l| {
                l.get("mode").map(String::as_str) == Some("fixed")
            })
            .map(|fixed| if fixed > 0.0 { "fixed" } else { "leaky" }),
            ..Figures::default()
        };
        if let (Some(first), Some(last)) = (self.counters.front(), self.counters.back())
            && let (Some(t0), Some(t1)) = (first.at, last.at)
        {
            let seconds = t1.duration_since(t0).as_secs_f64();
            let requests = last.requests - first.requests;
            if seconds > 0.5 {
                figures.requests_per_s = Some(requests.max(0.0) / seconds);
                figures.error_rate =
                    (requests > 0.0).then(|| (last.errors - first.errors).max(0.0) / requests);
                figures.p50_ms = quantile(&first.buckets, &last.buckets, 0.5);
                figures.p99_ms = quantile(&first.buckets, &last.buckets, 0.99);
            }
        }
        push(
            &mut self.heap_history,
            (figures.heap_bytes / 1_048_576.0) as u64,
        );
        push(&mut self.tasks_history, figures.alive_tasks as u64);
        push(&mut self.p99_history, figures.p99_ms.unwrap_or(0.0) as u64);
        push(
            &mut self.rate_history,
            figures.requests_per_s.unwrap_or(0.0).round() as u64,
        );
        self.figures = Ok(figures);
    }
}

fn push(history: &mut VecDeque<u64>, value: u64) {
    history.push_back(value);
    while history.len() > HISTORY {
        history.pop_front();
    }
}

fn counters(series: &[Series]) -> Counters {
    let traffic = |s: &Series| {
        s.labels
            .get("http_route")
            .is_some_and(|r| !NOT_TRAFFIC.contains(&r.as_str()))
    };
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    for s in series
        .iter()
        .filter(|s| s.name == "http_server_request_duration_seconds_bucket")
    {
        if !traffic(s) {
            continue;
        }
        let Some(le) = s.labels.get("le").and_then(|le| le.parse::<f64>().ok()) else {
            continue;
        };
        match buckets.iter_mut().find(|(bound, _)| *bound == le) {
            Some((_, count)) => *count += s.value,
            None => buckets.push((le, s.value)),
        }
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let count = |errors_only: bool| -> f64 {
        series
            .iter()
            .filter(|s| s.name == "http_server_request_duration_seconds_count" && traffic(s))
            .filter(|s| {
                !errors_only
                    || s.labels
                        .get("http_response_status_code")
                        .is_some_and(|c| c.starts_with('5'))
            })
            .map(|s| s.value)
            .sum()
    };
    Counters {
        at: Some(Instant::now()),
        requests: count(false),
        errors: count(true),
        buckets,
    }
}

/// The `q` quantile of the requests between two scrapes of cumulative buckets, in ms (the upper
/// bound of the bucket it falls in, as Prometheus's histogram_quantile would, without
/// interpolation); `None` without requests.
fn quantile(before: &[(f64, f64)], after: &[(f64, f64)], q: f64) -> Option<f64> {
    let deltas: Vec<(f64, f64)> = after
        .iter()
        .map(|(le, n)| {
            let old = before
                .iter()
                .find(|(b, _)| b == le)
                .map_or(0.0, |(_, n)| *n);
            (*le, (n - old).max(0.0))
        })
        .collect();
    let total = deltas.last().map(|(_, n)| *n)?;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    deltas.iter().find(|(_, n)| *n >= rank).map(|(le, _)| {
        if le.is_finite() {
            le * 1000.0
        } else {
            f64::INFINITY
        }
    })
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_come_from_the_buckets_added_between_two_scrapes() {
        let before = [
            (0.01, 100.0),
            (0.1, 100.0),
            (10.0, 100.0),
            (f64::INFINITY, 100.0),
        ];
        let after = [
            (0.01, 190.0),
            (0.1, 198.0),
            (10.0, 200.0),
            (f64::INFINITY, 200.0),
        ];
        assert_eq!(quantile(&before, &after, 0.5), Some(10.0));
        assert_eq!(quantile(&before, &after, 0.99), Some(10_000.0));
        assert_eq!(
            quantile(&after, &after, 0.5),
            None,
            "no requests in between"
        );
    }
}
