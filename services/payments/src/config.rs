//! Payments configuration from the environment.

use contract::service::Service;
use std::time::Duration;

use kit::config::{ConfigError, DatabaseSettings, ServerSettings, env_millis, env_or};

use crate::{recovery::RecoverySettings, webhooks::WebhookSettings};

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    /// `RISK_URL` (default risk's local URL, `http://127.0.0.1:8082`).
    pub risk_url: String,
    /// `LEDGER_URL` (default `http://127.0.0.1:8083`).
    pub ledger_url: String,
    /// `RECOVERY_INTERVAL_MS` (5 s), `RECOVERY_STUCK_AFTER_MS` (15 s), `RECOVERY_BUDGET_MS` (10 s).
    pub recovery: RecoverySettings,
    /// `PAYMENTS_WEBHOOK_*`: the merchant endpoint's pace and the queue (see `webhooks`).
    pub webhooks: WebhookSettings,
    /// `PAYMENTS_LEASE_RENEW_MS`: how often a processing lease is renewed (1 s).
    pub lease_renew_every: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            server: ServerSettings::from_env(crate::IDENTITY.default_port)?,
            database: DatabaseSettings::from_env(10)?,
            risk_url: env_or("RISK_URL", Service::Risk.local_url())?,
            ledger_url: env_or("LEDGER_URL", Service::Ledger.local_url())?,
            recovery: RecoverySettings {
                interval: env_millis("RECOVERY_INTERVAL_MS", Duration::from_secs(5))?,
                stuck_after: env_millis("RECOVERY_STUCK_AFTER_MS", Duration::from_secs(15))?,
                budget: env_millis("RECOVERY_BUDGET_MS", Duration::from_secs(10))?,
            },
            webhooks: WebhookSettings {
                latency: env_millis("PAYMENTS_WEBHOOK_LATENCY_MS", Duration::from_millis(200))?,
                capacity: env_or("PAYMENTS_WEBHOOK_QUEUE_CAPACITY", 256)?,
                receipt_bytes: env_or("PAYMENTS_WEBHOOK_RECEIPT_BYTES", 128 * 1024)?,
            },
            lease_renew_every: env_millis("PAYMENTS_LEASE_RENEW_MS", Duration::from_secs(1))?,
        })
    }
}
