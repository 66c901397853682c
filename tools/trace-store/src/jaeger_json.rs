//! Stored traces in the JSON of Jaeger's HTTP API (what the Jaeger UI and `jaeger::Trace` read),
//! mapped from OTLP as Jaeger's own translator does: span kind, status and scope become tags,
//! events become logs, links become FOLLOWS_FROM references.

use std::{collections::BTreeMap, sync::Arc};

use serde::Serialize;
use serde_json::{Value, json};

use super::{
    model::{Attr, AttrValue, Process, Status, StoredSpan},
    store::StoredTrace,
};

#[derive(Serialize)]
pub struct JaegerTrace {
    #[serde(rename = "traceID")]
    trace_id: String,
    spans: Vec<Value>,
    processes: BTreeMap<String, Value>,
    warnings: Option<Vec<String>>,
}

/// Tags Jaeger derives from OTLP fields rather than attributes.
pub fn derived_tags(span: &StoredSpan) -> Vec<(&'static str, String)> {
    let mut tags = Vec::new();
    if let Some(kind) = span.kind.jaeger_tag() {
        tags.push(("span.kind", kind.to_owned()));
    }
    match &span.status {
        Status::Unset => {}
        Status::Ok => tags.push(("otel.status_code", "OK".to_owned())),
        Status::Error(message) => {
            tags.push(("otel.status_code", "ERROR".to_owned()));
            tags.push(("error", "true".to_owned()));
            if !message.is_empty() {
                tags.push(("otel.status_description", message.clone()));
            }
        }
    }
    if let Some(scope) = &span.scope {
        tags.push(("otel.scope.name", scope.clone()));
    }
    tags
}

fn kv(attr: &Attr) -> Value {
    let (kind, value) = match &attr.value {
        AttrValue::Str(s) => ("string", json!(s)),
        AttrValue::Bool(b) => ("bool", json!(b)),
        AttrValue::Int(i) => ("int64", json!(i)),
        AttrValue::Float(f) => ("float64", json!(f)),
    };
    json!({ "key": attr.key, "type": kind, "value": value })
}

fn span_json(span: &StoredSpan, process_id: &str) -> Value {
    let mut tags: Vec<Value> = span.attributes.iter().map(kv).collect();
    for (key, value) in derived_tags(span) {
        let value = if key == "error" {
            json!({ "key": key, "type": "bool", "value": true })
        } else {
            json!({ "key": key, "type": "string", "value": value })
        };
        tags.push(value);
    }
    let trace_id = span.trace_id.to_hex();
    let mut references: Vec<Value> = span
        .parent
        .map(|parent| json!({ "refType": "CHILD_OF", "traceID": trace_id, "spanID": parent.to_hex() }))
        .into_iter()
        .collect();
    references.extend(span.links.iter().map(|link| {
        json!({ "refType": "FOLLOWS_FROM", "traceID": link.trace_id.to_hex(), "spanID": link.span_id.to_hex() })
    }));
    let logs: Vec<Value> = span
        .events
        .iter()
        .map(|event| {
            let mut fields = vec![json!({ "key": "event", "type": "string", "value": event.name })];
            fields.extend(event.attributes.iter().map(kv));
            json!({ "timestamp": event.time_ns / 1_000, "fields": fields })
        })
        .collect();
    json!({
        "traceID": trace_id,
        "spanID": span.span_id.to_hex(),
        "operationName": span.name,
        "references": references,
        "startTime": span.start_ns / 1_000,
        "duration": span.duration_ns() / 1_000,
        "tags": tags,
        "logs": logs,
        "processID": process_id,
        "warnings": null,
        "flags": 1,
    })
}

/// One trace; processes are numbered per trace (`p1`, `p2`, …) as Jaeger does.
pub fn trace_json(trace: &StoredTrace) -> JaegerTrace {
    let mut process_ids: Vec<(Arc<Process>, String)> = Vec::new();
    let mut processes = BTreeMap::new();
    let mut spans = Vec::with_capacity(trace.spans.len());
    for span in &trace.spans {
        let id = match process_ids
            .iter()
            .find(|(p, _)| Arc::ptr_eq(p, &span.process))
        {
            Some((_, id)) => id.clone(),
            None => {
                let id = format!("p{}", process_ids.len() + 1);
                processes.insert(
                    id.clone(),
                    json!({
                        "serviceName": span.process.service,
                        "tags": span.process.tags.iter().map(kv).collect::<Vec<_>>(),
                    }),
                );
                process_ids.push((Arc::clone(&span.process), id.clone()));
                id
            }
        };
        spans.push(span_json(span, &id));
    }
    let warnings = (!trace.is_complete()).then(|| {
        vec!["partial trace: a span's parent has not arrived (yet), or was not sampled".to_owned()]
    });
    JaegerTrace {
        trace_id: trace.id.to_hex(),
        spans,
        processes,
        warnings,
    }
}
