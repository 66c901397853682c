//! `leakstorm trace-store`: only the trace store (OTLP/gRPC in, Jaeger UI and API out), until
//! Ctrl-C or SIGTERM. The Docker rehearsal's stand-in for Jaeger; also handy beside a fleet
//! started some other way.

use std::net::SocketAddr;

use clap::Args;

use trace_store::{TraceStore, TraceStoreSettings};

#[derive(Debug, Clone, Args)]
pub struct TraceStoreArgs {
    /// OTLP/gRPC listen address (0.0.0.0:4317 inside a container).
    #[arg(long, env = "LEAKSTORM_OTLP_ADDR", default_value = "127.0.0.1:4317")]
    pub otlp_addr: SocketAddr,
    /// Jaeger UI and API listen address.
    #[arg(long, env = "LEAKSTORM_UI_ADDR", default_value = "127.0.0.1:16686")]
    pub ui_addr: SocketAddr,
    /// Traces kept; the oldest-written are evicted first.
    #[arg(long, env = "LEAKSTORM_MAX_TRACES", default_value_t = 20_000)]
    pub max_traces: u32,
    /// Bound on the store's memory estimate, MiB.
    #[arg(long, env = "LEAKSTORM_MAX_TRACE_MIB", default_value_t = 1024)]
    pub max_memory_mib: usize,
}

pub async fn run(args: TraceStoreArgs) -> anyhow::Result<()> {
    let store = TraceStore::start(TraceStoreSettings {
        otlp: args.otlp_addr,
        ui: args.ui_addr,
        max_traces: args.max_traces,
        max_memory_bytes: args.max_memory_mib << 20,
    })
    .await?;
    println!(
        "leakstorm trace store: OTLP/gRPC {} · Jaeger UI and API {}",
        store.otlp_endpoint(),
        store.ui_url()
    );
    crate::command::wait_for_stop_signal().await?;
    store.stop().await;
    Ok(())
}
