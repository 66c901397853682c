//! `leakstorm mode [leaky|fixed]`: reads or switches risk's mode through its admin API.

use clap::Args;
use contract::{admin::ScenarioClient, scenario::Mode, service::Service};

use fleet::cli_args::AdminArgs;

#[derive(Debug, Clone, Args)]
pub struct ModeArgs {
    /// Switch to this mode; without it, print the current one.
    #[arg(value_parser = ["leaky", "fixed"])]
    pub mode: Option<String>,
    #[arg(long, env = "RISK_URL", default_value_t = Service::Risk.local_url())]
    pub risk_url: String,
    #[command(flatten)]
    pub admin: AdminArgs,
}

pub async fn run(args: ModeArgs) -> anyhow::Result<()> {
    let risk = ScenarioClient::new(
        vec![("risk".to_owned(), args.risk_url.clone())],
        &args.admin.admin_token,
    )?;
    let mode = match args.mode.as_deref() {
        None => risk.risk_mode().await?,
        Some(wanted) => {
            let wanted: Mode = wanted.parse().map_err(anyhow::Error::msg)?;
            risk.set_risk_mode(wanted).await?
        }
    };
    println!("{}", mode.as_str());
    Ok(())
}
