//! The fleet's contract: what the services, the plumbing (`kit`) and the `leakstorm` CLI agree
//! on, without any server in it — so that a caller takes a service's types without linking the
//! service, and the CLI links no actix-web.
//!
//! Module map:
//! - [`service`]: the four services, their names and default ports.
//! - [`scenario`]: the leak scenarios, their modes, and the admin API's bodies.
//! - [`admin`]: the admin API's client (scenario switches, risk's mode).
//! - [`money`], [`risk`], [`ledger`], [`payments`]: each service's wire types, for its server
//!   and its callers.
//! - [`tasks`]: the spawn sites of long-lived infrastructure that leak checks leave out.
//! - [`prom_text`]: reading a `/metrics` page.
//!
//! The names of metrics, report fields and alerts are defined where they are made (see
//! `docs/architecture.md`, "Where each contract is defined").

pub mod admin;
pub mod ledger;
pub mod money;
pub mod payments;
pub mod prom_text;
pub mod risk;
pub mod scenario;
pub mod service;
pub mod tasks;

/// The remaining budget of a request in whole milliseconds, passed from hop to hop
/// (`x-request-budget-ms: 9850`): a service deep in the chain knows when nobody waits any more.
pub const BUDGET_HEADER: &str = "x-request-budget-ms";
