//! Gateway configuration from the environment.

use contract::service::Service;
use std::time::Duration;

use kit::config::{ConfigError, DatabaseSettings, ServerSettings, env_millis, env_or};

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    /// `PAYMENTS_URL` (default `http://127.0.0.1:8081`).
    pub payments_url: String,
    /// `UPSTREAM_TIMEOUT_MS` (default 10 s): the deadline for a whole payment.
    pub upstream_timeout: Duration,
    /// `DEMO_API_KEY` (default `sk_test_leakstorm_demo`): registered at start for the demo
    /// merchant. A local-demo credential, not a secret.
    pub demo_api_key: String,
    /// `DEMO_MERCHANT_ID` (default `merchant_demo`).
    pub demo_merchant_id: String,
    /// `CARD_FINGERPRINT_KEY`: HMAC key for card fingerprints (demo default).
    pub card_fingerprint_key: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            server: ServerSettings::from_env(crate::IDENTITY.default_port)?,
            database: DatabaseSettings::from_env(10)?,
            payments_url: env_or("PAYMENTS_URL", Service::Payments.local_url())?,
            upstream_timeout: env_millis("UPSTREAM_TIMEOUT_MS", Duration::from_secs(10))?,
            demo_api_key: env_or("DEMO_API_KEY", "sk_test_leakstorm_demo".to_owned())?,
            demo_merchant_id: env_or("DEMO_MERCHANT_ID", "merchant_demo".to_owned())?,
            card_fingerprint_key: env_or(
                "CARD_FINGERPRINT_KEY",
                "leakstorm-demo-fingerprint-key".to_owned(),
            )?,
        })
    }
}
