//! The project's own trace store: OTLP/gRPC in, the Jaeger HTTP API and the Jaeger UI out. It
//! stands in for Jaeger where there is no Docker (`leakstorm up`, the replay, the tests) and in
//! the Docker rehearsal (`leakstorm trace-store`).
//!
//! It replaced `otlp-embedded`'s store (whose bundled Jaeger UI build it still serves). That
//! store's limiter adds `key.get_heap_size() + value.get_heap_size()` on insert, but on removal
//! it calls the same on `&mut K` / `&mut V`, which resolves to get-size2's `impl GetSize for
//! &mut T` (heap size 0): nothing is ever subtracted. As every span re-inserts its trace, the
//! estimate grows by the whole trace per span until it passes the memory limit; from then on
//! each insert evicts until the map is empty and never gets under the limit, so every new trace
//! is dropped as it arrives. (Measured with a counting copy of the limiter: 48,000 inserts and
//! 48,000 removals, 210 MB added, 0 bytes removed.) It also listed only services that own a
//! root span, and searched only complete traces.
//!
//! Module map:
//! - [`model`]: a stored span (OTLP's fields, owned) and its size estimate.
//! - [`store`]: traces by id, bounded by count and by memory estimate, oldest-written evicted first.
//! - [`catalog`]: every service that sent a span, and its operations.
//! - [`ingest`]: the OTLP `TraceService` (gRPC, `opentelemetry-proto` types).
//! - [`query`]: Jaeger's trace search parameters and match rule.
//! - [`jaeger_json`]: traces as Jaeger's API shows them.
//! - [`performance`]: calls, errors and latency per service and operation, bucketed in time.
//! - [`monitor`]: `/api/dependencies` and `/api/metrics/*` (System Architecture, Monitor).
//! - [`api`]: the HTTP routes, with the UI as the fallback.

pub mod api;
pub mod catalog;
pub mod ingest;
pub mod jaeger_json;
pub mod model;
pub mod monitor;
pub mod performance;
pub mod query;
pub mod store;

use std::{
    net::SocketAddr,
    sync::{Arc, RwLock},
};

use anyhow::Context as _;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceServiceServer;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

pub use store::Limits;

pub type SharedStore = Arc<RwLock<store::Store>>;

#[derive(Debug, Clone, Copy)]
pub struct TraceStoreSettings {
    pub otlp: SocketAddr,
    pub ui: SocketAddr,
    /// Traces kept; the oldest-written are evicted first.
    pub max_traces: u32,
    /// Bound on the store's estimate of the memory its traces take.
    pub max_memory_bytes: usize,
}

pub struct TraceStore {
    otlp_addr: SocketAddr,
    ui_addr: SocketAddr,
    shutdown: CancellationToken,
    servers: TaskTracker,
}

/// OTLP batches from a busy fleet can be large (the SDK's default batch is 512 spans).
const MAX_OTLP_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

impl TraceStore {
    pub async fn start(settings: TraceStoreSettings) -> anyhow::Result<Self> {
        let limits = Limits {
            max_traces: settings.max_traces as usize,
            max_bytes: settings.max_memory_bytes,
        };
        let store: SharedStore = Arc::new(RwLock::new(store::Store::new(limits)));
        let performance = Arc::new(performance::Performance::default());
        let otlp = tokio::net::TcpListener::bind(settings.otlp)
            .await
            .with_context(|| {
                format!(
                    "binding the OTLP port {} (is another collector running?)",
                    settings.otlp
                )
            })?;
        let ui = tokio::net::TcpListener::bind(settings.ui)
            .await
            .with_context(|| {
                format!(
                    "binding the Jaeger UI port {} (is Jaeger running?)",
                    settings.ui
                )
            })?;
        let otlp_addr = otlp.local_addr()?;
        let ui_addr = ui.local_addr()?;
        let shutdown = CancellationToken::new();
        let servers = TaskTracker::new();

        let ingest = TraceServiceServer::new(ingest::Ingest::new(
            Arc::clone(&store),
            Arc::clone(&performance),
        ))
        .max_decoding_message_size(MAX_OTLP_MESSAGE_BYTES);
        let stop = shutdown.clone().cancelled_owned();
        servers.spawn(async move {
            let served = tonic::transport::Server::builder()
                .add_service(ingest)
                .serve_with_incoming_shutdown(
                    tonic::transport::server::TcpIncoming::from(otlp),
                    stop,
                )
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "OTLP receiver stopped");
            }
        });
        let stop = shutdown.clone().cancelled_owned();
        let app = api::router(store, performance, limits);
        servers.spawn(async move {
            let served = axum::serve(ui, app).with_graceful_shutdown(stop).await;
            if let Err(e) = served {
                tracing::error!(error = %e, "Jaeger UI stopped");
            }
        });
        servers.close();
        Ok(Self {
            otlp_addr,
            ui_addr,
            shutdown,
            servers,
        })
    }

    /// Where services send OTLP/gRPC, e.g. `http://127.0.0.1:4317`.
    pub fn otlp_endpoint(&self) -> String {
        format!("http://{}", self.otlp_addr)
    }

    /// The Jaeger UI and API base, e.g. `http://127.0.0.1:16686`.
    pub fn ui_url(&self) -> String {
        format!("http://{}", self.ui_addr)
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        self.servers.wait().await;
    }
}
