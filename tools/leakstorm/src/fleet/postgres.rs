//! A throwaway Postgres cluster made from the local PostgreSQL server binaries. Finding them is
//! `scripts/pg-bindir.sh`'s job (PG_BIN_DIR, pg_config, PATH, Homebrew kegs, Debian's and PGDG's
//! layouts): the tests' `scripts/with-postgres.sh` and `make`'s preflight use the same script, so
//! the fleet and the tests cannot disagree about which server they run. The server refuses to run
//! as root, so as root every command runs as the `postgres` user.

use std::{
    ffi::OsString,
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

const LOOKUP_SCRIPT: &str = "scripts/pg-bindir.sh";

/// The directory holding `initdb`, `pg_ctl` and `postgres`, as `scripts/pg-bindir.sh` finds it.
pub async fn find_bin_dir() -> anyhow::Result<PathBuf> {
    // The checkout `make` runs us from, then the one this binary was built from.
    let mut scripts = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        scripts.push(cwd.join(LOOKUP_SCRIPT));
    }
    scripts.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(LOOKUP_SCRIPT),
    );
    find_bin_dir_with(&scripts, std::env::var_os("PG_BIN_DIR")).await
}

/// Runs the first of `scripts` that exists (it honours PG_BIN_DIR itself). Without one (a binary
/// installed away from its checkout), only an explicit `pg_bin_dir` will do: no second lookup here.
async fn find_bin_dir_with(
    scripts: &[PathBuf],
    pg_bin_dir: Option<OsString>,
) -> anyhow::Result<PathBuf> {
    let Some(script) = scripts.iter().find(|s| s.is_file()) else {
        return pg_bin_dir.map(PathBuf::from).with_context(|| {
            format!(
                "cannot look for PostgreSQL's server binaries: {LOOKUP_SCRIPT} is not here (run \
                 leakstorm from the repository root), and PG_BIN_DIR is unset (set it to the \
                 directory holding initdb, or pass --database-url)"
            )
        });
    };
    let output = Command::new("sh")
        .arg(script)
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("running {}", script.display()))?;
    if !output.status.success() {
        // The script's one line names what to install.
        bail!(
            "{}; or pass --database-url (LEAKSTORM_DATABASE_URL) to use a running server",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let dir = String::from_utf8(output.stdout)
        .with_context(|| format!("{} printed a path that is not UTF-8", script.display()))?;
    Ok(PathBuf::from(dir.trim_end_matches('\n')))
}

impl PgCluster {
    /// Initialises (if needed) and starts a cluster in `dir` on 127.0.0.1:`port`.
    pub async fn start(dir: &Path, port: u16) -> anyhow::Result<Self> {
        let bin_dir = find_bin_dir().await?;
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
        .context("running as root needs a `postgres` user to own the cluster (the PostgreSQL server package creates it)")?;
    Ok(Some(user))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::find_bin_dir_with;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pg-lookup-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, text).expect("write");
    }

    /// A keg as Homebrew lays it out (postgresql@16 is keg-only: not on PATH).
    fn fake_keg(prefix: &Path, version: u32) -> PathBuf {
        let bin = prefix.join(format!("opt/postgresql@{version}/bin"));
        for tool in ["initdb", "pg_ctl", "postgres"] {
            write(&bin.join(tool), "#!/bin/sh\n");
            let mut perms = std::fs::metadata(bin.join(tool))
                .expect("meta")
                .permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
            std::fs::set_permissions(bin.join(tool), perms).expect("chmod");
        }
        bin
    }

    #[tokio::test]
    async fn the_repository_script_finds_a_homebrew_keg() {
        let dir = temp_dir();
        let keg = fake_keg(&dir.join("brew"), 16);
        fake_keg(&dir.join("brew"), 14);
        // The real script, with nothing on PATH and the fixed paths moved under an empty root.
        let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-bindir.sh");
        let wrapper = dir.join("lookup.sh");
        write(
            &wrapper,
            &format!(
                "unset PG_BIN_DIR\nHOMEBREW_PREFIX='{}' PG_LOOKUP_ROOT='{}' PATH=/nonexistent exec /bin/sh '{}'\n",
                dir.join("brew").display(),
                dir.join("root").display(),
                real.display()
            ),
        );
        let found = find_bin_dir_with(&[dir.join("absent.sh"), wrapper], None).await;
        assert_eq!(found.expect("found"), keg);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn find_bin_dir_answers_what_the_repository_script_answers() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-bindir.sh");
        let direct = std::process::Command::new("sh")
            .arg(&script)
            .output()
            .expect("runs");
        let found = super::find_bin_dir().await;
        if direct.status.success() {
            let printed = String::from_utf8(direct.stdout).expect("UTF-8");
            assert_eq!(found.expect("found"), PathBuf::from(printed.trim_end()));
        } else {
            assert!(found.is_err(), "{found:?}");
        }
    }

    #[tokio::test]
    async fn the_scripts_explanation_becomes_the_error() {
        let dir = temp_dir();
        let script = dir.join("lookup.sh");
        write(
            &script,
            "echo 'no PostgreSQL server binaries found: brew install postgresql@16' >&2\nexit 1\n",
        );
        let error = find_bin_dir_with(&[script], None).await.expect_err("fails");
        let message = format!("{error:#}");
        assert!(message.contains("brew install postgresql@16"), "{message}");
        assert!(message.contains("--database-url"), "{message}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn without_the_script_only_pg_bin_dir_will_do() {
        let absent = [PathBuf::from("/nonexistent/scripts/pg-bindir.sh")];
        let found = find_bin_dir_with(&absent, Some("/opt/pg/bin".into())).await;
        assert_eq!(found.expect("PG_BIN_DIR"), PathBuf::from("/opt/pg/bin"));
        let error = find_bin_dir_with(&absent, None).await.expect_err("fails");
        let message = format!("{error:#}");
        assert!(
            message.contains("scripts/pg-bindir.sh") && message.contains("PG_BIN_DIR"),
            "{message}"
        );
    }
}
