//! One round: a fresh fleet, the card's scenario switched to leaky (every other one fixed), a
//! storm, the player's answer at any time during it, the alerts Prometheus fired, the reveal.

use contract::admin::ScenarioClient;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use contract::scenario::{Mode, Scenario};
use serde::Serialize;

use super::{
    DrillConfig,
    deck::Card,
    player::{self, Answer, Player},
    score::RoundScore,
    screen,
    truth::Claim,
};
use fleet::{
    NativeFleet,
    alerting::{AlertWatch, FiredAlert, PrometheusClient},
    k6::K6Run,
};

use crate::{rules::Ignore, source::Source, watcher::Watcher};

/// After the storm, the alerts get this long to show what they saw during it.
const SETTLE: Duration = Duration::from_secs(4);

/// One round, as `drill.json` records it.
#[derive(Debug, Clone, Serialize)]
pub struct RoundRecord {
    pub round: usize,
    pub truth: Claim,
    pub answer: Claim,
    /// From the storm's start; `None` when no leak was named.
    pub seconds_to_answer: Option<f64>,
    /// What the auto player saw (its finding's evidence).
    pub evidence: Vec<String>,
    pub score: RoundScore,
    /// Alerts the fleet's Prometheus fired during the storm (empty without one).
    pub alerts_fired: Vec<FiredAlert>,
    #[serde(skip)]
    pub prometheus: Option<String>,
    pub requests: usize,
    pub failed: usize,
}

pub async fn play(config: &DrillConfig, index: usize, card: Card) -> anyhow::Result<RoundRecord> {
    let number = index + 1;
    let truth = Claim::truth(card, &config.repo)?;
    let mut options = config.fleet.clone();
    options.run_dir = config.fleet.run_dir.join(format!("round-{number}"));
    let _ = std::fs::remove_dir_all(&options.run_dir);
    eprintln!(
        "leakstorm drill: round {number} of {}: starting a fresh fleet...",
        config.rounds
    );
    let fleet = NativeFleet::start(options.clone()).await?;
    let outcome = storm(config, number, card, &fleet, &options.run_dir).await;
    fleet.stop().await;
    let (answer, at, fired, requests, failed) = outcome?;
    let score = RoundScore::judge(
        &truth,
        &answer.claim,
        fired.url.is_some().then_some(fired.alerts.as_slice()),
    );
    let record = RoundRecord {
        round: number,
        truth,
        answer: answer.claim,
        seconds_to_answer: at,
        evidence: answer.evidence,
        score,
        alerts_fired: fired.alerts,
        prometheus: fired.url,
        requests,
        failed,
    };
    screen::reveal(&record, config.auto);
    Ok(record)
}

/// What the round's Prometheus saw.
struct Fired {
    url: Option<String>,
    alerts: Vec<FiredAlert>,
}

type StormOutcome = (Answer, Option<f64>, Fired, usize, usize);

async fn storm(
    config: &DrillConfig,
    number: usize,
    card: Card,
    fleet: &NativeFleet,
    dir: &std::path::Path,
) -> anyhow::Result<StormOutcome> {
    let services: Vec<(String, String)> = fleet
        .service_urls()
        .into_iter()
        .map(|(n, u)| (n.to_owned(), u))
        .collect();
    let switches = ScenarioClient::new(services.clone(), &config.admin_token)?;
    for scenario in Scenario::ALL {
        let mode = if card == Some(scenario) {
            Mode::Leaky
        } else {
            Mode::Fixed
        };
        switches
            .set(scenario, mode)
            .await
            .with_context(|| format!("switching {scenario}"))?;
    }
    let mut player = if config.auto {
        let source = Source::Scrape(services.clone());
        let jaeger = fleet.jaeger_url();
        Player::Auto(Box::new(Watcher::new(
            source,
            Ignore::infrastructure(&[]),
            Some(&jaeger),
        )))
    } else {
        Player::human()
    };
    let k6 = storm_run(config, fleet, dir);
    let started = Instant::now();
    let watch = match fleet.prometheus_url() {
        Some(url) => Some(AlertWatch::start(PrometheusClient::new(&url), started).await),
        None => None,
    };
    screen::announce(config, number, fleet, player.is_human());
    let load = k6.run();
    tokio::pin!(load);
    let mut answer: Option<(Answer, f64)> = None;
    loop {
        tokio::select! {
            result = &mut load => { result?; break; }
            heard = player.listen(), if answer.is_none() => {
                if let Some(heard) = heard {
                    let at = started.elapsed().as_secs_f64();
                    if player.is_human() {
                        println!("  answer recorded at +{at:.0} s; the storm goes on until its end");
                    }
                    answer = Some((heard, at));
                }
            }
        }
    }
    if answer.is_none() && player.is_human() {
        println!(
            "The storm is over. Your answer ({} s left):",
            config.answer_grace_s
        );
        player::prompt();
        let grace = Duration::from_secs(config.answer_grace_s);
        let asked = Instant::now();
        while answer.is_none() && asked.elapsed() < grace {
            if let Ok(Some(heard)) =
                tokio::time::timeout(grace.saturating_sub(asked.elapsed()), player.listen()).await
            {
                answer = Some((heard, started.elapsed().as_secs_f64()));
            }
        }
    }
    tokio::time::sleep(SETTLE).await;
    let alerts = match watch {
        Some(watch) => watch.stop().await,
        None => Vec::new(),
    };
    let results = k6.results().unwrap_or_default();
    let failed = results.requests.iter().filter(|r| r.failed).count();
    let (answer, at) = match answer {
        // An answer of "none" is no leak named: it has no time to the answer.
        Some((a, at)) => {
            let named = a.claim.scenario.is_some();
            (a, named.then_some((at * 10.0).round() / 10.0))
        }
        None => (
            Answer {
                claim: Claim::default(),
                evidence: Vec::new(),
            },
            None,
        ),
    };
    Ok((
        answer,
        at,
        Fired {
            url: fleet.prometheus_url(),
            alerts,
        },
        results.requests.len(),
        failed,
    ))
}

fn storm_run(config: &DrillConfig, fleet: &NativeFleet, dir: &std::path::Path) -> K6Run {
    let s = &config.storm;
    K6Run {
        binary: config.k6.clone(),
        script: config.k6_dir.join("storm.js"),
        env: vec![
            ("BASE_URL".into(), fleet.url("gateway").unwrap_or_default()),
            ("RATE".into(), s.rate.to_string()),
            ("DURATION".into(), format!("{}s", s.seconds)),
            ("DEEP_SHARE".into(), s.deep_share.to_string()),
            ("LARGE_SHARE".into(), s.large_share.to_string()),
            ("CLIENT_TIMEOUT".into(), "15s".into()),
        ],
        csv: dir.join("k6.csv"),
        summary: dir.join("k6-summary.json"),
        log: dir.join("k6.log"),
    }
}
