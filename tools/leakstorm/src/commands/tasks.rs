//! `leakstorm tasks`: live tasks of the fleet's services grouped by the code that spawned them,
//! with where a sample of each group is parked.

use clap::Args;

use super::AdminArgs;
use crate::tasks;

/// The services and their default local URLs (DESIGN.md ports).
const SERVICES: [(&str, &str); 4] = [
    ("gateway", "http://127.0.0.1:8080"),
    ("payments", "http://127.0.0.1:8081"),
    ("risk", "http://127.0.0.1:8082"),
    ("ledger", "http://127.0.0.1:8083"),
];

#[derive(Debug, Clone, Args)]
pub struct TasksArgs {
    /// One service (gateway, payments, risk, ledger); default all four.
    #[arg(long, value_parser = ["gateway", "payments", "risk", "ledger"])]
    pub service: Option<String>,
    /// The service's base URL (instead of its default local port).
    #[arg(long)]
    pub url: Option<String>,
    /// Skip the task dump: counts and ages only, no stacks (cheaper for the service).
    #[arg(long)]
    pub no_dump: bool,
    /// Print each site's sample stack, not only where it is parked.
    #[arg(long)]
    pub stacks: bool,
    #[command(flatten)]
    pub admin: AdminArgs,
}

pub async fn run(args: TasksArgs) -> anyhow::Result<()> {
    let targets: Vec<(String, String)> = match (&args.service, &args.url) {
        (service, Some(url)) => vec![(service.clone().unwrap_or_else(|| url.clone()), url.clone())],
        (Some(service), None) => SERVICES
            .iter()
            .filter(|(name, _)| name == service)
            .map(|(n, u)| ((*n).to_owned(), (*u).to_owned()))
            .collect(),
        (None, None) => SERVICES
            .iter()
            .map(|(n, u)| ((*n).to_owned(), (*u).to_owned()))
            .collect(),
    };
    let mut failures = 0;
    for (name, url) in targets {
        match tasks::fetch(&url, &args.admin.admin_token, !args.no_dump).await {
            Ok(report) => print!("{}", tasks::render(&name, &report, args.stacks)),
            Err(e) => {
                failures += 1;
                eprintln!("{name}: {e:#}");
            }
        }
    }
    anyhow::ensure!(failures == 0, "{failures} service(s) did not answer");
    Ok(())
}
