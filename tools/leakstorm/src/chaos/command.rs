//! `leakstorm chaos`: on the native fleet, payments with client retries (same idempotency key)
//! while each service in turn is killed with SIGKILL and restarted; then the fleet settles and
//! the money invariants are checked. Loopback only, bounded in time.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args;
use contract::service::Service;
use serde::Serialize;
use sqlx::{Connection as _, PgConnection};

use fleet::command::FleetArgs;
use fleet::{NativeFleet, k6::K6Run};

use crate::verify::check::{self as verify, Invariant};

#[derive(Debug, Clone, Args)]
pub struct ChaosArgs {
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// How long payments keep arriving; the kills are spread over it.
    #[arg(long, default_value_t = 60)]
    pub duration_secs: u64,
    /// New payments per second (each may retry).
    #[arg(long, default_value_t = 10)]
    pub rate: u32,
    /// How long a killed service stays down before it is restarted.
    #[arg(long, default_value_t = 3)]
    pub restart_delay_secs: u64,
    /// Kills per service.
    #[arg(long, default_value_t = 1)]
    pub rounds: u32,
    #[command(flatten)]
    pub tools: fleet::cli_args::ToolArgs,
}

#[derive(Debug, Serialize)]
struct Kill {
    service: &'static str,
    /// Seconds since the storm started.
    at_s: f64,
    /// From SIGKILL until the restarted process answered `/readyz` (restart delay included).
    recovery_s: f64,
}

#[derive(Debug, Serialize)]
struct ChaosReport {
    run_id: String,
    duration_s: u64,
    rate: u32,
    restart_delay_s: u64,
    payments: u64,
    retries: u64,
    given_up: u64,
    http_requests: u64,
    kills: Vec<Kill>,
    /// From the last request until no payment was pending.
    settled_after_s: f64,
    invariants: Vec<Invariant>,
    totals: Vec<(String, i64)>,
}

/// Recovery re-drives payments pending longer than this; short, so the run settles quickly.
const STUCK_AFTER: Duration = Duration::from_secs(12);

pub async fn run(args: ChaosArgs) -> anyhow::Result<()> {
    let run_id = format!("{}-chaos", chrono::Utc::now().format("%Y%m%d-%H%M%S"));
    let dir = args.tools.out.join(&run_id);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut options = args.fleet.options();
    // A database of its own, so the invariants and totals speak of this run only.
    options.database_name = run_id.replace('-', "_");
    options.service_env.extend([
        ("risk", "RISK_MODE".to_owned(), "fixed".to_owned()),
        (
            "payments",
            "RECOVERY_INTERVAL_MS".to_owned(),
            "1000".to_owned(),
        ),
        (
            "payments",
            "RECOVERY_STUCK_AFTER_MS".to_owned(),
            STUCK_AFTER.as_millis().to_string(),
        ),
    ]);
    eprintln!("leakstorm: starting the native fleet...");
    let mut fleet = NativeFleet::start(options).await?;
    let outcome = storm_and_kill(&mut fleet, &args, &dir, &run_id).await;
    fleet.stop().await;
    let report = outcome?;
    let markdown = render(&report);
    std::fs::write(
        dir.join("chaos.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(dir.join("chaos.md"), &markdown)?;
    println!("{markdown}");
    eprintln!("leakstorm: report written to {}", dir.display());
    let broken = verify::broken(&report.invariants);
    if !broken.is_empty() {
        bail!("invariants violated after chaos: {}", broken.join("; "));
    }
    if report.given_up > 0 {
        bail!(
            "{} payments never got an answer despite retries",
            report.given_up
        );
    }
    Ok(())
}

async fn storm_and_kill(
    fleet: &mut NativeFleet,
    args: &ChaosArgs,
    dir: &std::path::Path,
    run_id: &str,
) -> anyhow::Result<ChaosReport> {
    let k6 = K6Run {
        binary: args.tools.k6.clone(),
        script: args.tools.k6_dir.join("chaos.js"),
        env: vec![
            ("BASE_URL".into(), fleet.url("gateway").unwrap_or_default()),
            ("RATE".into(), args.rate.to_string()),
            ("DURATION".into(), format!("{}s", args.duration_secs)),
            ("DEEP_SHARE".into(), "0.2".into()),
        ],
        csv: dir.join("k6-chaos.csv"),
        summary: dir.join("k6-chaos-summary.json"),
        log: dir.join("k6-chaos.log"),
    };
    let started = Instant::now();
    let storm = k6.run();
    tokio::pin!(storm);
    // Kills spread evenly over the storm, each service in turn.
    let schedule: Vec<&'static str> = (0..args.rounds)
        .flat_map(|_| Service::START_ORDER.map(Service::name))
        .collect();
    let gap = Duration::from_secs(args.duration_secs) / (schedule.len() as u32 + 1);
    let mut kills = Vec::new();
    let mut storm_result = None;
    for service in schedule {
        let at = gap * (kills.len() as u32 + 1);
        tokio::select! {
            result = &mut storm => { storm_result = Some(result); break; }
            () = tokio::time::sleep(at.saturating_sub(started.elapsed())) => {}
        }
        let killed_at = started.elapsed();
        eprintln!(
            "leakstorm: SIGKILL {service} at {:.0} s",
            killed_at.as_secs_f64()
        );
        let process = fleet.service_mut(service).context("service in the fleet")?;
        process
            .crash_and_restart(
                Duration::from_secs(args.restart_delay_secs),
                Duration::from_secs(60),
            )
            .await?;
        let recovery = started.elapsed() - killed_at;
        eprintln!(
            "leakstorm: {service} ready again after {:.2} s",
            recovery.as_secs_f64()
        );
        kills.push(Kill {
            service,
            at_s: killed_at.as_secs_f64(),
            recovery_s: recovery.as_secs_f64(),
        });
    }
    match storm_result {
        Some(result) => result?,
        None => storm.await?,
    };
    let storm_ended = Instant::now();

    eprintln!("leakstorm: waiting for every payment to settle...");
    let database_url = fleet.database_url().to_owned();
    let mut conn = PgConnection::connect(&database_url)
        .await
        .context("connecting to the fleet's database")?;
    let settle_limit = STUCK_AFTER * 3;
    loop {
        let pending: i64 =
            sqlx::query_scalar("SELECT count(*) FROM payments.payments WHERE status = 'pending'")
                .fetch_one(&mut conn)
                .await
                .context("counting pending payments")?;
        if pending == 0 || storm_ended.elapsed() > settle_limit {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let settled_after = storm_ended.elapsed();
    conn.close().await.ok();
    let invariants = verify::check(&database_url, settle_limit).await?;
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&k6.summary).context("reading k6's summary")?,
    )?;
    let count = |name: &str| {
        summary["metrics"][name]["values"]["count"]
            .as_f64()
            .unwrap_or(0.0) as u64
    };
    Ok(ChaosReport {
        run_id: run_id.to_owned(),
        duration_s: args.duration_secs,
        rate: args.rate,
        restart_delay_s: args.restart_delay_secs,
        payments: count("iterations"),
        retries: count("payment_retries"),
        given_up: count("payments_given_up"),
        http_requests: count("http_reqs"),
        kills,
        settled_after_s: settled_after.as_secs_f64(),
        invariants,
        totals: verify::totals(&database_url).await?,
    })
}

fn render(report: &ChaosReport) -> String {
    let mut md = format!(
        "# leakstorm chaos — {}\n\n{} s of payments at {} per second with client retries (same Idempotency-Key), \
         each service killed with SIGKILL and restarted {} s later.\n\n\
         | payments | HTTP requests | retries | given up | settled after the last request |\n|---:|---:|---:|---:|---:|\n\
         | {} | {} | {} | {} | {:.1} s |\n\n## Kills\n\n| service | at | ready again after |\n|---|---:|---:|\n",
        report.run_id,
        report.duration_s,
        report.rate,
        report.restart_delay_s,
        report.payments,
        report.http_requests,
        report.retries,
        report.given_up,
        report.settled_after_s
    );
    for kill in &report.kills {
        md.push_str(&format!(
            "| {} | {:.0} s | {:.2} s |\n",
            kill.service, kill.at_s, kill.recovery_s
        ));
    }
    md.push_str("\n## Invariants\n\n| invariant | violations |\n|---|---:|\n");
    for invariant in &report.invariants {
        md.push_str(&format!(
            "| {} | {} |\n",
            invariant.name, invariant.violations
        ));
    }
    md.push_str("\n## Totals\n\n");
    for (what, count) in &report.totals {
        md.push_str(&format!("- {what}: {count}\n"));
    }
    md
}
