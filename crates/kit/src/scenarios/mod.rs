//! Leak scenarios: the five ways a Rust service leaks that this lab replays, each with a leaky
//! and a fixed mode, switched at run time without a restart.
//!
//! Each scenario lives in the service where it fits a payment fleet (see [`Scenario::host`]),
//! in a file of its own with the bug and the fix side by side. This module is the plumbing they
//! share: the names, the mode switches, the `leak_scenario_mode{scenario,mode}` gauge, and the
//! admin API ([`http`]): `GET /admin/scenarios`, `GET|PUT /admin/scenarios/{name}` (admin
//! token). Initial modes come from `LEAK_SCENARIOS` (`unbounded-queue=leaky,...`); every
//! scenario but `detached-spawn` (whose default is risk's `RISK_MODE`, leaky) starts fixed, so
//! that a storm shows one leak at a time.

pub mod http;

use std::{
    fmt,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use prometheus::{IntGaugeVec, Opts};
use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;

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
    pub fn host(self) -> &'static str {
        match self {
            Scenario::DetachedSpawn | Scenario::BlockingPileup => "risk",
            Scenario::UnboundedQueue | Scenario::OrphanedLoop => "payments",
            Scenario::HeldConnection => "ledger",
        }
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

/// One scenario's mode, shared by every worker: a switch takes effect for the next request.
#[derive(Clone)]
pub struct ScenarioSwitch {
    scenario: Scenario,
    fixed: Arc<AtomicBool>,
    gauge: IntGaugeVec,
}

impl ScenarioSwitch {
    pub fn scenario(&self) -> Scenario {
        self.scenario
    }

    pub fn get(&self) -> Mode {
        if self.fixed.load(Ordering::Relaxed) {
            Mode::Fixed
        } else {
            Mode::Leaky
        }
    }

    pub fn set(&self, mode: Mode) {
        self.fixed.store(mode == Mode::Fixed, Ordering::Relaxed);
        for each in Mode::ALL {
            self.gauge
                .with_label_values(&[self.scenario.as_str(), each.as_str()])
                .set(i64::from(each == mode));
        }
    }
}

/// The scenarios a service hosts.
#[derive(Clone)]
pub struct Scenarios {
    switches: Vec<ScenarioSwitch>,
    gauge: IntGaugeVec,
}

impl Scenarios {
    /// None yet; registers `leak_scenario_mode{scenario,mode}` on the service's metrics.
    pub fn new(metrics: &Metrics) -> anyhow::Result<Self> {
        let gauge = IntGaugeVec::new(
            Opts::new(
                "leak_scenario_mode",
                "1 for each leak scenario's active mode (leaky or fixed), 0 for the other.",
            ),
            &["scenario", "mode"],
        )?;
        metrics.registry().register(Box::new(gauge.clone()))?;
        Ok(Self {
            switches: Vec::new(),
            gauge,
        })
    }

    /// Hosts `scenario`, starting in `LEAK_SCENARIOS`'s mode for it, else `default`.
    pub fn host(&mut self, scenario: Scenario, default: Mode) -> anyhow::Result<ScenarioSwitch> {
        let initial = initial_mode(scenario)?.unwrap_or(default);
        let switch = ScenarioSwitch {
            scenario,
            fixed: Arc::new(AtomicBool::new(false)),
            gauge: self.gauge.clone(),
        };
        switch.set(initial);
        self.switches.push(switch.clone());
        Ok(switch)
    }

    pub fn get(&self, scenario: Scenario) -> Option<&ScenarioSwitch> {
        self.switches.iter().find(|s| s.scenario == scenario)
    }

    pub fn all(&self) -> &[ScenarioSwitch] {
        &self.switches
    }
}

/// The mode `LEAK_SCENARIOS` (`name=mode,...`) sets for `scenario`, if any.
fn initial_mode(scenario: Scenario) -> anyhow::Result<Option<Mode>> {
    let spec = std::env::var("LEAK_SCENARIOS").unwrap_or_default();
    for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, mode) = entry
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("LEAK_SCENARIOS: {entry:?} is not name=mode"))?;
        let name: Scenario = name.trim().parse().map_err(anyhow::Error::msg)?;
        let mode: Mode = mode.trim().parse().map_err(anyhow::Error::msg)?;
        if name == scenario {
            return Ok(Some(mode));
        }
    }
    Ok(None)
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
