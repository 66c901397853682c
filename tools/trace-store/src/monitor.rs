//! The two Jaeger API families behind the UI's System Architecture and Monitor tabs:
//!
//! - `GET /api/dependencies?endTs=&lookback=` (ms): caller service → callee service with call
//!   counts, from the parent/child links of the stored spans whose parent is another service's.
//! - `GET /api/metrics/{calls,errors,latencies}?service=&groupByOperation=&spanKind=&endTs=&
//!   lookback=&step=&ratePer=&quantile=` (ms; quantile 0–1): Jaeger's service-performance answers
//!   (OpenMetrics `MetricFamily` JSON: `service_call_rate`, `service_error_rate`,
//!   `service_latencies`, or `service_operation_*` per operation), computed from
//!   [`Performance`](super::performance::Performance).

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    api::{ApiState, envelope, error, read},
    performance::{BUCKET_MS, SeriesKey},
};

/// A series' labels, as (name, value).
type Labels = Vec<(&'static str, String)>;

/// Points returned at most per series (the UI asks for lookback / step points).
const MAX_POINTS: u64 = 2_000;

fn now_ms() -> u64 {
    Utc::now().timestamp_millis().max(0) as u64
}

#[derive(Deserialize)]
pub struct DependenciesQuery {
    #[serde(rename = "endTs")]
    end_ts: Option<u64>,
    lookback: Option<u64>,
}

pub(super) async fn dependencies(
    State(state): State<ApiState>,
    Query(query): Query<DependenciesQuery>,
) -> Json<Value> {
    let end_ms = query.end_ts.unwrap_or_else(now_ms);
    let from_ms = end_ms.saturating_sub(query.lookback.unwrap_or(24 * 3600 * 1000));
    let (from_ns, end_ns) = (from_ms * 1_000_000, end_ms * 1_000_000);
    let mut edges: HashMap<(String, String), u64> = HashMap::new();
    {
        let store = read(&state);
        for trace in store.newest_first() {
            let services: HashMap<_, _> = trace
                .spans
                .iter()
                .map(|s| (s.span_id, s.process.service.as_str()))
                .collect();
            for span in &trace.spans {
                if span.start_ns < from_ns || span.start_ns > end_ns {
                    continue;
                }
                let Some(parent) = span.parent.and_then(|p| services.get(&p)) else {
                    continue;
                };
                if *parent != span.process.service {
                    *edges
                        .entry(((*parent).to_owned(), span.process.service.clone()))
                        .or_default() += 1;
                }
            }
        }
    }
    let mut links: Vec<Value> = edges
        .into_iter()
        .map(|((parent, child), count)| json!({ "parent": parent, "child": child, "callCount": count }))
        .collect();
    links.sort_by_key(|l| (l["parent"].to_string(), l["child"].to_string()));
    Json(envelope(json!(links)))
}

#[derive(Deserialize)]
pub struct MetricsQuery {
    service: Option<String>,
    #[serde(rename = "groupByOperation", default)]
    group_by_operation: bool,
    #[serde(rename = "spanKind")]
    span_kind: Option<String>,
    #[serde(rename = "endTs")]
    end_ts: Option<u64>,
    lookback: Option<u64>,
    step: Option<u64>,
    #[serde(rename = "ratePer")]
    rate_per: Option<u64>,
    quantile: Option<f64>,
}

pub(super) async fn metrics(
    State(state): State<ApiState>,
    Path(kind): Path<String>,
    Query(query): Query<MetricsQuery>,
) -> Response {
    let names = match kind.as_str() {
        "calls" => ("service_call_rate", "service_operation_call_rate"),
        "errors" => ("service_error_rate", "service_operation_error_rate"),
        "latencies" => ("service_latencies", "service_operation_latencies"),
        "minstep" => return Json(json!({ "minStep": BUCKET_MS })).into_response(),
        other => {
            return error(
                StatusCode::NOT_FOUND,
                format!("/api/metrics/{other}: one of calls, errors, latencies, minstep"),
            );
        }
    };
    let Some(service) = query.service.clone().filter(|s| !s.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "parameter 'service' is required");
    };
    let quantile = query.quantile.unwrap_or(0.95);
    if kind == "latencies" && !(0.0..=1.0).contains(&quantile) {
        return error(
            StatusCode::BAD_REQUEST,
            "'quantile' must be between 0 and 1",
        );
    }
    let end_ms = query.end_ts.unwrap_or_else(now_ms);
    let lookback = query.lookback.unwrap_or(3600 * 1000);
    let step = query.step.unwrap_or(60_000).max(BUCKET_MS);
    let rate_per = query.rate_per.unwrap_or(600_000).max(BUCKET_MS);
    let points = (lookback / step).min(MAX_POINTS);
    let kind_filter = query.span_kind.as_deref().filter(|k| !k.is_empty());
    let series = state.performance.series(&service, kind_filter);
    // One group per service, or per operation.
    let mut groups: Vec<(Labels, Vec<SeriesKey>)> = Vec::new();
    if query.group_by_operation {
        for key in &series {
            match groups
                .iter_mut()
                .find(|(_, keys)| keys[0].operation == key.operation)
            {
                Some((_, keys)) => keys.push(key.clone()),
                None => groups.push((
                    vec![
                        ("service_name", service.clone()),
                        ("operation", key.operation.clone()),
                    ],
                    vec![key.clone()],
                )),
            }
        }
    } else if !series.is_empty() {
        groups.push((vec![("service_name", service.clone())], series));
    }
    let metrics: Vec<Value> = groups
        .iter()
        .map(|(labels, keys)| {
            let metric_points: Vec<Value> = (0..=points)
                .rev()
                .filter_map(|i| {
                    let at = end_ms.saturating_sub(i * step);
                    let window = state
                        .performance
                        .window(keys, at.saturating_sub(rate_per), at);
                    let value = match kind.as_str() {
                        "calls" => Some(window.calls as f64 / (rate_per as f64 / 1000.0)),
                        "errors" => {
                            (window.calls > 0).then(|| window.errors as f64 / window.calls as f64)
                        }
                        _ => window.quantile_ms(quantile),
                    }?;
                    let at = DateTime::<Utc>::from_timestamp_millis(at as i64)?;
                    Some(json!({
                        "gaugeValue": { "doubleValue": value },
                        "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    }))
                })
                .collect();
            let labels: Vec<Value> = labels
                .iter()
                .map(|(name, value)| json!({ "name": name, "value": value }))
                .collect();
            json!({ "labels": labels, "metricPoints": metric_points })
        })
        .collect();
    let (name, help) = if query.group_by_operation {
        (names.1, format!("{kind}, grouped by service and operation"))
    } else {
        (names.0, format!("{kind}, grouped by service"))
    };
    Json(json!({ "name": name, "type": "GAUGE", "help": help, "metrics": metrics })).into_response()
}
