//! The rules on synthetic histories shaped like the native fleet's storms (one look every 2 s,
//! the storm from t = 0): each leak is named with its service and place, and only it — the
//! cross cases of `prometheus/alerts.test.yml` included; a storm with every leak fixed, and a
//! single odd look, name nothing.

use contract::scenario::Scenario;

use super::{
    Diagnosis, History, diagnose,
    observation::{Channel, Histogram, Observation, Site},
    rules::Ignore,
};

const LEASE: &str = "services/payments/src/lease.rs:95";
const SHARDS: &str = "services/risk/src/deep_scoring.rs:109";

fn histogram(buckets: &[(f64, f64)]) -> Histogram {
    Histogram {
        buckets: buckets.to_vec(),
    }
}

fn site(alive: f64, oldest_s: f64, spawned: f64, lifetimes: &[(f64, f64)]) -> Site {
    Site {
        alive,
        oldest_s,
        spawned,
        lifetimes: histogram(lifetimes),
    }
}

/// Looks at `service` every 2 s for `seconds`, each made by `at(t)`.
fn history(service: &str, seconds: u32, at: impl Fn(f64) -> Observation) -> History {
    let mut history = History::default();
    for step in 0..=seconds / 2 {
        let t = f64::from(step * 2);
        let mut o = at(t);
        o.t = 1_000.0 + t;
        o.service = service.to_owned();
        history.push(o);
    }
    history
}

fn named(d: &Diagnosis) -> Vec<(Scenario, &str, Option<&str>)> {
    d.findings
        .iter()
        .map(|f| (f.scenario, f.service.as_str(), f.site.as_deref()))
        .collect()
}

fn run(history: &History) -> Diagnosis {
    diagnose(history, &Ignore::infrastructure(&[]))
}

/// risk's shards: 16 a second, each 30 s, holding pooled connections for a second.
fn detached(t: f64) -> Observation {
    let ended = (t - 30.0).max(0.0) * 16.0;
    let mut o = Observation::default();
    o.sites.insert(
        SHARDS.into(),
        site(
            16.0 * t - ended,
            t.min(30.0),
            16.0 * t,
            &[(2.5, 0.0), (30.0, ended), (f64::INFINITY, ended)],
        ),
    );
    // The pool's reaper: infrastructure, however old.
    o.sites.insert(
        "sqlx-core-0.8.6/src/pool/inner.rs:533".into(),
        site(1.0, 600.0 + t, 1.0, &[]),
    );
    o.pool_pending = Some(8.0);
    o.pool_use = histogram(&[(0.5, 0.0), (2.5, 10.0 * t), (f64::INFINITY, 10.0 * t)]);
    o
}

#[test]
fn a_detached_spawn_is_named_at_its_spawn_line_and_its_starved_pool_is_not_blamed() {
    assert_eq!(
        run(&history("risk", 12, detached)).findings,
        vec![],
        "young work is in flight"
    );
    let d = run(&history("risk", 40, detached));
    assert_eq!(
        named(&d),
        vec![(Scenario::DetachedSpawn, "risk", Some(SHARDS))]
    );
    assert!(d.findings[0].since_s >= 15.0, "{:?}", d.findings[0]);
}

/// risk's shards in the full replay's long storm, started after a warm-up: 16 a second, the
/// pool full, so 6 a second fail within its 5 s acquire timeout; the rest end after their slow
/// call, ever slower (2 a second, 30 s to a minute). Most siblings end fast and the oldest is
/// ten times older — yet a fifth of those that end lived past any request: long work, not
/// orphans. (With the median alone this read as orphaned-loop from about +100 s.)
#[test]
fn detached_shards_some_failing_fast_on_a_full_pool_are_not_taken_for_orphans() {
    let storm = |t: f64| {
        let (failed, completed) = (6.0 * t, 2.0 * t);
        let mut o = Observation::default();
        o.sites.insert(
            SHARDS.into(),
            site(
                16.0 * t - failed - completed,
                20.0 + t,
                16.0 * t,
                &[
                    (5.0, failed),
                    (15.0, failed),
                    (60.0, failed + completed),
                    (f64::INFINITY, failed + completed),
                ],
            ),
        );
        o
    };
    let d = run(&history("risk", 150, storm));
    assert_eq!(
        named(&d),
        vec![(Scenario::DetachedSpawn, "risk", Some(SHARDS))]
    );
}

/// payments' leases: 20 a second; most loops end within a second or two, 4 a second never.
fn orphans(t: f64) -> Observation {
    let ended = 16.0 * t;
    let mut o = Observation::default();
    o.sites.insert(
        LEASE.into(),
        site(
            2.0 + 4.0 * t,
            1.0 + t,
            20.0 * t,
            &[(1.0, ended / 4.0), (2.5, ended), (f64::INFINITY, ended)],
        ),
    );
    o
}

#[test]
fn an_orphaned_loop_is_named_at_its_spawn_line_not_taken_for_detached_work() {
    let d = run(&history("payments", 30, orphans));
    assert_eq!(
        named(&d),
        vec![(Scenario::OrphanedLoop, "payments", Some(LEASE))]
    );
    assert!(
        d.findings[0].evidence.iter().any(|e| e.contains("median")),
        "{:?}",
        d.findings[0].evidence
    );
}

/// risk's shards in a long storm, on a dependency slowed by every call in flight until none of
/// them ends: the cross case of `prometheus/alerts.test.yml`. Nothing at the site ends, so no
/// sibling sets the old ones apart: detached work, never an orphan (however old it gets).
#[test]
fn a_site_where_nothing_ends_while_it_keeps_spawning_is_detached_work_not_orphans() {
    let stalled = |t: f64| {
        let mut o = Observation::default();
        o.sites.insert(
            SHARDS.into(),
            site(16.0 * t, t, 16.0 * t, &[(f64::INFINITY, 0.0)]),
        );
        o
    };
    let d = run(&history("risk", 300, stalled));
    assert_eq!(
        named(&d),
        vec![(Scenario::DetachedSpawn, "risk", Some(SHARDS))]
    );
}

#[test]
fn held_connections_are_named_on_the_ledger_not_on_a_merely_busy_pool() {
    let held = |t: f64| Observation {
        pool_pending: Some(8.0),
        pool_use: histogram(&[
            (0.5, 100.0),
            (2.5, 100.0 + 8.0 * t),
            (f64::INFINITY, 100.0 + 8.0 * t),
        ]),
        ..Observation::default()
    };
    let busy = |t: f64| Observation {
        pool_pending: Some(8.0),
        pool_use: histogram(&[(0.01, 60.0 * t), (f64::INFINITY, 60.0 * t)]),
        ..Observation::default()
    };
    let d = run(&history("ledger", 20, held));
    assert_eq!(
        named(&d),
        vec![(
            Scenario::HeldConnection,
            "ledger",
            Some("ledger's connection pool")
        )]
    );
    assert!(!run(&history("payments", 20, busy)).leak);
}

fn queue(queued: impl Fn(f64) -> f64, capacity: f64) -> impl Fn(f64) -> Observation {
    move |t| {
        let mut o = Observation::default();
        o.channels.insert(
            "payments_webhooks".into(),
            Channel {
                queued: queued(t),
                received: Some(5.0 * t),
                capacity: Some(capacity),
            },
        );
        o
    }
}

#[test]
fn a_growing_queue_is_named_a_full_bounded_or_a_draining_one_is_not() {
    let d = run(&history("payments", 30, queue(|t| 15.0 * t, f64::INFINITY)));
    assert_eq!(
        named(&d),
        vec![(
            Scenario::UnboundedQueue,
            "payments",
            Some("channel payments_webhooks")
        )]
    );
    assert!(
        !run(&history(
            "payments",
            60,
            queue(|t| (15.0 * t).min(256.0), 256.0)
        ))
        .leak
    );
    assert!(
        !run(&history(
            "payments",
            60,
            queue(|t| 2000.0 - 5.0 * t, f64::INFINITY)
        ))
        .leak
    );
}

#[test]
fn a_blocking_pool_with_jobs_waiting_is_named() {
    let piled = |t: f64| Observation {
        blocking_queue: Some((t - 16.0).max(0.0) * 4.0),
        ..Observation::default()
    };
    assert!(
        !run(&history("risk", 14, piled)).leak,
        "threads busy, none waiting yet"
    );
    assert_eq!(
        named(&run(&history("risk", 24, piled))),
        vec![(
            Scenario::BlockingPileup,
            "risk",
            Some("risk's blocking pool")
        )]
    );
}

#[test]
fn a_storm_with_every_leak_fixed_names_nothing() {
    let fixed = |t: f64| {
        let mut o = queue(|t| (15.0 * t).min(256.0), 256.0)(t);
        let n = 80.0 * t;
        o.sites.insert(
            "services/risk/src/deep_scoring.rs:135".into(),
            site(12.0, 0.3, n, &[(0.5, n - 12.0), (f64::INFINITY, n - 12.0)]),
        );
        o.sites.insert(
            LEASE.into(),
            site(
                22.0,
                2.0,
                20.0 * t,
                &[(2.5, 20.0 * t - 22.0), (f64::INFINITY, 20.0 * t - 22.0)],
            ),
        );
        o.pool_pending = Some(3.0);
        o.pool_use = histogram(&[(0.5, 60.0 * t), (f64::INFINITY, 60.0 * t)]);
        o.blocking_queue = Some(0.0);
        o
    };
    assert_eq!(run(&history("risk", 90, fixed)).findings, vec![]);
}

#[test]
fn one_odd_look_names_nothing() {
    let mut history = history("risk", 10, |_| Observation {
        blocking_queue: Some(0.0),
        ..Observation::default()
    });
    history.push(Observation {
        t: 1_012.0,
        service: "risk".into(),
        blocking_queue: Some(7.0),
        ..Observation::default()
    });
    assert!(
        !run(&history).leak,
        "a finding must hold at two looks in a row"
    );
}
