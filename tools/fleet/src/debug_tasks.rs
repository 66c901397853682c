//! Reading a service's `GET /debug/tasks` and printing it for a person, like Go's goroutine
//! profile: `3,112 tasks · services/risk/src/deep_scoring.rs:109 · oldest 29.4 s`. No task
//! dump is asked for: the fleet's actix-web workers are current-thread runtimes, which
//! `/debug/tasks` declines to dump (taskleak's README says why); the test guard shows where a
//! leaked task is parked.

use std::{fmt::Write as _, time::Duration};

use anyhow::Context as _;
use taskleak::report::TasksReport;

/// Fetches `<base>/debug/tasks` (counts and ages by spawn site).
pub async fn fetch(base: &str, admin_token: &str) -> anyhow::Result<TasksReport> {
    let url = format!("{}/debug/tasks", base.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .get(&url)
        .bearer_auth(admin_token)
        .timeout(Duration::from_secs(5))
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

/// The report as text: a header line, then one line per site.
pub fn render(service: &str, report: &TasksReport) -> String {
    let mut out = String::new();
    let by_site = report
        .accounted_tasks
        .map_or_else(|| "none".to_owned(), thousands);
    let _ = writeln!(
        out,
        "{service}: {} tasks alive ({by_site} by spawn site, accounting {})",
        thousands(report.runtime_alive_tasks),
        report.accounting
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
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_counts_for_people() {
        assert_eq!(thousands(3112), "3,112");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
