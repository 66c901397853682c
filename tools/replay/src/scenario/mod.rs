//! What differs from one leak scenario to the next in a replay: the service that hosts it, the
//! load that triggers it, the signal that gives it away, how long its leaked work takes to run
//! out, and the rules for "leak reproduced" and "fix verified".

use contract::scenario::Scenario;
use serde::Serialize;

use super::{
    report::{Moments, PhaseReport, Thresholds, Verdict},
    sampler::Sample,
};

/// The file the orphaned renewal loops are spawned in (their tasks are counted there).
const LEASE_FILE: &str = "services/payments/src/lease.rs";

/// One scenario's replay plan.
#[derive(Debug, Clone, Copy)]
pub struct ScenarioSpec {
    pub scenario: Scenario,
    /// Share of payments that need deep scoring (risk's scenarios need them).
    pub deep_share: f64,
    /// Share of the other payments large enough for the ledger's screening.
    pub large_share: f64,
    /// The longest the leaky recovery waits for the signal to return to its warm-up level.
    pub leaky_recovery_s: u64,
}

/// The signal of one scenario, as the report shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SignalReport {
    /// The metric that gives the leak away, as a PromQL selector.
    pub metric: String,
    pub service: String,
    /// Its start / peak / end over the leaky and the fixed storm.
    pub leaky: Moments,
    pub fixed: Moments,
    /// Where it points in the code: a spawn site (task census) or the metric's own label.
    pub location: Option<String>,
    /// The sentence the report prints as this scenario's root cause.
    pub root_cause: String,
}

impl ScenarioSpec {
    /// The plan for `scenario` under a profile whose detached-spawn settings are `base`.
    pub fn of(scenario: Scenario, base_deep_share: f64, base_recovery_s: u64) -> Self {
        let (deep_share, large_share, leaky_recovery_s) = match scenario {
            Scenario::DetachedSpawn => (base_deep_share, 0.0, base_recovery_s),
            // The model is asked on the deep path; the pile-up drains at the model's pace.
            Scenario::BlockingPileup => (base_deep_share, 0.0, base_recovery_s + 15),
            // Every payment is screened, no deep scoring in the way.
            Scenario::HeldConnection => (0.0, 1.0, 15),
            // Every payment queues an event; nothing else needed.
            Scenario::UnboundedQueue => (0.0, 0.0, 15),
            // Every payment takes a lease; the loops leak on the path of payments that end in
            // review, which deep-scored payments do (fixed-mode deep scoring out of budget).
            Scenario::OrphanedLoop => (base_deep_share, 0.0, 15),
        };
        Self {
            scenario,
            deep_share,
            large_share,
            leaky_recovery_s,
        }
    }

    pub fn host(&self) -> &'static str {
        self.scenario.host()
    }

    /// The scenario's signal in one sample of its host.
    pub fn signal(&self, sample: &Sample) -> f64 {
        match self.scenario {
            Scenario::DetachedSpawn => sample.alive_tasks,
            Scenario::UnboundedQueue => sample.queued_messages,
            Scenario::HeldConnection => sample.pool_slow_waits,
            Scenario::OrphanedLoop => sample.tasks_in(LEASE_FILE).0,
            Scenario::BlockingPileup => sample.blocking_busy,
        }
    }

    /// The signal's name, as a PromQL selector on the host.
    pub fn metric(&self) -> String {
        match self.scenario {
            Scenario::DetachedSpawn => "runtime_alive_tasks_by_spawn_site".into(),
            Scenario::UnboundedQueue => {
                "channel_queued_messages{channel=\"payments_webhooks\"}".into()
            }
            Scenario::HeldConnection => {
                "db_client_connection_wait_time_seconds (waits over 0.5 s)".into()
            }
            Scenario::OrphanedLoop => {
                format!("runtime_alive_tasks_by_spawn_site{{spawn_site=~\"{LEASE_FILE}:.*\"}}")
            }
            Scenario::BlockingPileup => {
                "runtime_blocking_threads - runtime_idle_blocking_threads".into()
            }
        }
    }

    /// Whether the leaked work has run out: the signal is back near its warm-up level. (A
    /// counter signal — slow waits — is back when it stops rising.)
    pub fn drained(&self, now: &Sample, baseline: &Sample, previous: Option<&Sample>) -> bool {
        match self.scenario {
            Scenario::HeldConnection => {
                now.pool_pending <= baseline.pool_pending
                    && previous.is_some_and(|p| p.pool_slow_waits >= now.pool_slow_waits)
            }
            _ => self.signal(now) <= self.signal(baseline) + 2.0,
        }
    }

    /// Leak reproduced, fix verified: detached-spawn keeps its original rules; the others have
    /// their own, on their signal.
    pub fn verdict(
        &self,
        leaky: &PhaseReport,
        leaky_recovery: &PhaseReport,
        fixed: &PhaseReport,
        t: &Thresholds,
    ) -> Verdict {
        if self.scenario == Scenario::DetachedSpawn {
            return super::report::verdict(leaky, fixed, t);
        }
        let (mut leak, mut fix) = (Vec::new(), Vec::new());
        let requests = leaky.requests.max(1) as f64;
        let (l, f) = (&leaky.signal, &fixed.signal);
        match self.scenario {
            Scenario::UnboundedQueue => {
                if (l.left() as f64) < requests / 4.0 {
                    leak.push(format!("the webhook queue grew by only {} over {} payments (needed a quarter of them): slow the merchant (PAYMENTS_WEBHOOK_LATENCY_MS) or raise --rate", l.left(), leaky.requests));
                }
                if leaky.heap_bytes.left() < 16 << 20 {
                    leak.push(format!(
                        "payments' live heap rose by only {:.1} MiB",
                        mib(leaky.heap_bytes.left())
                    ));
                }
                if f.left() > 256 {
                    fix.push(format!(
                        "the bounded queue grew by {} (its capacity is 256)",
                        f.left()
                    ));
                }
                if fixed.heap_bytes.left() > 32 << 20 {
                    fix.push(format!(
                        "the fixed storm left {:.1} MiB more live heap",
                        mib(fixed.heap_bytes.left())
                    ));
                }
            }
            Scenario::HeldConnection => {
                if l.left() < 10 {
                    leak.push(format!("only {} connection waits over 0.5 s in the leaky storm (needed 10): raise --rate or LEDGER_SCREENING_LATENCY_MS", l.left()));
                }
                if f.left() as f64 > fixed.requests as f64 / 100.0 {
                    fix.push(format!(
                        "{} connection waits over 0.5 s in the fixed storm (allowed 1 %)",
                        f.left()
                    ));
                }
            }
            Scenario::OrphanedLoop => {
                // The loops of the payments that ended off the money path (about the deep
                // share of them) never end; the others do.
                let orphans = leaky_recovery.signal.end as f64;
                if orphans < requests / 10.0 {
                    leak.push(format!("{orphans} renewal loops still ran after the leaky storm's {} payments and a quiet recovery (needed a tenth: raise --deep-share, whose payments end in review)", leaky.requests));
                }
                if f.left() > 5 {
                    fix.push(format!(
                        "the fixed storm left {} more renewal loops running",
                        f.left()
                    ));
                }
            }
            Scenario::BlockingPileup => {
                if l.peak < 32 {
                    leak.push(format!("at most {} blocking threads were busy in the leaky storm (needed 32): raise --deep-share or RISK_MODEL_LATENCY_MS", l.peak));
                }
                if f.peak.saturating_sub(f.start) > 8 {
                    fix.push(format!("{} more blocking threads were busy in the fixed storm (the bound is 4 calls)", f.peak.saturating_sub(f.start)));
                }
                if fixed.blocking_queued_peak > 0 {
                    fix.push(format!(
                        "{} blocking jobs queued in the fixed storm",
                        fixed.blocking_queued_peak
                    ));
                }
            }
            Scenario::DetachedSpawn => {}
        }
        if leaky.requests == 0 {
            leak.push(
                "the leaky storm sent no request: is k6 installed and the gateway reachable?"
                    .into(),
            );
        }
        Verdict {
            leak_reproduced: leak.is_empty(),
            fix_verified: fix.is_empty(),
            reasons: leak
                .into_iter()
                .map(|r| format!("{}: leak not reproduced: {r}", self.scenario))
                .chain(
                    fix.into_iter()
                        .map(|r| format!("{}: fix not verified: {r}", self.scenario)),
                )
                .collect(),
        }
    }

    /// The report's signal section, with the root-cause sentence: the metric, and where it
    /// points (a spawn site named by the task census, or the metric's own label).
    pub fn signal_report(&self, leaky: &PhaseReport, fixed: &PhaseReport) -> SignalReport {
        let (l, f) = (leaky.signal, fixed.signal);
        let site = leaky
            .root_cause
            .as_ref()
            .and_then(|r| r.site.clone().or(r.peak_site.clone()));
        let at = site
            .clone()
            .unwrap_or_else(|| "no single spawn site".into());
        let (location, root_cause) = match self.scenario {
            Scenario::DetachedSpawn => (
                site,
                format!(
                    "tasks outlive their requests: {} alive tasks on {} at the leaky storm's peak (fixed: {}), most of them spawned at {at}",
                    l.peak,
                    self.host(),
                    f.peak
                ),
            ),
            // Orphans and a backlog outlive the switch to the fixed mode, so the fixed storm
            // starts where the leaky one ended: its change is what tells, not its peak.
            Scenario::OrphanedLoop => (
                site,
                format!(
                    "tasks that one exit path never stops: {:+} alive tasks on {} over the leaky storm ({} at its peak), {:+} over the fixed storm (the leaky storm's loops run on until a restart), most of them spawned at {at}",
                    l.left(),
                    self.host(),
                    l.peak,
                    f.left()
                ),
            ),
            Scenario::UnboundedQueue => (
                Some("channel payments_webhooks".into()),
                format!(
                    "a queue without a bound: payments' channel payments_webhooks grew from {} to {} events waiting in the leaky storm (peak {}), and drained from {} to {} in the fixed storm; memory climbs with it while the task count stays flat",
                    l.start, l.end, l.peak, f.start, f.end
                ),
            ),
            Scenario::HeldConnection => (
                Some("the ledger's connection pool".into()),
                format!(
                    "connections held across a slow call: {} waits over 0.5 s for one of the ledger's pooled connections in the leaky storm (peak {} callers waiting), {} in the fixed storm",
                    l.left(),
                    leaky.pool_pending_peak,
                    f.left()
                ),
            ),
            Scenario::BlockingPileup => (
                Some("risk's blocking pool".into()),
                format!(
                    "blocking work without a bound: {} blocking threads busy at the leaky storm's peak and {} jobs queued for one; {} busy at most in the fixed storm",
                    l.peak, leaky.blocking_queued_peak, f.peak
                ),
            ),
        };
        SignalReport {
            metric: self.metric(),
            service: self.host().to_owned(),
            leaky: l,
            fixed: f,
            location,
            root_cause,
        }
    }
}

fn mib(bytes: i64) -> f64 {
    bytes as f64 / 1_048_576.0
}

#[cfg(test)]
mod tests;
