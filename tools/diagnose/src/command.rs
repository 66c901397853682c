//! `leakstorm diagnose`: which leak is it — kind, service and place — from the services'
//! `/metrics` (or a Prometheus) and the trace API alone. Exit status: 0 no leak, 1 a leak found,
//! 2 the signals could not be read.

use std::{process::ExitCode, time::Duration};

use clap::Args;

use crate::{Diagnosis, render, rules::Ignore, source::Source, watcher::Watcher};
use fleet::cli_args::ServiceUrls;

/// The rules' resolution: one look every two seconds.
const EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Args)]
pub struct DiagnoseArgs {
    /// Print JSON (`{"leak", "findings": [{scenario, service, site, evidence, since_s}]}`; with
    /// --watch, one object per line each time the answer changes).
    #[arg(long)]
    pub json: bool,
    /// Keep answering as the signals change, until Ctrl-C.
    #[arg(long)]
    pub watch: bool,
    /// Read the series from this Prometheus (its last two minutes) instead of scraping the
    /// services.
    #[arg(long, env = "PROMETHEUS_URL")]
    pub prometheus: Option<String>,
    /// Without --prometheus: seconds of scraping before the first answer (rates need time).
    #[arg(long, default_value_t = 6)]
    pub observe_secs: u64,
    #[command(flatten)]
    pub urls: ServiceUrls,
    /// The trace API (Jaeger or the embedded store), for the evidence of a detached spawn.
    #[arg(long, env = "JAEGER_URL", default_value = "http://127.0.0.1:16686")]
    pub jaeger_url: String,
    /// Read no traces.
    #[arg(long)]
    pub no_traces: bool,
    /// More spawn sites to leave out (globs like `my-crate-*/src/pool.rs:*`), besides the
    /// long-lived infrastructure of actix-web, hyper and sqlx.
    #[arg(long)]
    pub ignore: Vec<String>,
}

pub async fn run(args: DiagnoseArgs) -> anyhow::Result<ExitCode> {
    let source = match &args.prometheus {
        Some(url) => Source::Prometheus {
            url: url.clone(),
            read_until: None,
        },
        None => Source::Scrape(args.urls.services()),
    };
    let jaeger = (!args.no_traces).then_some(args.jaeger_url.as_str());
    let mut watcher = Watcher::new(source, Ignore::infrastructure(&args.ignore), jaeger);
    let looks = if args.prometheus.is_some() {
        1
    } else {
        (args.observe_secs / EVERY.as_secs()).max(2)
    };
    let mut diagnosis = Diagnosis::default();
    for look in 0..looks {
        if look > 0 {
            tokio::time::sleep(EVERY).await;
        }
        diagnosis = match watcher.step().await {
            Ok(d) => d,
            Err(e) => {
                eprintln!("leakstorm diagnose: {e:#}");
                return Ok(ExitCode::from(2));
            }
        };
    }
    print(&diagnosis, args.json);
    if args.watch {
        diagnosis = watch(&mut watcher, diagnosis, args.json).await;
    }
    Ok(ExitCode::from(u8::from(diagnosis.leak)))
}

/// Re-answers every two seconds; prints when the set of findings changes.
async fn watch(watcher: &mut Watcher, mut last: Diagnosis, json: bool) -> Diagnosis {
    let stop = fleet::command::wait_for_stop_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return last,
            () = tokio::time::sleep(EVERY) => {}
        }
        let Ok(now) = watcher.step().await else {
            continue;
        };
        let keys = |d: &Diagnosis| {
            d.findings
                .iter()
                .map(|f| (f.scenario, f.service.clone(), f.site.clone()))
                .collect::<Vec<_>>()
        };
        if keys(&now) != keys(&last) {
            if !json {
                println!("--- {}", chrono::Local::now().format("%H:%M:%S"));
            }
            print(&now, json);
        }
        last = now;
    }
}

fn print(diagnosis: &Diagnosis, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string(diagnosis).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        );
    } else {
        print!("{}", render::text(diagnosis));
    }
}
