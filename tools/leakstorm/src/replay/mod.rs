//! The incident replay: warm-up → leaky storm → recovery → fixed storm → recovery, with the mode
//! switched through risk's admin API (no restart). A sampler scrapes every service's `/metrics`
//! each second; k6 records every request; the trace API says which spans outlived their request.
//! The result is `report.json`, `report.md` and SVG charts in `reports/<run>/`.
//!
//! Module map: [`k6`] runs the load and reads its CSV; [`sampler`] scrapes metrics and prints
//! progress; [`report`] holds the figures and the verdict; [`stats`] the arithmetic;
//! [`markdown`] and [`charts`] the outputs; [`root_cause`] watches `/debug/tasks` during each
//! storm for the spawn site that holds the leaked tasks.

pub mod charts;
pub mod k6;
pub mod markdown;
pub mod report;
pub mod root_cause;
pub mod root_cause_md;
pub mod sampler;
pub mod stats;

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::Context as _;
use futures::{StreamExt as _, stream};
use kit::deadline::Deadline;
use risk::{client::RiskClient, types::Mode};
use serde::Serialize;

use crate::jaeger::JaegerClient;
use k6::{K6Results, K6Run};
use report::{PhaseReport, Thresholds, Verdict, detected_after, latency, moments};
use sampler::{Sample, Sampler, Scraper};

/// Everything a replay needs to know; the CLI fills it from a profile plus overrides.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayConfig {
    pub profile: String,
    pub target: String,
    pub target_service: String,
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
}

#[derive(Debug, Clone)]
pub struct Tools {
    pub k6: PathBuf,
    pub k6_dir: PathBuf,
    pub reports_dir: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub memory_bytes: u64,
    pub kernel: String,
    pub build: &'static str,
}

impl Machine {
    pub fn read() -> Self {
        let memory_kib: u64 = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
            })
            .unwrap_or(0);
        Self {
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            memory_bytes: memory_kib * 1024,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
            build: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SlowRequest {
    pub phase: String,
    pub path: String,
    pub duration_ms: f64,
    pub trace_id: String,
    pub trace_url: String,
}

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
}

struct PhaseSpec {
    name: &'static str,
    mode: Mode,
    /// `(rate, deep share)`; `None` for a recovery phase without load.
    load: Option<(u32, f64)>,
    length: Duration,
}

struct PhaseRun {
    spec: PhaseSpec,
    start_s: f64,
    load_end_s: f64,
    end_s: f64,
    k6: K6Results,
    /// Spans that outlived their request, and traces found (counted after the last recovery).
    outliving: Option<(u64, u64)>,
    /// Storms only: when and which spawn site was named as holding the alive tasks.
    root_cause: Option<root_cause::RootCause>,
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

    let risk = RiskClient::new(&endpoints.risk)?;
    let jaeger = JaegerClient::new(&endpoints.jaeger);
    let scraper = Scraper::new(endpoints.services.clone(), clock);
    let sampler = Sampler::start(scraper.clone(), "risk");

    let specs = [
        PhaseSpec {
            name: "warmup",
            mode: Mode::Leaky,
            load: Some((config.warmup_rate, 0.0)),
            length: Duration::from_secs(config.warmup_s),
        },
        PhaseSpec {
            name: "leaky_storm",
            mode: Mode::Leaky,
            load: Some((config.rate, config.deep_share)),
            length: Duration::from_secs(config.storm_s),
        },
        PhaseSpec {
            name: "leaky_recovery",
            mode: Mode::Leaky,
            load: None,
            length: Duration::from_secs(config.leaky_recovery_s),
        },
        PhaseSpec {
            name: "fixed_storm",
            mode: Mode::Fixed,
            load: Some((config.rate, config.deep_share)),
            length: Duration::from_secs(config.storm_s),
        },
        PhaseSpec {
            name: "fixed_recovery",
            mode: Mode::Fixed,
            load: None,
            length: Duration::from_secs(config.fixed_recovery_s),
        },
    ];
    let mut runs = Vec::new();
    let mut current_mode = None;
    for spec in specs {
        if current_mode != Some(spec.mode) {
            let switched = risk
                .set_mode(
                    spec.mode,
                    &endpoints.admin_token,
                    Deadline::after(Duration::from_secs(5)),
                )
                .await
                .context("switching risk's mode through its admin API")?;
            eprintln!("leakstorm: risk mode is now {}", switched.as_str());
            current_mode = Some(spec.mode);
        }
        match spec.load {
            Some((rate, share)) => eprintln!(
                "▶ {} ({} mode): {} s at {rate} req/s, {:.0} % needing deep scoring",
                spec.name,
                spec.mode.as_str(),
                spec.length.as_secs(),
                share * 100.0
            ),
            None => eprintln!(
                "▶ {} ({} mode): {} s without load",
                spec.name,
                spec.mode.as_str(),
                spec.length.as_secs()
            ),
        }
        sampler.set_phase(spec.name, spec.length);
        sampler.record(scraper.scrape_all().await);
        let start_s = scraper.elapsed();
        let watch = (spec.load.is_some() && spec.name.ends_with("storm")).then(|| {
            root_cause::RootCauseWatch::start(
                endpoints.risk.clone(),
                endpoints.admin_token.clone(),
                thresholds.alert_tasks,
            )
        });
        let (load_end_s, k6) = match spec.load {
            Some((rate, share)) => {
                let k6 = storm_run(&config, &endpoints, &tools, &dir, &spec, (rate, share));
                k6.run().await?;
                let load_end = scraper.elapsed();
                // "end": two seconds after the last client request finished.
                tokio::time::sleep(Duration::from_secs(2)).await;
                (load_end, k6.results()?)
            }
            None => {
                let baseline = runs
                    .first()
                    .map(|warmup: &PhaseRun| warmup.end_s)
                    .and_then(|t| sampler.value_at(&config.target_service, t, |s| s.alive_tasks));
                recover(&scraper, &config.target_service, baseline, spec.length).await;
                (start_s, K6Results::default())
            }
        };
        let root_cause = match watch {
            Some(watch) => Some(watch.finish().await),
            None => None,
        };
        sampler.record(scraper.scrape_all().await);
        let end_s = scraper.elapsed();
        runs.push(PhaseRun {
            spec,
            start_s,
            load_end_s,
            end_s,
            k6,
            outliving: None,
            root_cause,
        });
    }
    let samples = sampler.stop().await;
    // The last recovery ended once the leaked work had run out, so every trace is complete now;
    // the trace store keeps them all (its bounds are far above a replay's traces), and the report
    // shows found / sent per storm so that a loss could not pass unnoticed.
    eprintln!("leakstorm: asking the trace API which spans outlived their request...");
    for run in runs.iter_mut().filter(|r| r.spec.load.is_some()) {
        run.outliving = Some(outliving_spans(&jaeger, &run.k6).await);
    }

    let mut phases = Vec::new();
    let mut slowest = Vec::new();
    for run in &runs {
        let (outliving, checked) = run.outliving.unwrap_or_default();
        phases.push(phase_report(
            run,
            &samples,
            &config.target_service,
            outliving,
            checked,
            &thresholds,
        ));
        slowest.extend(slowest_requests(run, &endpoints.jaeger));
    }
    let find = |name: &str| phases.iter().find(|p| p.name == name).cloned();
    let verdict = match (find("leaky_storm"), find("fixed_storm")) {
        (Some(leaky), Some(fixed)) => report::verdict(&leaky, &fixed, &thresholds),
        _ => Verdict {
            leak_reproduced: false,
            fix_verified: false,
            reasons: vec!["the replay did not run both storms".into()],
        },
    };
    let report = Report {
        target: config.target.clone(),
        run_id,
        started_at: started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        profile: config.profile.clone(),
        wall_time_s: clock.elapsed().as_secs_f64(),
        phases,
        verdict,
        thresholds,
        config,
        machine: Machine::read(),
        slowest_requests: slowest,
    };
    write_outputs(&report, &runs, &samples, epoch_ms_at_start, &dir)?;
    Ok((report, dir))
}

/// The k6 storm for one phase: `load` is its (rate, deep share).
fn storm_run(
    config: &ReplayConfig,
    endpoints: &Endpoints,
    tools: &Tools,
    dir: &Path,
    phase: &PhaseSpec,
    (rate, deep_share): (u32, f64),
) -> K6Run {
    let (name, length) = (phase.name, phase.length);
    K6Run {
        binary: tools.k6.clone(),
        script: tools.k6_dir.join("storm.js"),
        env: vec![
            ("BASE_URL".into(), endpoints.gateway.clone()),
            ("RATE".into(), rate.to_string()),
            ("DURATION".into(), format!("{}s", length.as_secs())),
            ("DEEP_SHARE".into(), deep_share.to_string()),
            ("DEEP_AMOUNT".into(), config.deep_amount.to_string()),
            (
                "CLIENT_TIMEOUT".into(),
                format!("{}s", config.client_timeout_s),
            ),
        ],
        csv: dir.join(format!("k6-{name}.csv")),
        summary: dir.join(format!("k6-{name}-summary.json")),
        log: dir.join(format!("k6-{name}.log")),
    }
}

/// Waits until the target's alive tasks are back at the warm-up baseline (the leaked work has
/// run out), for at least 10 s and at most `longest`.
async fn recover(scraper: &Scraper, target: &str, baseline: Option<f64>, longest: Duration) {
    let started = Instant::now();
    let shortest = Duration::from_secs(10).min(longest);
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let elapsed = started.elapsed();
        if elapsed >= longest {
            return;
        }
        if elapsed < shortest {
            continue;
        }
        let drained = scraper
            .scrape_all()
            .await
            .iter()
            .find(|s| s.service == target)
            .zip(baseline)
            .is_some_and(|(s, baseline)| s.alive_tasks <= baseline + 2.0);
        if drained {
            return;
        }
    }
}

/// Fetches every traced request's trace and counts the spans that ended after its root span.
async fn outliving_spans(jaeger: &JaegerClient, k6: &K6Results) -> (u64, u64) {
    let counts: Vec<anyhow::Result<Option<u64>>> = stream::iter(k6.traced.iter())
        .map(|traced| async move {
            let trace = jaeger.trace(&traced.trace_id).await?;
            Ok(trace.map(|t| t.outliving_spans().len() as u64))
        })
        .buffer_unordered(16)
        .collect()
        .await;
    if let Some(Err(e)) = counts.iter().find(|c| c.is_err()) {
        let failed = counts.iter().filter(|c| c.is_err()).count();
        eprintln!(
            "leakstorm: {failed} of {} traces could not be read: {e:#}",
            counts.len()
        );
    }
    let found: Vec<u64> = counts
        .into_iter()
        .filter_map(|c| c.ok().flatten())
        .collect();
    (found.iter().sum(), found.len() as u64)
}

fn phase_report(
    run: &PhaseRun,
    samples: &[Sample],
    target: &str,
    outliving: u64,
    checked: u64,
    thresholds: &Thresholds,
) -> PhaseReport {
    let l = latency(&run.k6.requests);
    let (start, end) = (run.start_s, run.end_s);
    PhaseReport {
        name: run.spec.name.to_owned(),
        mode: run.spec.mode.as_str().to_owned(),
        requests: l.requests,
        failed: l.failed,
        p50_ms: l.p50,
        p95_ms: l.p95,
        p99_ms: l.p99,
        fast_path_p99_ms: l.fast_p99,
        tasks_alive: moments(samples, target, start, end, |s| s.alive_tasks),
        heap_bytes: moments(samples, target, start, end, |s| s.heap_bytes),
        rss_bytes: moments(samples, target, start, end, |s| s.rss_bytes),
        outliving_spans: outliving,
        // The alert only means something while load arrives (a recovery starts above it).
        detected_after_s: run
            .spec
            .load
            .and_then(|_| detected_after(samples, target, start, end, thresholds.alert_tasks)),
        deep_requests: l.deep,
        dropped_iterations: run.k6.dropped_iterations,
        traces_checked: checked,
        traces_sent: run.k6.traced.len() as u64,
        root_cause: run.root_cause.clone(),
        start_s: start,
        load_end_s: run.load_end_s,
        end_s: end,
    }
}

fn slowest_requests(run: &PhaseRun, jaeger: &str) -> Vec<SlowRequest> {
    let mut traced = run.k6.traced.clone();
    traced.sort_by(|a, b| b.duration_ms.total_cmp(&a.duration_ms));
    traced
        .into_iter()
        .filter(|_| run.spec.name.contains("storm"))
        .take(3)
        .map(|t| SlowRequest {
            phase: run.spec.name.to_owned(),
            path: t.path,
            duration_ms: t.duration_ms,
            trace_url: format!("{}/trace/{}", jaeger.trim_end_matches('/'), t.trace_id),
            trace_id: t.trace_id,
        })
        .collect()
}

fn write_outputs(
    report: &Report,
    runs: &[PhaseRun],
    samples: &[Sample],
    epoch_ms_at_start: u64,
    dir: &Path,
) -> anyhow::Result<()> {
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(report)?,
    )
    .context("writing report.json")?;
    std::fs::write(dir.join("report.md"), markdown::render(report)).context("writing report.md")?;
    let samples_csv: String =
        std::iter::once("t_s,service,alive_tasks,heap_bytes,rss_bytes,db_used\n".to_owned())
            .chain(samples.iter().map(|s| {
                format!(
                    "{:.3},{},{},{},{},{}\n",
                    s.t, s.service, s.alive_tasks, s.heap_bytes, s.rss_bytes, s.db_used
                )
            }))
            .collect();
    std::fs::write(dir.join("samples.csv"), samples_csv).context("writing samples.csv")?;

    let bands: Vec<charts::Band<'_>> = report
        .phases
        .iter()
        .map(|p| charts::Band {
            name: &p.name,
            start: p.start_s,
            end: p.end_s,
            leaky: p.mode == "leaky",
        })
        .collect();
    let target = &report.config.target_service;
    let series = |value: fn(&Sample) -> f64| -> Vec<(f64, f64)> {
        samples
            .iter()
            .filter(|s| &s.service == target)
            .map(|s| (s.t, value(s)))
            .collect()
    };
    let heap = series(|s| s.heap_bytes / 1_048_576.0);
    let tasks = series(|s| s.alive_tasks);
    let latencies: Vec<(f64, f64)> = runs
        .iter()
        .flat_map(|r| r.k6.requests.iter())
        .map(|r| {
            (
                (r.at_ms.saturating_sub(epoch_ms_at_start)) as f64 / 1000.0,
                r.duration_ms,
            )
        })
        .collect();
    let p99 = stats::rolling_p99(&latencies, 5.0);
    for (file, title, y_label, points) in [
        (
            "heap.svg",
            format!("{target}: live heap (jemalloc allocated)"),
            "MiB",
            &heap,
        ),
        (
            "tasks.svg",
            format!("{target}: tokio tasks alive (runtime_alive_tasks)"),
            "tasks",
            &tasks,
        ),
        (
            "p99.svg",
            "p99 latency of payments at the gateway (5 s window)".to_owned(),
            "ms",
            &p99,
        ),
    ] {
        charts::render(
            &charts::Chart {
                title: &title,
                y_label,
                points,
                bands: &bands,
            },
            &dir.join(file),
        )?;
    }
    Ok(())
}
