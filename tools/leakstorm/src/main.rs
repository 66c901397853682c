//! `leakstorm`: the incident lab's command. Each subcommand lives in its own folder
//! (`<feature>/command.rs`), of this crate or of the crate that does its job (`fleet`, `replay`,
//! `diagnose`); this file only dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use diagnose::{command as diagnose_command, drill::command as drill};
use fleet::{command as up, serve_traces as trace_store};
use leakstorm::{
    bench::command as bench,
    chaos::command as chaos,
    scenario::{command as scenario, mode},
    tasks::command as tasks,
    top::command as top,
    verify::command as verify,
};
use replay::command as replay;

#[derive(Parser)]
#[command(
    version,
    about = "The leakstorm incident lab: native fleet, mode switch, incident replay"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start Postgres, the trace store (Jaeger UI) and the four services locally.
    Up(up::UpArgs),
    /// Read or switch risk's mode (leaky or fixed) through its admin API.
    Mode(mode::ModeArgs),
    /// List the leak scenarios, or read or switch one's mode (leaky or fixed).
    Scenario(scenario::ScenarioArgs),
    /// Replay the incident and its fix, and write a measured before/after report.
    Replay(Box<replay::ReplayArgs>),
    /// Check the money invariants on a fleet's database (exits non-zero on any violation).
    Verify(verify::VerifyArgs),
    /// The cost of looking: fast-path payments with telemetry off, traces, task accounting, console.
    Bench(Box<bench::BenchArgs>),
    /// Which leak is it: kind, service and place, from the signals alone (exit 1: a leak).
    Diagnose(diagnose_command::DiagnoseArgs),
    /// A game day: hidden leaks (or none) on fresh fleets, answered and scored.
    Drill(Box<drill::DrillArgs>),
    /// Live tasks per spawn site on each service, with the oldest one's age (`/debug/tasks`).
    Tasks(tasks::TasksArgs),
    /// The incident, live: heap, tasks, latency, pools and spawn sites per service, each second.
    Top(top::TopArgs),
    /// Kill each service with SIGKILL during a storm with client retries, then check the money.
    Chaos(Box<chaos::ChaosArgs>),
    /// Only the trace store: OTLP/gRPC in, Jaeger UI and API out (the rehearsal's Jaeger).
    TraceStore(trace_store::TraceStoreArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let outcome = match Cli::parse().command {
        // 0 no leak, 1 a leak, 2 could not tell.
        Command::Diagnose(args) => {
            return diagnose_command::run(args).await.unwrap_or_else(|e| {
                eprintln!("leakstorm diagnose: {e:#}");
                ExitCode::from(2)
            });
        }
        Command::Up(args) => up::run(args).await,
        Command::Mode(args) => mode::run(args).await,
        Command::Scenario(args) => scenario::run(args).await,
        Command::Replay(args) => replay::run(*args).await,
        Command::Verify(args) => verify::run(args).await,
        Command::Chaos(args) => chaos::run(*args).await,
        Command::TraceStore(args) => trace_store::run(args).await,
        Command::Tasks(args) => tasks::run(args).await,
        Command::Top(args) => top::run(args).await,
        Command::Bench(args) => bench::run(*args).await,
        Command::Drill(args) => drill::run(*args).await,
    };
    exit_code(outcome.map(|()| ExitCode::SUCCESS))
}

fn exit_code(outcome: anyhow::Result<ExitCode>) -> ExitCode {
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("leakstorm: {e:#}");
            ExitCode::FAILURE
        }
    }
}
