//! The benchmark's markdown table: one row per setup, each figure the median over the rounds.

use std::{collections::BTreeSet, fmt::Write as _};

use super::{BenchReport, SetupResult};

pub fn render(report: &BenchReport) -> String {
    let mut md = String::new();
    let m = &report.machine;
    let rounds = if report.rounds > 1 {
        format!("medians of {} interleaved rounds", report.rounds)
    } else {
        "one round".to_owned()
    };
    let _ = writeln!(
        md,
        "Cost of looking ({}; {} cores, {:.0} GiB, Linux {}, {} build; k6 on the same cores; \
         {} s per point, {rounds}; a shared machine, so read differences of a few percent as \
         noise).\n",
        report.started_at,
        m.cores,
        m.memory_bytes as f64 / (1u64 << 30) as f64,
        m.kernel,
        m.build,
        report.seconds
    );
    let groups: BTreeSet<&String> = report
        .results
        .iter()
        .flat_map(|r| r.cpu_ms_per_payment.keys())
        .collect();
    let _ = write!(
        md,
        "| setup | payments/s at saturation ({} VUs) | p50 at {}/s | p99 at {}/s | CPU ms/payment, all |",
        report.vus, report.rate, report.rate
    );
    for g in &groups {
        let _ = write!(md, " {g} |");
    }
    md.push('\n');
    md.push_str("|---|---:|---:|---:|---:|");
    for _ in &groups {
        md.push_str("---:|");
    }
    md.push('\n');
    for (setup, runs) in by_setup(&report.results) {
        let saturation = median(runs.iter().map(|r| r.saturation_payments_per_s));
        let spread = if runs.len() > 1 {
            let (lo, hi) = min_max(runs.iter().map(|r| r.saturation_payments_per_s));
            format!(" ({lo:.0}–{hi:.0})")
        } else {
            String::new()
        };
        let _ = write!(
            md,
            "| {setup} | {saturation:.0}{spread} | {:.1} ms | {:.1} ms | {:.2} |",
            median(runs.iter().map(|r| r.fixed_rate.p50_ms)),
            median(runs.iter().map(|r| r.fixed_rate.p99_ms)),
            median(runs.iter().map(|r| r.cpu_ms_per_payment_total)),
        );
        for g in &groups {
            let v = median(
                runs.iter()
                    .map(|r| r.cpu_ms_per_payment.get(*g).copied().unwrap_or(0.0)),
            );
            let _ = write!(md, " {v:.2} |");
        }
        md.push('\n');
    }
    md
}

/// The results grouped by setup, setups in the order they first ran.
fn by_setup(results: &[SetupResult]) -> Vec<(&str, Vec<&SetupResult>)> {
    let mut groups: Vec<(&str, Vec<&SetupResult>)> = Vec::new();
    for result in results {
        match groups.iter_mut().find(|(name, _)| *name == result.setup) {
            Some((_, runs)) => runs.push(result),
            None => groups.push((&result.setup, vec![result])),
        }
    }
    groups
}

/// The middle value (the mean of the two middle ones for an even count); 0 for none.
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

fn min_max(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), 2.0);
        assert_eq!(median([4.0, 1.0, 3.0, 2.0].into_iter()), 2.5);
        assert_eq!(median(std::iter::empty()), 0.0);
    }
}
