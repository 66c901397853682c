//! `leakstorm tasks`: live tasks of the fleet's services grouped by the code that spawned them,
//! with the oldest one's age.

use clap::Args;
use contract::service::Service;

use fleet::cli_args::AdminArgs;
use fleet::debug_tasks as tasks;

#[derive(Debug, Clone, Args)]
pub struct TasksArgs {
    /// One service (gateway, payments, risk, ledger); default all four.
    #[arg(long, value_parser = ["gateway", "payments", "risk", "ledger"])]
    pub service: Option<String>,
    /// The service's base URL (instead of its default local port).
    #[arg(long)]
    pub url: Option<String>,
    #[command(flatten)]
    pub admin: AdminArgs,
}

pub async fn run(args: TasksArgs) -> anyhow::Result<()> {
    let targets: Vec<(String, String)> = match (&args.service, &args.url) {
        (service, Some(url)) => vec![(service.clone().unwrap_or_else(|| url.clone()), url.clone())],
        (Some(service), None) => Service::ALL
            .into_iter()
            .filter(|s| s.name() == service)
            .map(|s| (s.name().to_owned(), s.local_url()))
            .collect(),
        (None, None) => Service::ALL
            .into_iter()
            .map(|s| (s.name().to_owned(), s.local_url()))
            .collect(),
    };
    let mut failures = 0;
    for (name, url) in targets {
        match tasks::fetch(&url, &args.admin.admin_token).await {
            Ok(report) => print!("{}", tasks::render(&name, &report)),
            Err(e) => {
                failures += 1;
                eprintln!("{name}: {e:#}");
            }
        }
    }
    anyhow::ensure!(failures == 0, "{failures} service(s) did not answer");
    Ok(())
}
