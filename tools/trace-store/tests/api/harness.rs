//! The trace store over the wire for the tests: a store on ports chosen by the OS, an OTLP/gRPC
//! client, the Jaeger HTTP API, and spans made in the shapes the services send.

use std::net::{Ipv4Addr, SocketAddr};

use opentelemetry_proto::tonic::{
    collector::trace::v1::{ExportTraceServiceRequest, trace_service_client::TraceServiceClient},
    common::v1::{AnyValue, KeyValue, any_value::Value},
    resource::v1::Resource,
    trace::v1::{ResourceSpans, ScopeSpans, Span, span::SpanKind},
};
pub use serde_json::Value as Json;
use trace_store::{TraceStore, TraceStoreSettings};

pub const SERVICES: [&str; 4] = ["gateway", "payments", "risk", "ledger"];
/// The SDK's default batch size.
pub const BATCH: usize = 512;
pub const SECOND_NS: u64 = 1_000_000_000;
pub const T0_NS: u64 = 1_767_225_600 * SECOND_NS;

pub struct Harness {
    store: Option<TraceStore>,
    otlp: TraceServiceClient<tonic::transport::Channel>,
    http: reqwest::Client,
    pub api: String,
}

impl Harness {
    pub async fn start(max_traces: u32, max_memory_bytes: usize) -> Self {
        let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let store = TraceStore::start(TraceStoreSettings {
            otlp: any,
            ui: any,
            max_traces,
            max_memory_bytes,
        })
        .await
        .expect("the trace store starts");
        let otlp = TraceServiceClient::connect(store.otlp_endpoint())
            .await
            .expect("OTLP endpoint accepts connections");
        Self {
            api: store.ui_url(),
            store: Some(store),
            otlp,
            http: reqwest::Client::new(),
        }
    }

    pub async fn export(&mut self, batch: ResourceSpans) {
        self.otlp
            .export(ExportTraceServiceRequest {
                resource_spans: vec![batch],
            })
            .await
            .expect("the store accepts the batch");
    }

    pub async fn get(&self, path_and_query: &str) -> (u16, Json) {
        let response = self
            .http
            .get(format!("{}{path_and_query}", self.api))
            .send()
            .await
            .expect("the API answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("the API answers JSON"))
    }

    pub async fn stats(&self) -> Json {
        self.get("/leakstorm/store").await.1
    }

    pub async fn trace(&self, trace: u64) -> Option<Json> {
        let (status, body) = self
            .get(&format!("/api/traces/{}", trace_id_hex(trace)))
            .await;
        (status == 200).then(|| body["data"][0].clone())
    }

    pub async fn stop(mut self) {
        if let Some(store) = self.store.take() {
            store.stop().await;
        }
    }
}

pub fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value.into())),
        }),
        ..KeyValue::default()
    }
}

pub fn trace_id(n: u64) -> Vec<u8> {
    [0xab_u64.to_be_bytes(), n.to_be_bytes()].concat()
}

pub fn trace_id_hex(n: u64) -> String {
    hex::encode(trace_id(n))
}

pub fn span_id(trace: u64, service: usize, index: u64) -> Vec<u8> {
    ((trace << 16) | ((service as u64) << 8) | index)
        .to_be_bytes()
        .to_vec()
}

/// A payment's spans for one service, shaped like the fleet's: a server span, under the previous
/// service's client span (the gateway's is the root), and a client span for the next call.
pub fn payment_spans(trace: u64, service: usize, duration_ns: u64) -> Vec<Span> {
    let start = T0_NS + trace * 1_000_000;
    let server_parent = if service == 0 {
        Vec::new()
    } else {
        span_id(trace, service - 1, 2)
    };
    let server = Span {
        trace_id: trace_id(trace),
        span_id: span_id(trace, service, 1),
        parent_span_id: server_parent,
        name: format!("POST /{}", SERVICES[service]),
        kind: SpanKind::Server as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: start + duration_ns,
        attributes: vec![
            text("http.request.method", "POST"),
            text(
                "payment.outcome",
                if trace.is_multiple_of(2) {
                    "authorized"
                } else {
                    "declined"
                },
            ),
        ],
        ..Span::default()
    };
    let client = Span {
        span_id: span_id(trace, service, 2),
        parent_span_id: span_id(trace, service, 1),
        name: "call next".into(),
        kind: SpanKind::Client as i32,
        attributes: vec![],
        ..server.clone()
    };
    vec![server, client]
}

pub fn resource_spans(service: usize, spans: Vec<Span>) -> ResourceSpans {
    ResourceSpans {
        resource: Some(Resource {
            attributes: vec![
                text("service.name", SERVICES[service]),
                text("service.instance.id", &format!("{}-1", SERVICES[service])),
                text("telemetry.sdk.language", "rust"),
            ],
            ..Resource::default()
        }),
        scope_spans: vec![ScopeSpans {
            spans,
            ..ScopeSpans::default()
        }],
        schema_url: String::new(),
    }
}

/// Payments `first..first+count` as four services' batch exporters send them: each service its
/// own spans, in batches of up to 512, one service after another.
pub async fn send_payments(harness: &mut Harness, first: u64, count: u64) {
    for service in 0..SERVICES.len() {
        let spans: Vec<Span> = (first..first + count)
            .flat_map(|t| payment_spans(t, service, 5_000_000))
            .collect();
        for chunk in spans.chunks(BATCH) {
            harness
                .export(resource_spans(service, chunk.to_vec()))
                .await;
        }
    }
}

pub fn services_in(trace: &Json) -> Vec<String> {
    let mut names: Vec<String> = trace["processes"]
        .as_object()
        .expect("processes")
        .values()
        .map(|p| p["serviceName"].as_str().expect("serviceName").to_owned())
        .collect();
    names.sort();
    names
}
