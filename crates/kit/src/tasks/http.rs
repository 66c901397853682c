//! `GET /debug/tasks` (admin token): live tasks grouped by spawn site, most first, each with its
//! count and oldest age. `?dump=1` answers `"dump": "current_thread_only"` here: every actix-web
//! worker is a current-thread runtime, where a tokio task dump can strand tasks (see
//! [`taskleak::dump`]), so stacks come from the test guard instead. The report is `taskleak`'s
//! ([`taskleak::report`]); the admin token is the fleet's.

use actix_web::{HttpRequest, HttpResponse, web};
use taskleak::report::{DebugTasks, TasksQuery};

use crate::auth::{AdminAuthError, AdminToken};

/// What the handler needs, shared by every worker.
#[derive(Clone)]
pub struct TaskDebug {
    pub admin: AdminToken,
    pub tasks: DebugTasks,
}

pub async fn debug_tasks(
    req: HttpRequest,
    state: web::Data<TaskDebug>,
    query: web::Query<TasksQuery>,
) -> Result<HttpResponse, AdminAuthError> {
    state.admin.authorize(&req)?;
    Ok(HttpResponse::Ok().json(state.tasks.report(&query).await))
}
