//! Which `tokio::spawn` leaks? `taskleak` counts live tokio tasks by the line of code that
//! spawned them — in production, at a cost too small to measure — and fails a test whose tasks
//! outlive it, naming the line: goleak for tokio.
//!
//! # In a test: the guard
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let guard = taskleak::Guard::new().settle(std::time::Duration::from_millis(200));
//! let (tx, rx) = tokio::sync::oneshot::channel::<()>();
//! let forgotten = tokio::spawn(async move { rx.await.ok() }); // detached: nobody sends
//! drop(forgotten);
//!
//! let leaks = guard.check().await.unwrap_err(); // `verify` would panic with this report
//! assert_eq!(leaks.tasks(), 1);
//! println!("{leaks}"); // "1 × src/my_test.rs:12 (oldest 0.2 s)", and how to ignore it
//! # drop(tx); }
//! ```
//!
//! [`Guard::verify`] panics with every offending spawn site, its task count, the oldest task's
//! age and (feature `taskdump`) where one is parked; a task that ends within the settle wait
//! passes. Ignore lists take globs on `file:line`; tests running in parallel fail only for
//! their own tasks.
//!
//! # In production: the census
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // Once, at start. With a subscriber stack of your own: taskleak::wrap(stack) instead.
//! taskleak::init().expect("no other global subscriber");
//!
//! let _held = tokio::spawn(std::future::pending::<()>());
//! match taskleak::Census::global().snapshot() {
//!     Ok(snapshot) => {
//!         let top = snapshot.top().expect("one task is alive");
//!         println!("{} tasks alive at {}, oldest {:?}", top.alive, top.site, top.oldest);
//!     }
//!     // Built without `--cfg tokio_unstable`, say: the census says so instead of "0 tasks".
//!     Err(cannot_see) => eprintln!("{cannot_see}"),
//! }
//! # }
//! ```
//!
//! Serve it as Prometheus metrics (feature `prometheus`) and as `GET /debug/tasks` JSON
//! (features `actix-web`, `axum`); a runnable axum service is `examples/axum_service.rs`.
//!
//! # What it needs
//!
//! Build with `--cfg tokio_unstable` (in `.cargo/config.toml`: `[build] rustflags = ["--cfg",
//! "tokio_unstable"]`): tokio then opens a `runtime.spawn` span for every task, carrying its
//! spawn location, and `taskleak` turns on tokio's `tracing` feature. [`CensusSubscriber`]
//! counts those spans in front of your subscriber stack and keeps them away from it, so a poll
//! costs a bit test. Without the cfg everything compiles, and the census answers
//! [`CensusError::NotCompiled`] wherever it is asked.
//!
//! # Features
//!
//! | feature | gives |
//! |---|---|
//! | (none) | [`Census`], [`CensusSubscriber`], [`Guard`], [`Runtimes`] — tokio, tracing, slab |
//! | `serde` | `report`: the `/debug/tasks` JSON and how to collect it |
//! | `prometheus` | `prometheus::SpawnSiteCollector` |
//! | `actix-web`, `axum` | `actix::debug_tasks`, `axum::debug_tasks` handlers |
//! | `taskdump` | [`dump`]: where a sample task of each site is parked (Linux x86_64/aarch64) |
//! | `layer` | `CensusLayer`: the census inside a `tracing_subscriber` stack (for tokio-console) |
//!
//! # Module map
//!
//! - [`census`]: the counts, [`Census::snapshot`] as plain data.
//! - [`subscriber`]: [`CensusSubscriber`], the census in front of any subscriber.
//! - [`guard`]: [`Guard`], the test guard, and its [`Leaks`] report.
//! - [`runtimes`]: [`Runtimes`], a server's worker runtimes, joined to the guard's scope.
//! - [`dump`]: guarded tokio task dumps.
//! - `report`, `prometheus`, `actix`, `axum`, `layer`: the integrations, each a feature.
//!
//! MSRV: Rust 1.88.

pub mod census;
pub mod dump;
mod fields;
pub mod guard;
pub mod runtimes;
mod sites;
pub mod subscriber;

#[cfg(feature = "actix-web")]
pub mod actix;
#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "layer")]
pub mod layer;
#[cfg(feature = "prometheus")]
pub mod prometheus;
#[cfg(feature = "serde")]
pub mod report;

pub use census::{Census, CensusError, Lifetimes, SiteSnapshot, Snapshot};
pub use guard::{Guard, LeakedSite, Leaks};
#[cfg(feature = "layer")]
pub use layer::CensusLayer;
pub use runtimes::Runtimes;
pub use sites::short_path;
pub use subscriber::CensusSubscriber;

use tracing::subscriber::{NoSubscriber, SetGlobalDefaultError};

/// Installs the census, in front of no other subscriber, as the process's global default.
/// With a subscriber of your own, install [`wrap`]`(your_subscriber)` instead.
///
/// # Errors
///
/// When a global default subscriber is already set.
pub fn init() -> Result<(), SetGlobalDefaultError> {
    tracing::subscriber::set_global_default(wrap(NoSubscriber::default()))
}

/// Puts the process's census ([`Census::global`]) in front of `subscriber`; install the result
/// as the global default.
///
/// ```
/// use tracing_subscriber::util::SubscriberInitExt as _;
///
/// let logs = tracing_subscriber::fmt().with_test_writer().finish();
/// taskleak::wrap(logs).try_init().expect("no other global subscriber");
/// ```
pub fn wrap<S>(subscriber: S) -> CensusSubscriber<S>
where
    S: tracing::Subscriber + Send + Sync + 'static,
{
    CensusSubscriber::new(subscriber, Census::global().clone())
}

/// The README's examples, run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
