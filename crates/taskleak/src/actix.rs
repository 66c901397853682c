//! `GET /debug/tasks` for actix-web (feature `actix-web`).
//!
//! Who may see it is your application's decision: the handler does no authorization. Call it
//! from a handler of your own that checks first, or mount it behind your auth middleware.
//!
//! ```no_run
//! use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
//! use taskleak::report::{DebugTasks, TasksQuery};
//!
//! async fn tasks(
//!     req: HttpRequest,
//!     state: web::Data<DebugTasks>,
//!     query: web::Query<TasksQuery>,
//! ) -> HttpResponse {
//!     let token = req.headers().get("authorization").and_then(|v| v.to_str().ok());
//!     if token != Some("Bearer my-admin-token") {
//!         return HttpResponse::Unauthorized().finish();
//!     }
//!     taskleak::actix::debug_tasks(state, query).await
//! }
//!
//! fn main() -> std::io::Result<()> {
//!     taskleak::init().expect("no other global subscriber");
//!     actix_web::rt::System::new().block_on(async {
//!         let runtimes = taskleak::Runtimes::new();
//!         let state = web::Data::new(DebugTasks::new(runtimes.clone()));
//!         HttpServer::new(move || {
//!             // Runs on each worker thread: each worker has a runtime of its own.
//!             runtimes.register_current();
//!             App::new()
//!                 .app_data(state.clone())
//!                 .route("/debug/tasks", web::get().to(tasks))
//!         })
//!         .bind(("127.0.0.1", 8080))?
//!         .run()
//!         .await
//!     })
//! }
//! ```

use actix_web::{HttpResponse, web};

use crate::report::{DebugTasks, TasksQuery};

/// Answers with the [`TasksReport`](crate::report::TasksReport) as JSON.
pub async fn debug_tasks(
    state: web::Data<DebugTasks>,
    query: web::Query<TasksQuery>,
) -> HttpResponse {
    HttpResponse::Ok().json(state.report(&query).await)
}
