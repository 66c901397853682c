//! `GET /debug/tasks` for axum (feature `axum`).
//!
//! Who may see it is your application's decision: the handler does no authorization. Put it
//! behind your auth middleware (`route_layer`), as `examples/axum_service.rs` does.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use taskleak::report::DebugTasks;
//!
//! # async fn run() {
//! let runtimes = taskleak::Runtimes::new();
//! runtimes.register_current();
//! let app: Router = Router::new()
//!     .route("/debug/tasks", get(taskleak::axum::debug_tasks))
//!     .with_state(DebugTasks::new(runtimes));
//! # let _ = app;
//! # }
//! ```

use axum::{
    Json,
    extract::{Query, State},
};

use crate::report::{DebugTasks, TasksQuery, TasksReport};

/// Answers with the [`TasksReport`] as JSON. Its state is a [`DebugTasks`] (or any router
/// state it can be taken from, through `FromRef`).
pub async fn debug_tasks(
    State(state): State<DebugTasks>,
    Query(query): Query<TasksQuery>,
) -> Json<TasksReport> {
    Json(state.report(&query).await)
}
