//! `leakstorm diagnose`: which leak is it, where, and since when — from the signals alone.
//!
//! It reads what an on-call engineer has: each service's `/metrics` (or the same series from a
//! Prometheus) and, for the evidence, the trace API. Never the scenario switches. Each kind of
//! leak has one rule, an SRE's rule, and the rules are written so that one leak's signal stays
//! silent for the others (the same rules, same thresholds, are `prometheus/alerts.yml`):
//!
//! | kind | the rule |
//! |---|---|
//! | `orphaned-loop` | over 20 tasks alive at one spawn site, the oldest older than any request (15 s) *and* ten times older than the tasks of that site usually live (median lifetime of those that ended), while at most 5 % of those that ended lived past a request. Their siblings end; these lost their way out. Where none ends, or long ones end too, the old tasks are long work: detached. |
//! | `detached-spawn` | over 100 tasks alive at spawn sites whose oldest task is older than any request, that are still spawning, and whose tasks are not orphans: the work itself outlives its request. |
//! | `held-connection` | callers wait for pooled connections (over 2 in the last 30 s) while connections are held over 0.5 s (p99, last minute), on a service whose own tasks are not piling up (at most 50 alive) — where they are, the pool is their victim. |
//! | `unbounded-queue` | a channel that would need over a minute to drain at its consumer's current pace, and still grows. |
//! | `blocking-pileup` | blocking jobs waiting for a thread: every thread of the blocking pool is busy. |
//!
//! A finding is reported once it holds at two observations in a row (2 s apart), so a single
//! odd scrape names nothing. Spawn sites of long-lived infrastructure (connections, pools,
//! workers: `contract::tasks::INFRASTRUCTURE_SITES`, plus `--ignore`) are left out, as in the alerts.
//!
//! Module map: [`observation`] reads one look at a service; [`window`] the rates and quantiles
//! over recent looks; [`rules`] the five rules; [`source`] where looks come from (scrapes or a
//! Prometheus); [`watcher`] keeps looking and answering; [`render`] the text answer;
//! [`command`] is `leakstorm diagnose`. [`drill`] is `leakstorm drill`, the game day that puts
//! these rules (or a person) to the test against hidden leaks.

pub mod command;
pub mod drill;
pub mod observation;
pub mod render;
pub mod rules;
pub mod source;
pub mod watcher;
pub mod window;

use std::collections::BTreeMap;

use contract::scenario::Scenario;
use serde::{Deserialize, Serialize};

use observation::Observation;
use rules::Ignore;
use window::Window;

/// How much history is kept per service: the longest window a rule reads (two minutes).
const KEEP_S: f64 = 130.0;

/// One leak found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub scenario: Scenario,
    pub service: String,
    /// The spawn site (`file:line`) where one exists, else the resource by its name.
    pub site: Option<String>,
    /// The figures that support it, as sentences.
    pub evidence: Vec<String>,
    /// How long the signal has been there, as far as the history shows.
    pub since_s: f64,
}

impl Finding {
    fn new(scenario: Scenario, service: &str, site: Option<String>, evidence: Vec<String>) -> Self {
        Self {
            scenario,
            service: service.to_owned(),
            site,
            evidence,
            since_s: 0.0,
        }
    }

    fn key(&self) -> (Scenario, &str, Option<&str>) {
        (self.scenario, &self.service, self.site.as_deref())
    }
}

/// The answer: `leak` is whether any finding holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub leak: bool,
    pub findings: Vec<Finding>,
    /// The services whose signals were read.
    pub services: Vec<String>,
}

/// Recent observations per service.
#[derive(Debug, Clone, Default)]
pub struct History {
    by_service: BTreeMap<String, Vec<Observation>>,
}

impl History {
    pub fn push(&mut self, observation: Observation) {
        let kept = self
            .by_service
            .entry(observation.service.clone())
            .or_default();
        let newest = observation.t;
        kept.push(observation);
        kept.sort_by(|a, b| a.t.total_cmp(&b.t));
        kept.retain(|o| o.t >= newest - KEEP_S);
    }

    pub fn services(&self) -> Vec<String> {
        self.by_service.keys().cloned().collect()
    }
}

/// Applies the rules to every service's history.
pub fn diagnose(history: &History, ignore: &Ignore) -> Diagnosis {
    let mut findings = Vec::new();
    for observations in history.by_service.values() {
        findings.extend(persistent(observations, ignore));
    }
    findings.sort_by(|a, b| b.since_s.total_cmp(&a.since_s));
    Diagnosis {
        leak: !findings.is_empty(),
        findings,
        services: history.services(),
    }
}

/// The findings that hold at the last two observations, each with how long it has held.
fn persistent(observations: &[Observation], ignore: &Ignore) -> Vec<Finding> {
    let at = |i: usize| {
        Window::new(&observations[..=i])
            .map(|w| rules::evaluate(&w, ignore))
            .unwrap_or_default()
    };
    let n = observations.len();
    if n < 2 {
        return Vec::new();
    }
    let (now, before) = (at(n - 1), at(n - 2));
    let mut held: Vec<Finding> = now
        .into_iter()
        .filter(|f| before.iter().any(|b| b.key() == f.key()))
        .collect();
    for finding in &mut held {
        // Back through the history while the finding still held.
        let mut first = n - 2;
        while first > 0 && at(first - 1).iter().any(|f| f.key() == finding.key()) {
            first -= 1;
        }
        let seen_s = observations[n - 1].t - observations[first].t;
        finding.since_s =
            (seen_s.max(onset_hint(&observations[n - 1], finding)) * 10.0).round() / 10.0;
    }
    held
}

/// For a task leak, the signal is there since the oldest task crossed the request limit, even
/// where the history is shorter than that.
fn onset_hint(now: &Observation, finding: &Finding) -> f64 {
    match finding.scenario {
        Scenario::OrphanedLoop | Scenario::DetachedSpawn => finding
            .site
            .as_ref()
            .and_then(|site| now.sites.get(site))
            .map_or(0.0, |s| (s.oldest_s - rules::REQUEST_LIMIT_S).max(0.0)),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests;
