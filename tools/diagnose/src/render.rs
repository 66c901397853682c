//! The answer as a person reads it, and what to do about each kind.

use std::fmt::Write as _;

use contract::scenario::Scenario;

use super::Diagnosis;

/// What fixes each kind, in one line.
pub fn remedy(scenario: Scenario) -> &'static str {
    match scenario {
        Scenario::DetachedSpawn => {
            "give the spawned work an owner that cancels it: a JoinSet or TaskTracker with a CancellationToken, aborted when the request's deadline passes (a timeout around JoinHandles only detaches them)"
        }
        Scenario::OrphanedLoop => {
            "tie the loop's stop signal to ownership (a Drop guard), not to the paths that remember to send it"
        }
        Scenario::HeldConnection => {
            "take the connection after the slow call, not before: no pooled connection across an await on something else"
        }
        Scenario::UnboundedQueue => {
            "bound the queue and decide what happens when it is full (shed, or push back on the producer)"
        }
        Scenario::BlockingPileup => {
            "take a bound (a semaphore permit) before spawn_blocking, and give the blocking call its own timeout"
        }
    }
}

/// Plain text: one block per finding, or a line saying nothing leaks.
pub fn text(diagnosis: &Diagnosis) -> String {
    let mut out = String::new();
    if !diagnosis.leak {
        let _ = writeln!(
            out,
            "no leak: the signals of {} show none of the five kinds",
            diagnosis.services.join(", ")
        );
        return out;
    }
    let count = diagnosis.findings.len();
    let _ = writeln!(
        out,
        "LEAK: {count} finding{}",
        if count == 1 { "" } else { "s" }
    );
    for finding in &diagnosis.findings {
        let _ = writeln!(
            out,
            "\n{} in {}, at {} (signal there for {:.0} s)",
            finding.scenario,
            finding.service,
            finding.site.as_deref().unwrap_or("an unknown place"),
            finding.since_s
        );
        for line in &finding.evidence {
            let _ = writeln!(out, "  - {line}");
        }
        let _ = writeln!(out, "  fix: {}", remedy(finding.scenario));
    }
    out
}
