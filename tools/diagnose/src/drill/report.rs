//! `drill.json` and `drill.md`: every round, the score, and the confusion matrix of truth ×
//! answer.

use std::{fmt::Write as _, path::Path};

use anyhow::Context as _;
use contract::scenario::Scenario;

use super::DrillReport;

/// Writes both files into `dir`.
pub fn write(report: &DrillReport, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(
        dir.join("drill.json"),
        serde_json::to_string_pretty(report)?,
    )?;
    std::fs::write(dir.join("drill.md"), markdown(report))?;
    Ok(())
}

fn kind(s: Option<Scenario>) -> &'static str {
    s.map_or("none", Scenario::as_str)
}

pub fn markdown(report: &DrillReport) -> String {
    let mut md = String::new();
    let s = &report.score;
    let _ = writeln!(
        md,
        "# Drill, seed {} ({} player, {})\n",
        report.seed, report.player, report.started_at
    );
    let _ = writeln!(
        md,
        "Each round: a fresh native fleet, one card of the deck switched to leaky (a control: none), a storm of {} s at {} payments/s ({:.0} % needing deep scoring, {:.0} % of the rest screened by the ledger), the same for every card.\n",
        report.storm.seconds,
        report.storm.rate,
        report.storm.deep_share * 100.0,
        report.storm.large_share * 100.0
    );
    let _ = writeln!(
        md,
        "**Score: {} of {} rounds right** — detection {}/{}, false alarms {}, misses {}, service {}/{}, kind {}/{}, spawn site {}/{}; {}; alerts exactly the truth's: {}.\n",
        s.right,
        s.rounds,
        s.detection.right,
        s.detection.of,
        s.false_alarms,
        s.misses,
        s.service.right,
        s.service.of,
        s.kind.right,
        s.kind.of,
        s.site.right,
        s.site.of,
        s.median_seconds_to_answer
            .map_or("no right answer to time".to_owned(), |t| format!(
                "median time to a right answer {t:.0} s from the storm's start"
            )),
        match &report.prometheus {
            Some(_) => format!("{}/{}", s.alerts.right, s.alerts.of),
            None => "not judged (no Prometheus installed)".to_owned(),
        }
    );
    let _ = writeln!(
        md,
        "| round | truth | answer | seconds to answer | right | alerts fired (s after the storm began) |\n|---:|---|---|---:|---|---|"
    );
    for r in &report.rounds {
        let claim = |c: &super::truth::Claim| c.describe("`");
        let alerts = if r.alerts_fired.is_empty() {
            "none".to_owned()
        } else {
            r.alerts_fired
                .iter()
                .map(|a| format!("{} ({}, {:.0})", a.alert, a.service, a.after_s))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            r.round,
            claim(&r.truth),
            claim(&r.answer),
            r.seconds_to_answer
                .map_or("–".to_owned(), |t| format!("{t:.0}")),
            if r.score.right() { "yes" } else { "**no**" },
            alerts
        );
    }
    let kinds: Vec<Option<Scenario>> = Scenario::ALL.into_iter().map(Some).chain([None]).collect();
    let _ = writeln!(
        md,
        "\n## Confusion matrix (rows: truth, columns: answer)\n\n| truth \\ answer | {} |\n|---|{}",
        kinds
            .iter()
            .map(|k| kind(*k))
            .collect::<Vec<_>>()
            .join(" | "),
        "---:|".repeat(kinds.len())
    );
    for truth in &kinds {
        let cells: Vec<String> = kinds
            .iter()
            .map(|answer| {
                let n = report
                    .rounds
                    .iter()
                    .filter(|r| r.truth.scenario == *truth && r.answer.scenario == *answer)
                    .count();
                if n == 0 {
                    "·".to_owned()
                } else {
                    n.to_string()
                }
            })
            .collect();
        let _ = writeln!(md, "| {} | {} |", kind(*truth), cells.join(" | "));
    }
    let _ = writeln!(
        md,
        "\nReplay this order: `{}`",
        report.command.replace("  ", " ")
    );
    md
}
