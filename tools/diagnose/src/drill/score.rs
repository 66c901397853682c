//! Scoring: each round field by field against its truth, the alerts the real Prometheus fired
//! held to the same truth, and the drill's totals.

use serde::Serialize;

use super::truth::Claim;
use fleet::alerting::FiredAlert;

/// One round, judged.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RoundScore {
    /// Leak or no leak, answered right.
    pub detection: bool,
    /// A leak named on a control round.
    pub false_alarm: bool,
    /// No leak named on a leak round.
    pub missed: bool,
    /// Leak rounds only: the right service, the right kind.
    pub service: Option<bool>,
    pub kind: Option<bool>,
    /// Rounds whose truth has a spawn site only: the right `file:line`.
    pub site: Option<bool>,
    /// Whether the alerts that fired were exactly the truth's (`None`: no Prometheus).
    pub alerts: Option<bool>,
}

impl RoundScore {
    pub fn judge(truth: &Claim, answer: &Claim, alerts: Option<&[FiredAlert]>) -> Self {
        let leak = truth.scenario.is_some();
        let alarmed = answer.scenario.is_some();
        let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
        Self {
            detection: leak == alarmed,
            false_alarm: !leak && alarmed,
            missed: leak && !alarmed,
            service: leak.then(|| same(&truth.service, &answer.service)),
            kind: leak.then(|| truth.scenario == answer.scenario),
            site: truth
                .has_spawn_site()
                .then(|| same(&truth.site, &answer.site)),
            alerts: alerts.map(|fired| alerts_match(truth, fired)),
        }
    }

    /// Everything scored was right.
    pub fn right(&self) -> bool {
        self.detection
            && self.service != Some(false)
            && self.kind != Some(false)
            && self.site != Some(false)
    }
}

/// On a leak round, the cause alerts that fired are exactly the truth's scenario, for its
/// service (and it did fire); on a control, no alert fired at all.
pub fn alerts_match(truth: &Claim, fired: &[FiredAlert]) -> bool {
    let Some(scenario) = truth.scenario else {
        return fired.is_empty();
    };
    let causes: Vec<&FiredAlert> = fired.iter().filter(|a| a.scenario.is_some()).collect();
    !causes.is_empty()
        && causes.iter().all(|a| {
            a.scenario.as_deref() == Some(scenario.as_str())
                && Some(a.service.as_str()) == truth.service.as_deref()
        })
}

/// How many of the rounds a field was judged in got it right.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Tally {
    pub right: usize,
    pub of: usize,
}

impl Tally {
    fn of(judged: impl Iterator<Item = Option<bool>>) -> Self {
        judged.flatten().fold(Self::default(), |t, ok| Self {
            right: t.right + usize::from(ok),
            of: t.of + 1,
        })
    }

    pub fn all_right(&self) -> bool {
        self.right == self.of
    }
}

/// The drill's totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Score {
    pub rounds: usize,
    /// Rounds where everything scored was right.
    pub right: usize,
    pub false_alarms: usize,
    pub misses: usize,
    /// Each field over the rounds it was judged in: detection (all), service and kind (leak
    /// rounds), site (rounds whose truth has a spawn site), alerts (rounds a Prometheus judged).
    pub detection: Tally,
    pub service: Tally,
    pub kind: Tally,
    pub site: Tally,
    pub alerts: Tally,
    /// Median seconds from the storm's start to a right answer, over the leak rounds answered.
    pub median_seconds_to_answer: Option<f64>,
}

impl Score {
    pub fn total(rounds: &[(RoundScore, Option<f64>)]) -> Self {
        let count = |f: &dyn Fn(&RoundScore) -> bool| rounds.iter().filter(|(s, _)| f(s)).count();
        let tally =
            |f: &dyn Fn(&RoundScore) -> Option<bool>| Tally::of(rounds.iter().map(|(s, _)| f(s)));
        let mut times: Vec<f64> = rounds
            .iter()
            .filter(|(s, _)| s.kind.is_some() && s.right())
            .filter_map(|(_, t)| *t)
            .collect();
        times.sort_by(f64::total_cmp);
        Self {
            rounds: rounds.len(),
            right: count(&|s| s.right()),
            false_alarms: count(&|s| s.false_alarm),
            misses: count(&|s| s.missed),
            detection: tally(&|s| Some(s.detection)),
            service: tally(&|s| s.service),
            kind: tally(&|s| s.kind),
            site: tally(&|s| s.site),
            alerts: tally(&|s| s.alerts),
            median_seconds_to_answer: median(&times),
        }
    }
}

fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use contract::scenario::Scenario;

    use super::{RoundScore, alerts_match};
    use crate::drill::truth::Claim;
    use fleet::alerting::FiredAlert;

    fn claim(scenario: Scenario, service: &str, site: &str) -> Claim {
        Claim {
            scenario: Some(scenario),
            service: Some(service.into()),
            site: Some(site.into()),
        }
    }

    fn fired(alert: &str, service: &str, scenario: Option<&str>) -> FiredAlert {
        FiredAlert {
            alert: alert.into(),
            service: service.into(),
            scenario: scenario.map(str::to_owned),
            after_s: 20.0,
        }
    }

    #[test]
    fn a_round_is_scored_field_by_field() {
        let truth = claim(
            Scenario::OrphanedLoop,
            "payments",
            "services/payments/src/lease.rs:95",
        );
        let right = RoundScore::judge(&truth, &truth.clone(), None);
        assert!(right.right() && right.site == Some(true));
        let wrong_kind = claim(
            Scenario::DetachedSpawn,
            "payments",
            "services/payments/src/lease.rs:95",
        );
        let score = RoundScore::judge(&truth, &wrong_kind, None);
        assert_eq!(
            (score.detection, score.kind, score.site),
            (true, Some(false), Some(true))
        );
        assert!(!score.right());
        let missed = RoundScore::judge(&truth, &Claim::default(), None);
        assert!(missed.missed && !missed.right());
        let alarm = RoundScore::judge(&Claim::default(), &truth, None);
        assert!(alarm.false_alarm && !alarm.right() && alarm.kind.is_none());
        assert!(RoundScore::judge(&Claim::default(), &Claim::default(), None).right());
        // A resource leak is not scored on its site.
        let held = claim(
            Scenario::HeldConnection,
            "ledger",
            "ledger's connection pool",
        );
        let other_words = claim(Scenario::HeldConnection, "ledger", "the pool");
        assert!(RoundScore::judge(&held, &other_words, None).right());
    }

    #[test]
    fn alerts_must_be_exactly_the_truths() {
        let truth = claim(Scenario::DetachedSpawn, "risk", "x:1");
        let own = fired("DetachedTaskLeak", "risk", Some("detached-spawn"));
        let heap = fired("HeapGrowthToLimit", "risk", None);
        let cross = fired(
            "DbPoolExhaustedByHeldConnections",
            "risk",
            Some("held-connection"),
        );
        assert!(alerts_match(&truth, &[own.clone(), heap.clone()]));
        assert!(!alerts_match(&truth, &[own.clone(), cross]));
        assert!(
            !alerts_match(&truth, std::slice::from_ref(&heap)),
            "its own alert must fire"
        );
        assert!(!alerts_match(
            &truth,
            &[fired(
                "DetachedTaskLeak",
                "payments",
                Some("detached-spawn")
            )]
        ));
        assert!(alerts_match(&Claim::default(), &[]));
        assert!(
            !alerts_match(&Claim::default(), &[heap]),
            "a control fires nothing"
        );
    }
}
