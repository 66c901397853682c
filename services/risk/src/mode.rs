//! Risk's `detached-spawn` scenario mode, as `PUT /admin/mode` has always switched it, and the
//! `risk_mode{mode}` gauge (read from the switch at every scrape, so `PUT /admin/mode` and
//! `PUT /admin/scenarios/detached-spawn` can never disagree with it).

use kit::scenarios::ScenarioSwitch;
use prometheus::{
    IntGaugeVec, Opts,
    core::{Collector, Desc},
    proto::MetricFamily,
};

use crate::types::Mode;

/// `risk_mode{mode}`: 1 for the active deep-scoring mode, 0 for the other.
pub struct RiskModeCollector {
    switch: ScenarioSwitch,
    gauge: IntGaugeVec,
}

impl RiskModeCollector {
    pub fn new(switch: ScenarioSwitch) -> prometheus::Result<Self> {
        let gauge = IntGaugeVec::new(
            Opts::new(
                "risk_mode",
                "1 for the active deep-scoring mode, 0 for the other.",
            ),
            &["mode"],
        )?;
        Ok(Self { switch, gauge })
    }
}

impl Collector for RiskModeCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.gauge.desc()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let active = self.switch.get();
        for mode in Mode::ALL {
            self.gauge
                .with_label_values(&[mode.as_str()])
                .set(i64::from(mode == active));
        }
        self.gauge.collect()
    }
}
