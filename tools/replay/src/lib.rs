//! The incident replay, per leak scenario: warm-up → leaky storm → recovery → fixed storm →
//! recovery, with the scenario's mode switched through its host's admin API (no restart). A
//! sampler scrapes every service's `/metrics` each second; k6 records every request; the trace
//! API says which spans outlived their request. The result is `report.json`, `report.md` and SVG
//! charts in `reports/<run>/` (one folder of charts per scenario when several run).
//!
//! Module map: [`scenario`] says what differs per scenario (load, signal, verdict rules);
//! [`phases`] runs one scenario's phases (k6, from the fleet crate, drives the load); [`sampler`]
//! scrapes metrics and prints progress; [`report`] holds the figures and the verdict; [`stats`]
//! the arithmetic; [`markdown`], [`scenarios_md`] and [`charts`] the outputs ([`outputs`] writes
//! them); [`root_cause`] watches `/debug/tasks` during each storm for the spawn site that holds
//! the leaked tasks; [`assemble`] turns the runs into the report; [`profile`] the quick and
//! full profiles; [`command`] is `leakstorm replay`.

pub mod assemble;
pub mod charts;
pub mod command;
pub mod format;
pub mod markdown;
pub mod outputs;
pub mod phases;
pub mod profile;
pub mod report;
pub mod root_cause;
pub mod root_cause_md;
pub mod sampler;
pub mod scenario;
pub mod scenarios_md;
pub mod stats;

use contract::admin::ScenarioClient;
use std::{
    path::PathBuf,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::Context as _;
use contract::scenario::Scenario;
use serde::Serialize;

use fleet::{
    alerting::{FiredAlert, PrometheusClient},
    jaeger::JaegerClient,
    machine::Machine,
};
use phases::PhaseRun;
use report::{PhaseReport, Thresholds, Verdict};
use sampler::{Sampler, Scraper};
use scenario::{ScenarioSpec, SignalReport};

/// Everything a replay needs to know; the CLI fills it from a profile plus overrides.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayConfig {
    pub profile: String,
    pub target: String,
    /// The scenarios replayed, in order (each against the same fleet).
    pub scenarios: Vec<Scenario>,
    pub warmup_s: u64,
    pub warmup_rate: u32,
    pub storm_s: u64,
    pub rate: u32,
    pub deep_share: f64,
    pub deep_amount: u64,
    pub client_timeout_s: u64,
    pub leaky_recovery_s: u64,
    pub fixed_recovery_s: u64,
    /// Fleet knobs: known for the native target (the replay sets them), not for compose.
    pub gateway_timeout_ms: Option<u64>,
    pub slow_dependency_ms: Option<u64>,
    pub slow_dependency_capacity: Option<u64>,
    pub shards: Option<u64>,
    pub shard_buffer_bytes: Option<u64>,
    pub deep_budget_ms: Option<u64>,
    pub command: String,
}

/// Where the fleet is and how to drive it.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub services: Vec<(String, String)>,
    pub gateway: String,
    pub risk: String,
    pub jaeger: String,
    pub admin_token: String,
    /// A Prometheus evaluating `prometheus/alerts.yml` (the native fleet's, or compose's).
    pub prometheus: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Tools {
    pub k6: PathBuf,
    pub k6_dir: PathBuf,
    pub reports_dir: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct SlowRequest {
    pub phase: String,
    pub path: String,
    pub duration_ms: f64,
    pub trace_id: String,
    pub trace_url: String,
}

/// One scenario's replay: its phases, verdict and signal.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub scenario: Scenario,
    pub host: String,
    pub phases: Vec<PhaseReport>,
    pub verdict: Verdict,
    pub signal: SignalReport,
    /// Alerts the real Prometheus fired from the leaky storm's start until the fix went on, with
    /// seconds after the storm began (`null` where no Prometheus ran).
    pub alerts_fired: Option<Vec<FiredAlert>>,
}

/// The whole replay. `phases` and `verdict` are the first scenario's (the incident's, for
/// `detached-spawn`), as every report had them; `scenarios` has one entry per scenario, and the
/// overall verdict holds when every scenario's does.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub target: String,
    pub run_id: String,
    pub started_at: String,
    pub profile: String,
    pub wall_time_s: f64,
    pub phases: Vec<PhaseReport>,
    pub verdict: Verdict,
    pub thresholds: Thresholds,
    pub config: ReplayConfig,
    pub machine: Machine,
    pub slowest_requests: Vec<SlowRequest>,
    pub scenarios: Vec<ScenarioReport>,
}

/// Runs the replay against a fleet that is up, writes the report, and returns it.
pub async fn run(
    config: ReplayConfig,
    endpoints: Endpoints,
    tools: Tools,
    thresholds: Thresholds,
) -> anyhow::Result<(Report, PathBuf)> {
    let started_at = chrono::Utc::now();
    let run_id = format!(
        "{}-{}-{}",
        started_at.format("%Y%m%d-%H%M%S"),
        config.profile,
        config.target
    );
    let dir = tools.reports_dir.join(&run_id);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let clock = Instant::now();
    let epoch_ms_at_start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);

    let switches = ScenarioClient::new(endpoints.services.clone(), &endpoints.admin_token)?;
    let jaeger = JaegerClient::new(&endpoints.jaeger);
    let scraper = Scraper::new(endpoints.services.clone(), clock);
    let sampler = Sampler::start(scraper.clone());
    let prometheus = endpoints.prometheus.as_deref().map(PrometheusClient::new);
    let cx = phases::Context {
        config: &config,
        endpoints: &endpoints,
        tools: &tools,
        dir: &dir,
        scraper: &scraper,
        sampler: &sampler,
        switches: &switches,
        alert_tasks: thresholds.alert_tasks,
        prometheus: prometheus.as_ref(),
    };
    let mut replayed: Vec<(ScenarioSpec, Vec<PhaseRun>)> = Vec::new();
    let mut alerts: Vec<Option<Vec<FiredAlert>>> = Vec::new();
    for &scenario in &config.scenarios {
        let spec = ScenarioSpec::of(scenario, config.deep_share, config.leaky_recovery_s);
        let run = phases::run(&spec, &cx).await?;
        replayed.push((spec, run.phases));
        alerts.push(run.alerts_fired);
    }
    let samples = sampler.stop().await;
    // The last recovery ended once the leaked work had run out, so every trace is complete now;
    // the trace store keeps them all (its bounds are far above a replay's traces), and the report
    // shows found / sent per storm so that a loss could not pass unnoticed. Spans outliving their
    // request are the detached spawn's signal; the other scenarios are judged on their own.
    eprintln!("leakstorm: asking the trace API which spans outlived their request...");
    for (spec, runs) in &mut replayed {
        if spec.scenario != Scenario::DetachedSpawn {
            continue;
        }
        for run in runs.iter_mut().filter(|r| r.spec.load.is_some()) {
            run.outliving = Some(assemble::outliving_spans(&jaeger, &run.k6).await);
        }
    }

    let mut scenarios = Vec::new();
    let mut slowest = Vec::new();
    for ((spec, runs), alerts_fired) in replayed.iter().zip(alerts) {
        let phases: Vec<PhaseReport> = runs
            .iter()
            .map(|run| assemble::phase_report(run, &samples, spec, &thresholds))
            .collect();
        slowest.extend(
            runs.iter()
                .flat_map(|run| assemble::slowest_requests(run, &endpoints.jaeger)),
        );
        let mut report = assemble::scenario_report(spec, phases, &thresholds);
        report.alerts_fired = alerts_fired;
        scenarios.push(report);
    }
    let first = scenarios.first().context("no scenario was replayed")?;
    let verdict = Verdict {
        leak_reproduced: scenarios.iter().all(|s| s.verdict.leak_reproduced),
        fix_verified: scenarios.iter().all(|s| s.verdict.fix_verified),
        reasons: scenarios
            .iter()
            .flat_map(|s| s.verdict.reasons.clone())
            .collect(),
    };
    let report = Report {
        target: config.target.clone(),
        run_id,
        started_at: started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        profile: config.profile.clone(),
        wall_time_s: clock.elapsed().as_secs_f64(),
        phases: first.phases.clone(),
        verdict,
        thresholds,
        config,
        machine: Machine::read(),
        slowest_requests: slowest,
        scenarios,
    };
    outputs::write(&report, &replayed, &samples, epoch_ms_at_start, &dir)?;
    Ok((report, dir))
}
