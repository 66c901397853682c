//! Risk configuration from the environment. The deep-scoring knobs shape the incident.

use std::time::Duration;

use kit::config::{ConfigError, DatabaseSettings, ServerSettings, env_millis, env_or};

use crate::{model_scoring::ModelSettings, types::Mode};

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    /// `RISK_MODE`: the mode at start (default `leaky`: this is an incident lab).
    pub mode: Mode,
    /// `ADMIN_TOKEN`: bearer token for `/admin/*` (demo default `admin_leakstorm_demo`).
    pub admin_token: String,
    pub rules: RuleSettings,
    pub deep: DeepScoringSettings,
    pub model: ModelSettings,
}

#[derive(Debug, Clone)]
pub struct RuleSettings {
    /// `RISK_DEEP_MIN_AMOUNT`: payments of at least this many minor units need deep scoring.
    pub deep_min_amount: i64,
    /// `RISK_BLOCKED_CUSTOMERS`: comma-separated customer ids declined outright.
    pub blocked_customers: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct DeepScoringSettings {
    /// `RISK_DEEP_SHARDS`: tasks per deep-scoring job.
    pub shards: usize,
    /// `RISK_SHARD_BUFFER_BYTES`: feature buffer each shard allocates and touches.
    pub shard_buffer_bytes: usize,
    /// `RISK_SHARD_DB_HOLD_MS`: how long a shard keeps its DB connection for feature reads.
    pub db_hold: Duration,
    /// `RISK_SHARD_CPU_PASSES`: passes over the buffer (CPU work on the worker thread).
    pub cpu_passes: u32,
    /// `RISK_SLOW_DEPENDENCY_MS`: latency of the external dependency deep scoring waits on.
    pub slow_dependency_latency: Duration,
    /// `RISK_SLOW_DEPENDENCY_CAPACITY`: calls in flight at which the dependency runs at half
    /// speed (0: constant latency).
    pub slow_dependency_capacity: usize,
    /// `RISK_DEEP_BUDGET_MS`: fixed mode's own latency budget for deep scoring.
    pub budget: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let mode_text: String = env_or("RISK_MODE", "leaky".to_owned())?;
        let mode = mode_text.parse().map_err(|reason| ConfigError {
            name: "RISK_MODE".to_owned(),
            value: mode_text.clone(),
            reason,
        })?;
        let blocked: String = env_or("RISK_BLOCKED_CUSTOMERS", "cus_blocked".to_owned())?;
        Ok(Self {
            server: ServerSettings::from_env(crate::IDENTITY.default_port)?,
            database: DatabaseSettings::from_env(10)?,
            mode,
            admin_token: env_or("ADMIN_TOKEN", "admin_leakstorm_demo".to_owned())?,
            rules: RuleSettings {
                deep_min_amount: env_or("RISK_DEEP_MIN_AMOUNT", 50_000)?,
                blocked_customers: blocked
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect(),
            },
            deep: DeepScoringSettings {
                shards: env_or("RISK_DEEP_SHARDS", 4)?,
                shard_buffer_bytes: env_or("RISK_SHARD_BUFFER_BYTES", 4 * 1024 * 1024)?,
                db_hold: env_millis("RISK_SHARD_DB_HOLD_MS", Duration::from_millis(1000))?,
                cpu_passes: env_or("RISK_SHARD_CPU_PASSES", 2)?,
                slow_dependency_latency: env_millis(
                    "RISK_SLOW_DEPENDENCY_MS",
                    Duration::from_secs(30),
                )?,
                slow_dependency_capacity: env_or("RISK_SLOW_DEPENDENCY_CAPACITY", 250)?,
                budget: env_millis("RISK_DEEP_BUDGET_MS", Duration::from_millis(300))?,
            },
            model: ModelSettings {
                latency: env_millis("RISK_MODEL_LATENCY_MS", Duration::from_secs(30))?,
                concurrency: env_or("RISK_MODEL_CONCURRENCY", 4)?,
                budget: env_millis("RISK_MODEL_BUDGET_MS", Duration::from_millis(300))?,
            },
        })
    }
}
