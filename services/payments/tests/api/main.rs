//! Payments' own integration tests, one binary: payments with the risk and ledger it calls, in
//! one process against a fresh database (the harness in [`support`]); the payment flow through
//! its internal API, and the two leak scenarios it hosts (unbounded-queue, orphaned-loop), both
//! ways.

mod flow;
mod scenarios;
mod support;
