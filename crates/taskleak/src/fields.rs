//! Reading tokio's `runtime.spawn` span: which callsite it is and the fields that matter here.
//! Shared by the two ways of counting ([`crate::CensusSubscriber`] and, with the `layer` feature, `CensusLayer`).

use std::fmt::{self, Write as _};

use tracing::{
    Metadata,
    field::{Field, Visit},
};

use crate::sites::SiteTable;

/// tokio's span for a task's whole life (`tokio/src/util/trace.rs`).
const SPAWN_SPAN: &str = "runtime.spawn";
const SPAWN_TARGET: &str = "tokio::task";

pub(crate) fn is_spawn_span(meta: &Metadata<'_>) -> bool {
    meta.is_span() && meta.name() == SPAWN_SPAN && meta.target() == SPAWN_TARGET
}

/// A runtime task's spawn site and id, read from its `runtime.spawn` span's fields.
pub(crate) struct SpawnFields<'s> {
    sites: &'s SiteTable,
    file: Option<usize>,
    line: Option<u32>,
    task_id: Option<u64>,
    runtime_task: bool,
}

/// What [`SpawnFields`] found: the interned file, the line and tokio's task id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpawnedTask {
    pub file: usize,
    pub line: u32,
    pub task_id: u64,
}

impl<'s> SpawnFields<'s> {
    pub(crate) fn new(sites: &'s SiteTable) -> Self {
        Self {
            sites,
            file: None,
            line: None,
            task_id: None,
            runtime_task: false,
        }
    }

    /// The task, if the span was a runtime task's (`tokio::spawn`, `JoinSet::spawn`,
    /// `Handle::spawn`): what `runtime_alive_tasks` counts. Blocking-pool jobs, `block_on` and
    /// `LocalSet` tasks (actix runs every connection as one, and they pile up behind stuck
    /// handlers) are left out.
    pub(crate) fn runtime_task(self) -> Option<SpawnedTask> {
        if !self.runtime_task {
            return None;
        }
        Some(SpawnedTask {
            file: self.file?,
            line: self.line?,
            task_id: self.task_id?,
        })
    }
}

impl Visit for SpawnFields<'_> {
    /// `loc.file` is the `&'static str` of the spawn call's `Location`, passed through
    /// unchanged: it is interned by address, so the per-spawn work neither allocates nor formats.
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "loc.file" {
            self.file = Some(self.sites.intern_file(value));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "loc.line" => self.line = u32::try_from(value).ok(),
            "task.id" => self.task_id = Some(value),
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_u64(field, u64::try_from(value).unwrap_or_default());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "kind" {
            // tokio's kinds: task, local, blocking, block_on (a `Display` of a `&'static str`;
            // its type is private to tokio, so the printed value is compared).
            self.runtime_task = prints_as(value, "task");
        }
    }
}

/// Whether `value` prints exactly `expected` with `{:?}`, compared as it is written: no
/// allocation on the per-spawn path.
fn prints_as(value: &dyn fmt::Debug, expected: &str) -> bool {
    struct Compare<'e> {
        rest: &'e str,
    }
    impl fmt::Write for Compare<'_> {
        fn write_str(&mut self, piece: &str) -> fmt::Result {
            self.rest = self.rest.strip_prefix(piece).ok_or(fmt::Error)?;
            Ok(())
        }
    }
    let mut compare = Compare { rest: expected };
    write!(compare, "{value:?}").is_ok() && compare.rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::prints_as;

    #[test]
    fn compares_a_printed_value_without_formatting_it_into_a_string() {
        let display = tracing::field::display("task");
        assert!(prints_as(&display, "task"));
        assert!(!prints_as(&tracing::field::display("taskx"), "task"));
        assert!(!prints_as(&tracing::field::display("tas"), "task"));
        assert!(!prints_as(&tracing::field::display("local"), "task"));
        assert!(!prints_as(&"task", "task"), "Debug of a str is quoted");
    }
}
