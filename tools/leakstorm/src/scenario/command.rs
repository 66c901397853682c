//! `leakstorm scenario [NAME [leaky|fixed]]`: lists the leak scenarios with their modes, or
//! reads or switches one, through the admin API of the service that hosts it.

use clap::Args;
use contract::scenario::{Mode, Scenario};

use contract::admin::ScenarioClient;
use fleet::cli_args::{AdminArgs, ServiceUrls};

#[derive(Debug, Clone, Args)]
pub struct ScenarioArgs {
    /// A scenario: detached-spawn, unbounded-queue, held-connection, orphaned-loop,
    /// blocking-pileup. Without it, every scenario is listed.
    pub scenario: Option<String>,
    /// Switch it to this mode; without it, print its mode.
    #[arg(value_parser = ["leaky", "fixed"])]
    pub mode: Option<String>,
    /// Print the scenarios and the services that host them as JSON, without asking a fleet
    /// (`[{"scenario", "host"}]`: what the rehearsal reads instead of a copy of the list).
    #[arg(long, conflicts_with_all = ["scenario", "mode"])]
    pub catalog: bool,
    #[command(flatten)]
    pub urls: ServiceUrls,
    #[command(flatten)]
    pub admin: AdminArgs,
}

pub async fn run(args: ScenarioArgs) -> anyhow::Result<()> {
    if args.catalog {
        let catalog: Vec<serde_json::Value> = Scenario::ALL
            .iter()
            .map(|s| serde_json::json!({ "scenario": s, "host": s.host() }))
            .collect();
        println!("{}", serde_json::to_string_pretty(&catalog)?);
        return Ok(());
    }
    let client = ScenarioClient::new(args.urls.services(), &args.admin.admin_token)?;
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
