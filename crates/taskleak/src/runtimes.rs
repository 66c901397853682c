//! The runtimes of a server, and which runtime started which.
//!
//! A server such as actix-web runs one single-threaded runtime per worker thread, built by the
//! server itself. [`Runtimes`] collects them as each worker registers itself: for tokio's own
//! alive-task count over all of them and for task dumps. Registering also records the runtime
//! that created the [`Runtimes`] as the worker's *parent*, so that a [`Guard`](crate::Guard)
//! taken in a test checks the tasks of a server the test starts in-process — and only that
//! test's, when tests run in parallel in one process.

use std::{
    cell::RefCell,
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError},
    thread::ThreadId,
};

use tokio::runtime::{Handle, Id};

/// The runtimes of one server: each worker thread registers its own.
///
/// ```
/// let runtimes = taskleak::Runtimes::new();
/// let worker = std::thread::spawn({
///     let runtimes = runtimes.clone();
///     move || {
///         let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
///         // What a server's worker-start hook does (actix-web: the `HttpServer::new` factory).
///         rt.block_on(async { runtimes.register_current() })
///     }
/// });
/// assert!(worker.join().unwrap());
/// assert_eq!(runtimes.handles().len(), 1);
/// ```
#[derive(Clone, Default)]
pub struct Runtimes {
    handles: Arc<Mutex<HashMap<ThreadId, Handle>>>,
    /// The runtime this set was created on, if any: the parent of every runtime registered.
    parent: Option<Id>,
}

impl Runtimes {
    /// An empty set. Created on a runtime (the one that builds the server), it makes that
    /// runtime the parent of every runtime registered later.
    pub fn new() -> Self {
        Self {
            handles: Arc::default(),
            parent: Handle::try_current().ok().map(|h| h.id()),
        }
    }

    /// Registers the runtime of the calling thread (a server worker's start hook); keyed by
    /// thread, so repeated calls from one worker count it once. Returns whether the thread
    /// runs inside a runtime.
    pub fn register_current(&self) -> bool {
        let Ok(handle) = Handle::try_current() else {
            return false;
        };
        if let Some(parent) = self.parent
            && parent != handle.id()
        {
            adopt(parent, handle.clone());
        }
        lock(&self.handles).insert(std::thread::current().id(), handle);
        true
    }

    /// The registered runtimes.
    pub fn handles(&self) -> Vec<Handle> {
        lock(&self.handles).values().cloned().collect()
    }

    /// Tasks alive across the registered runtimes, by tokio's own count
    /// (`RuntimeMetrics::num_alive_tasks`).
    pub fn alive_tasks(&self) -> usize {
        lock(&self.handles)
            .values()
            .map(|h| h.metrics().num_alive_tasks())
            .sum()
    }
}

impl std::fmt::Debug for Runtimes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtimes")
            .field("registered", &lock(&self.handles).len())
            .field("parent", &self.parent)
            .finish()
    }
}

/// Runtimes started from another runtime: child id → (parent id, child handle).
type Lineage = Mutex<HashMap<Id, (Id, Handle)>>;

fn lineage() -> &'static Lineage {
    static LINEAGE: OnceLock<Lineage> = OnceLock::new();
    LINEAGE.get_or_init(Lineage::default)
}

thread_local! {
    /// The links this thread's runtime made, removed when the thread exits (with its runtime).
    static ADOPTED: RefCell<Vec<Unlink>> = const { RefCell::new(Vec::new()) };
}

struct Unlink(Id);

impl Drop for Unlink {
    fn drop(&mut self) {
        lock(lineage()).remove(&self.0);
    }
}

/// Records `child` (the calling thread's runtime) as started by `parent`, until this thread
/// exits.
fn adopt(parent: Id, child: Handle) {
    let id = child.id();
    let known = lock(lineage()).insert(id, (parent, child)).is_some();
    if !known {
        // A thread that is already exiting cannot keep the token: then the link stays.
        let _ = ADOPTED.try_with(|links| links.borrow_mut().push(Unlink(id)));
    }
}

/// `home` and every runtime started from it (transitively), with handles where known.
pub(crate) fn family(home: &Handle) -> Vec<Handle> {
    let links = lock(lineage());
    let mut family = vec![home.clone()];
    let mut next = 0;
    while next < family.len() {
        let parent = family[next].id();
        family.extend(
            links
                .iter()
                .filter(|(child, (p, _))| *p == parent && !family.iter().any(|h| h.id() == **child))
                .map(|(_, (_, handle))| handle.clone())
                .collect::<Vec<_>>(),
        );
        next += 1;
    }
    family
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_runtime_joins_the_family_of_the_runtime_that_created_its_server() {
        let home = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let runtimes = home.block_on(async { Runtimes::new() });
        let (registered, stop) = std::sync::mpsc::channel::<()>();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let worker = std::thread::spawn({
            let runtimes = runtimes.clone();
            move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("runtime");
                rt.block_on(async { assert!(runtimes.register_current()) });
                let _ = done_tx.send(());
                let _ = stop.recv();
            }
        });
        done_rx.recv().expect("worker registered");
        assert_eq!(family(home.handle()).len(), 2, "home and its worker");

        let stranger = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        assert_eq!(family(stranger.handle()).len(), 1, "not another runtime's");

        drop(registered);
        worker.join().expect("worker exits");
        assert_eq!(
            family(home.handle()).len(),
            1,
            "the link ends with its thread"
        );
    }
}
