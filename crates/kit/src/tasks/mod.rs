//! Task accounting by spawn site, the fleet's way: the [`taskleak`] census installed as every
//! service installs it, `GET /debug/tasks` behind the admin token, and the fleet's list of
//! long-lived infrastructure tasks that are not leaks.
//!
//! The census itself (live tasks per `file:line`, oldest age, task dumps, the test guard) is the
//! `taskleak` crate (`crates/taskleak`); what stays here is fleet-specific:
//!
//! - [`placement_from_env`]: `LEAKSTORM_TASK_ACCOUNTING` = `on` (default: the census in front of
//!   the subscriber stack), `layer` (inside it, every poll through the registry: kept so that
//!   `leakstorm bench` can show the difference, and what tokio-console needs), `off`.
//! - [`dispatch`] and [`layers`]: what `telemetry::init` installs for that placement.
//! - [`INFRASTRUCTURE_SITES`]: spawn sites whose tasks live as long as a connection or a pool.
//! - [`http`]: `GET /debug/tasks` (admin token).
//! - `console` (feature `console`): tokio-console, switched on with `TOKIO_CONSOLE=1`.

#[cfg(feature = "console")]
pub mod console;
pub mod http;

use taskleak::{Census, CensusLayer};

pub use contract::tasks::INFRASTRUCTURE_SITES;

/// Where spawn-site accounting sits, from `LEAKSTORM_TASK_ACCOUNTING`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// `on` (the default): in front of the subscriber stack ([`taskleak::CensusSubscriber`]),
    /// unless tokio-console is on, which needs tokio's spans in the registry (then as
    /// [`Self::Layer`]).
    Front,
    /// `layer`: inside the stack ([`taskleak::CensusLayer`]), every poll through the registry.
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

/// Whether tokio-console is switched on (and compiled in).
fn console_wanted() -> bool {
    #[cfg(feature = "console")]
    return console::wanted();
    #[cfg(not(feature = "console"))]
    false
}

/// The layers `telemetry::init` adds to the stack: tokio-console when `TOKIO_CONSOLE=1`, and
/// the census as a layer when it sits inside the stack ([`Placement::Layer`], which the console
/// implies). By default this adds nothing: [`dispatch`] puts the census in front.
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
    let census = (placement_from_env() == Placement::Layer)
        .then(|| CensusLayer::new(Census::global().clone()));
    // Combined only with a layer that does something: stacking the census layer with a
    // never-interested placeholder made the pair miss tokio's spawn spans.
    match (census, console) {
        (Some(census), Some(console)) => census.filtered().and_then(console).boxed(),
        (Some(census), None) => census.filtered().boxed(),
        (None, Some(console)) => console,
        (None, None) => tracing_subscriber::layer::Identity::new()
            .with_filter(tracing_subscriber::filter::LevelFilter::OFF)
            .boxed(),
    }
}

/// The process's dispatcher for `stack`: the census in front of it ([`Placement::Front`];
/// otherwise [`layers`] put it in the stack, or it is off).
pub fn dispatch<S>(stack: S) -> tracing::Dispatch
where
    S: tracing::Subscriber + Send + Sync + 'static,
{
    match placement_from_env() {
        Placement::Front => tracing::Dispatch::new(taskleak::wrap(stack)),
        Placement::Layer | Placement::Off => tracing::Dispatch::new(stack),
    }
}

/// [`INFRASTRUCTURE_SITES`] as one PromQL regular expression (RE2, anchored by Prometheus):
/// `*` is `.*`, `?` is `.`, and regex metacharacters are escaped (doubled, for a PromQL
/// double-quoted string).
pub fn infrastructure_sites_regex() -> String {
    INFRASTRUCTURE_SITES
        .iter()
        .map(|glob| {
            glob.chars()
                .map(|c| match c {
                    '*' => ".*".to_owned(),
                    '?' => ".".to_owned(),
                    '.' | '+' | '(' | ')' | '[' | ']' | '{' | '}' | '^' | '$' | '|' | '\\' => {
                        format!("\\\\{c}")
                    }
                    c => c.to_string(),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("|")
}

#[cfg(test)]
mod alert_tests {
    #[test]
    fn the_alert_ignores_exactly_the_infrastructure_sites_the_guards_ignore() {
        let rules = include_str!("../../../../prometheus/alerts.yml");
        let wanted = format!("spawn_site!~\"{}\"", super::infrastructure_sites_regex());
        // Every infrastructure filter in the rules, so that a second copy cannot drift.
        let filters: Vec<&str> = rules
            .match_indices("spawn_site!~\"")
            .map(|(at, _)| {
                let rest = &rules[at + "spawn_site!~\"".len()..];
                &rules[at..at + "spawn_site!~\"".len() + rest.find('"').unwrap_or(0) + 1]
            })
            .collect();
        assert_eq!(
            filters,
            [wanted.as_str()],
            "prometheus/alerts.yml filters the infrastructure sites once, in the app-sites rule"
        );
    }
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
                let snapshot = taskleak::Census::global().snapshot().expect("installed");
                assert!(snapshot.alive() >= 1, "{snapshot:?}");
                let _ = tx.send(());
                task.await.expect("task ends");
            });
        });
    }
}
