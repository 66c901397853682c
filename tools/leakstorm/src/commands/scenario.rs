//! `leakstorm scenario [NAME [leaky|fixed]]`: lists the leak scenarios with their modes, or
//! reads or switches one, through the admin API of the service that hosts it.

use clap::Args;
use kit::scenarios::{Mode, Scenario};

use crate::scenarios::ScenarioClient;

#[derive(Debug, Clone, Args)]
pub struct ScenarioArgs {
    /// A scenario: detached-spawn, unbounded-queue, held-connection, orphaned-loop,
    /// blocking-pileup. Without it, every scenario is listed.
    pub scenario: Option<String>,
    /// Switch it to this mode; without it, print its mode.
    #[arg(value_parser = ["leaky", "fixed"])]
    pub mode: Option<String>,
    #[arg(long, env = "PAYMENTS_URL", default_value = "http://127.0.0.1:8081")]
    pub payments_url: String,
    #[arg(long, env = "RISK_URL", default_value = "http://127.0.0.1:8082")]
    pub risk_url: String,
    #[arg(long, env = "LEDGER_URL", default_value = "http://127.0.0.1:8083")]
    pub ledger_url: String,
    #[arg(
        long,
        env = "ADMIN_TOKEN",
        default_value = "admin_leakstorm_demo",
        hide_env_values = true
    )]
    pub admin_token: String,
}

pub async fn run(args: ScenarioArgs) -> anyhow::Result<()> {
    let client = ScenarioClient::new(
        vec![
            ("payments".into(), args.payments_url.clone()),
            ("risk".into(), args.risk_url.clone()),
            ("ledger".into(), args.ledger_url.clone()),
        ],
        &args.admin_token,
    )?;
    let Some(name) = args.scenario else {
        for (scenario, mode) in client.snapshot().await? {
            println!(
                "{:<16} {:<6} ({})",
                scenario.as_str(),
                mode.as_str(),
                scenario.host()
            );
        }
        return Ok(());
    };
    let scenario: Scenario = name.parse().map_err(anyhow::Error::msg)?;
    let mode = match args.mode {
        None => client.get(scenario).await?,
        Some(mode) => {
            let mode: Mode = mode.parse().map_err(anyhow::Error::msg)?;
            client.set(scenario, mode).await?
        }
    };
    println!("{}", mode.as_str());
    Ok(())
}
