//! The embedded trace store (crate `otlp-embedded`): OTLP/gRPC in, Jaeger UI and the Jaeger HTTP
//! API (`/api/traces`, `/api/services`) out. Stands in for Jaeger where there is no Docker.

use std::net::SocketAddr;

use anyhow::Context as _;
use otlp_embedded::{Config, State, TraceServiceImpl, TraceServiceServer, ui_app};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

#[derive(Debug, Clone, Copy)]
pub struct TraceStoreSettings {
    pub otlp: SocketAddr,
    pub ui: SocketAddr,
    /// Traces kept; the oldest are evicted first.
    pub max_traces: u32,
    pub max_memory_bytes: usize,
}

pub struct TraceStore {
    otlp_addr: SocketAddr,
    ui_addr: SocketAddr,
    shutdown: CancellationToken,
    servers: TaskTracker,
}

impl TraceStore {
    pub async fn start(settings: TraceStoreSettings) -> anyhow::Result<Self> {
        let state = State::new(Config {
            max_length: settings.max_traces,
            max_memory_usage: settings.max_memory_bytes,
        });
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

        let ingest = TraceServiceServer::new(TraceServiceImpl::new(state.clone()))
            .max_decoding_message_size(64 * 1024 * 1024);
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
        servers.spawn(async move {
            let served = axum::serve(ui, ui_app(state, "/"))
                .with_graceful_shutdown(stop)
                .await;
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
