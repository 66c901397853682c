//! The census in front of any subscriber stack, where a poll costs one bit test.
//!
//! Why in front: tokio enters a task's `runtime.spawn` span on every poll. Left to
//! `tracing_subscriber`'s registry, each poll costs a push and pop on the thread's span stack, a
//! reference-count increment and decrement in the registry's slab, and a slab lookup per
//! per-layer filter. [`CensusSubscriber`] answers for spawn spans itself: it counts the task at
//! its spawn site when the span opens, uncounts it when the span closes, and does nothing on
//! enter and exit. Every other span and event goes to the wrapped subscriber unchanged.
//!
//! Ids: spawn spans get ids with a reserved bit (37) set, from this wrapper's own table;
//! `tracing_subscriber`'s registry never hands out such an id (see `OWN_ID_BIT` in the source), and
//! [`CensusSubscriber`] checks every id it passes through, switching itself off rather than ever
//! confuse two spans.

use std::{
    any::TypeId,
    sync::atomic::{AtomicBool, Ordering},
};

use tracing::{
    Dispatch, Event, Metadata, Subscriber,
    level_filters::LevelFilter,
    span::{Attributes, Id, Record},
    subscriber::Interest,
};
use tracing_core::span::Current;

use crate::{
    census::{Census, Counted},
    fields::is_spawn_span,
};

/// Marks the ids of the spawn spans [`CensusSubscriber`] owns. `tracing_subscriber`'s registry
/// makes ids from `sharded_slab` keys (+1) whose bits 0..=37 are the slot address within a
/// shard; addresses stay below 2^37 - 32 (the capacity of a shard's 32 pages of 32·2^i slots),
/// so bit 37 is never set in a registry id. The wrapper checks it anyway.
const OWN_ID_BIT: u64 = 1 << 37;
/// Within our own ids: a task spawned from outside any runtime, whose runtime is recorded at its
/// first poll.
const UNRESOLVED_BIT: u64 = 1 << 36;
/// Below those: the site's index (12 bits) and the task's slot in it (24 bits). A task that does
/// not fit (a 4,095th site, a 16,777,216th task alive at one site) is not counted.
const SLOT_BITS: u32 = 24;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
const MAX_SITE: u64 = (UNRESOLVED_BIT >> SLOT_BITS) - 2;
/// The id of spawn spans that are not counted (blocking, `block_on` and `LocalSet` tasks, such
/// as every actix-web connection): owned, never stored, so cloning and closing take no lock.
const UNCOUNTED: u64 = OWN_ID_BIT | (UNRESOLVED_BIT - 1);

/// Wraps a subscriber `S` (your whole stack, or [`NoSubscriber`](tracing::subscriber::NoSubscriber))
/// and feeds a [`Census`] from tokio's spawn spans; see [`crate::wrap`] for the usual way in.
///
/// ```
/// use tracing::subscriber::NoSubscriber;
///
/// let census = taskleak::Census::new();
/// let subscriber = taskleak::CensusSubscriber::new(NoSubscriber::default(), census.clone());
/// let dispatch = tracing::Dispatch::new(subscriber);
/// # let _ = dispatch;
/// ```
pub struct CensusSubscriber<S> {
    inner: S,
    census: Census,
    /// Cleared for good if the wrapped subscriber ever produced an id with [`OWN_ID_BIT`]:
    /// spawn spans then go to it like any other span (and are not counted).
    own_ids: AtomicBool,
}

impl<S: Subscriber> CensusSubscriber<S> {
    /// Feeds `census` from the spawn spans, passing everything else to `inner`.
    pub fn new(inner: S, census: Census) -> Self {
        Self {
            inner,
            census,
            own_ids: AtomicBool::new(true),
        }
    }

    /// The census this subscriber feeds.
    pub fn census(&self) -> &Census {
        &self.census
    }

    fn owns(id: &Id) -> bool {
        id.into_u64() & OWN_ID_BIT != 0
    }

    fn counting(&self) -> bool {
        self.own_ids.load(Ordering::Relaxed)
    }

    /// The counted task an owned id stands for (`None` for [`UNCOUNTED`]).
    fn counted(id: &Id) -> Option<Counted> {
        let id = id.into_u64();
        if id == UNCOUNTED {
            return None;
        }
        Some(Counted {
            site: u32::try_from((id & (UNRESOLVED_BIT - 1)) >> SLOT_BITS).ok()?,
            slot: usize::try_from(id & SLOT_MASK).ok()?,
            runtime_unknown: id & UNRESOLVED_BIT != 0,
        })
    }

    fn open(&self, attrs: &Attributes<'_>) -> Id {
        let Some(task) = self.census.open(attrs) else {
            return Id::from_u64(UNCOUNTED);
        };
        let (site, slot) = (u64::from(task.site), task.slot as u64);
        if site > MAX_SITE || slot > SLOT_MASK {
            self.census.release(task);
            return Id::from_u64(UNCOUNTED);
        }
        let unresolved = if task.runtime_unknown {
            UNRESOLVED_BIT
        } else {
            0
        };
        Id::from_u64(OWN_ID_BIT | unresolved | (site << SLOT_BITS) | slot)
    }
}

impl<S: Subscriber> Subscriber for CensusSubscriber<S> {
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        self.census.mark_installed();
        self.inner.on_register_dispatch(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if is_spawn_span(metadata) && self.counting() {
            return Interest::always();
        }
        self.inner.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        (is_spawn_span(metadata) && self.counting()) || self.inner.enabled(metadata)
    }

    /// tokio's spawn spans are TRACE: the global maximum level must let them through.
    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::TRACE)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        if is_spawn_span(span.metadata()) && self.counting() {
            return self.open(span);
        }
        // Spans made inside a task have no handle to its spawn span, so an owned parent should
        // not occur; if one does, the span becomes a root rather than confuse the inner stack.
        let id = match span.parent() {
            Some(parent) if Self::owns(parent) => self
                .inner
                .new_span(&Attributes::new_root(span.metadata(), span.values())),
            _ => self.inner.new_span(span),
        };
        if Self::owns(&id) && self.own_ids.swap(false, Ordering::Relaxed) {
            eprintln!(
                "taskleak: the wrapped subscriber produced span id {:#x}, which carries the bit \
                 reserved for spawn spans; the census stops counting from now on",
                id.into_u64()
            );
        }
        id
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        if !Self::owns(span) {
            self.inner.record(span, values);
        }
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        if !Self::owns(span) && !Self::owns(follows) {
            self.inner.record_follows_from(span, follows);
        }
    }

    fn event_enabled(&self, event: &Event<'_>) -> bool {
        self.inner.event_enabled(event)
    }

    fn event(&self, event: &Event<'_>) {
        self.inner.event(event);
    }

    /// The point of the wrapper: a poll of a task costs a bit test here.
    fn enter(&self, span: &Id) {
        let id = span.into_u64();
        if id & OWN_ID_BIT == 0 {
            return self.inner.enter(span);
        }
        if id & UNRESOLVED_BIT != 0
            && let Some(task) = Self::counted(span)
        {
            self.census.resolve_runtime(task);
        }
    }

    fn exit(&self, span: &Id) {
        if !Self::owns(span) {
            self.inner.exit(span);
        }
    }

    fn clone_span(&self, id: &Id) -> Id {
        if !Self::owns(id) {
            return self.inner.clone_span(id);
        }
        if let Some(task) = Self::counted(id) {
            self.census.retain(task);
        }
        id.clone()
    }

    fn try_close(&self, id: Id) -> bool {
        if !Self::owns(&id) {
            return self.inner.try_close(id);
        }
        match Self::counted(&id) {
            Some(task) => self.census.release(task),
            None => true,
        }
    }

    #[allow(deprecated)]
    fn drop_span(&self, id: Id) {
        let _ = self.try_close(id);
    }

    fn current_span(&self) -> Current {
        self.inner.current_span()
    }

    // SAFETY: returns a pointer to `self` for `Self`'s own type id and to the census for
    // `Census`'s, and otherwise exactly what the wrapped subscriber returns for that type id;
    // both live as long as `self`. Forwarding is what lets `Dispatch::downcast_ref` find the
    // stack's parts (the registry, tracing-opentelemetry's context access) through the wrapper:
    // without it trace-context propagation would silently stop.
    #[allow(unsafe_code)]
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(std::ptr::from_ref(self).cast());
        }
        if id == TypeId::of::<Census>() {
            return Some(std::ptr::from_ref(&self.census).cast());
        }
        // SAFETY: see above; the caller's contract is passed on unchanged.
        unsafe { self.inner.downcast_raw(id) }
    }
}

impl<S> std::fmt::Debug for CensusSubscriber<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CensusSubscriber")
            .field("census", &self.census)
            .field("counting", &self.own_ids.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, tokio_unstable))]
#[path = "subscriber_tests.rs"]
mod tests;
