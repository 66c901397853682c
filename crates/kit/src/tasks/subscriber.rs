//! Task accounting that keeps tokio's spawn spans away from the span registry.
//!
//! Why: tokio enters a task's `runtime.spawn` span on every poll. Left to
//! `tracing_subscriber`'s registry, each poll costs a push and pop on the thread's span stack, a
//! reference-count increment and decrement in the registry's slab, and a slab lookup per
//! per-layer filter on the way in and out: ~150 ns per poll and ~1 µs per spawn on the
//! development machine (`cargo bench -p leakstorm-kit --bench task_accounting`). This wrapper
//! sits in front of the whole subscriber stack and answers for spawn spans itself: it counts
//! the task at its spawn site when the span opens, uncounts it when the span closes, and does
//! nothing at all on enter and exit. Every other span and event goes to the stack unchanged.
//!
//! Ids: spawn spans get ids with [`OWN_ID_BIT`] set, from this wrapper's own table; the registry
//! never hands out such an id (see [`OWN_ID_BIT`]), and [`SpawnSpanSubscriber::new_span`] checks
//! every id it passes through, switching itself off rather than ever confusing two spans.
//!
//! tokio-console needs tokio's spans in the registry, so with the console on the accounting uses
//! [`super::layer::SpawnSiteLayer`] instead (see [`super::dispatch`]).

use std::{
    any::TypeId,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};

use slab::Slab;
use tracing::{
    Dispatch, Event, Metadata, Subscriber,
    level_filters::LevelFilter,
    span::{Attributes, Id, Record},
    subscriber::Interest,
};
use tracing_core::span::Current;

use super::{
    fields::{SpawnFields, is_spawn_span},
    sites::{Site, SpawnSites},
};

/// Marks the ids of the spawn spans this wrapper owns. `tracing_subscriber`'s registry makes
/// ids from `sharded_slab` keys (+1) whose bits 0..=37 are the slot address within a shard;
/// addresses stay below 2^37 - 32 (the capacity of a shard's 32 pages of 32·2^i slots), so bit
/// 37 is never set in a registry id. [`SpawnSpanSubscriber::new_span`] checks it anyway.
pub const OWN_ID_BIT: u64 = 1 << 37;

/// One alive task's span, as the wrapper tracks it.
struct TaskSpan {
    site: Arc<Site>,
    spawned_at: Instant,
    task_id: u64,
    /// Handles to the span (tokio holds one; `Span::clone` would add more).
    refs: usize,
}

/// Wraps the process's subscriber stack `S`; see the module documentation.
pub struct SpawnSpanSubscriber<S> {
    inner: S,
    sites: Arc<SpawnSites>,
    spans: Mutex<Slab<TaskSpan>>,
    /// Cleared for good if the registry ever produced an id with [`OWN_ID_BIT`]: spawn spans
    /// then go to the stack like any other span (and are not counted).
    own_ids: AtomicBool,
}

impl<S: Subscriber> SpawnSpanSubscriber<S> {
    pub fn new(inner: S, sites: Arc<SpawnSites>) -> Self {
        Self {
            inner,
            sites,
            spans: Mutex::new(Slab::new()),
            own_ids: AtomicBool::new(true),
        }
    }

    fn owns(&self, id: &Id) -> bool {
        id.into_u64() & OWN_ID_BIT != 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slab<TaskSpan>> {
        self.spans.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a spawn span at its site and returns its id; `None` for the spans of tasks that
    /// are not runtime tasks (blocking, `block_on`, `LocalSet`), which need no id.
    fn open(&self, attrs: &Attributes<'_>) -> Option<Id> {
        let mut fields = SpawnFields::new(&self.sites);
        attrs.record(&mut fields);
        let task = fields.runtime_task()?;
        let site = self.sites.site(task.file, task.line);
        let spawned_at = Instant::now();
        site.add(spawned_at, task.task_id);
        let key = self.lock().insert(TaskSpan {
            site,
            spawned_at,
            task_id: task.task_id,
            refs: 1,
        });
        Some(Id::from_u64(OWN_ID_BIT | key as u64))
    }

    fn key(id: &Id) -> usize {
        usize::try_from(id.into_u64() & !OWN_ID_BIT).unwrap_or(usize::MAX)
    }
}

/// The id of spawn spans the wrapper does not count (blocking, `block_on` and `LocalSet` tasks,
/// such as every actix connection): owned, never stored, so cloning and closing it take no lock.
const UNCOUNTED: u64 = OWN_ID_BIT | (OWN_ID_BIT - 1);

impl<S: Subscriber> Subscriber for SpawnSpanSubscriber<S> {
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        self.inner.on_register_dispatch(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if is_spawn_span(metadata) && self.own_ids.load(Ordering::Relaxed) {
            return Interest::always();
        }
        self.inner.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        (is_spawn_span(metadata) && self.own_ids.load(Ordering::Relaxed))
            || self.inner.enabled(metadata)
    }

    /// tokio's spawn spans are TRACE: the global maximum level must let them through.
    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::TRACE)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        if is_spawn_span(span.metadata()) && self.own_ids.load(Ordering::Relaxed) {
            return self.open(span).unwrap_or(Id::from_u64(UNCOUNTED));
        }
        // Spans made inside a task have no handle to its spawn span, so an owned parent should
        // not occur; if one does, the span becomes a root rather than confuse the registry.
        let id = match span.parent() {
            Some(parent) if self.owns(parent) => self
                .inner
                .new_span(&Attributes::new_root(span.metadata(), span.values())),
            _ => self.inner.new_span(span),
        };
        if self.owns(&id) && self.own_ids.swap(false, Ordering::Relaxed) {
            eprintln!(
                "task accounting: the span registry produced id {:#x}, which carries the bit \
                 reserved for spawn spans; spawn-site accounting is off from now on",
                id.into_u64()
            );
        }
        id
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        if !self.owns(span) {
            self.inner.record(span, values);
        }
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        if !self.owns(span) && !self.owns(follows) {
            self.inner.record_follows_from(span, follows);
        }
    }

    fn event_enabled(&self, event: &Event<'_>) -> bool {
        self.inner.event_enabled(event)
    }

    fn event(&self, event: &Event<'_>) {
        self.inner.event(event);
    }

    /// The point of the wrapper: a poll of a task costs nothing here.
    fn enter(&self, span: &Id) {
        if !self.owns(span) {
            self.inner.enter(span);
        }
    }

    fn exit(&self, span: &Id) {
        if !self.owns(span) {
            self.inner.exit(span);
        }
    }

    fn clone_span(&self, id: &Id) -> Id {
        if !self.owns(id) {
            return self.inner.clone_span(id);
        }
        if id.into_u64() == UNCOUNTED {
            return id.clone();
        }
        if let Some(task) = self.lock().get_mut(Self::key(id)) {
            task.refs += 1;
        }
        id.clone()
    }

    fn try_close(&self, id: Id) -> bool {
        if !self.owns(&id) {
            return self.inner.try_close(id);
        }
        if id.into_u64() == UNCOUNTED {
            return true;
        }
        let key = Self::key(&id);
        let closed = {
            let mut spans = self.lock();
            match spans.get_mut(key) {
                Some(task) if task.refs > 1 => {
                    task.refs -= 1;
                    None
                }
                Some(_) => Some(spans.remove(key)),
                None => return false,
            }
        };
        // The site's own lock is taken after the table's is released.
        closed
            .map(|task| task.site.remove(task.spawned_at, task.task_id))
            .is_some()
    }

    #[allow(deprecated)]
    fn drop_span(&self, id: Id) {
        let _ = self.try_close(id);
    }

    fn current_span(&self) -> Current {
        self.inner.current_span()
    }

    // SAFETY: returns a pointer to `self` for `Self`'s own type id, as the trait's default does,
    // and otherwise exactly what the wrapped subscriber returns for that type id; the wrapped
    // subscriber lives as long as `self`. Forwarding is what lets `Dispatch::downcast_ref` find
    // the stack's parts (the registry, tracing-opentelemetry's context access) through the
    // wrapper: without it trace-context propagation would silently stop.
    #[allow(unsafe_code)]
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(std::ptr::from_ref(self).cast());
        }
        // SAFETY: see above; the caller's contract is passed on unchanged.
        unsafe { self.inner.downcast_raw(id) }
    }
}

impl<S> std::fmt::Debug for SpawnSpanSubscriber<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpawnSpanSubscriber")
            .field(
                "alive_spawn_spans",
                &self.spans.lock().map(|s| s.len()).ok(),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, tokio_unstable))]
#[path = "subscriber_tests.rs"]
mod tests;
