//! Arguments several subcommands share: where the services answer, the admin token, and where
//! k6, its scripts and the reports are.

use std::path::PathBuf;

use clap::Args;
use contract::service::Service;

/// Where k6, its scripts and the reports are.
#[derive(Debug, Clone, Args)]
pub struct ToolArgs {
    /// The k6 binary.
    #[arg(long, default_value = "k6")]
    pub k6: PathBuf,
    /// The directory with the k6 scripts.
    #[arg(long, default_value = "k6")]
    pub k6_dir: PathBuf,
    /// Reports go to <out>/<run>/.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
}

/// Where the four services answer; the defaults are the native and Docker fleets' ports.
#[derive(Debug, Clone, Args)]
pub struct ServiceUrls {
    #[arg(long, env = "GATEWAY_URL", default_value_t = Service::Gateway.local_url())]
    pub gateway_url: String,
    #[arg(long, env = "PAYMENTS_URL", default_value_t = Service::Payments.local_url())]
    pub payments_url: String,
    #[arg(long, env = "RISK_URL", default_value_t = Service::Risk.local_url())]
    pub risk_url: String,
    #[arg(long, env = "LEDGER_URL", default_value_t = Service::Ledger.local_url())]
    pub ledger_url: String,
}

impl ServiceUrls {
    /// `(service, base URL)` for each of the four, gateway first.
    pub fn services(&self) -> Vec<(String, String)> {
        [
            ("gateway", &self.gateway_url),
            ("payments", &self.payments_url),
            ("risk", &self.risk_url),
            ("ledger", &self.ledger_url),
        ]
        .into_iter()
        .map(|(name, url)| (name.to_owned(), url.clone()))
        .collect()
    }
}

/// The bearer token the services' `/admin` and `/debug` endpoints take.
#[derive(Debug, Clone, Args)]
pub struct AdminArgs {
    #[arg(
        long,
        env = "ADMIN_TOKEN",
        default_value = "admin_leakstorm_demo",
        hide_env_values = true
    )]
    pub admin_token: String,
}
