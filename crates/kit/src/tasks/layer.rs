//! The tracing layer that feeds [`SpawnSites`] from tokio's `runtime.spawn` spans.

use std::{sync::Arc, time::Instant};

use tracing::{
    Metadata, Subscriber,
    field::{Field, Visit},
    span,
    subscriber::Interest,
};
use tracing_subscriber::{
    Layer,
    filter::Filtered,
    layer::{Context, Filter},
    registry::LookupSpan,
};

use super::sites::{Site, SpawnSites};

/// tokio's span for a task's whole life (`tokio/src/util/trace.rs`).
const SPAWN_SPAN: &str = "runtime.spawn";
const SPAWN_TARGET: &str = "tokio::task";

/// Counts tokio tasks per spawn site. Add it with [`SpawnSiteLayer::filtered`] so that it sees
/// nothing but `runtime.spawn` spans.
pub struct SpawnSiteLayer {
    sites: Arc<SpawnSites>,
}

/// Attached to each counted span, to find its site again when it closes.
struct Tracked {
    site: Arc<Site>,
    spawned_at: Instant,
    task_id: u64,
}

impl SpawnSiteLayer {
    pub fn new(sites: Arc<SpawnSites>) -> Self {
        Self { sites }
    }

    /// The layer behind its own per-layer filter: interest in tokio's spawn spans only, decided
    /// once per callsite, so every other tokio callsite stays disabled at no per-event cost.
    pub fn filtered<S>(self) -> Filtered<Self, SpawnSpansOnly, S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        self.with_filter(SpawnSpansOnly)
    }
}

/// Lets through tokio's `runtime.spawn` spans and nothing else.
pub struct SpawnSpansOnly;

fn is_spawn_span(meta: &Metadata<'_>) -> bool {
    meta.is_span() && meta.name() == SPAWN_SPAN && meta.target() == SPAWN_TARGET
}

impl<S> Filter<S> for SpawnSpansOnly {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        is_spawn_span(meta)
    }

    /// tokio's spawn spans are TRACE: without this hint the subscriber's global maximum level
    /// (taken from the other layers) could disable them before any filter is asked.
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if is_spawn_span(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }
}

impl<S> Layer<S> for SpawnSiteLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let mut fields = SpawnFields {
            sites: &self.sites,
            file: None,
            line: None,
            task_id: None,
            runtime_task: false,
        };
        attrs.record(&mut fields);
        // Runtime tasks only (`tokio::spawn`, `JoinSet::spawn`, `Handle::spawn`): what
        // `runtime_alive_tasks` counts. Blocking-pool jobs, `block_on` and `LocalSet` tasks (actix
        // runs every connection as one, and they pile up behind stuck handlers) are left out.
        if !fields.runtime_task {
            return;
        }
        let (Some(file), Some(line), Some(task_id)) = (fields.file, fields.line, fields.task_id)
        else {
            return;
        };
        let site = self.sites.site(file, line);
        let spawned_at = Instant::now();
        site.add(spawned_at, task_id);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Tracked {
                site,
                spawned_at,
                task_id,
            });
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && let Some(tracked) = span.extensions().get::<Tracked>()
        {
            tracked.site.remove(tracked.spawned_at, tracked.task_id);
        }
    }
}

/// The fields of a `runtime.spawn` span that matter here. `loc.file` is the `&'static str` of
/// the spawn call's `Location`, passed through unchanged: it is interned by address, so the
/// per-spawn work neither allocates nor formats.
struct SpawnFields<'s> {
    sites: &'s SpawnSites,
    file: Option<usize>,
    line: Option<u32>,
    task_id: Option<u64>,
    runtime_task: bool,
}

impl Visit for SpawnFields<'_> {
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

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "kind" {
            // tokio's kinds: task, local, blocking, block_on. Comparing the formatted value
            // avoids depending on tokio's private kind type.
            self.runtime_task = format!("{value:?}") == "task";
        }
    }
}

#[cfg(all(test, tokio_unstable))]
mod tests {
    use std::sync::Arc;

    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[test]
    fn counts_a_raw_tokio_spawn_at_its_line_until_the_task_ends() {
        let sites = Arc::new(SpawnSites::default());
        let subscriber = tracing_subscriber::registry()
            .with(crate::tasks::layer::SpawnSiteLayer::new(sites.clone()).filtered());
        tracing::subscriber::with_default(subscriber, || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let (tx, rx) = tokio::sync::oneshot::channel::<()>();
                let line = line!() + 1;
                let task = tokio::spawn(async move { rx.await.ok() });
                tokio::task::yield_now().await;
                let snapshot = sites.snapshot(4);
                let site = snapshot
                    .iter()
                    .find(|s| s.alive > 0 && s.location.ends_with(&format!(":{line}")))
                    .unwrap_or_else(|| panic!("the spawn at line {line} is counted: {snapshot:?}"));
                assert!(site.location.starts_with("crates/kit/src/tasks/layer.rs"));
                assert_eq!(site.alive, 1);
                let _ = tx.send(());
                task.await.expect("task ends");
                let after = sites.snapshot(4);
                let site = after
                    .iter()
                    .find(|s| s.location.ends_with(&format!(":{line}")));
                assert_eq!(site.map(|s| s.alive), Some(0), "and uncounted when it ends");
            });
        });
    }
}

#[cfg(all(test, tokio_unstable))]
mod stack_tests {
    use tracing_subscriber::layer::SubscriberExt as _;

    #[test]
    fn the_layers_telemetry_installs_count_spawns() {
        let subscriber = tracing_subscriber::registry().with(crate::tasks::layers(0));
        tracing::subscriber::with_default(subscriber, || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let (tx, rx) = tokio::sync::oneshot::channel::<()>();
                let task = tokio::spawn(async move { rx.await.ok() });
                tokio::task::yield_now().await;
                let sites = crate::tasks::process_sites().expect("installed");
                let alive: usize = sites.snapshot(0).iter().map(|s| s.alive).sum();
                assert!(alive >= 1, "{:?}", sites.snapshot(0));
                let _ = tx.send(());
                task.await.expect("task ends");
            });
        });
    }
}
