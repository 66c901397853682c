//! One scenario's five phases against a running fleet: warm-up, leaky storm, leaky recovery,
//! fixed storm, fixed recovery, with the scenario's mode switched through its host's admin API
//! (no restart), k6 driving the load, and the root-cause watch running beside each storm.

use contract::admin::ScenarioClient;
use std::{
    path::Path,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use contract::scenario::{Mode, Scenario};

use super::{
    Endpoints, ReplayConfig, Tools,
    root_cause::{self, RootCause},
    sampler::{Sample, Sampler, Scraper},
    scenario::ScenarioSpec,
};
use fleet::{
    alerting::{AlertWatch, FiredAlert, PrometheusClient},
    k6::{K6Results, K6Run},
};

pub struct PhaseSpec {
    pub name: &'static str,
    pub mode: Mode,
    /// `(rate, deep share)`; `None` for a recovery phase without load.
    pub load: Option<(u32, f64)>,
    pub length: Duration,
}

pub struct PhaseRun {
    pub spec: PhaseSpec,
    pub start_s: f64,
    pub load_end_s: f64,
    pub end_s: f64,
    pub k6: K6Results,
    /// Spans that outlived their request, and traces found (counted after the last recovery).
    pub outliving: Option<(u64, u64)>,
    /// Storms only: when and which spawn site was named as holding the alive tasks.
    pub root_cause: Option<RootCause>,
}

/// What the phases of one scenario need from the replay.
pub struct Context<'a> {
    pub config: &'a ReplayConfig,
    pub endpoints: &'a Endpoints,
    pub tools: &'a Tools,
    pub dir: &'a Path,
    pub scraper: &'a Scraper,
    pub sampler: &'a Sampler,
    pub switches: &'a ScenarioClient,
    pub alert_tasks: u64,
    /// The fleet's Prometheus, whose alerts are recorded from the leaky storm's start to the
    /// switch to the fixed mode.
    pub prometheus: Option<&'a PrometheusClient>,
}

/// One scenario's phases, and the alerts that fired during its leaky storm and recovery
/// (`None` without a Prometheus).
pub struct ScenarioRun {
    pub phases: Vec<PhaseRun>,
    pub alerts_fired: Option<Vec<FiredAlert>>,
}

/// Runs `spec`'s phases; every other scenario is kept in its fixed mode meanwhile.
pub async fn run(spec: &ScenarioSpec, cx: &Context<'_>) -> anyhow::Result<ScenarioRun> {
    for other in Scenario::ALL.into_iter().filter(|s| *s != spec.scenario) {
        cx.switches.set(other, Mode::Fixed).await?;
    }
    let config = cx.config;
    let storm = Some((config.rate, spec.deep_share));
    let phases = [
        (
            "warmup",
            Mode::Leaky,
            Some((config.warmup_rate, 0.0)),
            config.warmup_s,
        ),
        ("leaky_storm", Mode::Leaky, storm, config.storm_s),
        ("leaky_recovery", Mode::Leaky, None, spec.leaky_recovery_s),
        ("fixed_storm", Mode::Fixed, storm, config.storm_s),
        ("fixed_recovery", Mode::Fixed, None, config.fixed_recovery_s),
    ];
    let host_url = cx
        .endpoints
        .services
        .iter()
        .find(|(name, _)| name == spec.host())
        .map(|(_, url)| url.clone())
        .unwrap_or_default();
    let mut runs: Vec<PhaseRun> = Vec::new();
    let mut current = None;
    let mut alerts = None;
    let mut alerts_fired = None;
    for (name, mode, load, length) in phases {
        if current == Some(Mode::Leaky)
            && mode == Mode::Fixed
            && let Some(watch) = alerts.take()
        {
            alerts_fired = Some(AlertWatch::stop(watch).await);
        }
        let phase = PhaseSpec {
            name,
            mode,
            load,
            length: Duration::from_secs(length),
        };
        if current != Some(mode) {
            let switched = cx
                .switches
                .set(spec.scenario, mode)
                .await
                .with_context(|| format!("switching {} through its admin API", spec.scenario))?;
            eprintln!("leakstorm: {} is now {}", spec.scenario, switched.as_str());
            current = Some(mode);
        }
        announce(spec, &phase);
        cx.sampler.set_phase(name, phase.length, spec.host());
        cx.sampler.record(cx.scraper.scrape_all().await);
        let start_s = cx.scraper.elapsed();
        if name == "leaky_storm"
            && let Some(prometheus) = cx.prometheus
        {
            alerts = Some(AlertWatch::start(prometheus.clone(), Instant::now()).await);
        }
        let watch = (load.is_some() && name.ends_with("storm")).then(|| {
            root_cause::RootCauseWatch::start(
                host_url.clone(),
                cx.endpoints.admin_token.clone(),
                cx.alert_tasks,
            )
        });
        let (load_end_s, k6) = match load {
            Some(load) => {
                let k6 = storm_run(spec, cx, &phase, load);
                k6.run().await?;
                let load_end = cx.scraper.elapsed();
                // "end": two seconds after the last client request finished.
                tokio::time::sleep(Duration::from_secs(2)).await;
                (load_end, k6.results()?)
            }
            None => {
                let warmup_end = runs.first().map(|w| w.end_s);
                let baseline = warmup_end.and_then(|t| cx.sampler.sample_at(spec.host(), t));
                recover(spec, cx.scraper, baseline, phase.length).await;
                (start_s, K6Results::default())
            }
        };
        let root_cause = match watch {
            Some(watch) => Some(watch.finish().await),
            None => None,
        };
        cx.sampler.record(cx.scraper.scrape_all().await);
        runs.push(PhaseRun {
            spec: phase,
            start_s,
            load_end_s,
            end_s: cx.scraper.elapsed(),
            k6,
            outliving: None,
            root_cause,
        });
    }
    Ok(ScenarioRun {
        phases: runs,
        alerts_fired,
    })
}

fn announce(spec: &ScenarioSpec, phase: &PhaseSpec) {
    let what = format!(
        "▶ {} {} ({} mode)",
        spec.scenario,
        phase.name,
        phase.mode.as_str()
    );
    match phase.load {
        Some((rate, share)) => eprintln!(
            "{what}: {} s at {rate} req/s, {:.0} % needing deep scoring, {:.0} % screened",
            phase.length.as_secs(),
            share * 100.0,
            spec.large_share * 100.0
        ),
        None => eprintln!("{what}: up to {} s without load", phase.length.as_secs()),
    }
}

/// The k6 storm for one phase: `load` is its (rate, deep share).
fn storm_run(spec: &ScenarioSpec, cx: &Context<'_>, phase: &PhaseSpec, load: (u32, f64)) -> K6Run {
    let (rate, deep_share) = load;
    let file = |kind: &str| {
        cx.dir
            .join(format!("k6-{}-{}.{kind}", spec.scenario, phase.name))
    };
    K6Run {
        binary: cx.tools.k6.clone(),
        script: cx.tools.k6_dir.join("storm.js"),
        env: vec![
            ("BASE_URL".into(), cx.endpoints.gateway.clone()),
            ("RATE".into(), rate.to_string()),
            ("DURATION".into(), format!("{}s", phase.length.as_secs())),
            ("DEEP_SHARE".into(), deep_share.to_string()),
            ("LARGE_SHARE".into(), spec.large_share.to_string()),
            ("DEEP_AMOUNT".into(), cx.config.deep_amount.to_string()),
            (
                "CLIENT_TIMEOUT".into(),
                format!("{}s", cx.config.client_timeout_s),
            ),
        ],
        csv: file("csv"),
        summary: cx
            .dir
            .join(format!("k6-{}-{}-summary.json", spec.scenario, phase.name)),
        log: file("log"),
    }
}

/// Waits until the scenario's leaked work has run out (its signal back at the warm-up level,
/// see [`ScenarioSpec::drained`]), for at least 10 s and at most `longest`.
async fn recover(
    spec: &ScenarioSpec,
    scraper: &Scraper,
    baseline: Option<Sample>,
    longest: Duration,
) {
    let started = Instant::now();
    let shortest = Duration::from_secs(10).min(longest);
    let mut previous: Option<Sample> = None;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let elapsed = started.elapsed();
        if elapsed >= longest {
            return;
        }
        let now = scraper
            .scrape_all()
            .await
            .into_iter()
            .find(|s| s.service == spec.host());
        let drained = match (&now, &baseline) {
            (Some(now), Some(baseline)) => spec.drained(now, baseline, previous.as_ref()),
            _ => false,
        };
        if elapsed >= shortest && drained {
            return;
        }
        previous = now;
    }
}
