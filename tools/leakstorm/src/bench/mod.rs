//! `leakstorm bench`: the cost of looking. Drives fast-path payments through the native fleet
//! once per telemetry configuration — off, traces, traces + task accounting (as a layer, as it
//! was, and in front of the stack, as it is), traces + task accounting + tokio-console — each
//! on a fresh fleet, and measures for each: p50/p99 at a fixed
//! arrival rate, CPU milliseconds per payment per process at that rate, and payments/s at
//! saturation. Writes `bench.json` and `bench.md` to `<out>/bench-<time>/`.
//!
//! Module map: [`cpu`] reads CPU time from /proc; [`k6`] runs the load and reads its summary;
//! [`table`] renders the markdown.

pub mod command;
pub mod cpu;
pub mod k6;
pub mod table;

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use anyhow::Context as _;
use serde::Serialize;

use cpu::CpuSnapshot;
use fleet::{FleetOptions, NativeFleet, Ports, machine::Machine};
use k6::{LoadShape, LoadSummary};

/// One telemetry configuration: a name and the environment it gives every service.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    pub name: &'static str,
    pub env: &'static [(&'static str, &'static str)],
}

/// The configurations, cheapest first; the layer placement is the one accounting had before
/// it moved in front of the subscriber stack (kit::tasks::subscriber), kept to show the change.
pub const SETUPS: [Setup; 5] = [
    Setup {
        name: "telemetry off",
        env: &[
            ("OTEL_TRACES_EXPORTER", "none"),
            ("LEAKSTORM_TASK_ACCOUNTING", "off"),
        ],
    },
    Setup {
        name: "traces",
        env: &[("LEAKSTORM_TASK_ACCOUNTING", "off")],
    },
    Setup {
        name: "traces + task accounting as a layer (before)",
        env: &[("LEAKSTORM_TASK_ACCOUNTING", "layer")],
    },
    Setup {
        name: "traces + task accounting",
        env: &[],
    },
    Setup {
        name: "traces + task accounting + console",
        env: &[("TOKIO_CONSOLE", "1")],
    },
];

impl Setup {
    /// The name as a file-name part: letters, digits and `_` only. It names the setup's run
    /// directory, and pg_ctl hands paths to `/bin/sh` (a `(` in one broke the data directory).
    pub fn slug(&self) -> String {
        let mut slug = String::new();
        for c in self.name.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('_') {
                slug.push('_');
            }
        }
        slug.trim_end_matches('_').to_owned()
    }
}

#[derive(Debug, Clone)]
pub struct BenchPlan {
    /// Payments/s for the fixed-rate point.
    pub rate: u32,
    /// VUs sending back to back for the saturation point.
    pub vus: u32,
    /// Length of each measured point.
    pub seconds: u64,
    pub warmup_seconds: u64,
    pub run_dir: PathBuf,
    pub k6: PathBuf,
    pub k6_dir: PathBuf,
    pub out: PathBuf,
    /// Run only the setups whose names contain one of these (all when empty).
    pub only: Vec<String>,
    /// How many times to run every setup, interleaved (setup A, B, C, then A, B, C again), so
    /// that a slow drift of a shared machine lands on every setup alike; the table shows medians.
    pub rounds: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct SetupResult {
    pub setup: String,
    /// 1-based: which pass over the setups this was.
    pub round: u32,
    pub rate: u32,
    pub fixed_rate: LoadSummary,
    pub saturation: LoadSummary,
    /// Payments/s answered 201 at saturation.
    pub saturation_payments_per_s: f64,
    /// CPU ms per payment during the fixed-rate point, by process group.
    pub cpu_ms_per_payment: BTreeMap<String, f64>,
    pub cpu_ms_per_payment_total: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub started_at: String,
    pub machine: Machine,
    pub rate: u32,
    pub vus: u32,
    pub seconds: u64,
    pub rounds: u32,
    /// Every setup of every round, in the order they ran.
    pub results: Vec<SetupResult>,
}

pub async fn run(plan: BenchPlan) -> anyhow::Result<(BenchReport, PathBuf)> {
    let started_at = chrono::Utc::now();
    let dir = plan
        .out
        .join(format!("bench-{}", started_at.format("%Y%m%d-%H%M%S")));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let setups: Vec<&Setup> = SETUPS
        .iter()
        .filter(|s| plan.only.is_empty() || plan.only.iter().any(|o| s.name.contains(o.as_str())))
        .collect();
    let rounds = plan.rounds.max(1);
    let mut results = Vec::new();
    for round in 1..=rounds {
        for setup in &setups {
            eprintln!("▶ {} (round {round} of {rounds})", setup.name);
            results.push(run_setup(&plan, setup, round, &dir).await?);
        }
    }
    let report = BenchReport {
        started_at: started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        machine: Machine::read(),
        rate: plan.rate,
        vus: plan.vus,
        seconds: plan.seconds,
        rounds,
        results,
    };
    std::fs::write(
        dir.join("bench.json"),
        serde_json::to_string_pretty(&report)?,
    )
    .context("writing bench.json")?;
    std::fs::write(dir.join("bench.md"), table::render(&report)).context("writing bench.md")?;
    Ok((report, dir))
}

async fn run_setup(
    plan: &BenchPlan,
    setup: &Setup,
    round: u32,
    dir: &std::path::Path,
) -> anyhow::Result<SetupResult> {
    let postgres_port = free_port()?;
    let tag = format!("{}-r{round}", setup.slug());
    let run_dir = plan.run_dir.join(&tag);
    let mut options = FleetOptions::new(run_dir.clone());
    options.ports = Ports {
        postgres: postgres_port,
        ..Ports::any()
    };
    options.env = setup
        .env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .chain([("RUST_LOG".to_owned(), "warn".to_owned())])
        .collect();
    let mut fleet = NativeFleet::start(options).await?;
    let point = Point {
        setup,
        round,
        tag: &tag,
        dir,
        run_dir: &run_dir,
        postgres_port,
    };
    let outcome = measure(plan, &point, &mut fleet).await;
    fleet.stop().await;
    outcome
}

/// One setup in one round: where its files go.
struct Point<'a> {
    setup: &'a Setup,
    round: u32,
    /// File-name part for this setup and round.
    tag: &'a str,
    /// The report directory (k6 summaries).
    dir: &'a std::path::Path,
    /// The fleet's run directory (its Postgres data).
    run_dir: &'a std::path::Path,
    postgres_port: u16,
}

async fn measure(
    plan: &BenchPlan,
    point: &Point<'_>,
    fleet: &mut NativeFleet,
) -> anyhow::Result<SetupResult> {
    let gateway = fleet.url("gateway").context("the fleet has a gateway")?;
    let services: Vec<(String, u32)> = fleet
        .service_urls()
        .into_iter()
        .filter_map(|(name, _)| Some((name.to_owned(), fleet.service_mut(name)?.pid()?)))
        .collect();
    let postmaster = [
        point.run_dir.join("postgres/data"),
        std::env::temp_dir().join(format!("leakstorm-postgres-{}/data", point.postgres_port)),
    ]
    .iter()
    .find_map(|d| cpu::postmaster_pid(d));
    let tag = point.tag;
    let load = |shape: LoadShape, seconds: u64, name: &str| k6::Load {
        binary: plan.k6.clone(),
        script: plan.k6_dir.join("bench.js"),
        base_url: gateway.clone(),
        shape,
        seconds,
        summary: point.dir.join(format!("k6-{tag}-{name}.json")),
    };

    load(
        LoadShape::Rate(plan.rate / 4),
        plan.warmup_seconds,
        "warmup",
    )
    .run()
    .await?;
    let before = CpuSnapshot::take(&services, postmaster);
    let fixed_rate = load(LoadShape::Rate(plan.rate), plan.seconds, "rate")
        .run()
        .await?;
    let spent = CpuSnapshot::take(&services, postmaster).since(&before);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let saturation = load(LoadShape::Saturate(plan.vus), plan.seconds, "saturate")
        .run()
        .await?;

    let payments = fixed_rate.succeeded().max(1.0);
    let cpu_ms_per_payment: BTreeMap<String, f64> = spent
        .into_iter()
        .map(|(k, s)| (k, s * 1000.0 / payments))
        .collect();
    Ok(SetupResult {
        setup: point.setup.name.to_owned(),
        round: point.round,
        rate: plan.rate,
        saturation_payments_per_s: saturation.succeeded() / plan.seconds as f64,
        cpu_ms_per_payment_total: cpu_ms_per_payment.values().sum(),
        cpu_ms_per_payment,
        fixed_rate,
        saturation,
    })
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}
