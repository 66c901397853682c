//! The `leakstorm` command's integration tests, one binary (a module per subject, the shared
//! native-fleet harness in [`support`]): they run the real service binaries, the trace store,
//! k6, tmux and Chromium as a user would.

mod drill;
mod jaeger_ui;
mod money;
mod observability;
mod support;
mod top;
mod traces;
mod up;
