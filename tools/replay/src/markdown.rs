//! `report.md`: the before/after table per 10k requests, the phases, charts, slowest requests
//! with their traces, the verdict's thresholds, and how the run was configured.

use std::fmt::Write as _;

use super::{
    Report,
    format::{detection, moments_count, moments_mib, ms, per_10k_cell, signed_mb, thousands, yes},
    report::PhaseReport,
};

pub fn render(report: &Report) -> String {
    let mut md = String::new();
    let find = |name: &str| report.phases.iter().find(|p| p.name == name);
    let (Some(leaky), Some(fixed)) = (find("leaky_storm"), find("fixed_storm")) else {
        return "# leakstorm replay\n\nThe run did not reach both storms.\n".to_owned();
    };
    let _ = writeln!(md, "# leakstorm incident replay — {}\n", report.run_id);
    let _ = writeln!(
        md,
        "**Leak reproduced: {}. Fix verified: {}.**\n",
        yes(report.verdict.leak_reproduced),
        yes(report.verdict.fix_verified)
    );
    for reason in &report.verdict.reasons {
        let _ = writeln!(md, "- {reason}");
    }
    if !report.verdict.reasons.is_empty() {
        let _ = writeln!(md);
    }
    let host = report.scenarios.first().map_or("risk", |s| s.host.as_str());
    let first = report
        .scenarios
        .first()
        .map_or("detached-spawn", |s| s.scenario.as_str());
    let charts = super::scenarios_md::chart_dir(report, first);
    let m = &report.machine;
    let _ = writeln!(
        md,
        "Target: {} fleet · profile `{}` · {} cores, {:.1} GiB, {} build · started {} · wall time {:.0} s\n",
        report.target,
        report.profile,
        m.cores,
        m.memory_bytes as f64 / 1_073_741_824.0,
        m.build,
        report.started_at,
        report.wall_time_s
    );

    md.push_str(&super::scenarios_md::render(report));
    let _ = writeln!(md, "## `{first}`: before and after, per 10k requests\n");
    let _ = writeln!(
        md,
        "| per 10k requests | leaky (detached `tokio::spawn`) | fixed (owned `JoinSet` + deadline) | the JVM incident write-up, leaky vs fixed |"
    );
    let _ = writeln!(md, "|---|---:|---:|---|");
    let tasks = |p: &PhaseReport| {
        per_10k_cell(p.tasks_alive.left() as f64, p, |v| {
            format!("{} left alive", thousands(v.max(0.0)))
        })
    };
    let _ = writeln!(
        md,
        "| tasks left alive after the storm | {} | {} | 1,247 vs 12 coroutines |",
        tasks(leaky),
        tasks(fixed)
    );
    let heap =
        |p: &PhaseReport| per_10k_cell(p.heap_bytes.left() as f64, p, |v| signed_mb(v as i64));
    let _ = writeln!(
        md,
        "| live heap growth | {} | {} | +112 MB vs +4.2 MB |",
        heap(leaky),
        heap(fixed)
    );
    let _ = writeln!(
        md,
        "| p50 latency | {} | {} | – |",
        ms(leaky.p50_ms),
        ms(fixed.p50_ms)
    );
    let _ = writeln!(
        md,
        "| p95 latency | {} | {} | – |",
        ms(leaky.p95_ms),
        ms(fixed.p95_ms)
    );
    let _ = writeln!(
        md,
        "| p99 latency | {} | {} | 2,400 ms vs 420 ms |",
        ms(leaky.p99_ms),
        ms(fixed.p99_ms)
    );
    let _ = writeln!(
        md,
        "| fast-path p99 (never needed deep scoring) | {} | {} | – |",
        ms(leaky.fast_path_p99_ms),
        ms(fixed.fast_path_p99_ms)
    );
    let failed = |p: &PhaseReport| per_10k_cell(p.failed as f64, p, thousands);
    let _ = writeln!(
        md,
        "| failed requests | {} | {} | – |",
        failed(leaky),
        failed(fixed)
    );
    let spans = |p: &PhaseReport| per_10k_cell(p.outliving_spans as f64, p, thousands);
    let _ = writeln!(
        md,
        "| spans outliving their request | {} | {} | – |",
        spans(leaky),
        spans(fixed)
    );
    let found = |p: &PhaseReport| {
        format!(
            "{} of {}",
            thousands(p.traces_checked as f64),
            thousands(p.traces_sent as f64)
        )
    };
    let _ = writeln!(
        md,
        "| traces found / traced requests (the span check's evidence) | {} | {} | – |",
        found(leaky),
        found(fixed)
    );
    let _ = writeln!(
        md,
        "| time to detection (`runtime_alive_tasks` ≥ {}) | {} | {} | the alert (92 % memory) fired after 72 hours of leaking |",
        report.thresholds.alert_tasks,
        detection(leaky),
        detection(fixed)
    );
    let alert = report.thresholds.alert_tasks;
    let _ = writeln!(
        md,
        "| root cause named (one spawn site holds > {:.0} % of alive tasks, above the alert) | {} | {} | 14 hours without tooling vs 47 minutes with the coroutine debugger |\n",
        super::root_cause::MAJORITY * 100.0,
        super::root_cause::cell(leaky.root_cause.as_ref(), alert),
        super::root_cause::cell(fixed.root_cause.as_ref(), alert)
    );
    md.push_str(&super::root_cause_md::section(leaky, fixed));
    let _ = writeln!(
        md,
        "Measured in this run: {} requests in the leaky storm, {} in the fixed one, scaled to 10k. \
         The write-up's figures are its own (a JVM service), quoted for scale. Latencies are over all \
         requests of the phase; a request that timed out counts at its timeout.\n",
        thousands(leaky.requests as f64),
        thousands(fixed.requests as f64)
    );

    let _ = writeln!(md, "## Phases\n");
    let _ = writeln!(
        md,
        "| phase | mode | requests (deep, dropped) | failed | p50 | p95 | p99 | fast-path p99 | alive tasks start / peak / end | live heap MiB start / peak / end | RSS MiB start / peak / end | spans outliving request | detected after |"
    );
    let _ = writeln!(
        md,
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|---|---:|---|"
    );
    for p in &report.phases {
        let _ = writeln!(
            md,
            "| {} | {} | {} ({}, {}) | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            p.name,
            p.mode,
            thousands(p.requests as f64),
            thousands(p.deep_requests as f64),
            thousands(p.dropped_iterations as f64),
            thousands(p.failed as f64),
            ms(p.p50_ms),
            ms(p.p95_ms),
            ms(p.p99_ms),
            ms(p.fast_path_p99_ms),
            moments_count(&p.tasks_alive),
            moments_mib(&p.heap_bytes),
            moments_mib(&p.rss_bytes),
            thousands(p.outliving_spans as f64),
            p.detected_after_s
                .map_or("–".to_owned(), |s| format!("{s:.0} s")),
        );
    }
    let _ = writeln!(
        md,
        "\nFigures for `{host}`, the service with the bug. `start` is sampled just before the phase's load, \
         `peak` is the highest once-a-second sample, `end` is two seconds after the last client \
         request finished: whatever is alive then has outlived its request.\n"
    );

    let _ = writeln!(md, "## Over time\n");
    let _ = writeln!(
        md,
        "![live heap of {host}]({charts}heap.svg)\n\n![alive tasks of {host}]({charts}tasks.svg)\n\n![p99 latency]({charts}p99.svg)\n"
    );

    if !report.slowest_requests.is_empty() {
        let _ = writeln!(md, "## Slowest requests and their traces\n");
        let _ = writeln!(md, "| phase | path | duration | trace |");
        let _ = writeln!(md, "|---|---|---:|---|");
        for r in &report.slowest_requests {
            let _ = writeln!(
                md,
                "| {} | {} | {} | [{}]({}) |",
                r.phase,
                r.path,
                ms(Some(r.duration_ms)),
                &r.trace_id[..16.min(r.trace_id.len())],
                r.trace_url
            );
        }
        let _ = writeln!(md);
    }

    let t = &report.thresholds;
    let _ = writeln!(md, "## How the verdict is reached\n");
    let _ = writeln!(
        md,
        "- Leak reproduced when the leaky storm sent deep-scoring requests, left at least {} more alive tasks and {} MiB more live heap at its end than at its start, and at least one span outlived its request.",
        t.leak_min_tasks_left,
        t.leak_min_heap_left_bytes >> 20
    );
    let _ = writeln!(
        md,
        "- Fix verified when the fixed storm left at most {} more alive tasks and {} MiB more live heap, no span outlived its request among the traces of at least {:.0} % of its traced requests (fewer found: the trace check could not be made, and the fix is not called verified), and its p99 is at most {:.0} % of the leaky p99.\n",
        t.fix_max_tasks_left,
        t.fix_max_heap_left_bytes >> 20,
        t.min_trace_coverage * 100.0,
        t.fix_max_p99_ratio * 100.0
    );

    let c = &report.config;
    let _ = writeln!(md, "## Configuration\n");
    let _ = writeln!(md, "| knob | value |\n|---|---|");
    let rows = [
        (
            "load",
            format!(
                "{} req/s for {} s per storm, {:.0} % needing deep scoring (amount {}), warm-up {} s at {} req/s",
                c.rate,
                c.storm_s,
                c.deep_share * 100.0,
                c.deep_amount,
                c.warmup_s,
                c.warmup_rate
            ),
        ),
        (
            "recovery",
            format!(
                "{} s after the leaky storm, {} s after the fixed one",
                c.leaky_recovery_s, c.fixed_recovery_s
            ),
        ),
        ("client timeout (k6)", format!("{} s", c.client_timeout_s)),
        (
            "gateway deadline",
            c.gateway_timeout_ms
                .map_or("as the fleet is configured".to_owned(), |v| {
                    format!("{v} ms")
                }),
        ),
        (
            "slow dependency",
            c.slow_dependency_ms
                .map_or("as the fleet is configured".to_owned(), |v| {
                    format!("{v} ms")
                }),
        ),
        (
            "deep-scoring shards × buffer",
            match (c.shards, c.shard_buffer_bytes) {
                (Some(s), Some(b)) => format!("{s} × {} MiB", b >> 20),
                _ => "as the fleet is configured".to_owned(),
            },
        ),
        (
            "fixed mode's deep-scoring budget",
            c.deep_budget_ms
                .map_or("as the fleet is configured".to_owned(), |v| {
                    format!("{v} ms")
                }),
        ),
    ];
    for (knob, value) in rows {
        let _ = writeln!(md, "| {knob} | {value} |");
    }
    let _ = writeln!(md, "\nReproduce: `{}`", c.command);
    md
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(1247.0), "1,247");
        assert_eq!(thousands(12.4), "12");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
        assert_eq!(thousands(-4200.0), "-4,200");
        assert_eq!(thousands(0.0), "0");
    }
}
