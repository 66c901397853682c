//! tokio-console, for the interactive view of every task (its polls, wakes, waits).
//!
//! Built in by default (kit feature `console`), off until `TOKIO_CONSOLE=1`. Each service then
//! serves the console's gRPC API on `TOKIO_CONSOLE_BIND`, by default 127.0.0.1 at
//! 6669 + (its HTTP port − 8080): gateway 6669, payments 6670, risk 6671, ledger 6672.
//! Connect with `tokio-console http://127.0.0.1:6671` (`cargo install --locked tokio-console`).
//!
//! Off by default because it records every poll, wake and resource of every task (and keeps
//! finished tasks for an hour): the cost-of-looking table in the README measures it.

use std::net::{Ipv4Addr, SocketAddr};

use tracing_subscriber::{Layer, registry::LookupSpan};

/// Whether `TOKIO_CONSOLE` is `1`/`true`/`on`.
pub fn wanted() -> bool {
    let wanted = std::env::var("TOKIO_CONSOLE").unwrap_or_default();
    matches!(
        wanted.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "on"
    )
}

/// The console layer when `TOKIO_CONSOLE` is `1`/`true`/`on`.
pub fn layer<S>(default_http_port: u16) -> Option<Box<dyn Layer<S> + Send + Sync>>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    if !wanted() {
        return None;
    }
    let port = 6669 + default_http_port.saturating_sub(8080);
    let builder = console_subscriber::ConsoleLayer::builder()
        .server_addr(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        // TOKIO_CONSOLE_BIND and the console's other variables win over the default above.
        .with_default_env();
    Some(Box::new(builder.spawn()))
}
