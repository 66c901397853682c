//! The native fleet: Postgres, the embedded trace store, the four services and (where one is
//! installed) Prometheus with the leak alerts, as local processes, started in dependency order
//! and stopped in reverse.

use std::{
    net::{Ipv4Addr, SocketAddr, TcpListener},
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context as _, bail};
use contract::service::Service;
use trace_store::{TraceStore, TraceStoreSettings};

use super::{
    options::{FleetOptions, Ports, PrometheusChoice, PrometheusStatus},
    otel_env::{self, TraceDestination},
    postgres::{self as pg, PgCluster},
    process::ServiceProcess,
};
use crate::alerting::{PrometheusServer, PrometheusSettings, server as prometheus};

pub struct NativeFleet {
    postgres: Option<PgCluster>,
    traces: TraceStore,
    /// In start order.
    services: Vec<ServiceProcess>,
    database_url: String,
    prometheus: Option<PrometheusServer>,
    prometheus_status: PrometheusStatus,
}

fn pick_port(requested: u16, what: &str) -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, requested)).with_context(|| {
        format!("port {requested} for {what} is taken: stop what uses it, or choose another port")
    })?;
    Ok(listener.local_addr()?.port())
}

impl NativeFleet {
    pub async fn start(options: FleetOptions) -> anyhow::Result<Self> {
        for name in Service::START_ORDER.map(Service::name) {
            let binary = options.bin_dir.join(name);
            if !binary.is_file() {
                bail!(
                    "service binary {} not found: build it (`cargo build --workspace --bins`) or pass --bin-dir",
                    binary.display()
                );
            }
        }
        let mut ports = options.ports;
        for (port, what) in [
            (&mut ports.gateway, "gateway"),
            (&mut ports.payments, "payments"),
            (&mut ports.risk, "risk"),
            (&mut ports.ledger, "ledger"),
        ] {
            *port = pick_port(*port, what)?;
        }
        std::fs::create_dir_all(&options.run_dir)
            .with_context(|| format!("creating {}", options.run_dir.display()))?;

        let (postgres, database_url) = match &options.database_url {
            Some(url) => (None, url.clone()),
            None => {
                let port = pick_port(ports.postgres, "postgres")?;
                let dir = cluster_dir(&options.run_dir, port).await;
                let cluster = PgCluster::start(&dir, port).await?;
                cluster.create_database(&options.database_name).await?;
                let url = cluster.url(&options.database_name);
                (Some(cluster), url)
            }
        };

        let traces = TraceStore::start(TraceStoreSettings {
            otlp: SocketAddr::from((Ipv4Addr::LOCALHOST, ports.otlp)),
            ui: SocketAddr::from((Ipv4Addr::LOCALHOST, ports.ui)),
            max_traces: options.max_traces,
            max_memory_bytes: 1 << 30,
        })
        .await?;

        let mut fleet = Self {
            postgres,
            traces,
            services: Vec::new(),
            database_url,
            prometheus: None,
            prometheus_status: PrometheusStatus::NotWanted,
        };
        if let Err(e) = fleet.start_services(&options, &ports).await {
            fleet.stop().await;
            return Err(e);
        }
        if let Some(choice) = &options.prometheus {
            fleet.start_prometheus(choice, &options.run_dir).await;
        }
        Ok(fleet)
    }

    /// Starts Prometheus if one is installed; the fleet runs on without it (and says why).
    async fn start_prometheus(&mut self, choice: &PrometheusChoice, run_dir: &Path) {
        let Some(binary) = prometheus::find_binary() else {
            self.prometheus_status = PrometheusStatus::NotInstalled;
            return;
        };
        let Some(rules) = choice.rules.clone().or_else(prometheus::default_rules) else {
            self.prometheus_status = PrometheusStatus::Failed(
                "prometheus/alerts.yml not found: run from the repository, or pass --alert-rules"
                    .into(),
            );
            return;
        };
        let settings = PrometheusSettings {
            port: choice.port,
            rules,
            dir: run_dir.join("prometheus"),
        };
        let targets: Vec<(&str, u16)> = self.services.iter().map(|s| (s.name, s.port)).collect();
        match PrometheusServer::start(&binary, &settings, &targets).await {
            Ok(server) => {
                self.prometheus_status = PrometheusStatus::Running(server.url().to_owned());
                self.prometheus = Some(server);
            }
            Err(e) => {
                tracing::warn!(error = %e, "Prometheus did not start; the fleet runs without it");
                self.prometheus_status = PrometheusStatus::Failed(format!("{e:#}"));
            }
        }
    }

    /// The fleet's Prometheus, if it runs.
    pub fn prometheus_url(&self) -> Option<String> {
        self.prometheus.as_ref().map(|p| p.url().to_owned())
    }

    pub fn prometheus_status(&self) -> &PrometheusStatus {
        &self.prometheus_status
    }

    async fn start_services(
        &mut self,
        options: &FleetOptions,
        ports: &Ports,
    ) -> anyhow::Result<()> {
        let url = |port: u16| format!("http://127.0.0.1:{port}");
        for name in Service::START_ORDER.map(Service::name) {
            let port = ports.service(name);
            let mut env: Vec<(String, String)> = vec![
                ("DATABASE_URL".into(), self.database_url.clone()),
                ("HOST".into(), "127.0.0.1".into()),
                ("PORT".into(), port.to_string()),
                ("OTEL_SERVICE_NAME".into(), name.into()),
                (
                    "OTEL_EXPORTER_OTLP_ENDPOINT".into(),
                    self.traces.otlp_endpoint(),
                ),
                // Spans reach the store within half a second, so a trace is complete soon after
                // its request.
                ("OTEL_BSP_SCHEDULE_DELAY".into(), "500".into()),
                ("OTEL_BSP_MAX_QUEUE_SIZE".into(), "65536".into()),
                ("PAYMENTS_URL".into(), url(ports.payments)),
                ("RISK_URL".into(), url(ports.risk)),
                ("LEDGER_URL".into(), url(ports.ledger)),
                ("RUST_LOG".into(), "info".into()),
            ];
            if name == "risk" {
                // As compose.yaml and the k8s base give it: a blocking pool a pile-up fills
                // (tokio's default of 512 would take minutes), so that jobs queue for a thread.
                env.push(("SERVER_MAX_BLOCKING_THREADS".into(), "32".into()));
            }
            env.extend(passed_through_env());
            env.extend(options.env.iter().cloned());
            env.extend(
                options
                    .service_env
                    .iter()
                    .filter(|(service, _, _)| *service == name)
                    .map(|(_, k, v)| (k.clone(), v.clone())),
            );
            let log = options.run_dir.join(format!("{name}.log"));
            let mut process =
                ServiceProcess::spawn(name, &options.bin_dir.join(name), port, &env, &log)?;
            process.wait_ready(Duration::from_secs(60)).await?;
            self.services.push(process);
        }
        Ok(())
    }

    pub fn url(&self, service: &str) -> Option<String> {
        self.services
            .iter()
            .find(|s| s.name == service)
            .map(ServiceProcess::url)
    }

    pub fn service_urls(&self) -> Vec<(&'static str, String)> {
        self.services.iter().map(|s| (s.name, s.url())).collect()
    }

    pub fn jaeger_url(&self) -> String {
        self.traces.ui_url()
    }

    pub fn otlp_endpoint(&self) -> String {
        self.traces.otlp_endpoint()
    }

    /// Where the services send their traces, given the `OTEL_*` variables passed through.
    pub fn trace_destination(&self) -> TraceDestination {
        otel_env::trace_destination(
            &otel_env::passed_through(std::env::vars()),
            &self.traces.otlp_endpoint(),
        )
    }

    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    pub fn service_mut(&mut self, name: &str) -> Option<&mut ServiceProcess> {
        self.services.iter_mut().find(|s| s.name == name)
    }

    /// Stops Prometheus, then the services in reverse order (SIGTERM: in-flight requests finish
    /// and spans are flushed), then the trace store, then Postgres.
    pub async fn stop(mut self) {
        if let Some(prometheus) = self.prometheus.take() {
            prometheus.stop().await;
        }
        while let Some(service) = self.services.pop() {
            let name = service.name;
            if let Err(e) = service.stop(Duration::from_secs(15)).await {
                tracing::warn!(service = name, error = %e, "stopping failed");
            }
        }
        self.traces.stop().await;
        if let Some(postgres) = self.postgres.take()
            && let Err(e) = postgres.stop().await
        {
            tracing::warn!(error = %e, "stopping Postgres failed");
        }
    }
}

/// Service settings a user may set in `leakstorm`'s own environment (e.g.
/// `RISK_SLOW_DEPENDENCY_MS=5000 leakstorm up`, or `OTEL_*`); everything else is left out, so
/// the fleet does not depend on whatever happens to be in the shell.
fn passed_through_env() -> Vec<(String, String)> {
    const NAMES: [&str; 11] = [
        "RUST_LOG",
        "SERVER_MAX_BLOCKING_THREADS",
        "HTTP_WORKERS",
        "DATABASE_MAX_CONNECTIONS",
        "DATABASE_ACQUIRE_TIMEOUT_MS",
        "JSON_BODY_LIMIT_BYTES",
        "UPSTREAM_TIMEOUT_MS",
        "ADMIN_TOKEN",
        "DEMO_API_KEY",
        "DEMO_MERCHANT_ID",
        "CARD_FINGERPRINT_KEY",
    ];
    let mut passed: Vec<(String, String)> = std::env::vars()
        .filter(|(name, _)| {
            NAMES.contains(&name.as_str())
                || name.starts_with("RISK_")
                || name.starts_with("RECOVERY_")
        })
        .collect();
    passed.extend(otel_env::passed_through(std::env::vars()));
    passed
}

/// `<run_dir>/postgres`, unless the postgres user cannot reach it (a run directory under a
/// root-only home): then a directory of its own in the system temp dir.
async fn cluster_dir(run_dir: &Path, port: u16) -> PathBuf {
    let preferred = run_dir.join("postgres");
    if pg::usable_by_cluster_owner(run_dir).await {
        return preferred;
    }
    let fallback = std::env::temp_dir().join(format!("leakstorm-postgres-{port}"));
    tracing::info!(dir = %fallback.display(), "the postgres user cannot reach the run directory; using a temp dir");
    fallback
}
