//! `leakstorm drill`: a game day. Each round starts a fresh native fleet, takes the next card of
//! a seeded deck — a leak scenario, or a control with no leak — switches it to leaky without
//! saying which, and runs a storm. A person answers at the prompt (or `--auto`: `diagnose`
//! does); then the round reveals its truth and scores the answer, and the alerts the real
//! Prometheus fired are held to the same truth. `drill.json` and `drill.md` record it all.
//!
//! Module map: [`deck`] deals the cards; [`truth`] is the answer key and the shape of an answer;
//! [`player`] is who answers; [`round`] plays one round; [`screen`] announces and reveals it; [`score`] judges; [`report`] writes.

pub mod command;
pub mod deck;
pub mod player;
pub mod report;
pub mod round;
pub mod score;
pub mod screen;
pub mod truth;

use std::path::PathBuf;

use serde::Serialize;

use fleet::FleetOptions;
use round::RoundRecord;
use score::Score;

/// What a drill needs.
#[derive(Debug, Clone)]
pub struct DrillConfig {
    pub seed: u64,
    pub rounds: usize,
    pub auto: bool,
    pub storm: StormSettings,
    /// The fleet each round starts (its run directory gets one folder per round).
    pub fleet: FleetOptions,
    /// The checkout whose source holds the spawn lines (the answer key).
    pub repo: PathBuf,
    pub k6: PathBuf,
    pub k6_dir: PathBuf,
    pub admin_token: String,
    /// Seconds a person still has to answer after the storm.
    pub answer_grace_s: u64,
}

/// The same load every round, whatever the card: the load must not tell which leak it is.
#[derive(Debug, Clone, Serialize)]
pub struct StormSettings {
    pub seconds: u64,
    pub rate: u32,
    /// Payments that need deep scoring (risk's two leaks feed on them).
    pub deep_share: f64,
    /// Of the others, those large enough for the ledger's screening (held-connection's load).
    pub large_share: f64,
}

/// The whole drill, as `drill.json` has it.
#[derive(Debug, Clone, Serialize)]
pub struct DrillReport {
    pub seed: u64,
    pub player: &'static str,
    pub started_at: String,
    pub storm: StormSettings,
    /// Where the alerts came from: the native fleet's Prometheus, or none installed.
    pub prometheus: Option<String>,
    pub rounds: Vec<RoundRecord>,
    pub score: Score,
    pub command: String,
}

impl DrillReport {
    /// Every round right, and (where a Prometheus judged them) every round's alerts exactly its
    /// truth's.
    pub fn passed(&self) -> bool {
        self.score.right == self.score.rounds && self.score.alerts.all_right()
    }
}

/// Plays every round and returns the report (not yet written).
pub async fn run(config: &DrillConfig) -> anyhow::Result<DrillReport> {
    let cards = deck::deal(config.seed, config.rounds);
    let started_at = chrono::Utc::now();
    let mut rounds = Vec::new();
    let mut prometheus = None;
    for (index, card) in cards.into_iter().enumerate() {
        let record = round::play(config, index, card).await?;
        prometheus = prometheus.or(record.prometheus.clone());
        rounds.push(record);
    }
    let judged: Vec<_> = rounds
        .iter()
        .map(|r| (r.score.clone(), r.seconds_to_answer))
        .collect();
    Ok(DrillReport {
        seed: config.seed,
        player: if config.auto { "auto" } else { "human" },
        started_at: started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        storm: config.storm.clone(),
        prometheus,
        score: Score::total(&judged),
        rounds,
        command: std::env::args().collect::<Vec<_>>().join(" "),
    })
}
