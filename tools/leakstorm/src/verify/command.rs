//! `leakstorm verify`: checks the money invariants on a fleet's database and prints them.

use std::time::Duration;

use anyhow::bail;
use clap::Args;

use crate::verify::check as verify;

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// The fleet's database (the native fleet's by default).
    #[arg(
        long,
        env = "LEAKSTORM_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:55432/leakstorm"
    )]
    pub database_url: String,
    /// Longest a payment may stay pending (recovery settles stuck ones after 15 s by default).
    #[arg(long, default_value_t = 60)]
    pub pending_bound_secs: u64,
}

pub async fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let invariants = verify::check(
        &args.database_url,
        Duration::from_secs(args.pending_bound_secs),
    )
    .await?;
    for (what, count) in verify::totals(&args.database_url).await? {
        println!("  {what:<20} {count}");
    }
    print_invariants(&invariants);
    let broken = verify::broken(&invariants);
    if !broken.is_empty() {
        bail!("invariants violated: {}", broken.join("; "));
    }
    Ok(())
}

pub fn print_invariants(invariants: &[verify::Invariant]) {
    for invariant in invariants {
        let mark = if invariant.holds() { "ok  " } else { "FAIL" };
        println!(
            "{mark} {} ({} violations)",
            invariant.name, invariant.violations
        );
        for example in &invariant.examples {
            println!("       {example}");
        }
    }
}
