//! `leakstorm bench`: the cost of looking (see [`crate::bench`]). Build in release first:
//! `cargo build --release --workspace --bins && target/release/leakstorm bench`.

use std::path::PathBuf;

use clap::Args;

use crate::bench::{self, BenchPlan};
use fleet::cli_args::ToolArgs;

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Payments/s at the fixed-rate point.
    #[arg(long, default_value_t = 200)]
    pub rate: u32,
    /// VUs sending back to back at the saturation point.
    #[arg(long, default_value_t = 32)]
    pub vus: u32,
    /// Seconds per measured point (the machine is shared: keep runs short).
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    #[arg(long, default_value_t = 5)]
    pub warmup_seconds: u64,
    /// Only the setups whose names contain this (repeatable), e.g. `--only console`.
    #[arg(long)]
    pub only: Vec<String>,
    /// Runs of every setup, interleaved; the table gives each figure's median over the rounds
    /// (fleet runs differ by ~10 % on a 2-core machine, so one round cannot show a few percent).
    #[arg(long, default_value_t = 1)]
    pub rounds: u32,
    /// Logs and the throwaway Postgres clusters go here.
    #[arg(long, default_value = ".leakstorm/bench")]
    pub run_dir: PathBuf,
    #[command(flatten)]
    pub tools: ToolArgs,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "leakstorm: this is a debug build; figures for the README come from `target/release/leakstorm bench`"
        );
    }
    let (report, dir) = bench::run(BenchPlan {
        rate: args.rate,
        vus: args.vus,
        seconds: args.seconds,
        warmup_seconds: args.warmup_seconds,
        run_dir: args.run_dir,
        k6: args.tools.k6,
        k6_dir: args.tools.k6_dir,
        out: args.tools.out,
        only: args.only,
        rounds: args.rounds,
    })
    .await?;
    print!("{}", bench::table::render(&report));
    eprintln!("leakstorm: wrote {}", dir.display());
    Ok(())
}
