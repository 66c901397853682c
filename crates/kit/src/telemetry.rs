//! Tracing and OpenTelemetry, set up in one call per service.
//!
//! - Logs: JSON lines on stdout, filtered by `RUST_LOG` (default `info`). The filter sits on the
//!   log layer only, so that quieting logs never drops exported spans.
//! - Traces: OTLP over gRPC to `OTEL_EXPORTER_OTLP_ENDPOINT` (default `http://localhost:4317`),
//!   W3C trace-context propagation, resource with `service.name` (from `OTEL_SERVICE_NAME`),
//!   `service.version` and `service.instance.id`. `OTEL_TRACES_EXPORTER=none` or
//!   `OTEL_SDK_DISABLED=true` turns export off.
//! - [`TelemetryGuard::shutdown`] flushes what is buffered; call it on every exit path.

use anyhow::Context as _;
use opentelemetry::{KeyValue, global, trace::TracerProvider as _};
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_subscriber::{EnvFilter, Layer as _, layer::SubscriberExt as _, registry::LookupSpan};

/// Who a service is, as compiled in. `OTEL_SERVICE_NAME` overrides the name at run time.
#[derive(Debug, Clone, Copy)]
pub struct ServiceIdentity {
    pub name: &'static str,
    pub version: &'static str,
    /// The port it listens on unless `PORT` says otherwise (`contract::service::Service`).
    pub default_port: u16,
}

impl ServiceIdentity {
    /// `service` of the fleet (its name and default port from the contract), at `version`.
    pub const fn of(service: contract::service::Service, version: &'static str) -> Self {
        Self {
            name: service.name(),
            version,
            default_port: service.default_port(),
        }
    }
}

/// Flushes and shuts down the trace pipeline. Dropping it flushes too (a fallback for panics);
/// prefer [`TelemetryGuard::shutdown`] from async code.
#[must_use = "dropping the guard immediately shuts down trace export"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Flushes buffered spans and stops the exporter.
    ///
    /// Runs on the blocking pool: the tonic exporter needs the async runtime to make progress
    /// while the flush blocks, and blocking the actix main thread here times out and loses spans.
    pub async fn shutdown(mut self) {
        if let Some(provider) = self.provider.take() {
            let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await;
            if let Ok(Err(e)) = flushed {
                eprintln!("telemetry: flushing spans at shutdown failed: {e}");
            }
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            // Only reached when `shutdown` was skipped (a panic); a plain thread keeps us off
            // the runtime's own threads.
            let _ = std::thread::spawn(move || provider.shutdown()).join();
        }
    }
}

fn export_disabled() -> bool {
    let var = |name: &str| std::env::var(name).unwrap_or_default().to_ascii_lowercase();
    var("OTEL_SDK_DISABLED") == "true" || var("OTEL_TRACES_EXPORTER") == "none"
}

/// The resource describing this process; env (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`)
/// wins over compiled-in defaults.
pub fn resource(identity: ServiceIdentity) -> Resource {
    let name = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| identity.name.to_owned());
    let mut builder = Resource::builder()
        .with_service_name(name)
        .with_attribute(KeyValue::new("service.version", identity.version));
    let attrs = std::env::var("OTEL_RESOURCE_ATTRIBUTES").unwrap_or_default();
    if !attrs.contains("service.instance.id=") {
        // The trace store keeps services apart by instance id.
        builder = builder.with_attribute(KeyValue::new(
            "service.instance.id",
            uuid::Uuid::new_v4().to_string(),
        ));
    }
    builder.build()
}

/// The subscriber stack every service runs, before task accounting wraps it
/// ([`crate::tasks::dispatch`]): JSON logs filtered by `RUST_LOG`, spans to `provider`'s tracer
/// when exporting, and tokio-console when switched on. Public for the task-accounting benchmark,
/// which measures this very stack.
pub fn subscriber_stack(
    identity: ServiceIdentity,
    provider: Option<&SdkTracerProvider>,
) -> impl tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static {
    let log_filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let log_layer = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(true)
        .with_filter(log_filter);

    let trace_layer = provider.map(|provider| {
        // Our own spans and the HTTP ones; the transport crates' internals would only add noise.
        let export_filter = EnvFilter::new("info,h2=off,hyper=off,tonic=off,tower=off,sqlx=off");
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer(identity.name))
            .with_filter(export_filter)
    });
    tracing_subscriber::registry()
        .with(log_layer)
        .with(trace_layer)
        // tokio-console, when switched on: see crate::tasks.
        .with(crate::tasks::layers(identity.default_port))
}

/// Installs logging and (unless disabled) OTLP trace export. Call once, inside the runtime.
pub fn init(identity: ServiceIdentity) -> anyhow::Result<TelemetryGuard> {
    global::set_text_map_propagator(TraceContextPropagator::new());

    let provider = if export_disabled() {
        None
    } else {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()
            .context("building the OTLP span exporter")?;
        Some(
            SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(resource(identity))
                .build(),
        )
    };

    // Task accounting by spawn site wraps the stack (crate::tasks::subscriber).
    let stack = subscriber_stack(identity, provider.as_ref());
    tracing::dispatcher::set_global_default(crate::tasks::dispatch(stack))
        .context("installing the tracing subscriber")?;
    if let Some(provider) = &provider {
        global::set_tracer_provider(provider.clone());
    }
    Ok(TelemetryGuard { provider })
}
