//! What looking at tasks costs, per spawn and per poll, side by side with the other ways tokio
//! users look at their tasks. Each setup runs in a fresh process (the global dispatcher and
//! tracing's callsite cache are per process); rounds interleave the setups, and each figure is
//! the median of its rounds' medians.
//!
//! - `none`: no instrumentation at all (tokio's spawn spans stay disabled).
//! - `tokio's spawn span only`: a subscriber that enables tokio's per-task span and does nothing
//!   with it: what any span-based look at tasks pays before it counts anything.
//! - `taskleak`: the census in front of the subscriber ([`taskleak::init`]).
//! - `taskleak (layer)`: the census as a layer inside a `tracing_subscriber` registry — how the
//!   fleet counted first, and what it still does with tokio-console on.
//! - `console-subscriber`: tokio-console's layer, recording every poll, wake and resource.
//! - `tokio-metrics`: each task wrapped by hand in `TaskMonitor::instrument`.
//! - `await-tree`: each task registered in an `await_tree::Registry`, each await of the poll loop
//!   annotated with `instrument_await`.
//!
//! Workloads, on a current-thread runtime like an actix-web worker's: spawn a task and await it
//! (per spawn, including its one poll and its end), and one task yielding (per poll).
//!
//! Two measures: nanoseconds (the median of each setup's runs, interleaved rounds; on a shared
//! two-core VM they move by ±15 % between runs), and, with `--instructions`, CPU instructions
//! counted by valgrind (`callgrind`), which do not move: each setup runs twice per workload at
//! two sizes, and the difference over the extra work gives instructions per spawn and per poll,
//! all threads of the process included (tokio-console's aggregator thread, say).
//!
//! Run: `cargo bench -p taskleak --bench task_accounting --features layer -- --rounds 3` and
//! `... -- --instructions` (needs valgrind).

use std::{
    process::Command,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

const SETUPS: [&str; 7] = [
    "none",
    "tokio's spawn span only",
    "taskleak",
    "taskleak (layer)",
    "console-subscriber",
    "tokio-metrics",
    "await-tree",
];
const SPAWNS: u32 = 200_000;
const POLLS: u32 = 2_000_000;
const RUNS: usize = 5;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let number = |flag: &str| value(flag).and_then(|v| v.parse::<u32>().ok());
    match (value("--setup"), number("--spawns"), number("--polls")) {
        (Some(setup), Some(spawns), Some(polls)) => run_once(&setup, spawns, polls),
        (Some(setup), _, _) => measure(&setup),
        _ if args.iter().any(|a| a == "--instructions") => compare_instructions(),
        _ => compare(number("--rounds").map_or(1, |r| r as usize)),
    }
}

/// Instructions per spawn and per poll, counted by valgrind: deterministic, unlike time.
fn compare_instructions() {
    const SMALL_SPAWNS: u32 = 20_000;
    const SMALL_POLLS: u32 = 200_000;
    let exe = std::env::current_exe().expect("own path");
    let count = |setup: &str, spawns: u32, polls: u32| -> Option<u64> {
        let out = Command::new("valgrind")
            .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
            .arg(&exe)
            .args([
                "--setup",
                setup,
                "--spawns",
                &spawns.to_string(),
                "--polls",
                &polls.to_string(),
            ])
            .output()
            .expect("valgrind runs (apt-get install valgrind)");
        let text = String::from_utf8_lossy(&out.stderr);
        let collected = text.lines().find_map(|l| l.split("Collected : ").nth(1))?;
        collected.trim().parse().ok()
    };
    let per = |setup: &str, spawns: u32, polls: u32| -> Option<f64> {
        let once = count(setup, spawns, polls)?;
        let twice = count(setup, spawns * 2, polls * 2)?;
        Some(twice.saturating_sub(once) as f64 / f64::from((spawns + polls).max(1)))
    };
    let mut rows = Vec::new();
    for setup in SETUPS {
        let spawn = per(setup, SMALL_SPAWNS, 0);
        let poll = per(setup, 0, SMALL_POLLS);
        rows.push((setup, spawn, poll));
    }
    let (spawn_base, poll_base) = (rows[0].1.unwrap_or(1.0), rows[0].2.unwrap_or(1.0));
    println!(
        "| setup | instructions per spawn | instructions per poll | spawn vs none | poll vs none |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (setup, spawn, poll) in rows {
        match (spawn, poll) {
            (Some(spawn), Some(poll)) => println!(
                "| {setup} | {spawn:.0} | {poll:.0} | {:.2}× | {:.2}× |",
                spawn / spawn_base,
                poll / poll_base
            ),
            _ => println!("| {setup} | – | – | – | – |"),
        }
    }
    println!(
        "\n(valgrind callgrind; {SMALL_SPAWNS} vs {} spawns, {SMALL_POLLS} vs {} polls)",
        SMALL_SPAWNS * 2,
        SMALL_POLLS * 2
    );
}

/// Runs every setup in its own process, `rounds` times interleaved, and prints the table.
fn compare(rounds: usize) {
    let exe = std::env::current_exe().expect("own path");
    let mut results: Vec<(Vec<u128>, Vec<u128>)> = vec![(Vec::new(), Vec::new()); SETUPS.len()];
    for _ in 0..rounds {
        for (setup, result) in SETUPS.iter().zip(&mut results) {
            let out = Command::new(&exe)
                .args(["--setup", setup])
                .env_remove("RUST_LOG")
                .output()
                .expect("run a setup");
            assert!(out.status.success(), "{setup}: {out:?}");
            let line = String::from_utf8_lossy(&out.stdout);
            let mut numbers = line
                .split_whitespace()
                .filter_map(|n| n.parse::<u128>().ok());
            match (numbers.next(), numbers.next()) {
                (Some(spawn), Some(poll)) => {
                    result.0.push(spawn);
                    result.1.push(poll);
                }
                _ => eprintln!("{setup}: {}", line.trim()),
            }
        }
    }
    let none = &results[0];
    let (spawn_base, poll_base) = (median_of(&none.0), median_of(&none.1));
    println!("| setup | ns per spawn | ns per poll | spawn vs none | poll vs none |");
    println!("|---|---:|---:|---:|---:|");
    for (setup, (spawns, polls)) in SETUPS.iter().zip(&results) {
        if spawns.is_empty() {
            println!("| {setup} | – | – | – | – |");
            continue;
        }
        let (spawn, poll) = (median_of(spawns), median_of(polls));
        println!(
            "| {setup} | {spawn} | {poll} | {:.2}× | {:.2}× |",
            spawn as f64 / spawn_base as f64,
            poll as f64 / poll_base as f64
        );
    }
    println!("\n({rounds} round(s) of {RUNS} runs; {SPAWNS} spawns, {POLLS} polls per run)");
}

fn median_of(values: &[u128]) -> u128 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted[sorted.len() / 2]
}

/// The ways a task can be wrapped, per setup.
#[derive(Clone, Copy)]
enum Wrap {
    Plain,
    Monitor,
    AwaitTree,
}

fn measure(setup: &str) {
    let Some(wrap) = install(setup) else {
        println!("needs --features layer");
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let spawn = median(|| runtime.block_on(spawn_and_await(wrap, SPAWNS)) / SPAWNS);
    let poll = median(|| runtime.block_on(yield_repeatedly(wrap, POLLS)) / POLLS);
    println!("{} {}", spawn.as_nanos(), poll.as_nanos());
}

/// One run of each workload, for the instruction counts.
fn run_once(setup: &str, spawns: u32, polls: u32) {
    let Some(wrap) = install(setup) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(spawn_and_await(wrap, spawns));
    runtime.block_on(yield_repeatedly(wrap, polls));
}

/// Installs what `setup` looks with; `None` when this build cannot.
fn install(setup: &str) -> Option<Wrap> {
    Some(match setup {
        "none" => Wrap::Plain,
        "taskleak" => {
            taskleak::init().expect("first subscriber");
            Wrap::Plain
        }
        "taskleak (layer)" => {
            if !install_layer() {
                return None;
            }
            Wrap::Plain
        }
        "console-subscriber" => {
            use tracing_subscriber::{layer::SubscriberExt as _, util::SubscriberInitExt as _};
            let console = console_subscriber::ConsoleLayer::builder()
                .server_addr(([127, 0, 0, 1], 0))
                .spawn();
            tracing_subscriber::registry().with(console).init();
            Wrap::Plain
        }
        "tokio's spawn span only" => {
            tracing::subscriber::set_global_default(SpawnSpanOnly).expect("first subscriber");
            Wrap::Plain
        }
        "tokio-metrics" => Wrap::Monitor,
        "await-tree" => Wrap::AwaitTree,
        other => panic!("unknown setup {other}"),
    })
}

/// Enables tokio's `runtime.spawn` spans and nothing else, and keeps nothing.
struct SpawnSpanOnly;

impl SpawnSpanOnly {
    fn is_spawn_span(meta: &tracing::Metadata<'_>) -> bool {
        meta.is_span() && meta.name() == "runtime.spawn" && meta.target() == "tokio::task"
    }
}

impl tracing::Subscriber for SpawnSpanOnly {
    fn register_callsite(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if Self::is_spawn_span(meta) {
            tracing::subscriber::Interest::always()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn enabled(&self, meta: &tracing::Metadata<'_>) -> bool {
        Self::is_spawn_span(meta)
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, _: &tracing::Event<'_>) {}

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

#[cfg(feature = "layer")]
fn install_layer() -> bool {
    use tracing_subscriber::{layer::SubscriberExt as _, util::SubscriberInitExt as _};
    let census = taskleak::Census::global().clone();
    tracing_subscriber::registry()
        .with(taskleak::CensusLayer::new(census).filtered())
        .init();
    true
}

#[cfg(not(feature = "layer"))]
fn install_layer() -> bool {
    false
}

fn median(mut run: impl FnMut() -> Duration) -> Duration {
    let mut runs: Vec<Duration> = (0..RUNS).map(|_| run()).collect();
    runs.sort();
    runs[RUNS / 2]
}

fn registry() -> &'static await_tree::Registry {
    static REGISTRY: std::sync::OnceLock<await_tree::Registry> = std::sync::OnceLock::new();
    REGISTRY.get_or_init(|| await_tree::Registry::new(await_tree::Config::default()))
}

fn monitor() -> &'static tokio_metrics::TaskMonitor {
    static MONITOR: std::sync::OnceLock<tokio_metrics::TaskMonitor> = std::sync::OnceLock::new();
    MONITOR.get_or_init(tokio_metrics::TaskMonitor::new)
}

/// A key per await-tree root (its registry keeps one tree per live key).
fn next_key() -> u64 {
    static KEY: AtomicU64 = AtomicU64::new(0);
    KEY.fetch_add(1, Ordering::Relaxed)
}

async fn spawn_and_await(wrap: Wrap, count: u32) -> Duration {
    let started = Instant::now();
    for _ in 0..count {
        match wrap {
            Wrap::Plain => tokio::spawn(async {}).await,
            Wrap::Monitor => tokio::spawn(monitor().instrument(async {})).await,
            Wrap::AwaitTree => {
                let root = registry().register(next_key(), "task");
                tokio::spawn(root.instrument(async {})).await
            }
        }
        .expect("task ends");
    }
    started.elapsed()
}

async fn yield_repeatedly(wrap: Wrap, count: u32) -> Duration {
    let work = async move {
        let started = Instant::now();
        for _ in 0..count {
            match wrap {
                Wrap::AwaitTree => {
                    use await_tree::InstrumentAwait as _;
                    tokio::task::yield_now().instrument_await("yield").await;
                }
                Wrap::Plain | Wrap::Monitor => tokio::task::yield_now().await,
            }
        }
        started.elapsed()
    };
    match wrap {
        Wrap::Plain => tokio::spawn(work).await,
        Wrap::Monitor => tokio::spawn(monitor().instrument(work)).await,
        Wrap::AwaitTree => {
            let root = registry().register(next_key(), "poller");
            tokio::spawn(root.instrument(work)).await
        }
    }
    .expect("task ends")
}
