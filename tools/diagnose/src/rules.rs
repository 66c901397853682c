//! The five rules, one per kind of leak, as an SRE would write them against the signals alone.
//! Each mirrors a rule of `prometheus/alerts.yml` (same thresholds, same windows), so that
//! `diagnose` and the real Prometheus agree; the module documentation of [`super`] says them in
//! words.

use contract::scenario::Scenario;

use super::{Finding, observation::Site, window::Window};

/// Older than any request may last: the gateway's 10 s deadline plus margin.
pub const REQUEST_LIMIT_S: f64 = 15.0;
/// Tasks outliving their requests on one service before it is a leak, not a slow moment.
pub const DETACHED_MIN_TASKS: f64 = 100.0;
/// Tasks at one site that outlive their siblings before they are called orphans.
pub const ORPHAN_MIN_TASKS: f64 = 20.0;
/// How many times the site's median lifetime an orphan has lived at least.
pub const ORPHAN_LIFETIME_FACTOR: f64 = 10.0;
/// The most of a site's ended tasks that may have lived past [`REQUEST_LIMIT_S`] for its old
/// ones to be orphans: where more did, long work ends there, and the old tasks are more of it.
pub const ORPHAN_LONG_SIBLINGS_MAX: f64 = 0.05;
/// A queue that needs longer than this to drain at its consumer's pace, and grows.
pub const QUEUE_DRAIN_S: f64 = 60.0;
/// Callers waiting for a pooled connection, and how long connections are held (p99).
pub const POOL_MIN_PENDING: f64 = 2.0;
pub const POOL_HOLD_S: f64 = 0.5;
/// Above this many tasks of its own alive, a service's pool starves because of its tasks.
pub const POOL_OWN_TASKS_MAX: f64 = 50.0;

/// Spawn sites whose tasks live as long as a connection or a pool (globs, `*` any text).
pub struct Ignore(Vec<String>);

impl Ignore {
    /// The fleet's infrastructure sites (`contract::tasks::INFRASTRUCTURE_SITES`, which the alert
    /// rules and the test guards leave out too), plus `extra`.
    pub fn infrastructure(extra: &[String]) -> Self {
        let mut globs: Vec<String> = contract::tasks::INFRASTRUCTURE_SITES
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        globs.extend(extra.iter().cloned());
        Self(globs)
    }

    pub fn ignores(&self, site: &str) -> bool {
        self.0.iter().any(|glob| glob_match(glob, site))
    }
}

fn glob_match(glob: &str, text: &str) -> bool {
    let parts: Vec<&str> = glob.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return glob == text;
    }
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Every finding the signals of one service support at the window's last moment.
pub fn evaluate(w: &Window<'_>, ignore: &Ignore) -> Vec<Finding> {
    let service = w.now().service.as_str();
    let app: Vec<(&String, &Site)> = w
        .now()
        .sites
        .iter()
        .filter(|(site, _)| !ignore.ignores(site))
        .collect();
    let mut findings = Vec::new();
    let mut orphan_sites = Vec::new();
    for (site, s) in &app {
        if let Some(finding) = orphaned(w, service, site, s) {
            orphan_sites.push(site.as_str());
            findings.push(finding);
        }
    }
    let app_alive: f64 = app.iter().map(|(_, s)| s.alive).sum();
    let outliving: Vec<(&String, &Site)> = app
        .iter()
        .filter(|(site, s)| {
            s.oldest_s > REQUEST_LIMIT_S
                && w.spawn_rate(site).is_some_and(|r| r > 0.0)
                && !orphan_sites.contains(&site.as_str())
        })
        .copied()
        .collect();
    findings.extend(detached(w, service, &outliving));
    findings.extend(held_connection(w, service, app_alive));
    findings.extend(unbounded_queues(w, service));
    findings.extend(blocking_pileup(w, service));
    findings
}

/// orphaned-loop: tasks alive far longer than the tasks of their own site usually live.
fn orphaned(w: &Window<'_>, service: &str, site: &str, s: &Site) -> Option<Finding> {
    if s.alive <= ORPHAN_MIN_TASKS || s.oldest_s <= REQUEST_LIMIT_S {
        return None;
    }
    // Where nothing at the site ended there are no siblings to outlive; where some of those
    // that ended had lived long too (detached shards: some fail fast on a full pool, the rest
    // end after their slow call), the old ones are long work. Both are work outliving its
    // requests, which `detached` judges.
    let lifetimes = w.lifetimes(site);
    let median = lifetimes.quantile(0.5)?;
    let long_siblings = lifetimes.share_above(REQUEST_LIMIT_S)?;
    if s.oldest_s <= ORPHAN_LIFETIME_FACTOR * median || long_siblings > ORPHAN_LONG_SIBLINGS_MAX {
        return None;
    }
    let mut evidence = vec![
        format!(
            "{:.0} tasks alive at {site}, the oldest {:.0} s old (older than any request may last, {REQUEST_LIMIT_S:.0} s)",
            s.alive, s.oldest_s
        ),
        format!(
            "{:.0} of their siblings ended, typically within {median:.1} s (median): these outlive them {:.0}× over — an exit path that never stops them",
            lifetimes.count(),
            s.oldest_s / median.max(0.001)
        ),
    ];
    if let Some(rate) = w.spawn_rate(site) {
        evidence.push(format!("spawned there: {rate:.1} tasks/s"));
    }
    Some(Finding::new(
        Scenario::OrphanedLoop,
        service,
        Some(site.to_owned()),
        evidence,
    ))
}

/// detached-spawn: work outliving its request, still being spawned, every task of its site
/// long-lived alike (none stands out from its siblings).
fn detached(w: &Window<'_>, service: &str, outliving: &[(&String, &Site)]) -> Option<Finding> {
    let total: f64 = outliving.iter().map(|(_, s)| s.alive).sum();
    if total <= DETACHED_MIN_TASKS {
        return None;
    }
    let (site, top) = outliving
        .iter()
        .max_by(|a, b| a.1.alive.total_cmp(&b.1.alive))?;
    let mut evidence = vec![
        format!(
            "{total:.0} tasks alive at spawn sites whose oldest task is older than any request may last ({REQUEST_LIMIT_S:.0} s)"
        ),
        format!(
            "{:.0} of them spawned at {site}, the oldest {:.0} s old, {:.1} more spawned each second",
            top.alive,
            top.oldest_s,
            w.spawn_rate(site).unwrap_or(0.0)
        ),
    ];
    let lifetimes = w.lifetimes(site);
    evidence.push(match lifetimes.quantile(0.5) {
        Some(median) => format!(
            "those that ended lived {median:.1} s (median): the work itself outlives its request, not a few stragglers"
        ),
        None => "none of them has ended yet".to_owned(),
    });
    if let Some(heap) = w.now().heap_bytes {
        evidence.push(format!("live heap {:.0} MiB", heap / 1_048_576.0));
    }
    Some(Finding::new(
        Scenario::DetachedSpawn,
        service,
        Some((*site).clone()),
        evidence,
    ))
}

/// held-connection: callers wait for pooled connections that are held for long, and no pile-up
/// of the service's own tasks explains it.
fn held_connection(w: &Window<'_>, service: &str, app_alive: f64) -> Option<Finding> {
    let pending = w.pool_pending_max()?;
    let hold = w.pool_hold_p99()?;
    if pending <= POOL_MIN_PENDING || hold <= POOL_HOLD_S || app_alive > POOL_OWN_TASKS_MAX {
        return None;
    }
    Some(Finding::new(
        Scenario::HeldConnection,
        service,
        Some(format!("{service}'s connection pool")),
        vec![
            format!("up to {pending:.0} callers waiting for a pooled connection in the last 30 s"),
            format!(
                "connections held {hold:.2} s (p99 over the last minute): kept across a slow await"
            ),
            format!("{app_alive:.0} tasks of its own alive: no task pile-up holds the connections"),
        ],
    ))
}

/// unbounded-queue: a queue that would take over a minute to drain at its consumer's pace,
/// and still grows.
fn unbounded_queues(w: &Window<'_>, service: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, channel) in &w.now().channels {
        let (Some(pace), Some(growth)) = (w.consumer_rate(name), w.queue_growth(name)) else {
            continue;
        };
        let drain_s = channel.queued / pace;
        if !(drain_s > QUEUE_DRAIN_S && growth > 0.0) {
            continue;
        }
        let bound = match channel.capacity {
            Some(c) if c.is_infinite() => "unbounded (capacity +Inf)".to_owned(),
            Some(c) => format!("capacity {c:.0}"),
            None => "capacity not exported".to_owned(),
        };
        findings.push(Finding::new(
            Scenario::UnboundedQueue,
            service,
            Some(format!("channel {name}")),
            vec![
                format!(
                    "{:.0} messages queued in {name}: {drain_s:.0} s to drain at the consumer's {pace:.1}/s",
                    channel.queued
                ),
                format!("growing by {growth:.1} messages/s over the last 30 s"),
                format!("the channel is {bound}"),
            ],
        ));
    }
    findings
}

/// blocking-pileup: blocking jobs waiting for a thread: every blocking thread is busy.
fn blocking_pileup(w: &Window<'_>, service: &str) -> Option<Finding> {
    let queued = w.now().blocking_queue?;
    (queued > 0.0).then(|| {
        Finding::new(
            Scenario::BlockingPileup,
            service,
            Some(format!("{service}'s blocking pool")),
            vec![format!(
                "{queued:.0} spawn_blocking jobs waiting for a thread: every thread of the blocking pool is busy"
            )],
        )
    })
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs_match_spawn_sites() {
        assert!(glob_match(
            "hyper-util-*/src/rt/tokio.rs:*",
            "hyper-util-0.1.17/src/rt/tokio.rs:127"
        ));
        assert!(glob_match(
            "crates/kit/src/server.rs:*",
            "crates/kit/src/server.rs:112"
        ));
        assert!(!glob_match(
            "crates/kit/src/server.rs:*",
            "services/payments/src/lease.rs:95"
        ));
        assert!(glob_match("a", "a") && !glob_match("a", "ab"));
    }
}
