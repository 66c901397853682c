//! How the report writes its figures: thousands separators, milliseconds, MiB, signed MB,
//! start / peak / end triples, per-10k cells.

use super::{
    report::{Moments, PhaseReport},
    stats::per_10k,
};

pub(super) fn thousands(n: f64) -> String {
    let rounded = n.round() as i64;
    let digits = rounded.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if rounded < 0 { format!("-{out}") } else { out }
}

pub(super) fn ms(value: Option<f64>) -> String {
    value.map_or("–".to_owned(), |v| format!("{} ms", thousands(v)))
}

pub(super) fn mib(bytes: u64) -> String {
    format!("{:.0}", bytes as f64 / 1_048_576.0)
}

pub(super) fn signed_mb(bytes: i64) -> String {
    let mb = bytes as f64 / 1_000_000.0;
    if mb.abs() >= 100.0 {
        format!("{}{} MB", if mb >= 0.0 { "+" } else { "" }, thousands(mb))
    } else {
        format!("{mb:+.1} MB")
    }
}

pub(super) fn moments_count(m: &Moments) -> String {
    format!(
        "{} / {} / {}",
        thousands(m.start as f64),
        thousands(m.peak as f64),
        thousands(m.end as f64)
    )
}

pub(super) fn moments_mib(m: &Moments) -> String {
    format!("{} / {} / {}", mib(m.start), mib(m.peak), mib(m.end))
}

pub(super) fn yes(ok: bool) -> &'static str {
    if ok { "yes" } else { "NO" }
}

pub(super) fn detection(phase: &PhaseReport) -> String {
    phase
        .detected_after_s
        .map_or("alert not triggered".to_owned(), |s| {
            format!("{s:.0} s after the storm began")
        })
}

pub(super) fn per_10k_cell(
    amount: f64,
    phase: &PhaseReport,
    unit: impl Fn(f64) -> String,
) -> String {
    per_10k(amount, phase.requests).map_or("–".to_owned(), unit)
}
