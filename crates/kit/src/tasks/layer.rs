//! The tracing layer that feeds [`SpawnSites`] from tokio's `runtime.spawn` spans inside the
//! subscriber stack: used with tokio-console, which needs those spans in the registry too
//! (otherwise [`super::subscriber`] counts them more cheaply, in front of the stack).

use std::{sync::Arc, time::Instant};

use tracing::{Metadata, Subscriber, span, subscriber::Interest};
use tracing_subscriber::{
    Layer,
    filter::Filtered,
    layer::{Context, Filter},
    registry::LookupSpan,
};

use super::{
    fields::{SpawnFields, is_spawn_span},
    sites::{Site, SpawnSites},
};

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
        let mut fields = SpawnFields::new(&self.sites);
        attrs.record(&mut fields);
        let Some(task) = fields.runtime_task() else {
            return;
        };
        let (site, task_id) = (self.sites.site(task.file, task.line), task.task_id);
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
