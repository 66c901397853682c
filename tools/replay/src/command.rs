//! `leakstorm replay`: the incident and its fix, measured. Starts its own native fleet
//! (`--target native`, default) or drives one that is already running (`--target compose`).

use anyhow::bail;
use clap::Args;
use contract::admin::ScenarioClient;

use fleet::{
    NativeFleet,
    cli_args::{AdminArgs, ServiceUrls},
    command::{FleetArgs, wait_for_stop_signal},
};

use crate::{
    self as replay, Endpoints, ReplayConfig, Tools,
    profile::{profile, scenarios},
    report::Thresholds,
};

#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// `native` starts the fleet itself; `compose` drives a running one at the URLs below.
    #[arg(long, default_value = "native", value_parser = ["native", "compose"])]
    pub target: String,
    /// `quick` takes under 3 minutes per scenario (CI); `full` shows the leak feeding itself and
    /// takes about 7 for `detached-spawn`.
    #[arg(long, default_value = "full", value_parser = ["quick", "full"])]
    pub profile: String,
    /// The leak scenario to replay — detached-spawn, unbounded-queue, held-connection,
    /// orphaned-loop, blocking-pileup — or `all` (each in turn, against the same fleet).
    #[arg(long, default_value = "detached-spawn")]
    pub scenario: String,

    #[command(flatten)]
    pub fleet: FleetArgs,

    #[command(flatten)]
    pub urls: ServiceUrls,
    /// Jaeger UI/API (or the embedded trace store).
    #[arg(long, default_value = "http://127.0.0.1:16686")]
    pub jaeger_url: String,
    /// Compose only: the Prometheus that evaluates the alert rules (the native fleet starts its
    /// own where one is installed). Its alerts go into each scenario's `alerts_fired`.
    #[arg(long, env = "PROMETHEUS_URL", default_value = "http://127.0.0.1:9090")]
    pub prometheus_url: String,
    #[command(flatten)]
    pub admin: AdminArgs,

    /// Payments per second during the storms.
    #[arg(long)]
    pub rate: Option<u32>,
    /// Share of payments that need deep scoring (0 to 1).
    #[arg(long)]
    pub deep_share: Option<f64>,
    #[arg(long)]
    pub storm_secs: Option<u64>,
    #[arg(long)]
    pub warmup_secs: Option<u64>,
    #[arg(long)]
    pub warmup_rate: Option<u32>,
    /// Longest wait after the leaky storm for the leaked work to run out (ends sooner once risk's
    /// alive tasks are back at the warm-up baseline; at least 10 s).
    #[arg(long)]
    pub leaky_recovery_secs: Option<u64>,
    /// Longest wait after the fixed storm (same rule).
    #[arg(long)]
    pub fixed_recovery_secs: Option<u64>,
    /// k6's own timeout per request (longer than the gateway's deadline).
    #[arg(long)]
    pub client_timeout_secs: Option<u64>,
    /// Native only: the slow dependency's latency in risk.
    #[arg(long)]
    pub slow_dependency_ms: Option<u64>,
    /// Native only: calls in flight at which the slow dependency runs at half speed (0: constant
    /// latency).
    #[arg(long)]
    pub slow_dependency_capacity: Option<u64>,
    /// Native only: the buffer each deep-scoring shard holds.
    #[arg(long)]
    pub shard_buffer_bytes: Option<u64>,
    /// Native only: shards per deep-scoring job.
    #[arg(long)]
    pub shards: Option<u64>,
    /// Native only: fixed mode's deep-scoring budget.
    #[arg(long)]
    pub deep_budget_ms: Option<u64>,
    /// Native only: the gateway's deadline for a payment.
    #[arg(long)]
    pub gateway_timeout_ms: Option<u64>,
    /// The leak alert's threshold on `runtime_alive_tasks` (time to detection).
    #[arg(long, default_value_t = 100)]
    pub alert_tasks: u64,

    #[command(flatten)]
    pub tools: fleet::cli_args::ToolArgs,
    /// Native only: keep the fleet (and its Jaeger UI) running after the report, until Ctrl-C.
    #[arg(long)]
    pub keep_running: bool,
}

/// The compose fleet's Prometheus, if it answers (else the report says no alerts were read,
/// rather than that none fired).
async fn reachable(url: &str) -> Option<String> {
    match fleet::alerting::PrometheusClient::new(url).alerts().await {
        Ok(_) => Some(url.to_owned()),
        Err(e) => {
            eprintln!("leakstorm: no alerts recorded: {e:#}");
            None
        }
    }
}

pub async fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let p = profile(&args.profile);
    let native = args.target == "native";
    let knob = |value: Option<u64>, default: u64| native.then_some(value.unwrap_or(default));
    let config = ReplayConfig {
        profile: args.profile.clone(),
        target: args.target.clone(),
        scenarios: scenarios(&args.scenario)?,
        warmup_s: args.warmup_secs.unwrap_or(p.warmup_s),
        warmup_rate: args.warmup_rate.unwrap_or(p.warmup_rate),
        storm_s: args.storm_secs.unwrap_or(p.storm_s),
        rate: args.rate.unwrap_or(p.rate),
        deep_share: args.deep_share.unwrap_or(p.deep_share).clamp(0.0, 1.0),
        deep_amount: 75_000,
        client_timeout_s: args.client_timeout_secs.unwrap_or(15),
        leaky_recovery_s: args.leaky_recovery_secs.unwrap_or(p.leaky_recovery_s),
        fixed_recovery_s: args.fixed_recovery_secs.unwrap_or(p.fixed_recovery_s),
        gateway_timeout_ms: knob(args.gateway_timeout_ms, 10_000),
        slow_dependency_ms: knob(args.slow_dependency_ms, 30_000),
        slow_dependency_capacity: knob(args.slow_dependency_capacity, p.slow_dependency_capacity),
        shards: knob(args.shards, 4),
        shard_buffer_bytes: knob(args.shard_buffer_bytes, 4 * 1024 * 1024),
        deep_budget_ms: knob(args.deep_budget_ms, 300),
        command: std::env::args().collect::<Vec<_>>().join(" "),
    };
    let tools = Tools {
        k6: args.tools.k6.clone(),
        k6_dir: args.tools.k6_dir.clone(),
        reports_dir: args.tools.out.clone(),
    };
    let thresholds = Thresholds {
        alert_tasks: args.alert_tasks,
        ..Thresholds::default()
    };

    let (fleet, endpoints) = if native {
        let mut options = args.fleet.options();
        // Room for every request's trace (the span check needs them all), with a margin.
        let requests = (config.warmup_s * u64::from(config.warmup_rate)
            + 2 * config.storm_s * u64::from(config.rate))
            * config.scenarios.len() as u64;
        options.max_traces = options
            .max_traces
            .max(u32::try_from(requests + requests / 4).unwrap_or(u32::MAX));
        let risk_env = [
            ("RISK_MODE", "leaky".to_owned()),
            (
                "RISK_SLOW_DEPENDENCY_MS",
                config.slow_dependency_ms.unwrap_or_default().to_string(),
            ),
            (
                "RISK_SLOW_DEPENDENCY_CAPACITY",
                config
                    .slow_dependency_capacity
                    .unwrap_or_default()
                    .to_string(),
            ),
            (
                "RISK_SHARD_BUFFER_BYTES",
                config.shard_buffer_bytes.unwrap_or_default().to_string(),
            ),
            (
                "RISK_DEEP_SHARDS",
                config.shards.unwrap_or_default().to_string(),
            ),
            (
                "RISK_DEEP_BUDGET_MS",
                config.deep_budget_ms.unwrap_or_default().to_string(),
            ),
            ("RISK_DEEP_MIN_AMOUNT", "50000".to_owned()),
        ];
        options
            .service_env
            .extend(risk_env.into_iter().map(|(k, v)| ("risk", k.to_owned(), v)));
        options.service_env.push((
            "gateway",
            "UPSTREAM_TIMEOUT_MS".into(),
            config.gateway_timeout_ms.unwrap_or_default().to_string(),
        ));
        options
            .env
            .push(("ADMIN_TOKEN".into(), args.admin.admin_token.clone()));
        eprintln!("leakstorm: starting the native fleet...");
        let fleet = NativeFleet::start(options).await?;
        let url = |name: &str| fleet.url(name).unwrap_or_default();
        let endpoints = Endpoints {
            services: fleet
                .service_urls()
                .into_iter()
                .map(|(n, u)| (n.to_owned(), u))
                .collect(),
            gateway: url("gateway"),
            risk: url("risk"),
            jaeger: fleet.jaeger_url(),
            admin_token: args.admin.admin_token.clone(),
            prometheus: fleet.prometheus_url(),
        };
        (Some(fleet), endpoints)
    } else {
        let endpoints = Endpoints {
            services: args.urls.services(),
            gateway: args.urls.gateway_url.clone(),
            risk: args.urls.risk_url.clone(),
            jaeger: args.jaeger_url.clone(),
            admin_token: args.admin.admin_token.clone(),
            prometheus: reachable(&args.prometheus_url).await,
        };
        (None, endpoints)
    };

    // The replay switches the scenarios' modes; a fleet it did not start (compose) gets back the
    // modes it had, or a later `make storm` would silently run against the fixed mode.
    let switches = ScenarioClient::new(endpoints.services.clone(), &endpoints.admin_token)?;
    let restore = match &fleet {
        None => Some(switches.snapshot().await?),
        Some(_) => None,
    };
    let outcome = tokio::select! {
        outcome = replay::run(config, endpoints, tools, thresholds) => Some(outcome),
        _ = wait_for_stop_signal() => None,
    };
    if let Some(modes) = restore {
        switches.restore(&modes).await;
    }
    if let (Some(fleet), true, Some(Ok(_))) = (&fleet, args.keep_running, &outcome) {
        eprintln!(
            "leakstorm: the fleet keeps running: Jaeger UI at {} — Ctrl-C stops it",
            fleet.jaeger_url()
        );
        wait_for_stop_signal().await?;
    }
    if let Some(fleet) = fleet {
        eprintln!("leakstorm: stopping the native fleet...");
        fleet.stop().await;
    }
    let Some(outcome) = outcome else {
        bail!("interrupted");
    };
    let (report, dir) = outcome?;
    println!(
        "{}",
        std::fs::read_to_string(dir.join("report.md")).unwrap_or_default()
    );
    eprintln!("leakstorm: report written to {}", dir.display());
    if !(report.verdict.leak_reproduced && report.verdict.fix_verified) {
        bail!("verdict: {}", report.verdict.reasons.join("; "));
    }
    Ok(())
}
