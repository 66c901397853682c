//! `leakstorm up`: the whole fleet as local processes, until Ctrl-C or SIGTERM.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use contract::service::Service;

use crate::{
    FleetOptions, NativeFleet, Ports, PrometheusChoice, PrometheusStatus,
    alerting::server::INSTALL_HINT,
};

use super::otel_env::TraceDestination;

#[derive(Debug, Clone, Args)]
pub struct FleetArgs {
    /// Logs, and the throwaway Postgres cluster, go here.
    #[arg(long, default_value = ".leakstorm/run")]
    pub run_dir: PathBuf,
    /// Where the service binaries are (default: next to this executable).
    #[arg(long)]
    pub bin_dir: Option<PathBuf>,
    /// Use this Postgres instead of starting a throwaway cluster.
    #[arg(long, env = "LEAKSTORM_DATABASE_URL")]
    pub database_url: Option<String>,
    #[arg(long, default_value_t = Service::Gateway.default_port())]
    pub gateway_port: u16,
    #[arg(long, default_value_t = Service::Payments.default_port())]
    pub payments_port: u16,
    #[arg(long, default_value_t = Service::Risk.default_port())]
    pub risk_port: u16,
    #[arg(long, default_value_t = Service::Ledger.default_port())]
    pub ledger_port: u16,
    /// OTLP/gRPC port of the embedded trace store.
    #[arg(long, default_value_t = 4317)]
    pub otlp_port: u16,
    /// Jaeger UI and API port of the embedded trace store.
    #[arg(long, default_value_t = 16686)]
    pub ui_port: u16,
    #[arg(long, default_value_t = 55432)]
    pub postgres_port: u16,
    /// Port of the fleet's Prometheus (started where a `prometheus` binary is installed).
    #[arg(long, default_value_t = 9090)]
    pub prometheus_port: u16,
    /// The alert rules Prometheus evaluates (default: the repository's prometheus/alerts.yml).
    #[arg(long)]
    pub alert_rules: Option<PathBuf>,
    /// Run without Prometheus even where one is installed.
    #[arg(long)]
    pub no_prometheus: bool,
}

impl FleetArgs {
    pub fn options(&self) -> FleetOptions {
        let mut options = FleetOptions::new(self.run_dir.clone());
        if let Some(bin_dir) = &self.bin_dir {
            options.bin_dir = bin_dir.clone();
        }
        options.database_url = self.database_url.clone();
        options.ports = Ports {
            gateway: self.gateway_port,
            payments: self.payments_port,
            risk: self.risk_port,
            ledger: self.ledger_port,
            otlp: self.otlp_port,
            ui: self.ui_port,
            postgres: self.postgres_port,
        };
        options.prometheus = (!self.no_prometheus).then(|| PrometheusChoice {
            port: self.prometheus_port,
            rules: self.alert_rules.clone(),
        });
        options
    }
}

#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Risk's mode at start.
    #[arg(long, default_value = "leaky", value_parser = ["leaky", "fixed"])]
    pub risk_mode: String,
}

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    let mut options = args.fleet.options();
    options
        .service_env
        .push(("risk", "RISK_MODE".into(), args.risk_mode.clone()));
    eprintln!(
        "leakstorm: starting the native fleet (Postgres, trace store, ledger, risk, payments, gateway)..."
    );
    let fleet = NativeFleet::start(options).await?;
    print_urls(&fleet, &args.fleet.run_dir);
    wait_for_stop_signal().await?;
    eprintln!("leakstorm: stopping (gateway, payments, risk, ledger, trace store, Postgres)...");
    fleet.stop().await;
    eprintln!("leakstorm: stopped");
    Ok(())
}

fn print_urls(fleet: &NativeFleet, run_dir: &std::path::Path) {
    println!("leakstorm fleet is up (native)");
    for (name, url) in fleet.service_urls() {
        println!("  {name:<9} {url}");
    }
    match fleet.trace_destination() {
        TraceDestination::Embedded => {
            println!("  Jaeger UI {}", fleet.jaeger_url());
            println!("  OTLP      {}", fleet.otlp_endpoint());
        }
        TraceDestination::Elsewhere(endpoint) => {
            println!("  traces    sent to {endpoint} (OTEL_EXPORTER_OTLP_*): look for them there;");
            println!(
                "            the embedded Jaeger UI at {} stays empty",
                fleet.jaeger_url()
            );
        }
        TraceDestination::Off => {
            println!("  traces    off (OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true):");
            println!(
                "            the embedded Jaeger UI at {} stays empty",
                fleet.jaeger_url()
            );
        }
    }
    match fleet.prometheus_status() {
        PrometheusStatus::Running(url) => {
            println!("  Prometheus {url}/alerts (leak alerts, prometheus/alerts.yml)")
        }
        PrometheusStatus::NotWanted => println!("  Prometheus off (--no-prometheus)"),
        PrometheusStatus::NotInstalled => println!("  Prometheus not found: {INSTALL_HINT}"),
        PrometheusStatus::Failed(why) => println!("  Prometheus did not start: {why}"),
    }
    println!("  Postgres  {}", fleet.database_url());
    println!("  logs      {}/*.log", run_dir.display());
    println!(
        "Demo credentials (local demo only): API key sk_test_leakstorm_demo, admin token admin_leakstorm_demo"
    );
    println!("Try: k6 run k6/smoke.js   |   leakstorm mode fixed   |   Ctrl-C stops everything");
}

/// Ctrl-C or SIGTERM.
pub async fn wait_for_stop_signal() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    tokio::select! {
        ctrl_c = tokio::signal::ctrl_c() => ctrl_c.context("listening for Ctrl-C")?,
        _ = terminate.recv() => {}
    }
    Ok(())
}
