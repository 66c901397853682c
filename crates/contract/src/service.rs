//! The four services, their names and the ports they listen on by default: declared here once,
//! for the services' own configuration, the native fleet, the CLI's default URLs and the tests.

use std::{fmt, str::FromStr};

/// One service of the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    Gateway,
    Payments,
    Risk,
    Ledger,
}

impl Service {
    /// Edge first, as a payment flows.
    pub const ALL: [Service; 4] = [
        Service::Gateway,
        Service::Payments,
        Service::Risk,
        Service::Ledger,
    ];

    /// Start order: each service calls only those started before it.
    pub const START_ORDER: [Service; 4] = [
        Service::Ledger,
        Service::Risk,
        Service::Payments,
        Service::Gateway,
    ];

    /// Its name: the `OTEL_SERVICE_NAME`, the Prometheus `job`, the compose service.
    pub const fn name(self) -> &'static str {
        match self {
            Service::Gateway => "gateway",
            Service::Payments => "payments",
            Service::Risk => "risk",
            Service::Ledger => "ledger",
        }
    }

    /// The port it listens on unless `PORT` says otherwise.
    pub const fn default_port(self) -> u16 {
        match self {
            Service::Gateway => 8080,
            Service::Payments => 8081,
            Service::Risk => 8082,
            Service::Ledger => 8083,
        }
    }

    /// `http://127.0.0.1:<default port>`: where the native fleet runs it.
    pub fn local_url(self) -> String {
        format!("http://127.0.0.1:{}", self.default_port())
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Service {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Service::ALL
            .into_iter()
            .find(|service| service.name() == s)
            .ok_or_else(|| format!("unknown service {s:?}; one of gateway, payments, risk, ledger"))
    }
}
