//! Tests of [`super::CensusSubscriber`]: it counts tokio's spawns at their sites, keeps the stack
//! working for every other span, and keeps tokio's spawn spans (and their polls) off the stack.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use crate::Census;

use tracing::{Dispatch, Subscriber, span};
use tracing_subscriber::{Layer, Registry, layer::Context, layer::SubscriberExt as _};

use super::{CensusSubscriber, OWN_ID_BIT};

/// (span name, its parent's name) as the registry saw them.
type ParentLog = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// An unfiltered layer that sees everything the stack sees: span parents and enters by name.
#[derive(Clone, Default)]
struct Witness {
    parents: ParentLog,
    spawn_span_enters: Arc<AtomicUsize>,
    spawn_spans_seen: Arc<AtomicUsize>,
}

impl<S> Layer<S> for Witness
where
    S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(&self, _: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let span = ctx.span(id).expect("a new span is in the registry");
        if span.name() == "runtime.spawn" {
            self.spawn_spans_seen.fetch_add(1, Ordering::Relaxed);
        }
        let parent = span.parent().map(|p| p.name().to_owned());
        self.parents
            .lock()
            .unwrap()
            .push((span.name().to_owned(), parent));
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        if ctx.span(id).is_some_and(|s| s.name() == "runtime.spawn") {
            self.spawn_span_enters.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn wrapped(witness: &Witness) -> (Dispatch, Census) {
    let census = Census::new();
    let stack = tracing_subscriber::registry().with(witness.clone());
    (
        Dispatch::new(CensusSubscriber::new(stack, census.clone())),
        census,
    )
}

fn alive_at(census: &Census, line: u32) -> Option<usize> {
    census
        .snapshot()
        .expect("the census is installed")
        .sites
        .iter()
        .find(|s| s.site.ends_with(&format!(":{line}")))
        .map(|s| s.alive)
}

#[test]
fn counts_a_raw_tokio_spawn_at_its_line_and_keeps_its_polls_off_the_stack() {
    let witness = Witness::default();
    let (dispatch, sites) = wrapped(&witness);
    tracing::dispatcher::with_default(&dispatch, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let line = line!() + 1;
            let task = tokio::spawn(async move {
                for _ in 0..100 {
                    tokio::task::yield_now().await;
                }
                rx.await.ok()
            });
            tokio::task::yield_now().await;
            assert_eq!(alive_at(&sites, line), Some(1), "{:?}", sites.snapshot());
            let location = sites.snapshot().expect("installed").sites[0].site.clone();
            assert!(location.starts_with("crates/taskleak/src/subscriber_tests.rs"));
            let _ = tx.send(());
            task.await.expect("task ends");
            assert_eq!(alive_at(&sites, line), Some(0), "uncounted when it ends");
        });
    });
    assert_eq!(witness.spawn_spans_seen.load(Ordering::Relaxed), 0);
    assert_eq!(
        witness.spawn_span_enters.load(Ordering::Relaxed),
        0,
        "a hundred polls and not one reached the registry"
    );
}

#[test]
fn spans_inside_a_task_keep_their_parents_and_the_registry_is_still_reachable() {
    let witness = Witness::default();
    let (dispatch, _sites) = wrapped(&witness);
    assert!(
        dispatch.downcast_ref::<Registry>().is_some(),
        "downcasts reach through the wrapper (trace-context propagation depends on it)"
    );
    tracing::dispatcher::with_default(&dispatch, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(async {
            tokio::spawn(async {
                let request = tracing::info_span!("request");
                let _entered = request.enter();
                tokio::task::yield_now().await;
                let _child = tracing::info_span!("query");
            })
            .await
            .expect("task ends");
        });
    });
    let parents = witness.parents.lock().unwrap().clone();
    assert!(
        parents.contains(&("request".to_owned(), None)),
        "a task's spans do not hang off its spawn span: {parents:?}"
    );
    assert!(
        parents.contains(&("query".to_owned(), Some("request".to_owned()))),
        "{parents:?}"
    );
}

#[test]
fn a_cloned_spawn_span_is_counted_until_its_last_handle_closes() {
    let witness = Witness::default();
    let (dispatch, sites) = wrapped(&witness);
    tracing::dispatcher::with_default(&dispatch, || {
        // The shape of tokio's span (tokio/src/util/trace.rs), made by hand.
        let span = tracing::trace_span!(target: "tokio::task", parent: None, "runtime.spawn",
            kind = %"task", task.id = 41_u64, loc.file = "services/x/src/y.rs", loc.line = 9_u32);
        assert!(span.id().is_some_and(|id| id.into_u64() & OWN_ID_BIT != 0));
        let copy = span.clone();
        assert_eq!(alive_at(&sites, 9), Some(1));
        drop(span);
        assert_eq!(alive_at(&sites, 9), Some(1), "one handle is left");
        drop(copy);
        assert_eq!(alive_at(&sites, 9), Some(0));

        let blocking = tracing::trace_span!(target: "tokio::task", parent: None, "runtime.spawn",
            kind = %"blocking", task.id = 42_u64, loc.file = "services/x/src/y.rs", loc.line = 10_u32);
        assert_eq!(
            alive_at(&sites, 10),
            None,
            "blocking-pool jobs are not counted"
        );
        drop(blocking);
    });
}

#[test]
fn the_registry_never_hands_out_an_id_with_the_reserved_bit() {
    let dispatch = Dispatch::new(tracing_subscriber::registry());
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let dispatch = dispatch.clone();
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    let mut held = Vec::new();
                    for round in 0..20_000 {
                        let span = tracing::info_span!("churn");
                        let id = span.id().expect("enabled").into_u64();
                        assert_eq!(id & OWN_ID_BIT, 0, "registry id {id:#x}");
                        // Keep some alive so slots spread over pages; drop the rest (reuse
                        // raises the generation bits).
                        if round % 7 == 0 {
                            held.push(span);
                        }
                    }
                })
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("no registry id carried the bit");
    }
}
