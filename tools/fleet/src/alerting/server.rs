//! The real Prometheus on the native road: found like Postgres (on `PATH`, or `PROMETHEUS_BIN`),
//! given a configuration that scrapes the four services every 2 s with `prometheus/alerts.yml`,
//! started on 127.0.0.1:9090 and stopped with the fleet. Its data lives in the run directory.

use std::{
    net::{Ipv4Addr, TcpListener},
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use anyhow::{Context as _, bail};
use nix::{sys::signal::Signal, unistd::Pid};
use tokio::process::{Child, Command};

use crate::process::wait_until_ready;

/// How to get a Prometheus where none is installed (printed by `leakstorm up`).
pub const INSTALL_HINT: &str = "install Prometheus to have the leak alerts evaluated on the native fleet: Debian/Ubuntu `sudo apt-get install prometheus`, Fedora `sudo dnf install golang-github-prometheus`, macOS `brew install prometheus` (or set PROMETHEUS_BIN)";

/// Scrape and rule evaluation interval: alerts then fire within seconds of their condition.
const INTERVAL: &str = "2s";

/// What the native fleet's Prometheus needs.
#[derive(Debug, Clone)]
pub struct PrometheusSettings {
    /// Port on 127.0.0.1 (0: any free one).
    pub port: u16,
    /// The alert rules (`prometheus/alerts.yml` of the repository).
    pub rules: PathBuf,
    /// Its configuration, data and log go here.
    pub dir: PathBuf,
}

/// The `prometheus` binary: `PROMETHEUS_BIN`, else the first on `PATH`.
pub fn find_binary() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("PROMETHEUS_BIN") {
        let bin = PathBuf::from(bin);
        return bin.is_file().then_some(bin);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("prometheus"))
        .find(|candidate| candidate.is_file())
}

/// The repository's `prometheus/alerts.yml`: under the working directory, else above the
/// running executable (`target/<profile>/leakstorm` in a checkout).
pub fn default_rules() -> Option<PathBuf> {
    let relative = Path::new("prometheus/alerts.yml");
    if relative.is_file() {
        return std::path::absolute(relative).ok();
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .map(|dir| dir.join(relative))
        .find(|candidate| candidate.is_file())
}

/// A running Prometheus, owned by the fleet.
pub struct PrometheusServer {
    child: Child,
    url: String,
    log: PathBuf,
}

impl PrometheusServer {
    /// Writes the configuration for `targets` (`(job, port)` on 127.0.0.1) and starts `binary`;
    /// returns once Prometheus says it is ready.
    pub async fn start(
        binary: &Path,
        settings: &PrometheusSettings,
        targets: &[(&str, u16)],
    ) -> anyhow::Result<Self> {
        let port = free_port(settings.port)?;
        // A fresh store: yesterday's series would replay their alerts into today's fleet.
        let data = settings.dir.join("data");
        if data.exists() {
            std::fs::remove_dir_all(&data)
                .with_context(|| format!("removing the old {}", data.display()))?;
        }
        std::fs::create_dir_all(&settings.dir)
            .with_context(|| format!("creating {}", settings.dir.display()))?;
        let rules = std::path::absolute(&settings.rules)?;
        if !rules.is_file() {
            bail!("the alert rules {} do not exist", rules.display());
        }
        let config = settings.dir.join("prometheus.yml");
        std::fs::write(&config, configuration(&rules, targets))
            .with_context(|| format!("writing {}", config.display()))?;
        let log = settings.dir.join("prometheus.log");
        let out = std::fs::File::create(&log)?;
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--storage.tsdb.retention.time=1d")
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        server.wait_ready(Duration::from_secs(30)).await?;
        Ok(server)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    async fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let url = format!("{}/-/ready", self.url);
        let outcome = wait_until_ready(&mut self.child, &url, timeout).await;
        outcome.map_err(|why| {
            anyhow::anyhow!(
                "prometheus {why}; its log, {}:\n{}",
                self.log.display(),
                std::fs::read_to_string(&self.log).unwrap_or_default()
            )
        })
    }

    /// SIGTERM, then SIGKILL after five seconds.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id().and_then(|p| i32::try_from(p).ok()) {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// The scrape configuration: one job per service, named as the Docker fleet's are (the rules
/// group by `job`).
fn configuration(rules: &Path, targets: &[(&str, u16)]) -> String {
    let mut text = format!(
        "# Written by `leakstorm up` for the native fleet.\nglobal:\n  scrape_interval: {INTERVAL}\n  evaluation_interval: {INTERVAL}\nrule_files:\n  - {:?}\nscrape_configs:\n",
        rules.display().to_string()
    );
    for (job, port) in targets {
        text.push_str(&format!(
            "  - job_name: {job}\n    static_configs: [{{ targets: [\"127.0.0.1:{port}\"] }}]\n"
        ));
    }
    text
}

fn free_port(requested: u16) -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, requested)).with_context(|| {
        format!("port {requested} for Prometheus is taken: stop what uses it, or choose another (--prometheus-port)")
    })?;
    Ok(listener.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::configuration;

    #[test]
    fn the_configuration_scrapes_each_service_as_its_own_job_with_the_rules() {
        let text = configuration(
            std::path::Path::new("/repo/prometheus/alerts.yml"),
            &[("ledger", 8083), ("risk", 8082)],
        );
        assert!(text.contains("rule_files:\n  - \"/repo/prometheus/alerts.yml\""));
        assert!(
            text.contains(
                "- job_name: risk\n    static_configs: [{ targets: [\"127.0.0.1:8082\"] }]"
            )
        );
        assert!(text.contains("scrape_interval: 2s"));
    }
}
