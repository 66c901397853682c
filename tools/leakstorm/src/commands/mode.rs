//! `leakstorm mode [leaky|fixed]`: reads or switches risk's mode through its admin API.

use std::time::Duration;

use anyhow::Context;
use clap::Args;
use kit::deadline::Deadline;
use risk::{client::RiskClient, types::Mode};

#[derive(Debug, Clone, Args)]
pub struct ModeArgs {
    /// Switch to this mode; without it, print the current one.
    #[arg(value_parser = ["leaky", "fixed"])]
    pub mode: Option<String>,
    #[arg(long, env = "RISK_URL", default_value = "http://127.0.0.1:8082")]
    pub risk_url: String,
    #[arg(
        long,
        env = "ADMIN_TOKEN",
        default_value = "admin_leakstorm_demo",
        hide_env_values = true
    )]
    pub admin_token: String,
}

pub async fn run(args: ModeArgs) -> anyhow::Result<()> {
    let risk = RiskClient::new(&args.risk_url)?;
    let deadline = Deadline::after(Duration::from_secs(5));
    let mode = match args.mode.as_deref() {
        None => risk.mode(&args.admin_token, deadline).await?,
        Some(wanted) => {
            let wanted: Mode = wanted.parse().map_err(anyhow::Error::msg)?;
            risk.set_mode(wanted, &args.admin_token, deadline).await?
        }
    };
    println!("{}", mode.as_str());
    Ok(())
}

/// Risk's mode before the replay, put back afterwards (also after a failed or interrupted run).
pub struct ModeRestore {
    risk: RiskClient,
    admin_token: String,
    mode: Mode,
}

impl ModeRestore {
    pub async fn read(risk_url: &str, admin_token: &str) -> anyhow::Result<Self> {
        let risk = RiskClient::new(risk_url)?;
        let mode = risk
            .mode(admin_token, Deadline::after(Duration::from_secs(5)))
            .await
            .context("reading risk's mode before the replay")?;
        Ok(Self {
            risk,
            admin_token: admin_token.to_owned(),
            mode,
        })
    }

    pub async fn apply(self) {
        let deadline = Deadline::after(Duration::from_secs(5));
        match self
            .risk
            .set_mode(self.mode, &self.admin_token, deadline)
            .await
        {
            Ok(mode) => eprintln!(
                "leakstorm: risk is back in the {} mode it had before the replay",
                mode.as_str()
            ),
            Err(err) => eprintln!(
                "leakstorm: WARNING: could not put risk back into {} mode ({err}); \
                 it may be left in another mode: check with `make ps` / `leakstorm mode`",
                self.mode.as_str()
            ),
        }
    }
}
