//! What task accounting costs per spawn and per poll, and why: the services' own subscriber
//! stack (`kit::telemetry::subscriber_stack`, traces on) measured three ways, each in a fresh
//! process (the global dispatcher and tracing's callsite cache are per process):
//!
//! - `off`: no accounting (`LEAKSTORM_TASK_ACCOUNTING=off`); tokio's spawn spans are disabled.
//! - `layer`: spawn spans counted by a layer inside the stack, so that each lives in the span
//!   registry and every poll enters and exits it there (how accounting first worked; what runs
//!   with tokio-console on).
//! - `wrapper`: spawn spans counted in front of the stack (`kit::tasks::SpawnSpanSubscriber`,
//!   the default): polls never reach the registry.
//!
//! Workloads, on a current-thread runtime like an actix worker's: spawn a task and await it
//! (ns per spawn, including its one poll and its end), and one task yielding (ns per poll).
//! Median of five runs each. Run: `cargo bench -p leakstorm-kit --bench task_accounting`.

use std::{
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use kit::{
    tasks::{SpawnSiteLayer, SpawnSites, SpawnSpanSubscriber},
    telemetry::{ServiceIdentity, subscriber_stack},
};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt as _;

const STACKS: [&str; 3] = ["off", "layer", "wrapper"];
const SPAWNS: u32 = 200_000;
const POLLS: u32 = 2_000_000;
const RUNS: usize = 5;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--stack") {
        Some(i) => measure(args.get(i + 1).map_or("off", String::as_str)),
        None => compare(),
    }
}

/// Runs each stack in its own process and prints the table.
fn compare() {
    let exe = std::env::current_exe().expect("own path");
    println!("| stack | ns per spawn | ns per poll |\n|---|---:|---:|");
    for stack in STACKS {
        let out = Command::new(&exe)
            .args(["--stack", stack])
            .env("LEAKSTORM_TASK_ACCOUNTING", "off")
            .env_remove("TOKIO_CONSOLE")
            .env("RUST_LOG", "warn")
            .output()
            .expect("run a stack");
        assert!(out.status.success(), "{stack}: {out:?}");
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}

fn measure(stack: &str) {
    let identity = ServiceIdentity {
        name: "bench",
        version: "0",
        default_port: 8080,
    };
    // A tracer that records (the otel layer does its work) but exports nowhere.
    let provider = SdkTracerProvider::builder().build();
    let base = subscriber_stack(identity, Some(&provider));
    let sites = Arc::new(SpawnSites::default());
    let dispatch = match stack {
        "off" => Dispatch::new(base),
        "layer" => Dispatch::new(base.with(SpawnSiteLayer::new(sites.clone()).filtered())),
        "wrapper" => Dispatch::new(SpawnSpanSubscriber::new(base, sites.clone())),
        other => panic!("unknown stack {other}"),
    };
    tracing::dispatcher::set_global_default(dispatch).expect("first subscriber");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let spawn = median(|| runtime.block_on(spawn_and_await(SPAWNS)) / SPAWNS);
    let poll = median(|| runtime.block_on(yield_repeatedly(POLLS)) / POLLS);
    let counted: usize = sites.snapshot(0).len();
    println!(
        "| {stack} (sites seen: {counted}) | {} | {} |",
        spawn.as_nanos(),
        poll.as_nanos()
    );
}

fn median(mut run: impl FnMut() -> Duration) -> Duration {
    let mut runs: Vec<Duration> = (0..RUNS).map(|_| run()).collect();
    runs.sort();
    runs[RUNS / 2]
}

async fn spawn_and_await(count: u32) -> Duration {
    let started = Instant::now();
    for _ in 0..count {
        tokio::spawn(async {}).await.expect("task ends");
    }
    started.elapsed()
}

async fn yield_repeatedly(count: u32) -> Duration {
    tokio::spawn(async move {
        let started = Instant::now();
        for _ in 0..count {
            tokio::task::yield_now().await;
        }
        started.elapsed()
    })
    .await
    .expect("task ends")
}
