//! `GET /debug/tasks` (admin token): live tasks grouped by spawn site, most first, each with its
//! count and oldest age; with `?dump=1` also where a sample task of each site is parked.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{
    dump::{self, DumpError, DumpGate},
    report::{SiteReport, TasksReport},
};
use crate::{
    auth::{AdminAuthError, AdminToken},
    metrics::RuntimeRegistry,
};

/// What the handler needs, shared by every worker.
#[derive(Clone)]
pub struct TaskDebug {
    pub admin: AdminToken,
    pub runtimes: RuntimeRegistry,
    pub gate: DumpGate,
}

#[derive(Debug, Deserialize)]
pub struct TasksQuery {
    /// `1`/`true`: take a (guarded) task dump for a sample stack per site.
    #[serde(default)]
    dump: Option<String>,
    /// Sites to list (default 20); the rest are summed into the totals only.
    #[serde(default)]
    limit: Option<usize>,
}

/// Tasks ids sampled per site for the dump: the oldest few (any one found in the dump will do).
const SAMPLE_IDS_PER_SITE: usize = 8;

pub async fn debug_tasks(
    req: HttpRequest,
    state: web::Data<TaskDebug>,
    query: web::Query<TasksQuery>,
) -> Result<HttpResponse, AdminAuthError> {
    state.admin.authorize(&req)?;
    let wants_dump = matches!(query.dump.as_deref(), Some("1" | "true" | "yes"));
    let limit = query.limit.unwrap_or(20);
    Ok(HttpResponse::Ok().json(report(&state, wants_dump, limit).await))
}

async fn report(state: &TaskDebug, wants_dump: bool, limit: usize) -> TasksReport {
    let accounting = match super::process_sites() {
        Some(_) => "on",
        None if super::INSTRUMENTED => "off",
        None => "not_compiled",
    };
    let snapshot = super::process_sites()
        .map(|sites| sites.snapshot(SAMPLE_IDS_PER_SITE))
        .unwrap_or_default();
    let accounted_tasks = snapshot.iter().map(|s| s.alive).sum();
    let listed: Vec<_> = snapshot
        .into_iter()
        .filter(|s| s.alive > 0)
        .take(limit)
        .collect();

    let (dump_state, mut stacks) = if wants_dump && !listed.is_empty() {
        let wanted: HashMap<String, Vec<u64>> = listed
            .iter()
            .map(|s| (s.location.clone(), s.task_ids.clone()))
            .collect();
        match dump::sample_stacks(&state.gate, state.runtimes.handles(), wanted).await {
            Ok(stacks) => ("ok", stacks),
            Err(e) => {
                tracing::warn!(error = %e, "task dump skipped");
                (dump_error_name(&e), HashMap::new())
            }
        }
    } else {
        ("not_requested", HashMap::new())
    };

    let sites = listed
        .into_iter()
        .map(|site| {
            let sample = stacks.remove(&site.location);
            SiteReport {
                tasks: site.alive,
                oldest_age_seconds: (site.oldest.as_secs_f64() * 10.0).round() / 10.0,
                parked_in: sample.as_ref().and_then(|s| s.parked_in.clone()),
                sample_stack: sample.map(|s| s.frames).unwrap_or_default(),
                site: site.location,
            }
        })
        .collect();
    TasksReport {
        accounting: accounting.to_owned(),
        runtime_alive_tasks: state.runtimes.alive_tasks(),
        accounted_tasks,
        dump: dump_state.to_owned(),
        sites,
    }
}

fn dump_error_name(e: &DumpError) -> &'static str {
    match e {
        DumpError::Unavailable => "unavailable",
        DumpError::Busy => "busy",
        DumpError::TimedOut => "timed_out",
        DumpError::Failed => "failed",
    }
}
