//! Writing a replay's outputs: `report.json`, `report.md`, `samples.csv`, and per scenario the
//! SVG charts of its host's live heap, alive tasks and signal, and of p99 at the gateway, with
//! the phases marked. One scenario: the charts sit beside the report; several: one folder each.

use std::path::Path;

use anyhow::Context as _;

use super::{
    Report, charts, markdown, phases::PhaseRun, sampler::Sample, scenario::ScenarioSpec, stats,
};

pub fn write(
    report: &Report,
    replayed: &[(ScenarioSpec, Vec<PhaseRun>)],
    samples: &[Sample],
    epoch_ms_at_start: u64,
    dir: &Path,
) -> anyhow::Result<()> {
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(report)?,
    )
    .context("writing report.json")?;
    std::fs::write(dir.join("report.md"), markdown::render(report)).context("writing report.md")?;
    let samples_csv: String = std::iter::once(
        "t_s,service,alive_tasks,heap_bytes,rss_bytes,db_used,queued_messages,pool_pending,blocking_busy\n"
            .to_owned(),
    )
    .chain(samples.iter().map(|s| {
        format!(
            "{:.3},{},{},{},{},{},{},{},{}\n",
            s.t,
            s.service,
            s.alive_tasks,
            s.heap_bytes,
            s.rss_bytes,
            s.db_used,
            s.queued_messages,
            s.pool_pending,
            s.blocking_busy
        )
    }))
    .collect();
    std::fs::write(dir.join("samples.csv"), samples_csv).context("writing samples.csv")?;

    for ((spec, runs), scenario) in replayed.iter().zip(&report.scenarios) {
        let folder = if replayed.len() > 1 {
            dir.join(spec.scenario.as_str())
        } else {
            dir.to_path_buf()
        };
        std::fs::create_dir_all(&folder)?;
        charts_for(
            spec,
            runs,
            &scenario.phases,
            samples,
            epoch_ms_at_start,
            &folder,
        )?;
    }
    Ok(())
}

fn charts_for(
    spec: &ScenarioSpec,
    runs: &[PhaseRun],
    phases: &[super::report::PhaseReport],
    samples: &[Sample],
    epoch_ms_at_start: u64,
    folder: &Path,
) -> anyhow::Result<()> {
    let bands: Vec<charts::Band<'_>> = phases
        .iter()
        .map(|p| charts::Band {
            name: &p.name,
            start: p.start_s,
            end: p.end_s,
            leaky: p.mode == "leaky",
        })
        .collect();
    let (first, last) = (
        phases.first().map_or(0.0, |p| p.start_s),
        phases.last().map_or(f64::MAX, |p| p.end_s),
    );
    let target = spec.host();
    let series = |value: &dyn Fn(&Sample) -> f64| -> Vec<(f64, f64)> {
        samples
            .iter()
            .filter(|s| s.service == target && s.t >= first && s.t <= last)
            .map(|s| (s.t, value(s)))
            .collect()
    };
    let heap = series(&|s| s.heap_bytes / 1_048_576.0);
    let tasks = series(&|s| s.alive_tasks);
    let signal = series(&|s| spec.signal(s));
    let latencies: Vec<(f64, f64)> = runs
        .iter()
        .flat_map(|r| r.k6.requests.iter())
        .map(|r| {
            (
                (r.at_ms.saturating_sub(epoch_ms_at_start)) as f64 / 1000.0,
                r.duration_ms,
            )
        })
        .collect();
    let p99 = stats::rolling_p99(&latencies, 5.0);
    for (file, title, y_label, points) in [
        (
            "heap.svg",
            format!("{target}: live heap (jemalloc allocated)"),
            "MiB",
            &heap,
        ),
        (
            "tasks.svg",
            format!("{target}: tokio tasks alive (runtime_alive_tasks)"),
            "tasks",
            &tasks,
        ),
        (
            "signal.svg",
            format!("{}: {} on {target}", spec.scenario, spec.metric()),
            "value",
            &signal,
        ),
        (
            "p99.svg",
            "p99 latency of payments at the gateway (5 s window)".to_owned(),
            "ms",
            &p99,
        ),
    ] {
        charts::render(
            &charts::Chart {
                title: &title,
                y_label,
                points,
                bands: &bands,
            },
            &folder.join(file),
        )?;
    }
    Ok(())
}
