//! One service's recent observations, and the rates, maxima and quantiles over them that the
//! rules read — each over the same window as its PromQL twin in `prometheus/alerts.yml`.

use super::observation::{Histogram, Observation};

/// The observations of one service up to a moment, oldest first (never empty).
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    observations: &'a [Observation],
}

impl<'a> Window<'a> {
    pub fn new(observations: &'a [Observation]) -> Option<Self> {
        (!observations.is_empty()).then_some(Self { observations })
    }

    pub fn now(&self) -> &'a Observation {
        &self.observations[self.observations.len() - 1]
    }

    /// How much history the window holds, in seconds.
    pub fn span_s(&self) -> f64 {
        self.now().t - self.observations[0].t
    }

    /// The oldest observation no more than `secs` before now.
    fn back(&self, secs: f64) -> &'a Observation {
        let since = self.now().t - secs;
        self.observations
            .iter()
            .find(|o| o.t >= since - 0.001)
            .unwrap_or(self.now())
    }

    /// The observations of the last `secs` seconds.
    fn last(&self, secs: f64) -> impl Iterator<Item = &'a Observation> {
        let since = self.now().t - secs;
        self.observations
            .iter()
            .filter(move |o| o.t >= since - 0.001)
    }

    /// Per-second increase of a counter over the last `secs` (`rate`), if two observations span
    /// some time.
    fn rate(&self, secs: f64, counter: impl Fn(&Observation) -> Option<f64>) -> Option<f64> {
        let (then, now) = (self.back(secs), self.now());
        let dt = now.t - then.t;
        if dt <= 0.0 {
            return None;
        }
        let (a, b) = (counter(then)?, counter(now)?);
        Some(if b >= a { (b - a) / dt } else { b / dt })
    }

    /// Tasks spawned per second at `site` over the last minute.
    pub fn spawn_rate(&self, site: &str) -> Option<f64> {
        self.rate(60.0, |o| o.sites.get(site).map(|s| s.spawned))
    }

    /// How long the ended tasks of `site` lived: over the last two minutes once the window
    /// holds a minute, else since the service started.
    pub fn lifetimes(&self, site: &str) -> Histogram {
        let now = self.now().sites.get(site).map(|s| &s.lifetimes);
        let Some(now) = now else {
            return Histogram::default();
        };
        if self.span_s() < 60.0 {
            return now.clone();
        }
        match self.back(120.0).sites.get(site) {
            Some(then) => now.since(&then.lifetimes),
            None => now.clone(),
        }
    }

    /// The most callers waiting for a pooled connection over the last 30 s.
    pub fn pool_pending_max(&self) -> Option<f64> {
        self.last(30.0)
            .filter_map(|o| o.pool_pending)
            .reduce(f64::max)
    }

    /// The 99th percentile of how long pooled connections were held, over the last minute.
    pub fn pool_hold_p99(&self) -> Option<f64> {
        let then = self.back(60.0);
        if then.t >= self.now().t {
            return None;
        }
        self.now().pool_use.since(&then.pool_use).quantile(0.99)
    }

    /// The consumer's pace on `channel`: messages taken off per second between the last two
    /// observations (`irate`).
    pub fn consumer_rate(&self, channel: &str) -> Option<f64> {
        let n = self.observations.len();
        if n < 2 {
            return None;
        }
        let (then, now) = (&self.observations[n - 2], self.now());
        let dt = now.t - then.t;
        let (a, b) = (
            then.channels.get(channel)?.received?,
            now.channels.get(channel)?.received?,
        );
        (dt > 0.0 && b >= a).then(|| (b - a) / dt)
    }

    /// How fast `channel`'s queue grew over the last 30 s, messages per second.
    pub fn queue_growth(&self, channel: &str) -> Option<f64> {
        let (then, now) = (self.back(30.0), self.now());
        let dt = now.t - then.t;
        let (a, b) = (
            then.channels.get(channel)?.queued,
            now.channels.get(channel)?.queued,
        );
        (dt > 0.0).then(|| (b - a) / dt)
    }
}
