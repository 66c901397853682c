//! Payments configuration from the environment.

use std::time::Duration;

use kit::config::{ConfigError, DatabaseSettings, ServerSettings, env_millis, env_or};

use crate::recovery::RecoverySettings;

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    /// `RISK_URL` (default `http://127.0.0.1:8082`).
    pub risk_url: String,
    /// `LEDGER_URL` (default `http://127.0.0.1:8083`).
    pub ledger_url: String,
    /// `RECOVERY_INTERVAL_MS` (5 s), `RECOVERY_STUCK_AFTER_MS` (15 s), `RECOVERY_BUDGET_MS` (10 s).
    pub recovery: RecoverySettings,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            server: ServerSettings::from_env(crate::IDENTITY.default_port)?,
            database: DatabaseSettings::from_env(10)?,
            risk_url: env_or("RISK_URL", "http://127.0.0.1:8082".to_owned())?,
            ledger_url: env_or("LEDGER_URL", "http://127.0.0.1:8083".to_owned())?,
            recovery: RecoverySettings {
                interval: env_millis("RECOVERY_INTERVAL_MS", Duration::from_secs(5))?,
                stuck_after: env_millis("RECOVERY_STUCK_AFTER_MS", Duration::from_secs(15))?,
                budget: env_millis("RECOVERY_BUDGET_MS", Duration::from_secs(10))?,
            },
        })
    }
}
