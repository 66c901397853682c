//! Each service's configuration for a test: loopback, a port chosen by the OS, the shared admin
//! token, the test's database, and the incident's knobs small enough for a test.

use std::time::Duration;

use contract::scenario::Mode;
use kit::{config::ServerSettings, testing::TestDatabase};

use crate::{ADMIN_TOKEN, BLOCKED_CUSTOMER, DEEP_AMOUNT, SCREENING_MIN_AMOUNT};

/// Loopback, a port chosen by the OS, one worker, the shared admin token.
pub fn server() -> ServerSettings {
    ServerSettings {
        admin_token: kit::auth::AdminToken::new(ADMIN_TOKEN),
        ..ServerSettings::for_tests()
    }
}

/// The ledger, screening transfers of [`SCREENING_MIN_AMOUNT`] and more for
/// `screening_latency`, with `connections` pooled connections.
pub fn ledger(
    db: &TestDatabase,
    screening_latency: Duration,
    connections: u32,
) -> ledger::config::Config {
    ledger::config::Config {
        server: server(),
        database: kit::config::DatabaseSettings {
            max_connections: connections,
            ..db.settings()
        },
        screening: ledger::screening::ScreeningSettings {
            latency: screening_latency,
            min_amount: SCREENING_MIN_AMOUNT,
        },
    }
}

/// Risk in `mode`, its deep scoring waiting `slow_dependency` on its dependency (two small
/// shards, a 2 s budget), its model answering in 10 ms.
pub fn risk(db: &TestDatabase, mode: Mode, slow_dependency: Duration) -> risk::config::Config {
    risk::config::Config {
        server: server(),
        database: db.settings(),
        mode,
        admin_token: ADMIN_TOKEN.to_owned(),
        rules: risk::config::RuleSettings {
            deep_min_amount: DEEP_AMOUNT,
            blocked_customers: vec![BLOCKED_CUSTOMER.to_owned()],
        },
        deep: risk::config::DeepScoringSettings {
            shards: 2,
            shard_buffer_bytes: 64 * 1024,
            db_hold: Duration::from_millis(10),
            cpu_passes: 1,
            slow_dependency_latency: slow_dependency,
            slow_dependency_capacity: 0,
            budget: Duration::from_secs(2),
        },
        model: risk::model_scoring::ModelSettings {
            latency: Duration::from_millis(10),
            concurrency: 4,
            budget: Duration::from_millis(300),
        },
    }
}

/// Payments calling risk and the ledger at these URLs, notifying merchants as `webhooks` says,
/// its recovery loop idle for the length of a test.
pub fn payments(
    db: &TestDatabase,
    risk_url: String,
    ledger_url: String,
    webhooks: payments::webhooks::WebhookSettings,
) -> payments::config::Config {
    payments::config::Config {
        server: server(),
        database: db.settings(),
        risk_url,
        ledger_url,
        recovery: payments::recovery::RecoverySettings {
            interval: Duration::from_secs(60),
            stuck_after: Duration::from_secs(60),
            budget: Duration::from_secs(5),
        },
        webhooks,
        lease_renew_every: Duration::from_millis(100),
    }
}

/// A merchant that takes its events at once.
pub fn quick_merchant() -> payments::webhooks::WebhookSettings {
    payments::webhooks::WebhookSettings {
        latency: Duration::from_millis(1),
        capacity: 64,
        receipt_bytes: 1024,
    }
}
