//! Reading a service's `GET /debug/tasks` and printing it for a person, like Go's goroutine
//! profile: `3,112 tasks · services/risk/src/deep_scoring.rs:107 · oldest 29.4 s · parked in …`.

use std::{fmt::Write as _, time::Duration};

use anyhow::Context as _;
use taskleak::report::TasksReport;

/// Fetches `<base>/debug/tasks`, with a task dump for sample stacks when `dump` is set.
pub async fn fetch(base: &str, admin_token: &str, dump: bool) -> anyhow::Result<TasksReport> {
    let url = format!("{}/debug/tasks", base.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .get(&url)
        .query(&[("dump", if dump { "1" } else { "0" })])
        .bearer_auth(admin_token)
        // A dump stops each runtime briefly; the service's own deadline is 5 s.
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    anyhow::ensure!(status.is_success(), "GET {url} answered {status}");
    response
        .json()
        .await
        .with_context(|| format!("reading {url}"))
}

/// `3112` → `3,112`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The report as text: a header line, then one line per site, each followed by its sample
/// stack (indented) when `stacks` is set.
pub fn render(service: &str, report: &TasksReport, stacks: bool) -> String {
    let mut out = String::new();
    let by_site = report
        .accounted_tasks
        .map_or_else(|| "none".to_owned(), thousands);
    let _ = writeln!(
        out,
        "{service}: {} tasks alive ({by_site} by spawn site, accounting {}, dump {})",
        thousands(report.runtime_alive_tasks),
        report.accounting,
        report.dump
    );
    if let Some(error) = &report.error {
        let _ = writeln!(out, "  {error}");
    }
    if report.sites.is_empty() {
        let _ = writeln!(out, "  no spawn site holds a task");
    }
    let width = report
        .sites
        .iter()
        .map(|s| thousands(s.tasks).len())
        .max()
        .unwrap_or(1);
    for site in &report.sites {
        let _ = write!(
            out,
            "  {:>width$} tasks · {} · oldest {:.1} s",
            thousands(site.tasks),
            site.site,
            site.oldest_age_seconds
        );
        if let Some(parked) = &site.parked_in {
            let _ = write!(out, " · parked in {}", short_function(parked));
        }
        out.push('\n');
        if stacks {
            for frame in &site.sample_stack {
                let _ = writeln!(out, "  {:width$}       {frame}", "");
            }
        }
    }
    out
}

/// `risk::deep_scoring::SlowDependency::call` → `SlowDependency::call`: the type and method are
/// what a person recognises; the full path is in the stack below.
pub fn short_function(path: &str) -> &str {
    let parts: Vec<&str> = path.rsplitn(3, "::").collect();
    match parts.as_slice() {
        [method, owner, _] if owner.starts_with(|c: char| c.is_ascii_uppercase()) => {
            let start = path.len() - method.len() - owner.len() - 2;
            &path[start..]
        }
        [function, ..] => function,
        [] => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_counts_and_function_names_for_people() {
        assert_eq!(thousands(3112), "3,112");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(
            short_function("risk::deep_scoring::SlowDependency::call"),
            "SlowDependency::call"
        );
        assert_eq!(short_function("risk::deep_scoring::run"), "run");
    }
}
