//! Processing leases: the `orphaned-loop` scenario, and its fix.
//!
//! While a request drives a payment, the payment carries a processing lease: a small loop renews
//! it every second, so that the recovery loop (which re-drives payments left pending) can tell a
//! payment in progress from a stuck one. The loop runs until its stop signal arrives: it waits on
//! a channel, and ends when every sender of that channel is gone. Two senders exist: the
//! request's [`Lease`], and the entry in the lease table that lets recovery look the lease up.
//!
//! - **leaky** ends the lease by hand: [`Leases::release`] removes the table entry once the
//!   money has moved — the path everybody tests, and most payments take. A payment that risk
//!   declines or sends to review leaves the flow early, before that line (see `flow.rs`): the
//!   request's sender goes, the table's stays, and the loop never learns that the request is
//!   over. One loop per such payment, forever, renewing a lease nobody holds, while the loops of
//!   the other payments end as they should. Little memory, no latency signal; only the task
//!   census shows it: at this file's spawn line, tasks that usually end within a request, and a
//!   few that never do, their oldest older by the minute. (Zoo's API lost file descriptors the
//!   same way, to tasks outliving their WebSocket.)
//! - **fixed** removes the table entry when the [`Lease`] is dropped — on every exit path of the
//!   request, early returns, errors and panics included — so the last sender goes and the loop
//!   ends. Cleanup that depends on the path taken is the bug; cleanup tied to ownership is the
//!   fix.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use kit::scenarios::{Mode, ScenarioSwitch};
use prometheus::IntGauge;
use tokio::sync::mpsc;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use uuid::Uuid;

/// The lease table: a stop handle and the last renewal per payment.
type Table = Arc<Mutex<HashMap<Uuid, Entry>>>;

struct Entry {
    _stop: mpsc::Sender<()>,
    renewed_at: Instant,
}

#[derive(Clone)]
pub struct Leases {
    mode: ScenarioSwitch,
    table: Table,
    /// The renewal loops, owned by the server: stopped at shutdown whatever their mode.
    loops: TaskTracker,
    shutdown: CancellationToken,
    renew_every: Duration,
    held: IntGauge,
}

/// A request's hold on a payment's lease.
pub struct Lease {
    id: Uuid,
    mode: Mode,
    table: Table,
    held: IntGauge,
    _stop: mpsc::Sender<()>,
}

impl Leases {
    /// `renew_every`: `PAYMENTS_LEASE_RENEW_MS` (1 s); `held`: `payments_leases_held`.
    pub fn new(
        mode: ScenarioSwitch,
        renew_every: Duration,
        held: IntGauge,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            mode,
            table: Arc::default(),
            loops: TaskTracker::new(),
            shutdown,
            renew_every,
            held,
        }
    }

    /// Takes the lease on `id` and starts its renewal loop; the loop stops when the lease's
    /// last sender is gone (see the module documentation for who holds them).
    pub fn take(&self, id: Uuid) -> Lease {
        let (stop, mut stopped) = mpsc::channel::<()>(1);
        lock(&self.table).insert(
            id,
            Entry {
                _stop: stop.clone(),
                renewed_at: Instant::now(),
            },
        );
        self.held.set(len(&self.table));
        let (table, every, shutdown) =
            (self.table.clone(), self.renew_every, self.shutdown.clone());
        self.loops.spawn(async move {
            loop {
                tokio::select! {
                    // `None`: every sender is gone, the lease is over.
                    None = stopped.recv() => return,
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(every) => {
                        if let Some(entry) = lock(&table).get_mut(&id) {
                            entry.renewed_at = Instant::now();
                        }
                    }
                }
            }
        });
        Lease {
            id,
            mode: self.mode.get(),
            table: self.table.clone(),
            held: self.held.clone(),
            _stop: stop,
        }
    }

    /// Ends `id`'s lease by hand (its table entry, and with it the loop's last sender). The
    /// leaky mode depends on every path calling this; the fixed mode does not need it.
    pub fn release(&self, id: Uuid) {
        lock(&self.table).remove(&id);
        self.held.set(len(&self.table));
    }

    /// Whether a request holds `id`'s lease (renewed within the last few intervals).
    pub fn is_held(&self, id: Uuid) -> bool {
        lock(&self.table)
            .get(&id)
            .is_some_and(|e| e.renewed_at.elapsed() < self.renew_every * 3)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        match self.mode {
            // THE BUG: cleanup is left to the paths that call `Leases::release`; on any other
            // path the table's sender stays, and keeps the loop alive.
            Mode::Leaky => {}
            // THE FIX: the entry goes with the lease, and with it the last sender.
            Mode::Fixed => {
                lock(&self.table).remove(&self.id);
                self.held.set(len(&self.table));
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn len(table: &Table) -> i64 {
    i64::try_from(lock(table).len()).unwrap_or(i64::MAX)
}
