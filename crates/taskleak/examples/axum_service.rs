//! An axum service with a deliberate detached spawn, and how taskleak finds it.
//!
//! ```sh
//! cargo run -p taskleak --example axum_service --features axum,prometheus
//! ```
//!
//! (needs `--cfg tokio_unstable`: this workspace sets it in `.cargo/config.toml`.) Then:
//!
//! ```sh
//! curl -X POST localhost:3000/orders/leaky      # a few times: each leaves a task behind
//! curl -X POST localhost:3000/orders/fixed      # the same work, owned by the request
//! curl localhost:3000/metrics                   # runtime_alive_tasks_by_spawn_site{spawn_site="..."}
//! curl -H 'Authorization: Bearer demo-admin-token' localhost:3000/debug/tasks
//! ```
//!
//! `cargo test -p taskleak --example axum_service --features axum,prometheus` runs the tests
//! below: the guard fails the leaky handler's test, naming the spawn, and passes the fixed one.

use std::time::Duration;

use axum::{
    Json, Router,
    extract::Request,
    http::{StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use prometheus::{Registry, TextEncoder};
use taskleak::{prometheus::SpawnSiteCollector, report::DebugTasks};

/// Local demo only; a real service reads it from its configuration.
const ADMIN_TOKEN: &str = "demo-admin-token";
/// How long the audit call takes: a slow dependency.
const AUDIT_LATENCY: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // The census in front of everything (with a subscriber of your own: taskleak::wrap(it)).
    if let Err(e) = taskleak::init() {
        eprintln!("taskleak: {e}");
    }
    let runtimes = taskleak::Runtimes::new();
    runtimes.register_current();
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(runtimes)).await
}

fn app(runtimes: taskleak::Runtimes) -> Router {
    let debug = Router::new()
        .route("/debug/tasks", get(taskleak::axum::debug_tasks))
        // Authorization is the application's: /debug/tasks shows code paths.
        .route_layer(middleware::from_fn(admin_only))
        .with_state(DebugTasks::new(runtimes));
    Router::new()
        .route("/orders/leaky", post(place_order_leaky))
        .route("/orders/fixed", post(place_order_fixed))
        .route("/metrics", get(metrics))
        .merge(debug)
}

/// THE BUG: the audit is handed to `tokio::spawn` and its `JoinHandle` dropped. The task is
/// detached: it runs on for 30 s after the response, and every request adds one.
async fn place_order_leaky() -> Json<&'static str> {
    tokio::spawn(audit());
    Json("accepted")
}

/// THE FIX: the request owns the audit and bounds it; when the budget runs out the audit is
/// dropped (cancelled) with the request's future, not left behind.
async fn place_order_fixed() -> Json<&'static str> {
    match tokio::time::timeout(Duration::from_millis(50), audit()).await {
        Ok(()) => Json("accepted"),
        Err(_) => Json("accepted, audit pending review"),
    }
}

async fn audit() {
    tokio::time::sleep(AUDIT_LATENCY).await;
}

async fn metrics() -> Response {
    let registry = Registry::new();
    if let Err(e) = registry.register(Box::new(SpawnSiteCollector::global())) {
        return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
    }
    match TextEncoder::new().encode_to_string(&registry.gather()) {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn admin_only(request: Request, next: Next) -> Response {
    let expected = format!("Bearer {ADMIN_TOKEN}");
    match request.headers().get(header::AUTHORIZATION) {
        Some(value) if value.as_bytes() == expected.as_bytes() => next.run(request).await,
        _ => StatusCode::UNAUTHORIZED.into_response(),
    }
}

// The census needs `--cfg tokio_unstable` (see tests/uninstrumented.rs for a build without).
#[cfg(all(test, tokio_unstable))]
mod tests {
    use axum::{body::Body, http::Request};
    use tower::ServiceExt as _;

    use super::*;

    async fn call(
        app: Router,
        method: &str,
        uri: &str,
        token: Option<&str>,
    ) -> (StatusCode, String) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = app
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn the_guard_catches_the_detached_audit_and_names_its_spawn() {
        let guard = taskleak::Guard::new().settle(Duration::from_millis(300));
        let app = app(taskleak::Runtimes::new());
        let (status, _) = call(app.clone(), "POST", "/orders/leaky", None).await;
        assert_eq!(status, StatusCode::OK);

        // While it leaks: the census names the spawn, for metrics and /debug/tasks alike.
        let (status, _) = call(app.clone(), "GET", "/debug/tasks", None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "the endpoint is the app's to guard"
        );
        let (_, tasks) = call(app.clone(), "GET", "/debug/tasks", Some(ADMIN_TOKEN)).await;
        assert!(tasks.contains("examples/axum_service.rs:"), "{tasks}");
        let (_, text) = call(app, "GET", "/metrics", None).await;
        assert!(text.contains("runtime_alive_tasks_by_spawn_site{spawn_site=\"crates/taskleak/examples/axum_service.rs:"), "{text}");

        let leaks = guard
            .check()
            .await
            .expect_err("the audit task outlives the test");
        eprintln!("{leaks}");
        assert_eq!(leaks.tasks(), 1);
        let spawn_line = line_of("tokio::spawn(audit());");
        assert_eq!(
            leaks.sites[0].site,
            format!("crates/taskleak/examples/axum_service.rs:{spawn_line}")
        );
    }

    #[tokio::test]
    async fn the_fixed_handler_passes_the_guard() {
        let guard = taskleak::Guard::new();
        let (status, body) = call(
            app(taskleak::Runtimes::new()),
            "POST",
            "/orders/fixed",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("review"), "{body}");
        guard.verify().await;
    }

    /// The line of this file holding `needle` (so the test survives edits above it).
    fn line_of(needle: &str) -> usize {
        include_str!("axum_service.rs")
            .lines()
            .position(|l| l.trim() == needle)
            .expect("the spawn is in the file")
            + 1
    }
}
