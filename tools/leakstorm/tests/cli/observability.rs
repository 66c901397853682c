//! What the Docker fleet's dashboards and alerts assume, checked against the real services:
//! every metric name they use is exported (empty dashboards after a rename are the top complaint
//! about demo fleets), and the container healthcheck command is one the binaries accept.

use std::collections::BTreeSet;

use crate::support::Fleet;
use leakstorm::promql::{base_name, metric_names};

/// Names that come from elsewhere: k6 (remote write during `make storm`) and the collector's
/// spanmetrics connector.
const EXTERNAL_PREFIXES: &[&str] = &["k6_", "traces_span_metrics_"];

fn repo_file(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The `expr:` values of a rules file, on one line or as a YAML block (`expr: >-` and the
/// lines indented below it).
fn rule_expressions(yaml: &str) -> Vec<String> {
    let lines: Vec<&str> = yaml.lines().collect();
    let mut exprs = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(value) = line.trim().strip_prefix("expr:") else {
            continue;
        };
        let value = value.trim();
        if !value.starts_with('>') && !value.starts_with('|') {
            exprs.push(value.to_owned());
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let block: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
            .map(|l| l.trim())
            .collect();
        exprs.push(block.join(" ").trim().to_owned());
    }
    exprs
}

/// Every PromQL expression in the alert rules and the Grafana dashboards.
fn expressions() -> Vec<(String, String)> {
    let mut exprs: Vec<(String, String)> = rule_expressions(&repo_file("prometheus/alerts.yml"))
        .into_iter()
        .map(|e| ("prometheus/alerts.yml".to_owned(), e))
        .collect();
    let dashboard: serde_json::Value =
        serde_json::from_str(&repo_file("grafana/provisioning/dashboards/incident.json"))
            .expect("dashboard JSON");
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = target["expr"].as_str() {
                exprs.push((
                    format!("incident.json: {}", panel["title"]),
                    expr.to_owned(),
                ));
            }
        }
    }
    exprs
}

#[tokio::test]
async fn every_metric_the_dashboards_and_alerts_use_is_exported_by_the_services() {
    let fleet = Fleet::start(vec![("risk", "RISK_MODE", "fixed")]).await;
    // One payment of each kind, so that labelled series (HTTP, deep scoring) exist.
    assert_eq!(fleet.pay(1_000).await.0, 201);
    assert_eq!(fleet.pay(60_000).await.0, 201);
    let http = reqwest::Client::new();
    let mut exported = BTreeSet::new();
    for (_, url) in fleet.fleet().service_urls() {
        for _ in 0..2 {
            let scraped =
                contract::prom_text::scrape(&http, &url, std::time::Duration::from_secs(5))
                    .await
                    .expect("scrape");
            for series in scraped {
                exported.insert(base_name(&series.name).to_owned());
                exported.insert(series.name);
            }
        }
    }
    // Names the rules record are the rules' own, not the services'.
    exported.extend(
        repo_file("prometheus/alerts.yml")
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- record:"))
            .map(|name| name.trim().to_owned()),
    );
    let exprs = expressions();
    assert!(
        exprs.len() >= 10,
        "found the dashboards' and alerts' expressions"
    );
    let missing = unexported(&exprs, &exported);
    assert!(
        missing.is_empty(),
        "used but not exported by any service:\n{}",
        missing.join("\n")
    );
    // The check bites: a typo planted in the list it walks is reported, by its source.
    let mut planted = exprs.clone();
    planted.push((
        "planted".to_owned(),
        "sum by (job) (rate(runtime_alive_task[1m]))".to_owned(),
    ));
    assert_eq!(
        unexported(&planted, &exported),
        ["planted: runtime_alive_task"],
        "a typo'd name is caught"
    );
    fleet.stop().await;
}

/// `source: name` for each metric an expression uses that no service exports.
fn unexported(exprs: &[(String, String)], exported: &BTreeSet<String>) -> Vec<String> {
    let mut missing = Vec::new();
    for (source, expr) in exprs {
        for name in metric_names(expr) {
            let external = EXTERNAL_PREFIXES.iter().any(|p| name.starts_with(p));
            if !external && !exported.contains(&name) {
                missing.push(format!("{source}: {name}"));
            }
        }
    }
    missing
}

#[test]
fn multi_line_rule_expressions_are_read_whole() {
    let yaml = "      - record: a\n        expr: up > 1\n      - alert: B\n        expr: >-\n          rate(x_total[1m])\n          and on (job) y\n        for: 10s\n";
    assert_eq!(
        rule_expressions(yaml),
        ["up > 1", "rate(x_total[1m]) and on (job) y"]
    );
}

#[tokio::test]
async fn the_container_healthcheck_command_is_one_the_service_binaries_accept() {
    let fleet = Fleet::start(vec![]).await;
    let bin_dir = fleet::default_bin_dir();
    for (name, url) in fleet.fleet().service_urls() {
        let port = url.rsplit(':').next().expect("port");
        let healthy = tokio::process::Command::new(bin_dir.join(name))
            .arg("healthcheck")
            .env("PORT", port)
            .output()
            .await
            .expect("runs");
        assert!(
            healthy.status.success(),
            "{name} healthcheck: {}",
            String::from_utf8_lossy(&healthy.stderr)
        );
    }
    // And it fails when nothing answers.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let unhealthy = tokio::process::Command::new(bin_dir.join("gateway"))
        .arg("healthcheck")
        .env("PORT", port.to_string())
        .output()
        .await
        .expect("runs");
    assert!(!unhealthy.status.success());
    fleet.stop().await;
}
