//! `leakstorm bench`: the cost of looking. Drives fast-path payments through the native fleet
//! once per telemetry configuration — off, traces, traces + task accounting, traces + task
//! accounting + tokio-console — each on a fresh fleet, and measures for each: p50/p99 at a fixed
//! arrival rate, CPU milliseconds per payment per process at that rate, and payments/s at
//! saturation. Writes `bench.json` and `bench.md` to `<out>/bench-<time>/`.
//!
//! Module map: [`cpu`] reads CPU time from /proc; [`k6`] runs the load and reads its summary;
//! [`table`] renders the markdown.

pub mod cpu;
pub mod k6;
pub mod table;

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use anyhow::Context as _;
use serde::Serialize;

use crate::{
    fleet::{FleetOptions, NativeFleet, Ports},
    replay::Machine,
};
use cpu::CpuSnapshot;
use k6::{LoadShape, LoadSummary};

/// One telemetry configuration: a name and the environment it gives every service.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    pub name: &'static str,
    pub env: &'static [(&'static str, &'static str)],
}

/// The four configurations, cheapest first.
pub const SETUPS: [Setup; 4] = [
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
        name: "traces + task accounting",
        env: &[],
    },
    Setup {
        name: "traces + task accounting + console",
        env: &[("TOKIO_CONSOLE", "1")],
    },
];

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
}

#[derive(Debug, Clone, Serialize)]
pub struct SetupResult {
    pub setup: String,
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
    pub results: Vec<SetupResult>,
}

pub async fn run(plan: BenchPlan) -> anyhow::Result<(BenchReport, PathBuf)> {
    let started_at = chrono::Utc::now();
    let dir = plan
        .out
        .join(format!("bench-{}", started_at.format("%Y%m%d-%H%M%S")));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut results = Vec::new();
    for setup in SETUPS
        .iter()
        .filter(|s| plan.only.is_empty() || plan.only.iter().any(|o| s.name.contains(o.as_str())))
    {
        eprintln!("▶ {}", setup.name);
        results.push(run_setup(&plan, setup, &dir).await?);
    }
    let report = BenchReport {
        started_at: started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        machine: Machine::read(),
        rate: plan.rate,
        vus: plan.vus,
        seconds: plan.seconds,
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
    dir: &std::path::Path,
) -> anyhow::Result<SetupResult> {
    let postgres_port = free_port()?;
    let run_dir = plan.run_dir.join(setup.name.replace([' ', '+'], "_"));
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
    let outcome = measure(plan, setup, dir, &mut fleet, &run_dir, postgres_port).await;
    fleet.stop().await;
    outcome
}

async fn measure(
    plan: &BenchPlan,
    setup: &Setup,
    dir: &std::path::Path,
    fleet: &mut NativeFleet,
    run_dir: &std::path::Path,
    postgres_port: u16,
) -> anyhow::Result<SetupResult> {
    let gateway = fleet.url("gateway").context("the fleet has a gateway")?;
    let services: Vec<(String, u32)> = fleet
        .service_urls()
        .into_iter()
        .filter_map(|(name, _)| Some((name.to_owned(), fleet.service_mut(name)?.pid()?)))
        .collect();
    let postmaster = [
        run_dir.join("postgres/data"),
        std::env::temp_dir().join(format!("leakstorm-postgres-{postgres_port}/data")),
    ]
    .iter()
    .find_map(|d| cpu::postmaster_pid(d));
    let tag = setup.name.replace([' ', '+'], "_");
    let load = |shape: LoadShape, seconds: u64, name: &str| k6::Load {
        binary: plan.k6.clone(),
        script: plan.k6_dir.join("bench.js"),
        base_url: gateway.clone(),
        shape,
        seconds,
        summary: dir.join(format!("k6-{tag}-{name}.json")),
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
        setup: setup.name.to_owned(),
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
