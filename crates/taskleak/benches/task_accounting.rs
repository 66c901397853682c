//! What looking at tasks costs, per spawn and per poll, side by side with the other ways tokio
//! users look at their tasks. Each setup runs in a fresh process (the global dispatcher and
//! tracing's callsite cache are per process); rounds interleave the setups, and each figure is
//! the median of its rounds' medians.
//!
//! - `none`: no instrumentation at all (tokio's spawn spans stay disabled).
//! - `taskleak`: the census in front of the subscriber ([`taskleak::init`]).
//! - `taskleak (layer)`: the census as a layer inside a `tracing_subscriber` registry — how the
//!   fleet counted first, and what it still does with tokio-console on.
//! - `console-subscriber`: tokio-console's layer, recording every poll, wake and resource.
//! - `tokio-metrics`: each task wrapped by hand in `TaskMonitor::instrument`.
//! - `await-tree`: each task registered in an `await_tree::Registry`, each await of the poll loop
//!   annotated with `instrument_await`.
//!
//! Workloads, on a current-thread runtime like an actix-web worker's: spawn a task and await it
//! (ns per spawn, including its one poll and its end), and one task yielding (ns per poll).
//!
//! Run: `cargo bench -p taskleak --bench task_accounting --features layer` (`-- --rounds 3`).

use std::{
    process::Command,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

const SETUPS: [&str; 6] = [
    "none",
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
    match value("--setup") {
        Some(setup) => measure(&setup),
        None => compare(value("--rounds").and_then(|r| r.parse().ok()).unwrap_or(1)),
    }
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
            let mut numbers = line.split_whitespace().filter_map(|n| n.parse::<u128>().ok());
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
    let wrap = match setup {
        "none" => Wrap::Plain,
        "taskleak" => {
            taskleak::init().expect("first subscriber");
            Wrap::Plain
        }
        "taskleak (layer)" => {
            if !install_layer() {
                println!("needs --features layer");
                return;
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
        "tokio-metrics" => Wrap::Monitor,
        "await-tree" => Wrap::AwaitTree,
        other => panic!("unknown setup {other}"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let spawn = median(|| runtime.block_on(spawn_and_await(wrap, SPAWNS)) / SPAWNS);
    let poll = median(|| runtime.block_on(yield_repeatedly(wrap, POLLS)) / POLLS);
    println!("{} {}", spawn.as_nanos(), poll.as_nanos());
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
