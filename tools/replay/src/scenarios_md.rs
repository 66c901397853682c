//! `report.md`'s section on the leak scenarios replayed: one row each — the signal that gave it
//! away, before and after, the verdict — then each scenario's root-cause line and its charts.

use std::fmt::Write as _;

use super::{Report, report::Moments};

/// `start → end (±change), peak P`: a counter signal (slow waits) is read by its change.
fn count(m: &Moments) -> String {
    format!("{} → {} ({:+}), peak {}", m.start, m.end, m.left(), m.peak)
}

fn yes(ok: bool) -> &'static str {
    if ok { "yes" } else { "NO" }
}

/// Where a scenario's charts are, relative to report.md.
pub fn chart_dir(report: &Report, scenario: &str) -> String {
    if report.scenarios.len() > 1 {
        format!("{scenario}/")
    } else {
        String::new()
    }
}

pub fn render(report: &Report) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "## The leak scenarios replayed\n");
    let _ = writeln!(
        md,
        "Each scenario ran its own five phases against the same fleet, with every other scenario \
         fixed. The signal is sampled on the scenario's host once a second: its value at the start \
         and the end of the leaky storm and of the fixed storm (end: two seconds after the last \
         request), the change, and the peak.\n"
    );
    let _ = writeln!(
        md,
        "| scenario | host | signal that gives it away | leaky storm | fixed storm | leak reproduced | fix verified |"
    );
    let _ = writeln!(md, "|---|---|---|---:|---:|---|---|");
    for s in &report.scenarios {
        let _ = writeln!(
            md,
            "| `{}` | {} | `{}` | {} | {} | {} | {} |",
            s.scenario,
            s.host,
            s.signal.metric,
            count(&s.signal.leaky),
            count(&s.signal.fixed),
            yes(s.verdict.leak_reproduced),
            yes(s.verdict.fix_verified)
        );
    }
    let _ = writeln!(md, "\n### Root cause, per scenario\n");
    for s in &report.scenarios {
        let location = s
            .signal
            .location
            .as_deref()
            .map_or(String::new(), |l| format!(" (points at: {l})"));
        let _ = writeln!(
            md,
            "- **{}** — {}{location}.",
            s.scenario, s.signal.root_cause
        );
    }
    let _ = writeln!(
        md,
        "\n### Alerts the real Prometheus fired (leaky storm and recovery)\n"
    );
    for s in &report.scenarios {
        let fired = match &s.alerts_fired {
            None => "not recorded (no Prometheus)".to_owned(),
            Some(alerts) if alerts.is_empty() => "none".to_owned(),
            Some(alerts) => alerts
                .iter()
                .map(|a| format!("`{}` for {} at +{:.0} s", a.alert, a.service, a.after_s))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let _ = writeln!(md, "- **{}**: {fired}", s.scenario);
    }
    if report.scenarios.len() > 1 {
        let _ = writeln!(md, "\n### Charts\n");
        for s in &report.scenarios {
            let dir = chart_dir(report, s.scenario.as_str());
            let _ = writeln!(
                md,
                "- `{}`: [signal]({dir}signal.svg) · [live heap]({dir}heap.svg) · [alive tasks]({dir}tasks.svg) · [p99]({dir}p99.svg)",
                s.scenario
            );
        }
    }
    let _ = writeln!(md);
    md
}
