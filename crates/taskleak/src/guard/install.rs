//! Making sure the census sees the test's spawns before the guard relies on it.

use tracing::{
    Dispatch, Event, Metadata, Subscriber,
    dispatcher::DefaultGuard,
    span::{Attributes, Id, Record},
    subscriber::{Interest, NoSubscriber},
};

use tracing_core::span::Current;

use crate::{Census, CensusSubscriber};

/// How the guard's census came to be fed.
pub(crate) enum Installed {
    /// The current dispatcher already feeds it (`taskleak::init`, `wrap`, or an earlier guard).
    Already,
    /// No subscriber was set: the census went in as the global one, in front of nothing.
    Global,
    /// Another global subscriber was set (say `tracing_subscriber::fmt`): wrapped for this
    /// thread only, for the life of the guard. Spawns made on other threads (the workers of a
    /// multi-thread runtime) go unseen, and the guard says so.
    ThreadLocal(#[allow(dead_code)] DefaultGuard),
}

impl Installed {
    pub(crate) fn thread_local(&self) -> bool {
        matches!(self, Self::ThreadLocal(_))
    }
}

pub(crate) fn ensure(census: &Census) -> Installed {
    if feeds(census) {
        return Installed::Already;
    }
    if !tracing::dispatcher::has_been_set() {
        let global = CensusSubscriber::new(NoSubscriber::default(), census.clone());
        // Another test thread may win the race; then its census (the same global one) is set.
        let _ = tracing::dispatcher::set_global_default(Dispatch::new(global));
        if feeds(census) {
            return Installed::Global;
        }
    }
    let current = tracing::dispatcher::get_default(Dispatch::clone);
    let wrapped = Dispatch::new(CensusSubscriber::new(Forward(current), census.clone()));
    Installed::ThreadLocal(tracing::dispatcher::set_default(&wrapped))
}

/// Whether the current dispatcher feeds `census`.
fn feeds(census: &Census) -> bool {
    tracing::dispatcher::get_default(|d| {
        d.downcast_ref::<Census>().is_some_and(|c| c.ptr_eq(census))
    })
}

/// A subscriber that hands everything to a [`Dispatch`]: the subscriber that was current when
/// the guard wrapped it.
struct Forward(Dispatch);

impl Subscriber for Forward {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.0.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.0.new_span(span)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        self.0.record(span, values);
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.0.record_follows_from(span, follows);
    }

    fn event(&self, event: &Event<'_>) {
        self.0.event(event);
    }

    fn enter(&self, span: &Id) {
        self.0.enter(span);
    }

    fn exit(&self, span: &Id) {
        self.0.exit(span);
    }

    fn clone_span(&self, id: &Id) -> Id {
        self.0.clone_span(id)
    }

    fn try_close(&self, id: Id) -> bool {
        self.0.try_close(id)
    }

    fn current_span(&self) -> Current {
        self.0.current_span()
    }
}
