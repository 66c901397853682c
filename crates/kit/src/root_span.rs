//! The root span of every HTTP request, with the current HTTP semantic conventions
//! (`http.request.method`, `url.path`, `http.response.status_code`, ...), continuing the caller's
//! trace from its W3C `traceparent` header.

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::HeaderMap,
};
use opentelemetry::{global, propagation::Extractor, trace::TraceContextExt as _};
use tracing::{Span, field::Empty};
use tracing_actix_web::RootSpanBuilder;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Plug into `TracingLogger::<SemconvRootSpan>`.
pub struct SemconvRootSpan;

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

impl RootSpanBuilder for SemconvRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let method = request.method().as_str();
        // Unmatched paths share one route label: raw paths would explode span-name cardinality.
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        let conn = request.connection_info();
        let (host, port) = split_host_port(conn.host());
        let user_agent = request
            .headers()
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // Probes and scrapes get a TRACE-level span: below the export filter, so a scrape every
        // second does not bury the payments in the trace store.
        macro_rules! root_span {
            ($level:expr) => {
                tracing::span!(
                    $level,
                    "HTTP request",
                    otel.name = %format!("{method} {route}"),
                    otel.kind = "server",
                    otel.status_code = Empty,
                    http.request.method = %method,
                    http.route = %route,
                    http.response.status_code = Empty,
                    url.path = %request.path(),
                    url.scheme = %conn.scheme(),
                    server.address = %host,
                    server.port = Empty,
                    client.address = %conn.peer_addr().unwrap_or(""),
                    user_agent.original = %user_agent,
                    network.protocol.version = %protocol_version(request),
                    error.type = Empty,
                    trace_id = Empty,
                )
            };
        }
        let span = if is_probe(request.path()) {
            root_span!(tracing::Level::TRACE)
        } else {
            root_span!(tracing::Level::INFO)
        };
        if let Some(port) = port {
            span.record("server.port", i64::from(port));
        }
        let parent =
            global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(request.headers())));
        let _ = span.set_parent(parent);
        let trace_id = span.context().span().span_context().trace_id();
        span.record("trace_id", tracing::field::display(trace_id));
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        // tracing-opentelemetry exports u64 as a string; i64 stays an int.
        span.record("http.response.status_code", i64::from(status.as_u16()));
        // Server spans: only 5xx are errors; a 4xx is the client's problem, not ours.
        if status.is_server_error() {
            span.record("otel.status_code", "ERROR");
            span.record("error.type", status.as_str());
        } else {
            span.record("otel.status_code", "OK");
        }
    }
}

/// Health, readiness and metrics endpoints: polled constantly, neither traced nor access-logged.
pub fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// `"127.0.0.1:8080"` → (`"127.0.0.1"`, Some(8080)); `"[::1]:80"` → (`"[::1]"`, Some(80)).
fn split_host_port(host: &str) -> (&str, Option<u16>) {
    match host.rsplit_once(':') {
        // A bare IPv6 address has colons but no port.
        Some((h, p)) if !h.contains(':') || h.ends_with(']') => (h, p.parse().ok()),
        _ => (host, None),
    }
}

fn protocol_version(request: &ServiceRequest) -> &'static str {
    match request.version() {
        actix_web::http::Version::HTTP_09 => "0.9",
        actix_web::http::Version::HTTP_10 => "1.0",
        actix_web::http::Version::HTTP_2 => "2",
        actix_web::http::Version::HTTP_3 => "3",
        _ => "1.1",
    }
}

/// The W3C `traceresponse` header value for the current request's root span, so a client (k6,
/// curl) can jump from a slow response straight to its trace.
pub fn traceresponse(span: &Span) -> Option<String> {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context.is_valid().then(|| {
        format!(
            "00-{}-{}-{:02x}",
            span_context.trace_id(),
            span_context.span_id(),
            span_context.trace_flags().to_u8()
        )
    })
}
