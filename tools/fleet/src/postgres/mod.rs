//! A throwaway Postgres cluster made from the local PostgreSQL server binaries, by the one
//! routine the tests use too: `scripts/pg-cluster.sh` (which finds the binaries with
//! `scripts/pg-bindir.sh` — PG_BIN_DIR, pg_config, PATH, Homebrew kegs, Debian's and PGDG's
//! layouts — and runs the server as the `postgres` user when called as root). So the fleet and
//! the tests cannot disagree about which server they run, or how.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use nix::unistd::Uid;
use tokio::process::Command;

const SCRIPT: &str = "scripts/pg-cluster.sh";

pub struct PgCluster {
    script: PathBuf,
    dir: PathBuf,
    port: u16,
}

/// `scripts/pg-cluster.sh` of the checkout `make` runs us from, else of the one this binary was
/// built from.
fn script() -> anyhow::Result<PathBuf> {
    let candidates = std::env::current_dir()
        .ok()
        .map(|cwd| cwd.join(SCRIPT))
        .into_iter()
        .chain([Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(SCRIPT)]);
    find_script(candidates)
}

fn find_script(candidates: impl IntoIterator<Item = PathBuf>) -> anyhow::Result<PathBuf> {
    candidates.into_iter().find(|s| s.is_file()).with_context(|| {
        format!(
            "cannot start a throwaway Postgres: {SCRIPT} is not here (run leakstorm from the \
             repository root), or pass --database-url (LEAKSTORM_DATABASE_URL) to use a running server"
        )
    })
}

/// Runs `script` with `args`; its stderr (one line naming what is missing, or the server's log)
/// becomes the error.
async fn run(script: &Path, args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new("bash")
        .arg(script)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .with_context(|| format!("running {}", script.display()))?;
    if !output.status.success() {
        bail!(
            "{}; or pass --database-url (LEAKSTORM_DATABASE_URL) to use a running server",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

impl PgCluster {
    /// Initialises (if needed) and starts a cluster in `dir` on 127.0.0.1:`port`.
    pub async fn start(dir: &Path, port: u16) -> anyhow::Result<Self> {
        let script = script()?;
        let dir =
            std::path::absolute(dir).with_context(|| format!("resolving {}", dir.display()))?;
        let (dir_arg, port_arg) = (dir.display().to_string(), port.to_string());
        run(&script, &["start", &dir_arg, &port_arg])
            .await
            .with_context(|| format!("starting Postgres on port {port}"))?;
        Ok(Self { script, dir, port })
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates `name` (already there, from a reused run directory, is fine).
    pub async fn create_database(&self, name: &str) -> anyhow::Result<()> {
        run(&self.script, &["createdb", &self.port.to_string(), name]).await
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        run(
            &self.script,
            &["stop", &self.dir.display().to_string(), "fast"],
        )
        .await
    }
}

/// Whether the `postgres` user can reach `dir` (a cluster under a root-only home cannot start).
pub async fn usable_by_cluster_owner(dir: &Path) -> bool {
    if !Uid::effective().is_root() {
        return true;
    }
    // Absolute: a relative path is looked up from the current directory, which the test
    // inherits, so it would pass under a root-only parent that Postgres's own absolute paths
    // cannot cross (a checkout in /root, or in a 0700 temp dir).
    let Ok(dir) = std::path::absolute(dir) else {
        return false;
    };
    Command::new("runuser")
        .args(["-u", "postgres", "--", "test", "-x"])
        .arg(&dir)
        .current_dir("/")
        .status()
        .await
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests;
