//! The census as a `tracing_subscriber` layer (feature `layer`), for stacks that need tokio's
//! spawn spans in the registry too — tokio-console's `ConsoleLayer` does. Otherwise prefer
//! [`CensusSubscriber`](crate::CensusSubscriber) in front of the stack: inside it, every poll of
//! every task goes through the registry (`cargo bench --bench task_accounting` measures both).

use tracing::{Dispatch, Metadata, Subscriber, span, subscriber::Interest};
use tracing_subscriber::{
    Layer,
    filter::Filtered,
    layer::{Context, Filter},
    registry::LookupSpan,
};

use crate::{
    census::{Census, Counted},
    fields::is_spawn_span,
};

/// Counts tokio tasks per spawn site inside a `tracing_subscriber` stack. Add it with
/// [`CensusLayer::filtered`], so that it sees nothing but tokio's spawn spans.
///
/// Tasks spawned with `Handle::spawn` from outside any runtime keep an unknown runtime here
/// (the [`Guard`](crate::Guard) then reports them as not attributed); the subscriber in front
/// resolves them at their first poll.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt as _;
///
/// let census = taskleak::Census::new();
/// let stack = tracing_subscriber::registry()
///     .with(taskleak::CensusLayer::new(census.clone()).filtered());
/// let _dispatch = tracing::Dispatch::new(stack);
/// assert!(census.snapshot().is_ok(), "the layer feeds the census once it is dispatched");
/// ```
#[derive(Debug, Clone)]
pub struct CensusLayer {
    census: Census,
}

impl CensusLayer {
    /// A layer feeding `census`.
    pub fn new(census: Census) -> Self {
        Self { census }
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

/// A per-layer filter that lets through tokio's `runtime.spawn` spans and nothing else.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpawnSpansOnly;

impl<S> Filter<S> for SpawnSpansOnly {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        is_spawn_span(meta)
    }

    /// tokio's spawn spans are TRACE: without this hint the stack's global maximum level
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

impl<S> Layer<S> for CensusLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, _: &Dispatch) {
        self.census.mark_installed();
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let Some(task) = self.census.open(attrs) else {
            return;
        };
        match ctx.span(id) {
            Some(span) => span.extensions_mut().insert(task),
            None => {
                self.census.release(task);
            }
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && let Some(task) = span.extensions().get::<Counted>()
        {
            self.census.release(*task);
        }
    }
}

#[cfg(all(test, tokio_unstable))]
mod tests {
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[test]
    fn counts_a_raw_tokio_spawn_at_its_line_until_the_task_ends() {
        let census = Census::new();
        let subscriber =
            tracing_subscriber::registry().with(CensusLayer::new(census.clone()).filtered());
        tracing::subscriber::with_default(subscriber, || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let (tx, rx) = tokio::sync::oneshot::channel::<()>();
                let line = line!() + 1;
                let task = tokio::spawn(async move { rx.await.ok() });
                tokio::task::yield_now().await;
                let alive_at_line = || {
                    let snapshot = census.snapshot().expect("installed");
                    snapshot
                        .sites
                        .iter()
                        .find(|s| s.site.ends_with(&format!("layer.rs:{line}")))
                        .map(|s| s.alive)
                };
                assert_eq!(alive_at_line(), Some(1));
                let _ = tx.send(());
                task.await.expect("task ends");
                assert_eq!(alive_at_line(), Some(0), "and uncounted when it ends");
            });
        });
    }
}
