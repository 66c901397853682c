//! Builds a service's actix server: the shared middleware (root span, HTTP metrics,
//! `traceresponse`), `/healthz`, `/readyz`, `/metrics`, `/debug/tasks` and `/admin/scenarios`
//! (admin token; see [`crate::tasks`], [`crate::scenarios`]), JSON error handling, and the service's
//! own routes. `build` binds (port 0 in tests, read back with [`Application::port`]); `run`
//! serves until a signal or [`Application::handle`] stops it.

use std::{net::TcpListener, time::Duration};

use actix_web::{
    App, Error, HttpMessage as _, HttpResponse, HttpServer,
    body::MessageBody,
    dev::{Server, ServerHandle, ServiceRequest, ServiceResponse},
    http::{StatusCode, header::HeaderValue},
    middleware::{Next, from_fn},
    web,
};
use anyhow::Context as _;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tracing_actix_web::{RootSpan, TracingLogger};

use crate::{
    config::ServerSettings,
    db::Db,
    error::{self, json_error},
    metrics::Metrics,
    root_span::{SemconvRootSpan, is_probe, traceresponse},
    scenarios::{Scenarios, http::ScenarioAdmin},
    tasks::{self, http::TaskDebug},
    telemetry::ServiceIdentity,
};

/// What every service shares: its database, its metrics and the leak scenarios it hosts.
#[derive(Clone)]
pub struct Platform {
    pub db: Db,
    pub metrics: Metrics,
    pub scenarios: Scenarios,
}

pub struct Application {
    port: u16,
    server: Server,
    /// Background work owned by the server: cancelled when it stops, awaited before exit.
    background: TaskTracker,
    shutdown: CancellationToken,
}

impl Application {
    /// Binds the listener and builds the server; `routes` adds the service's own resources and
    /// app data (it runs once per worker).
    pub fn build<F>(
        settings: &ServerSettings,
        platform: Platform,
        routes: F,
    ) -> anyhow::Result<Self>
    where
        F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
    {
        let address = (settings.host.as_str(), settings.port);
        let listener = TcpListener::bind(address)
            .with_context(|| format!("binding {}:{}", settings.host, settings.port))?;
        let port = listener
            .local_addr()
            .context("reading the bound port")?
            .port();
        let json_limit = settings.json_body_limit_bytes;
        let runtimes = platform.metrics.runtimes().clone();
        let task_debug = web::Data::new(TaskDebug {
            admin: settings.admin_token.clone(),
            tasks: taskleak::report::DebugTasks::new(runtimes.clone()),
        });
        let scenario_admin = ScenarioAdmin {
            scenarios: platform.scenarios,
            admin: settings.admin_token.clone(),
        };
        let db = web::Data::new(platform.db);
        let metrics = web::Data::new(platform.metrics);
        let server = HttpServer::new(move || {
            // Runs on each worker thread: its runtime is where handlers spawn their tasks (and,
            // in tests, joins the test's leak guard: see taskleak::Runtimes).
            runtimes.register_current();
            App::new()
                .wrap(from_fn(record_request))
                .wrap(TracingLogger::<SemconvRootSpan>::new())
                .app_data(error::json_config(json_limit))
                .app_data(error::path_config())
                .app_data(error::query_config())
                .app_data(db.clone())
                .app_data(metrics.clone())
                .app_data(task_debug.clone())
                .route("/healthz", web::get().to(healthz))
                .route("/readyz", web::get().to(readyz))
                .route("/metrics", web::get().to(render_metrics))
                .route("/debug/tasks", web::get().to(tasks::http::debug_tasks))
                .configure(|cfg| crate::scenarios::http::routes(cfg, scenario_admin.clone()))
                .configure(routes.clone())
                .default_service(web::to(error::not_found))
        })
        .workers(settings.workers)
        .shutdown_timeout(settings.shutdown_timeout.as_secs());
        let server = match settings.max_blocking_threads {
            Some(max) => server.worker_max_blocking_threads(max),
            None => server,
        };
        let server = server.listen(listener).context("listening")?.run();
        Ok(Self {
            port,
            server,
            background: TaskTracker::new(),
            shutdown: CancellationToken::new(),
        })
    }

    /// Runs `task` for the life of the server. It gets a token that is cancelled when the
    /// server stops, and `run_until_stopped` waits for it to return.
    pub fn spawn_owned<F, Fut>(&self, task: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.background.spawn(task(self.shutdown.child_token()));
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from elsewhere (tests, or a supervisor).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM (graceful: in-flight requests get `SHUTDOWN_TIMEOUT_MS`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.shutdown.cancel();
        self.background.close();
        self.background.wait().await;
        served
    }
}

/// A resource whose unsupported methods get the JSON 405 instead of actix's empty one.
pub fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(error::method_not_allowed))
}

/// Records the HTTP duration histogram and returns the trace id in `traceresponse`.
async fn record_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = std::time::Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let root_span = req
        .extensions()
        .get::<RootSpan>()
        .map(|s| tracing::Span::clone(s));
    let trace_header = root_span.as_ref().and_then(traceresponse);
    let method = req.method().as_str().to_owned();
    let path = req.path().to_owned();
    let mut response = next.call(req).await?;
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    if let Some(metrics) = metrics {
        metrics.observe_http(&route, &method, status, elapsed);
    }
    if let Some(span) = root_span.as_ref().filter(|_| !is_probe(&path)) {
        // The access log line, inside the request's span so that it carries the trace id. Its
        // target keeps it out of the exported spans (see the export filter in telemetry).
        let trace_id = trace_header.as_deref().and_then(|h| h.split('-').nth(1));
        tracing::info!(
            target: "access",
            parent: span,
            trace_id = trace_id.unwrap_or(""),
            http.request.method = %method,
            http.route = %route,
            http.response.status_code = status,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "request finished"
        );
    }
    if let Some(value) = trace_header.and_then(|v| HeaderValue::try_from(v).ok()) {
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("traceresponse"),
            value,
        );
    }
    Ok(response)
}

/// Runs a service binary: telemetry first, then the app from `build`, serving until a signal;
/// traces are flushed on every exit path. `<binary> healthcheck` instead probes a running
/// instance's `/healthz` (for container healthchecks in images without curl) and exits.
pub fn run_service<B, Fut>(identity: ServiceIdentity, build: B) -> anyhow::Result<()>
where
    B: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<Application>>,
{
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return crate::healthcheck::probe(identity.default_port);
    }
    actix_web::rt::System::new().block_on(async move {
        let telemetry = crate::telemetry::init(identity)?;
        let outcome = async {
            let app = build().await?;
            tracing::info!(port = app.port(), service = identity.name, "listening");
            app.run_until_stopped().await.context("serving HTTP")
        }
        .await;
        if let Err(e) = &outcome {
            tracing::error!(error = format!("{e:#}"), "service stopped with an error");
        }
        telemetry.shutdown().await;
        outcome
    })
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(db: web::Data<Db>) -> HttpResponse {
    match tokio::time::timeout(Duration::from_secs(1), db.ping()).await {
        Ok(Ok(())) => HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "database unavailable",
            )
        }
        Err(_) => json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "database did not answer within 1 s",
        ),
    }
}

async fn render_metrics(metrics: web::Data<Metrics>, db: web::Data<Db>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(db.pool()))
}
