//! `leakstorm drill`: a game day — hidden leaks (or none) on fresh fleets, answered by a person at
//! the prompt or by `diagnose` (`--auto`), scored against the truth.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;

use crate::drill::{self, DrillConfig, StormSettings, report};
use fleet::{
    cli_args::{AdminArgs, ToolArgs},
    command::FleetArgs,
};

#[derive(Debug, Clone, Args)]
pub struct DrillArgs {
    /// Shuffles the deck: the same seed deals the same order (default: from the clock, printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Rounds; every seven hold each scenario once and two controls.
    #[arg(long, default_value_t = 7)]
    pub rounds: usize,
    /// `diagnose` answers instead of a person; exits non-zero on any wrong round, and on alerts
    /// other than the truth's.
    #[arg(long)]
    pub auto: bool,
    /// Each round's storm.
    #[arg(long, default_value_t = 50)]
    pub storm_secs: u64,
    #[arg(long, default_value_t = 20)]
    pub rate: u32,
    #[arg(long, default_value_t = 0.2)]
    pub deep_share: f64,
    #[arg(long, default_value_t = 0.8)]
    pub large_share: f64,
    /// Seconds a person still has to answer once the storm is over.
    #[arg(long, default_value_t = 60)]
    pub answer_grace_secs: u64,
    /// The checkout whose source is the answer key (spawn lines).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub admin: AdminArgs,
    #[command(flatten)]
    pub tools: ToolArgs,
}

/// The incident configuration of the quick replay: the slow dependency at a constant 30 s, so
/// that a short storm shows each leak plainly. Every scenario starts fixed; the card decides.
const FLEET_ENV: [(&str, &str, &str); 7] = [
    ("risk", "RISK_MODE", "fixed"),
    ("risk", "RISK_SLOW_DEPENDENCY_MS", "30000"),
    ("risk", "RISK_SLOW_DEPENDENCY_CAPACITY", "0"),
    ("risk", "RISK_DEEP_SHARDS", "4"),
    ("risk", "RISK_SHARD_BUFFER_BYTES", "4194304"),
    ("risk", "RISK_DEEP_BUDGET_MS", "300"),
    ("risk", "RISK_DEEP_MIN_AMOUNT", "50000"),
];

pub async fn run(args: DrillArgs) -> anyhow::Result<()> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs())
    });
    let mut fleet = args.fleet.options();
    fleet.service_env.extend(
        FLEET_ENV
            .iter()
            .map(|(svc, k, v)| (*svc, (*k).to_owned(), (*v).to_owned())),
    );
    fleet
        .env
        .push(("ADMIN_TOKEN".into(), args.admin.admin_token.clone()));
    let config = DrillConfig {
        seed,
        rounds: args.rounds.max(1),
        auto: args.auto,
        storm: StormSettings {
            seconds: args.storm_secs,
            rate: args.rate,
            deep_share: args.deep_share.clamp(0.0, 1.0),
            large_share: args.large_share.clamp(0.0, 1.0),
        },
        fleet,
        repo: args.repo.clone(),
        k6: args.tools.k6.clone(),
        k6_dir: args.tools.k6_dir.clone(),
        admin_token: args.admin.admin_token.clone(),
        answer_grace_s: args.answer_grace_secs,
    };
    eprintln!(
        "leakstorm drill: seed {seed}, {} rounds ({} player); replay it with --seed {seed}",
        config.rounds,
        if config.auto { "auto" } else { "human" }
    );
    let report = drill::run(&config).await?;
    let dir = args.tools.out.join(format!(
        "drill-{}-seed{seed}",
        chrono::Utc::now().format("%Y%m%d-%H%M%S")
    ));
    report::write(&report, &dir)?;
    println!("{}", report::markdown(&report));
    eprintln!("leakstorm drill: written to {}", dir.display());
    if config.auto && !report.passed() {
        bail!(
            "the auto drill got {} of {} rounds right, alerts {} of {}",
            report.score.right,
            report.score.rounds,
            report.score.alerts.right,
            report.score.alerts.of
        );
    }
    Ok(())
}
