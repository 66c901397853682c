//! The benchmark's markdown table.

use std::{collections::BTreeSet, fmt::Write as _};

use super::BenchReport;

pub fn render(report: &BenchReport) -> String {
    let mut md = String::new();
    let m = &report.machine;
    let _ = writeln!(
        md,
        "Cost of looking ({}; {} cores, {:.0} GiB, Linux {}, {} build; k6 on the same cores; \
         {} s per point; a shared machine, so read differences of a few percent as noise).\n",
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
    for r in &report.results {
        let _ = write!(
            md,
            "| {} | {:.0} | {:.1} ms | {:.1} ms | {:.2} |",
            r.setup,
            r.saturation_payments_per_s,
            r.fixed_rate.p50_ms,
            r.fixed_rate.p99_ms,
            r.cpu_ms_per_payment_total
        );
        for g in &groups {
            let v = r.cpu_ms_per_payment.get(*g).copied().unwrap_or(0.0);
            let _ = write!(md, " {v:.2} |");
        }
        md.push('\n');
    }
    md
}
