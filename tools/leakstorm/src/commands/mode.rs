//! `leakstorm mode [leaky|fixed]`: reads or switches risk's mode through its admin API.

use std::time::Duration;

use clap::Args;
use kit::deadline::Deadline;
use risk::{client::RiskClient, types::Mode};

use super::AdminArgs;

#[derive(Debug, Clone, Args)]
pub struct ModeArgs {
    /// Switch to this mode; without it, print the current one.
    #[arg(value_parser = ["leaky", "fixed"])]
    pub mode: Option<String>,
    #[arg(long, env = "RISK_URL", default_value = "http://127.0.0.1:8082")]
    pub risk_url: String,
    #[command(flatten)]
    pub admin: AdminArgs,
}

pub async fn run(args: ModeArgs) -> anyhow::Result<()> {
    let risk = RiskClient::new(&args.risk_url)?;
    let deadline = Deadline::after(Duration::from_secs(5));
    let mode = match args.mode.as_deref() {
        None => risk.mode(&args.admin.admin_token, deadline).await?,
        Some(wanted) => {
            let wanted: Mode = wanted.parse().map_err(anyhow::Error::msg)?;
            risk.set_mode(wanted, &args.admin.admin_token, deadline)
                .await?
        }
    };
    println!("{}", mode.as_str());
    Ok(())
}
