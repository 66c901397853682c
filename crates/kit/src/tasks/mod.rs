//! Task accounting by spawn site: which line of code spawned the tasks that are alive, and how
//! long the oldest of them has been alive. The question an SRE asks once `runtime_alive_tasks`
//! climbs: *which* `tokio::spawn` made these 3,000 tasks, and where are they waiting?
//!
//! How: built with `--cfg tokio_unstable` (see `.cargo/config.toml`) and tokio's `tracing`
//! feature, tokio opens a `runtime.spawn` span for every task it spawns, carrying the spawn
//! location (`loc.file`, `loc.line`) and the task id, and closes it when the task is gone
//! (finished, aborted or dropped). Counting those spans per location needs no cooperation from
//! the spawning code, so a raw `tokio::spawn` in a handler is caught exactly as written, on every
//! runtime of the process — the actix workers' runtimes included, which actix-server builds
//! itself where no runtime hook could reach.
//!
//! Cost: tokio enters a task's span on every poll. [`SpawnSpanSubscriber`] sits in front of the
//! subscriber stack and answers for those spans itself, so a poll costs one bit test instead of
//! the registry's span-stack and reference-count work (`cargo bench -p leakstorm-kit --bench
//! task_accounting` measures both). With tokio-console on, which needs the spans in the registry,
//! [`SpawnSiteLayer`] counts them inside the stack instead. `LEAKSTORM_TASK_ACCOUNTING=off`
//! leaves accounting out (see [`placement_from_env`]).
//!
//! - [`sites`]: the counts and oldest ages per spawn site.
//! - [`fields`]: recognising a spawn span and reading its location and task id.
//! - [`subscriber`]: the wrapper that counts spawn spans off the registry (the default).
//! - [`layer`]: the tracing layer that counts them in the registry (with tokio-console).
//! - [`dump`]: guarded tokio task dumps, for a sample async stack per site (Linux x86_64/aarch64).
//! - [`report`]: the JSON shape of `GET /debug/tasks`, shared with `leakstorm tasks`.
//! - [`http`]: the `GET /debug/tasks` handler (admin token).
//! - `console` (feature `console`): tokio-console, switched on with `TOKIO_CONSOLE=1`.

#[cfg(feature = "console")]
pub mod console;
pub mod dump;
pub(crate) mod fields;
pub mod http;
pub mod layer;
pub mod report;
pub mod sites;
pub mod subscriber;

use std::sync::{Arc, OnceLock};

pub use layer::SpawnSiteLayer;
pub use sites::SpawnSites;
pub use subscriber::SpawnSpanSubscriber;

/// The spawn-site table of this process. Process-wide like the tracing subscriber that feeds it
/// (one per process, installed once by `telemetry::init`); set once, never replaced.
static PROCESS_SITES: OnceLock<Arc<SpawnSites>> = OnceLock::new();

/// Whether tokio's instrumentation is compiled in (`--cfg tokio_unstable`).
pub const INSTRUMENTED: bool = cfg!(tokio_unstable);

/// Where spawn-site accounting sits, from `LEAKSTORM_TASK_ACCOUNTING`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// `on` (the default): in front of the subscriber stack ([`SpawnSpanSubscriber`]), unless
    /// tokio-console is on, which needs tokio's spans in the registry (then as [`Self::Layer`]).
    Front,
    /// `layer`: inside the stack ([`SpawnSiteLayer`]), every poll through the registry. How
    /// accounting first worked; kept so that `leakstorm bench` can show the difference.
    Layer,
    /// `off` (or `0`, `false`, `no`): no accounting; tokio's spawn spans stay disabled.
    Off,
}

/// The placement `LEAKSTORM_TASK_ACCOUNTING` asks for. On by default: its cost on this fleet is
/// small (see the README's cost-of-looking table) and the one time you need it is the time you
/// did not plan for.
pub fn placement_from_env() -> Placement {
    let value = std::env::var("LEAKSTORM_TASK_ACCOUNTING").unwrap_or_default();
    match value.trim().to_ascii_lowercase().as_str() {
        "off" | "0" | "false" | "no" => Placement::Off,
        "layer" => Placement::Layer,
        _ if console_wanted() => Placement::Layer,
        _ => Placement::Front,
    }
}

/// The process's spawn-site table, created on first use; `None` when accounting is switched off
/// or not compiled in.
fn process_table() -> Option<Arc<SpawnSites>> {
    if !INSTRUMENTED || placement_from_env() == Placement::Off {
        return None;
    }
    Some(
        PROCESS_SITES
            .get_or_init(|| Arc::new(SpawnSites::default()))
            .clone(),
    )
}

/// The process's spawn-site table, once [`dispatch`] (or [`layers`]) has installed accounting.
pub fn process_sites() -> Option<Arc<SpawnSites>> {
    PROCESS_SITES.get().cloned()
}

/// Whether tokio-console is switched on (and compiled in).
fn console_wanted() -> bool {
    #[cfg(feature = "console")]
    return console::wanted();
    #[cfg(not(feature = "console"))]
    false
}

/// The layers `telemetry::init` adds to the stack: tokio-console when `TOKIO_CONSOLE=1`, and
/// spawn-site accounting as a layer when it sits inside the stack ([`Placement::Layer`], which
/// the console implies). By default this adds nothing: [`dispatch`] does the accounting.
///
/// Nothing is a layer that is never interested, not an `Option::None`: a `None` layer answers
/// `Interest::always`, which turns every per-layer `never` below it into `sometimes` and would
/// make tokio's disabled instrumentation cost a filter check per event.
pub fn layers<S>(default_http_port: u16) -> Box<dyn tracing_subscriber::Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::Layer as _;
    #[cfg(feature = "console")]
    let console = console::layer(default_http_port);
    #[cfg(not(feature = "console"))]
    let console: Option<Box<dyn tracing_subscriber::Layer<S> + Send + Sync>> = {
        let _ = default_http_port;
        None
    };
    let accounting = match placement_from_env() {
        Placement::Layer => process_table(),
        Placement::Front | Placement::Off => None,
    };
    // Combined only with a layer that does something: stacking the accounting layer with a
    // never-interested placeholder made the pair miss tokio's spawn spans (see the tests).
    match (accounting, console) {
        (Some(sites), Some(console)) => SpawnSiteLayer::new(sites)
            .filtered()
            .and_then(console)
            .boxed(),
        (Some(sites), None) => SpawnSiteLayer::new(sites).filtered().boxed(),
        (None, Some(console)) => console,
        (None, None) => disabled(),
    }
}

/// The process's dispatcher for `stack`: wrapped in [`SpawnSpanSubscriber`] when accounting sits
/// in front ([`Placement::Front`]; otherwise [`layers`] put it in the stack, or it is off).
pub fn dispatch<S>(stack: S) -> tracing::Dispatch
where
    S: tracing::Subscriber + Send + Sync + 'static,
{
    match (placement_from_env(), process_table()) {
        (Placement::Front, Some(sites)) => {
            tracing::Dispatch::new(SpawnSpanSubscriber::new(stack, sites))
        }
        _ => tracing::Dispatch::new(stack),
    }
}

fn disabled<S>() -> Box<dyn tracing_subscriber::Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::Layer as _;
    tracing_subscriber::layer::Identity::new()
        .with_filter(tracing_subscriber::filter::LevelFilter::OFF)
        .boxed()
}

#[cfg(all(test, tokio_unstable))]
mod tests {
    use tracing_subscriber::layer::SubscriberExt as _;

    #[test]
    fn what_telemetry_installs_counts_spawns() {
        let dispatch = super::dispatch(tracing_subscriber::registry().with(super::layers(0)));
        tracing::dispatcher::with_default(&dispatch, || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let (tx, rx) = tokio::sync::oneshot::channel::<()>();
                let task = tokio::spawn(async move { rx.await.ok() });
                tokio::task::yield_now().await;
                let sites = super::process_sites().expect("installed");
                let alive: usize = sites.snapshot(0).iter().map(|s| s.alive).sum();
                assert!(alive >= 1, "{:?}", sites.snapshot(0));
                let _ = tx.send(());
                task.await.expect("task ends");
            });
        });
    }
}
