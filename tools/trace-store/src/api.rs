//! Jaeger's HTTP API over the store (the routes the Jaeger UI and `leakstorm replay` call), and
//! the Jaeger UI itself for every other path.

use axum::{
    Json, Router,
    extract::{Path, Query, RawQuery, State},
    http::{StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};

use std::sync::Arc;

use super::{
    Limits, SharedStore, jaeger_json::trace_json, model::TraceId, monitor,
    performance::Performance, query::TraceQuery, store::StoredTrace,
};

#[derive(Clone)]
pub(super) struct ApiState {
    pub(super) store: SharedStore,
    pub(super) performance: Arc<Performance>,
    limits: Limits,
}

pub fn router(store: SharedStore, performance: Arc<Performance>, limits: Limits) -> Router {
    let api = Router::new()
        .route("/api/services", get(services))
        .route(
            "/api/services/{service}/operations",
            get(service_operations),
        )
        .route("/api/operations", get(operations))
        .route("/api/traces", get(search))
        .route("/api/traces/{id}", get(trace_by_id))
        .route("/api/dependencies", get(monitor::dependencies))
        .route("/api/metrics/{kind}", get(monitor::metrics))
        .route("/api/{*unsupported}", get(unsupported))
        .route("/leakstorm/store", get(store_stats))
        .with_state(ApiState {
            store,
            performance,
            limits,
        });
    // The UI's static files, from `otlp-embedded`'s bundled Jaeger UI build (its own API routes
    // are shadowed by ours: every /api/ path is answered above).
    let assets = otlp_embedded::State::new(otlp_embedded::Config {
        max_length: 0,
        max_memory_usage: 0,
    });
    let ui = otlp_embedded::ui_app(assets, "/").layer(middleware::map_response(spa_page_ok));
    api.fallback_service(ui)
}

/// The UI's client-side routes (`/`, `/search`, `/trace/…`) come back from `otlp-embedded` as a
/// 307 without a `Location`, carrying the page: answer them 200 as Jaeger does, so that
/// healthchecks and `wget --spider` see a working UI.
async fn spa_page_ok(mut response: Response) -> Response {
    if response.status() == StatusCode::TEMPORARY_REDIRECT
        && !response.headers().contains_key(header::LOCATION)
    {
        *response.status_mut() = StatusCode::OK;
    }
    response
}

/// Jaeger's response envelope.
pub(super) fn envelope(data: Value) -> Value {
    let total = data.as_array().map_or(0, Vec::len);
    json!({ "data": data, "total": total, "limit": 0, "offset": 0, "errors": null })
}

pub(super) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = json!({
        "data": null, "total": 0, "limit": 0, "offset": 0,
        "errors": [{ "code": status.as_u16(), "msg": message.into() }],
    });
    (status, Json(body)).into_response()
}

pub(super) fn read(state: &ApiState) -> std::sync::RwLockReadGuard<'_, super::store::Store> {
    state.store.read().unwrap_or_else(|e| e.into_inner())
}

async fn services(State(state): State<ApiState>) -> Json<Value> {
    let services: Vec<String> = read(&state)
        .catalog()
        .services()
        .map(str::to_owned)
        .collect();
    Json(envelope(json!(services)))
}

async fn service_operations(
    State(state): State<ApiState>,
    Path(service): Path<String>,
) -> Json<Value> {
    let store = read(&state);
    let mut names: Vec<&str> = store
        .catalog()
        .operations(&service, None)
        .map(|(n, _)| n)
        .collect();
    names.dedup();
    Json(envelope(json!(names)))
}

#[derive(Deserialize)]
struct OperationsQuery {
    service: Option<String>,
    #[serde(rename = "spanKind")]
    span_kind: Option<String>,
}

async fn operations(
    State(state): State<ApiState>,
    Query(query): Query<OperationsQuery>,
) -> Response {
    let Some(service) = query.service.filter(|s| !s.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "parameter 'service' is required");
    };
    let store = read(&state);
    let operations: Vec<Value> = store
        .catalog()
        .operations(&service, query.span_kind.as_deref())
        .map(|(name, kind)| json!({ "name": name, "spanKind": kind }))
        .collect();
    Json(envelope(json!(operations))).into_response()
}

async fn search(State(state): State<ApiState>, RawQuery(query): RawQuery) -> Response {
    let query = match TraceQuery::parse(query.as_deref().unwrap_or_default()) {
        Ok(query) => query,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    // Copies are taken under the lock; JSON is made after it is released.
    let found: Vec<StoredTrace> = {
        let store = read(&state);
        if query.trace_ids.is_empty() {
            store
                .newest_first()
                .filter(|t| query.matches(t))
                .take(query.limit)
                .cloned()
                .collect()
        } else {
            query
                .trace_ids
                .iter()
                .filter_map(|id| store.get(id))
                .cloned()
                .collect()
        }
    };
    let traces: Vec<Value> = found
        .iter()
        .map(|t| serde_json::to_value(trace_json(t)).unwrap_or_default())
        .collect();
    Json(envelope(json!(traces))).into_response()
}

async fn trace_by_id(State(state): State<ApiState>, Path(id): Path<String>) -> Response {
    let Some(id) = TraceId::parse_hex(&id) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("malformed trace id '{id}'"),
        );
    };
    let found = read(&state).get(&id).cloned();
    match found {
        Some(trace) => {
            let trace = serde_json::to_value(trace_json(&trace)).unwrap_or_default();
            Json(envelope(json!([trace]))).into_response()
        }
        None => error(StatusCode::NOT_FOUND, "trace not found"),
    }
}

async fn unsupported(Path(path): Path<String>) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("/api/{path} is not served by this trace store"),
    )
}

/// The store's own figures (not part of Jaeger's API): what the soak benchmark reads.
async fn store_stats(State(state): State<ApiState>) -> Json<Value> {
    let stats = read(&state).stats();
    Json(json!({
        "traces": stats.traces,
        "spans": stats.spans,
        "estimated_bytes": stats.bytes,
        "evicted_traces": stats.evicted_traces,
        "max_traces": state.limits.max_traces,
        "max_bytes": state.limits.max_bytes,
        "performance_series": state.performance.series_count(),
    }))
}
