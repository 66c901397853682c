//! One service binary running as a child process, with its log in a file.

use std::{
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    time::Duration,
};

use anyhow::{Context as _, bail};
use nix::{sys::signal::Signal, unistd::Pid};
use tokio::process::{Child, Command};

pub struct ServiceProcess {
    pub name: &'static str,
    pub port: u16,
    pub log_path: PathBuf,
    binary: PathBuf,
    env: Vec<(String, String)>,
    child: Child,
}

impl ServiceProcess {
    /// Starts `binary` with exactly `env` added to a minimal environment.
    pub fn spawn(
        name: &'static str,
        binary: &Path,
        port: u16,
        env: &[(String, String)],
        log_path: &Path,
    ) -> anyhow::Result<Self> {
        if !binary.is_file() {
            bail!(
                "service binary {} not found: build it first (`cargo build --workspace --bins`) or pass --bin-dir",
                binary.display()
            );
        }
        let child = start(binary, env, log_path, false)?;
        Ok(Self {
            name,
            port,
            log_path: log_path.to_owned(),
            binary: binary.to_owned(),
            env: env.to_vec(),
            child,
        })
    }

    /// SIGKILL, as a crash would; after `down_for` (a supervisor's restart delay) the same binary
    /// with the same environment again, its log continuing in the same file. Returns once the
    /// new process is ready.
    pub async fn crash_and_restart(
        &mut self,
        down_for: Duration,
        ready_within: Duration,
    ) -> anyhow::Result<()> {
        self.kill_hard().await?;
        tokio::time::sleep(down_for).await;
        self.child = start(&self.binary, &self.env, &self.log_path, true)?;
        self.wait_ready(ready_within).await
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits until `/readyz` answers 200, failing early if the process exits.
    pub async fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let url = format!("{}/readyz", self.url());
        let outcome = wait_until_ready(&mut self.child, &url, timeout).await;
        outcome.map_err(|why| {
            anyhow::anyhow!(
                "{} {why}; last log lines:\n{}",
                self.name,
                self.log_tail(20)
            )
        })
    }

    fn signal(&self, signal: Signal) {
        if let Some(pid) = self.child.id().and_then(|p| i32::try_from(p).ok()) {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), signal);
        }
    }

    /// SIGKILL, as a crash would (chaos).
    pub async fn kill_hard(&mut self) -> anyhow::Result<ExitStatus> {
        self.signal(Signal::SIGKILL);
        Ok(self.child.wait().await?)
    }

    /// SIGTERM (graceful: in-flight requests finish, spans are flushed), then SIGKILL after
    /// `grace`.
    pub async fn stop(mut self, grace: Duration) -> anyhow::Result<ExitStatus> {
        if let Some(status) = self.child.try_wait()? {
            return Ok(status);
        }
        self.signal(Signal::SIGTERM);
        match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(status) => Ok(status?),
            Err(_) => {
                tracing::warn!(
                    service = self.name,
                    "did not stop within {grace:?}; killing it"
                );
                self.signal(Signal::SIGKILL);
                Ok(self.child.wait().await?)
            }
        }
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// Polls `url` until it answers 2xx, for at most `timeout`; fails early, saying so, if `child`
/// exits first. (Services' `/readyz`, Prometheus's `/-/ready`.)
pub async fn wait_until_ready(
    child: &mut Child,
    url: &str,
    timeout: Duration,
) -> Result<(), String> {
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited ({status}) before it was ready"));
        }
        let ready = http
            .get(url)
            .timeout(Duration::from_secs(1))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("was not ready within {timeout:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn start(
    binary: &Path,
    env: &[(String, String)],
    log_path: &Path,
    append: bool,
) -> anyhow::Result<Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(log_path)
        .with_context(|| format!("opening the log file {}", log_path.display()))?;
    Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))
}
