//! The fleet's services configured for tests — each with knobs sized for a test, all sharing one
//! admin token — and the helpers their integration tests share. Every service's test binary
//! takes what it needs from here (a dev-dependency), instead of a harness copied per service.
//!
//! Module map: [`config`] builds each service's test configuration; [`http`] reads a service's
//! figures, switches its scenarios and queries the database.

pub mod config;
pub mod http;

/// The admin token of every service a test starts.
pub const ADMIN_TOKEN: &str = "admin_test";
/// Payments of at least this amount need deep scoring in risk.
pub const DEEP_AMOUNT: i64 = 50_000;
/// Transfers of at least this amount are screened by the ledger (scenario held-connection).
pub const SCREENING_MIN_AMOUNT: i64 = 20_000;
/// Risk declines this customer outright (its watchlist).
pub const BLOCKED_CUSTOMER: &str = "cus_blocked";
