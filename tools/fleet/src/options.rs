//! What a native fleet is started with: its ports, run directory, binaries, database,
//! environment, and whether Prometheus comes along.

use std::path::{Path, PathBuf};

use contract::service::Service;

/// Ports on 127.0.0.1; 0 picks a free one.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub gateway: u16,
    pub payments: u16,
    pub risk: u16,
    pub ledger: u16,
    pub otlp: u16,
    pub ui: u16,
    pub postgres: u16,
}

impl Default for Ports {
    fn default() -> Self {
        Self {
            gateway: Service::Gateway.default_port(),
            payments: Service::Payments.default_port(),
            risk: Service::Risk.default_port(),
            ledger: Service::Ledger.default_port(),
            otlp: 4317,
            ui: 16686,
            postgres: 55432,
        }
    }
}

impl Ports {
    /// All chosen by the OS (tests).
    pub fn any() -> Self {
        Self {
            gateway: 0,
            payments: 0,
            risk: 0,
            ledger: 0,
            otlp: 0,
            ui: 0,
            postgres: 0,
        }
    }

    pub(super) fn service(&self, name: &str) -> u16 {
        match name {
            "gateway" => self.gateway,
            "payments" => self.payments,
            "risk" => self.risk,
            _ => self.ledger,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// Logs, and the Postgres cluster unless `database_url` is given.
    pub run_dir: PathBuf,
    /// Where the service binaries are (default: next to this executable).
    pub bin_dir: PathBuf,
    pub ports: Ports,
    /// Use this database instead of starting a cluster.
    pub database_url: Option<String>,
    /// Extra environment for every service, then per service (later entries win).
    pub env: Vec<(String, String)>,
    pub service_env: Vec<(&'static str, String, String)>,
    /// Traces the embedded store keeps.
    pub max_traces: u32,
    /// The database created in the throwaway cluster.
    pub database_name: String,
    /// Prometheus with the leak alerts, where a `prometheus` binary is installed: its port on
    /// 127.0.0.1 (0: any) and its rules (default: the repository's `prometheus/alerts.yml`).
    /// `None` (the default; `leakstorm up` asks for one): no Prometheus.
    pub prometheus: Option<PrometheusChoice>,
}

#[derive(Debug, Clone)]
pub struct PrometheusChoice {
    pub port: u16,
    pub rules: Option<PathBuf>,
}

/// Whether the fleet's Prometheus runs, and if not, why.
#[derive(Debug, Clone, PartialEq)]
pub enum PrometheusStatus {
    Running(String),
    NotWanted,
    NotInstalled,
    Failed(String),
}

impl FleetOptions {
    pub fn new(run_dir: PathBuf) -> Self {
        Self {
            run_dir,
            bin_dir: default_bin_dir(),
            ports: Ports::default(),
            database_url: None,
            env: Vec::new(),
            service_env: Vec::new(),
            max_traces: 20_000,
            database_name: "leakstorm".to_owned(),
            prometheus: None,
        }
    }
}

/// The directory of the running executable: `cargo build` puts every binary there.
pub fn default_bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    // Test executables live one level down, in target/<profile>/deps.
    if dir.ends_with("deps") {
        dir.parent().map(Path::to_path_buf).unwrap_or(dir)
    } else {
        dir
    }
}
