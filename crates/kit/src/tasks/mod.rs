//! Task accounting by spawn site: which line of code spawned the tasks that are alive, and how
//! long the oldest of them has been alive. The question an SRE asks once `runtime_alive_tasks`
//! climbs: *which* `tokio::spawn` made these 3,000 tasks, and where are they waiting?
//!
//! How: built with `--cfg tokio_unstable` (see `.cargo/config.toml`) and tokio's `tracing`
//! feature, tokio opens a `runtime.spawn` span for every task it spawns, carrying the spawn
//! location (`loc.file`, `loc.line`) and the task id, and closes it when the task is gone
//! (finished, aborted or dropped). [`SpawnSiteLayer`] counts those spans per location. It needs
//! no cooperation from the spawning code, so a raw `tokio::spawn` in a handler is caught exactly
//! as written, on every runtime of the process — the actix workers' runtimes included, which
//! actix-server builds itself where no runtime hook could reach.
//!
//! Cost: the layer sees only `runtime.spawn` spans (its filter answers `Interest::never` for
//! every other tokio callsite, so tokio's resource and poll instrumentation stays disabled), and
//! the log and trace-export layers filter by level, so they never see them. What remains is a
//! span per task and an enter/exit per poll; `leakstorm bench` measures it. The switch
//! `LEAKSTORM_TASK_ACCOUNTING=off` leaves the layer out (see [`enabled_by_env`]).
//!
//! - [`sites`]: the counts and oldest ages per spawn site.
//! - [`layer`]: the tracing layer and its filter.
//! - [`dump`]: guarded tokio task dumps, for a sample async stack per site (Linux x86_64/aarch64).
//! - [`report`]: the JSON shape of `GET /debug/tasks`, shared with `leakstorm tasks`.
//! - [`http`]: the `GET /debug/tasks` handler (admin token).
//! - `console` (feature `console`): tokio-console, switched on with `TOKIO_CONSOLE=1`.

#[cfg(feature = "console")]
pub mod console;
pub mod dump;
pub mod http;
pub mod layer;
pub mod report;
pub mod sites;

use std::sync::{Arc, OnceLock};

pub use layer::SpawnSiteLayer;
pub use sites::SpawnSites;

/// The spawn-site table of this process. Process-wide like the tracing subscriber that feeds it
/// (one per process, installed once by `telemetry::init`); set once, never replaced.
static PROCESS_SITES: OnceLock<Arc<SpawnSites>> = OnceLock::new();

/// Whether tokio's instrumentation is compiled in (`--cfg tokio_unstable`).
pub const INSTRUMENTED: bool = cfg!(tokio_unstable);

/// `LEAKSTORM_TASK_ACCOUNTING=off` (or `0`, `false`) leaves the accounting layer out. Default on:
/// its cost on this fleet is small (see the README's cost-of-looking table) and the one time
/// you need it is the time you did not plan for.
pub fn enabled_by_env() -> bool {
    let value = std::env::var("LEAKSTORM_TASK_ACCOUNTING").unwrap_or_default();
    !matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "off" | "0" | "false" | "no"
    )
}

/// The layer to add to the process's subscriber, or `None` when switched off or not compiled
/// in. Call once; later calls share the same table.
pub fn process_layer() -> Option<SpawnSiteLayer> {
    if !INSTRUMENTED || !enabled_by_env() {
        return None;
    }
    let sites = PROCESS_SITES.get_or_init(|| Arc::new(SpawnSites::default()));
    Some(SpawnSiteLayer::new(sites.clone()))
}

/// The process's spawn-site table, once [`process_layer`] has been installed.
pub fn process_sites() -> Option<Arc<SpawnSites>> {
    PROCESS_SITES.get().cloned()
}

/// The layers `telemetry::init` adds: spawn-site accounting (unless switched off) and
/// tokio-console (when `TOKIO_CONSOLE=1` and built with the `console` feature).
///
/// A switched-off layer is a layer that is never interested, not an `Option::None`: a `None`
/// layer answers `Interest::always`, which turns every per-layer `never` below it into
/// `sometimes` and would make tokio's disabled instrumentation cost a filter check per event.
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
    // Combined only with a layer that does something: stacking the accounting layer with a
    // never-interested placeholder made the pair miss tokio's spawn spans (see the tests).
    match (process_layer(), console) {
        (Some(accounting), None) => accounting.filtered().boxed(),
        (Some(accounting), Some(console)) => accounting.filtered().and_then(console).boxed(),
        (None, Some(console)) => console,
        (None, None) => disabled(),
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
