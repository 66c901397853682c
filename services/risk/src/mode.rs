//! The current mode, switchable at run time and exported as `risk_mode{mode}`.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use prometheus::IntGaugeVec;

use crate::types::Mode;

/// Shared by every worker: a switch takes effect for the next request, no restart.
#[derive(Clone)]
pub struct ModeSwitch {
    fixed: Arc<AtomicBool>,
    gauge: IntGaugeVec,
}

impl ModeSwitch {
    pub fn new(initial: Mode, gauge: IntGaugeVec) -> Self {
        let switch = Self {
            fixed: Arc::new(AtomicBool::new(false)),
            gauge,
        };
        switch.set(initial);
        switch
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
                .with_label_values(&[each.as_str()])
                .set(i64::from(each == mode));
        }
    }
}
