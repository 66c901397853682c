//! OTLP/gRPC in: the `TraceService` the SDKs export to, converting the wire types
//! (`opentelemetry-proto`) into what the store keeps.

use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse, trace_service_server::TraceService,
    },
    common::v1::{AnyValue, KeyValue, any_value::Value},
    trace::v1::{Span, span::SpanKind as ProtoKind, status::StatusCode},
};
use tonic::{Request, Response, Status as GrpcStatus};

use super::{
    SharedStore,
    model::{Attr, AttrValue, Event, Link, Process, SpanId, SpanKind, Status, StoredSpan, TraceId},
    performance::Performance,
};

pub struct Ingest {
    store: SharedStore,
    /// The Monitor tab's counts, fed from the same spans.
    performance: Arc<Performance>,
    /// One `Process` per distinct resource, shared by its spans.
    processes: Mutex<Vec<Arc<Process>>>,
}

/// Distinct resources remembered; a fleet has a handful (one per service instance).
const MAX_PROCESSES: usize = 256;

impl Ingest {
    pub fn new(store: SharedStore, performance: Arc<Performance>) -> Self {
        Self {
            store,
            performance,
            processes: Mutex::new(Vec::new()),
        }
    }

    fn process(&self, process: Process) -> Arc<Process> {
        let mut known = self.processes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = known.iter().find(|p| ***p == process) {
            return Arc::clone(found);
        }
        let process = Arc::new(process);
        if known.len() >= MAX_PROCESSES {
            known.remove(0);
        }
        known.push(Arc::clone(&process));
        process
    }

    /// The request's spans in the store's form; spans with malformed ids are dropped (and
    /// counted, for OTLP's partial-success answer).
    pub fn convert(&self, request: ExportTraceServiceRequest) -> (Vec<StoredSpan>, i64) {
        let mut spans = Vec::new();
        let mut rejected = 0;
        for resource_spans in request.resource_spans {
            let tags: Vec<Attr> = resource_spans
                .resource
                .map(|r| r.attributes.into_iter().filter_map(attr).collect())
                .unwrap_or_default();
            let service = tags
                .iter()
                .find(|a| a.key == "service.name")
                .map(|a| a.value.as_text())
                .unwrap_or_else(|| "unknown_service".to_owned());
            let process = self.process(Process { service, tags });
            for scope_spans in resource_spans.scope_spans {
                let scope = scope_spans.scope.map(|s| s.name).filter(|n| !n.is_empty());
                for span in scope_spans.spans {
                    match stored_span(span, scope.clone(), &process) {
                        Some(span) => spans.push(span),
                        None => rejected += 1,
                    }
                }
            }
        }
        (spans, rejected)
    }
}

#[tonic::async_trait]
impl TraceService for Ingest {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, GrpcStatus> {
        let (spans, rejected) = self.convert(request.into_inner());
        self.performance.record(&spans);
        self.store
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(spans);
        let partial_success = (rejected > 0).then(|| {
            opentelemetry_proto::tonic::collector::trace::v1::ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message: "spans with a malformed trace or span id were dropped".into(),
            }
        });
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success,
        }))
    }
}

fn stored_span(span: Span, scope: Option<String>, process: &Arc<Process>) -> Option<StoredSpan> {
    let trace_id = TraceId(span.trace_id.as_slice().try_into().ok()?);
    let span_id = SpanId(span.span_id.as_slice().try_into().ok()?);
    let parent = match span.parent_span_id.as_slice() {
        [] => None,
        bytes => Some(SpanId(bytes.try_into().ok()?)),
    };
    let status = match span.status {
        Some(s) if s.code == StatusCode::Error as i32 => Status::Error(s.message),
        Some(s) if s.code == StatusCode::Ok as i32 => Status::Ok,
        _ => Status::Unset,
    };
    Some(StoredSpan {
        trace_id,
        span_id,
        parent,
        name: span.name,
        kind: kind(span.kind),
        start_ns: span.start_time_unix_nano,
        end_ns: span.end_time_unix_nano.max(span.start_time_unix_nano),
        attributes: span.attributes.into_iter().filter_map(attr).collect(),
        events: span
            .events
            .into_iter()
            .map(|e| Event {
                time_ns: e.time_unix_nano,
                name: e.name,
                attributes: e.attributes.into_iter().filter_map(attr).collect(),
            })
            .collect(),
        links: span
            .links
            .into_iter()
            .filter_map(|l| {
                Some(Link {
                    trace_id: TraceId(l.trace_id.as_slice().try_into().ok()?),
                    span_id: SpanId(l.span_id.as_slice().try_into().ok()?),
                })
            })
            .collect(),
        status,
        scope,
        process: Arc::clone(process),
    })
}

fn kind(kind: i32) -> SpanKind {
    match ProtoKind::try_from(kind) {
        Ok(ProtoKind::Internal) => SpanKind::Internal,
        Ok(ProtoKind::Server) => SpanKind::Server,
        Ok(ProtoKind::Client) => SpanKind::Client,
        Ok(ProtoKind::Producer) => SpanKind::Producer,
        Ok(ProtoKind::Consumer) => SpanKind::Consumer,
        _ => SpanKind::Unspecified,
    }
}

/// Jaeger shows arrays, maps and bytes as text; so do we.
fn attr(kv: KeyValue) -> Option<Attr> {
    let value = kv.value.and_then(|AnyValue { value }| value)?;
    let value = match value {
        Value::StringValue(s) => AttrValue::Str(s),
        Value::BoolValue(b) => AttrValue::Bool(b),
        Value::IntValue(i) => AttrValue::Int(i),
        Value::DoubleValue(d) => AttrValue::Float(d),
        Value::BytesValue(b) => AttrValue::Str(hex::encode(b)),
        array_or_map => AttrValue::Str(json_text(array_or_map).to_string()),
    };
    Some(Attr::new(kv.key, value))
}

fn json_text(value: Value) -> serde_json::Value {
    let inner = |v: AnyValue| v.value.map(json_text).unwrap_or_default();
    match value {
        Value::StringValue(s) => s.into(),
        Value::BoolValue(b) => b.into(),
        Value::IntValue(i) => i.into(),
        Value::DoubleValue(d) => d.into(),
        Value::BytesValue(b) => hex::encode(b).into(),
        Value::ArrayValue(a) => a.values.into_iter().map(inner).collect(),
        Value::KvlistValue(l) => l
            .values
            .into_iter()
            .map(|kv| (kv.key, kv.value.map(inner).unwrap_or_default()))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        // A string-table index (profiles only): no table here to resolve it against.
        Value::StringValueStrindex(index) => format!("strindex:{index}").into(),
    }
}
