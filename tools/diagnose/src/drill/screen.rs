//! What a drill round shows its player: the announcement (nothing of the truth), and the
//! reveal with the score.

use super::{DrillConfig, player, round::RoundRecord, truth::Claim};
use fleet::NativeFleet;

pub(super) fn announce(config: &DrillConfig, number: usize, fleet: &NativeFleet, human: bool) {
    if !human {
        eprintln!(
            "leakstorm drill: round {number}: the storm runs {} s; diagnose is looking",
            config.storm.seconds
        );
        return;
    }
    println!(
        "\n=== Round {number} of {} ===\nThe storm is running ({} s at {} payments/s). Something may be leaking, or nothing.",
        config.rounds, config.storm.seconds, config.storm.rate
    );
    println!(
        "Look at the signals: gateway {}",
        fleet.url("gateway").unwrap_or_default()
    );
    if let Some(url) = fleet.prometheus_url() {
        println!("  Prometheus {url}/alerts");
    }
    println!(
        "  Jaeger UI {}   leakstorm top   leakstorm tasks   leakstorm diagnose",
        fleet.jaeger_url()
    );
    println!("{}", player::help());
    player::prompt();
}

pub(super) fn reveal(record: &RoundRecord, auto: bool) {
    let name = |c: &Claim| c.describe("");
    let mark = |ok: Option<bool>| match ok {
        Some(true) => "right",
        Some(false) => "WRONG",
        None => "-",
    };
    let s = &record.score;
    let out = format!(
        "--- round {}: the truth was {}\n    answer: {}{}\n    detection {}, service {}, kind {}, site {}{}{}",
        record.round,
        name(&record.truth),
        name(&record.answer),
        record
            .seconds_to_answer
            .map(|t| format!(" (+{t:.0} s)"))
            .unwrap_or_default(),
        mark(Some(s.detection)),
        mark(s.service),
        mark(s.kind),
        mark(s.site),
        if s.false_alarm {
            " — a false alarm"
        } else {
            ""
        },
        match s.alerts {
            Some(ok) => format!(
                "\n    alerts: {} ({})",
                if record.alerts_fired.is_empty() {
                    "none".to_owned()
                } else {
                    record
                        .alerts_fired
                        .iter()
                        .map(|a| format!("{} for {} at +{:.0} s", a.alert, a.service, a.after_s))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                if ok {
                    "exactly the truth's"
                } else {
                    "NOT exactly the truth's"
                }
            ),
            None => String::new(),
        }
    );
    if auto {
        eprintln!("{out}");
    } else {
        println!("{out}");
    }
}
