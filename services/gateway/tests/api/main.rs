//! The gateway's integration tests, one binary: the whole fleet in one process against a real
//! Postgres (the harness in [`support`]) — money moves once, bad input writes nothing, and the
//! ledger's scenario end to end.

mod bad_input;
mod payments;
mod scenarios;
mod support;
