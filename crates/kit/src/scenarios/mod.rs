//! Leak scenarios: the five ways a Rust service leaks that this lab replays, each with a leaky
//! and a fixed mode, switched at run time without a restart. The names and modes are the
//! contract's ([`contract::scenario`]); the switches, the gauge and the admin routes are here.
//!
//! Each scenario lives in the service where it fits a payment fleet (see [`Scenario::host`]),
//! in a file of its own with the bug and the fix side by side. This module is the plumbing they
//! share: the names, the mode switches, the `leak_scenario_mode{scenario,mode}` gauge, and the
//! admin API ([`http`]): `GET /admin/scenarios`, `GET|PUT /admin/scenarios/{name}` (admin
//! token). Initial modes come from `LEAK_SCENARIOS` (`unbounded-queue=leaky,...`); every
//! scenario but `detached-spawn` (whose default is risk's `RISK_MODE`, leaky) starts fixed, so
//! that a storm shows one leak at a time.

pub mod http;

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use prometheus::{IntGaugeVec, Opts};

use crate::metrics::Metrics;

pub use contract::scenario::{Mode, Scenario};

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
