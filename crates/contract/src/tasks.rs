//! Spawn sites of the fleet's long-lived infrastructure: tasks that live as long as a pooled
//! connection or a pool, not as long as a request. Left out by the test guards (`kit::testing`),
//! by `leakstorm diagnose`, and by the alert rules (`prometheus/alerts.yml` keeps the same list
//! as a regular expression; a kit test keeps the two equal).
pub const INFRASTRUCTURE_SITES: &[&str] = &[
    // actix-web's own: each worker's loop and date service, one task per open connection.
    "actix-server-*/src/worker.rs:*",
    "actix-server-*/src/service.rs:*",
    "actix-http-*/src/date.rs:*",
    // hyper's client connections (reqwest), one task per pooled connection.
    "hyper-util-*/src/rt/tokio.rs:*",
    "hyper-*/src/client/*",
    // sqlx's pool maintenance (idle reaper, min-connections upkeep).
    "sqlx-core-*/src/pool/*",
    // Background work the server owns (`Application::spawn_owned`: payments' recovery loop),
    // cancelled when the server stops.
    "crates/kit/src/server.rs:*",
];
