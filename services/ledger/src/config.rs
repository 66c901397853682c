//! Ledger configuration from the environment.

use std::time::Duration;

use kit::config::{ConfigError, DatabaseSettings, ServerSettings, env_millis, env_or};

use crate::screening::ScreeningSettings;

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    /// `LEDGER_SCREENING_*`: the compliance screening (see `screening`).
    pub screening: ScreeningSettings,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            server: ServerSettings::from_env(crate::IDENTITY.default_port)?,
            database: DatabaseSettings::from_env(10)?,
            screening: ScreeningSettings {
                latency: env_millis("LEDGER_SCREENING_LATENCY_MS", Duration::from_secs(1))?,
                min_amount: env_or("LEDGER_SCREENING_MIN_AMOUNT", 20_000)?,
            },
        })
    }
}
