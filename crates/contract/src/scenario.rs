//! The leak scenarios by their stable names (used by the replay, the admin API, the alerts and
//! the panels), their two modes, and the admin API's bodies: `GET|PUT /admin/scenarios/{name}`
//! and risk's `GET|PUT /admin/mode`.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::service::Service;

/// The two behaviours of every scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Leaky,
    Fixed,
}

impl Mode {
    pub const ALL: [Mode; 2] = [Mode::Leaky, Mode::Fixed];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Leaky => "leaky",
            Mode::Fixed => "fixed",
        }
    }
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "leaky" => Ok(Mode::Leaky),
            "fixed" => Ok(Mode::Fixed),
            other => Err(format!(
                "mode must be \"leaky\" or \"fixed\", got {other:?}"
            )),
        }
    }
}

/// The scenarios, by their stable names (used by the replay, the admin API, alerts and panels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// `tokio::spawn` from a request, its `JoinHandle` dropped (risk: `deep_scoring.rs`).
    DetachedSpawn,
    /// A producer outrunning its consumer on an unbounded channel (payments: `webhooks.rs`).
    UnboundedQueue,
    /// A pooled connection held across a slow await (ledger: `screening.rs`).
    HeldConnection,
    /// A per-request loop whose stop signal is lost (payments: `lease.rs`).
    OrphanedLoop,
    /// Blocking work handed to `spawn_blocking` without a bound (risk: `model_scoring.rs`).
    BlockingPileup,
}

impl Scenario {
    pub const ALL: [Scenario; 5] = [
        Scenario::DetachedSpawn,
        Scenario::UnboundedQueue,
        Scenario::HeldConnection,
        Scenario::OrphanedLoop,
        Scenario::BlockingPileup,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::DetachedSpawn => "detached-spawn",
            Scenario::UnboundedQueue => "unbounded-queue",
            Scenario::HeldConnection => "held-connection",
            Scenario::OrphanedLoop => "orphaned-loop",
            Scenario::BlockingPileup => "blocking-pileup",
        }
    }

    /// The service that hosts it.
    pub fn service(self) -> Service {
        match self {
            Scenario::DetachedSpawn | Scenario::BlockingPileup => Service::Risk,
            Scenario::UnboundedQueue | Scenario::OrphanedLoop => Service::Payments,
            Scenario::HeldConnection => Service::Ledger,
        }
    }

    /// The name of the service that hosts it.
    pub fn host(self) -> &'static str {
        self.service().name()
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scenario::ALL
            .into_iter()
            .find(|scenario| scenario.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown scenario {s:?}; one of {}", names.join(", "))
            })
    }
}

/// One scenario, as the admin API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScenarioState {
    pub scenario: Scenario,
    pub mode: Mode,
    /// The service hosting it.
    pub host: String,
}

/// `GET /admin/scenarios`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScenarioList {
    pub scenarios: Vec<ScenarioState>,
}

/// The body of `PUT /admin/scenarios/{name}` and of risk's `PUT /admin/mode` (and their answers).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ModeBody {
    pub mode: Mode,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_each_has_a_host() {
        for scenario in Scenario::ALL {
            assert_eq!(scenario.as_str().parse::<Scenario>(), Ok(scenario));
            assert!(["risk", "payments", "ledger"].contains(&scenario.host()));
        }
        assert!("detached".parse::<Scenario>().is_err());
        assert_eq!(
            serde_json::to_string(&Scenario::HeldConnection).unwrap(),
            "\"held-connection\""
        );
    }
}
