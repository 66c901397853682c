//! Configuration from environment variables, parsed once at start with clear errors.

use std::{fmt::Display, str::FromStr, time::Duration};

/// A configuration variable that is present but does not parse.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}={value:?} is invalid: {reason}")]
pub struct ConfigError {
    pub name: String,
    pub value: String,
    pub reason: String,
}

/// Reads `name`, falling back to `default` when it is unset or empty.
pub fn env_or<T>(name: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => {
            value.trim().parse().map_err(|e: T::Err| ConfigError {
                name: name.to_owned(),
                value,
                reason: e.to_string(),
            })
        }
        _ => Ok(default),
    }
}

/// Reads a duration given in milliseconds.
pub fn env_millis(name: &str, default: Duration) -> Result<Duration, ConfigError> {
    let default_ms = u64::try_from(default.as_millis()).unwrap_or(u64::MAX);
    env_or(name, default_ms).map(Duration::from_millis)
}

/// The local demo's admin token (documented as such; override with `ADMIN_TOKEN`).
pub const DEMO_ADMIN_TOKEN: &str = "admin_leakstorm_demo";

/// Where and how a service listens.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub host: String,
    /// 0 asks the OS for a free port (tests read it back from the built application).
    pub port: u16,
    /// actix worker threads (each one its own single-threaded tokio runtime).
    pub workers: usize,
    pub json_body_limit_bytes: usize,
    pub shutdown_timeout: Duration,
    /// Each worker's tokio blocking pool (`spawn_blocking`) at most; `None`: actix-web's
    /// default (512 shared out over the workers).
    pub max_blocking_threads: Option<usize>,
    /// Guards `/debug/tasks`, `/admin/scenarios` (and risk's `/admin/mode`).
    pub admin_token: crate::auth::AdminToken,
}

impl ServerSettings {
    /// `HOST` (default 127.0.0.1), `PORT` (default `default_port`), `HTTP_WORKERS` (default 2),
    /// `JSON_BODY_LIMIT_BYTES` (default 16 KiB), `SHUTDOWN_TIMEOUT_MS` (default 10 s),
    /// `SERVER_MAX_BLOCKING_THREADS` (per worker; default actix-web's),
    /// `ADMIN_TOKEN` (default the local demo's `admin_leakstorm_demo`).
    pub fn from_env(default_port: u16) -> Result<Self, ConfigError> {
        Ok(Self {
            host: env_or("HOST", "127.0.0.1".to_owned())?,
            port: env_or("PORT", default_port)?,
            workers: env_or("HTTP_WORKERS", 2)?,
            json_body_limit_bytes: env_or("JSON_BODY_LIMIT_BYTES", 16 * 1024)?,
            shutdown_timeout: env_millis("SHUTDOWN_TIMEOUT_MS", Duration::from_secs(10))?,
            max_blocking_threads: match std::env::var("SERVER_MAX_BLOCKING_THREADS") {
                Ok(_) => Some(env_or("SERVER_MAX_BLOCKING_THREADS", 512)?),
                Err(_) => None,
            },
            admin_token: crate::auth::AdminToken::new(&env_or(
                "ADMIN_TOKEN",
                DEMO_ADMIN_TOKEN.to_owned(),
            )?),
        })
    }

    /// Loopback, a port chosen by the OS, one worker: what tests want.
    pub fn for_tests() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 0,
            workers: 1,
            json_body_limit_bytes: 16 * 1024,
            shutdown_timeout: Duration::from_secs(1),
            max_blocking_threads: None,
            admin_token: crate::auth::AdminToken::new(DEMO_ADMIN_TOKEN),
        }
    }
}

/// How a service reaches Postgres.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl DatabaseSettings {
    /// `DATABASE_URL` (required), `DATABASE_MAX_CONNECTIONS` (default `default_max`),
    /// `DATABASE_ACQUIRE_TIMEOUT_MS` (default 5 s).
    pub fn from_env(default_max: u32) -> Result<Self, ConfigError> {
        let url = env_or("DATABASE_URL", String::new())?;
        if url.is_empty() {
            return Err(ConfigError {
                name: "DATABASE_URL".to_owned(),
                value: String::new(),
                reason: "required, e.g. postgres://postgres@127.0.0.1:5432/leakstorm".to_owned(),
            });
        }
        Ok(Self {
            url,
            max_connections: env_or("DATABASE_MAX_CONNECTIONS", default_max)?,
            acquire_timeout: env_millis("DATABASE_ACQUIRE_TIMEOUT_MS", Duration::from_secs(5))?,
        })
    }
}
