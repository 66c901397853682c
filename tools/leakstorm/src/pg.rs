//! A throwaway Postgres cluster made from the local PostgreSQL binaries (Debian keeps them in
//! `/usr/lib/postgresql/<version>/bin`). The server refuses to run as root, so as root every
//! command runs as the `postgres` user.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use anyhow::{Context as _, bail};
use nix::unistd::{Uid, User};
use tokio::process::Command;

pub struct PgCluster {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    log_path: PathBuf,
    port: u16,
}

/// The newest `/usr/lib/postgresql/*/bin` with `initdb`, or `PG_BIN_DIR`.
pub fn find_bin_dir() -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("PG_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .context("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql, or set PG_BIN_DIR)")?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    candidates.sort();
    candidates.pop().map(|(_, bin)| bin).context(
        "no initdb under /usr/lib/postgresql/*/bin (apt-get install postgresql, or set PG_BIN_DIR)",
    )
}

impl PgCluster {
    /// Initialises (if needed) and starts a cluster in `dir` on 127.0.0.1:`port`.
    pub async fn start(dir: &Path, port: u16) -> anyhow::Result<Self> {
        let bin_dir = find_bin_dir()?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        // Postgres resolves paths from its data directory: relative ones would point elsewhere.
        let dir =
            &std::path::absolute(dir).with_context(|| format!("resolving {}", dir.display()))?;
        let owner = cluster_owner()?;
        if let Some(user) = &owner {
            nix::unistd::chown(dir, Some(user.uid), Some(user.gid))
                .with_context(|| format!("giving {} to the postgres user", dir.display()))?;
        }
        let cluster = Self {
            bin_dir,
            data_dir: dir.join("data"),
            log_path: dir.join("postgres.log"),
            port,
        };
        if !cluster.data_dir.join("PG_VERSION").is_file() {
            let data = cluster.data_dir.display().to_string();
            cluster
                .run(
                    "initdb",
                    &[
                        "-D",
                        &data,
                        "-U",
                        "postgres",
                        "--auth=trust",
                        "-E",
                        "UTF8",
                        "--no-sync",
                    ],
                )
                .await
                .context("initialising the cluster")?;
        }
        // Durability does not matter for a demo cluster; speed and connection headroom do.
        let options = format!(
            "-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=300",
            dir = dir.display()
        );
        let data = cluster.data_dir.display().to_string();
        let log = cluster.log_path.display().to_string();
        cluster
            .run(
                "pg_ctl",
                &[
                    "-D", &data, "-l", &log, "-w", "-t", "30", "-o", &options, "start",
                ],
            )
            .await
            .with_context(|| {
                format!(
                    "starting Postgres on port {port} (is the port taken?); its log:\n{}",
                    std::fs::read_to_string(&cluster.log_path).unwrap_or_default()
                )
            })?;
        Ok(cluster)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub async fn create_database(&self, name: &str) -> anyhow::Result<()> {
        let port = self.port.to_string();
        let created = self
            .run(
                "createdb",
                &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", name],
            )
            .await;
        // Reusing a run directory: the database is already there.
        match created {
            Err(e) if format!("{e:#}").contains("already exists") => Ok(()),
            other => other,
        }
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        let data = self.data_dir.display().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"])
            .await
    }

    async fn run(&self, tool: &str, args: &[&str]) -> anyhow::Result<()> {
        let program = self.bin_dir.join(tool);
        let mut command = if cluster_owner()?.is_some() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let output = command
            .args(args)
            .stdin(Stdio::null())
            .output()
            .await
            .with_context(|| format!("running {}", program.display()))?;
        if !output.status.success() {
            bail!(
                "{tool} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
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

/// `Some(postgres)` when running as root (Postgres must then run as that user).
fn cluster_owner() -> anyhow::Result<Option<User>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    let user = User::from_name("postgres")
        .context("looking up the postgres user")?
        .context("running as root needs a `postgres` user to own the cluster (apt-get install postgresql creates it)")?;
    Ok(Some(user))
}
