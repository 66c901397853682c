//! The Jaeger HTTP API (served by Jaeger v2 and by the embedded trace store), and the trace
//! analysis the replay and the tests share: which spans outlived their request.

use std::collections::HashMap;

use anyhow::Context as _;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct TracesResponse {
    pub data: Vec<Trace>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trace {
    #[serde(rename = "traceID")]
    pub trace_id: String,
    pub spans: Vec<Span>,
    #[serde(default)]
    pub processes: HashMap<String, Process>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Process {
    pub service_name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Span {
    #[serde(rename = "spanID")]
    pub span_id: String,
    pub operation_name: String,
    #[serde(default)]
    pub references: Option<Vec<Reference>>,
    /// Microseconds since the epoch.
    pub start_time: u64,
    /// Microseconds.
    pub duration: u64,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(rename = "processID")]
    pub process_id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    pub ref_type: String,
    #[serde(rename = "spanID")]
    pub span_id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: serde_json::Value,
}

impl Span {
    pub fn end_time(&self) -> u64 {
        self.start_time + self.duration
    }

    pub fn parent_id(&self) -> Option<&str> {
        self.references
            .as_deref()?
            .iter()
            .find(|r| r.ref_type == "CHILD_OF")
            .map(|r| r.span_id.as_str())
    }

    pub fn tag(&self, key: &str) -> Option<&serde_json::Value> {
        self.tags.iter().find(|t| t.key == key).map(|t| &t.value)
    }

    pub fn tag_str(&self, key: &str) -> Option<&str> {
        self.tag(key).and_then(|v| v.as_str())
    }
}

impl Trace {
    /// The span with no parent: the request as the first service saw it.
    pub fn root(&self) -> Option<&Span> {
        self.spans.iter().find(|s| s.parent_id().is_none())
    }

    pub fn service_of(&self, span: &Span) -> &str {
        self.processes
            .get(&span.process_id)
            .map(|p| p.service_name.as_str())
            .unwrap_or("unknown")
    }

    pub fn span(&self, id: &str) -> Option<&Span> {
        self.spans.iter().find(|s| s.span_id == id)
    }

    /// Spans that ended after the root span did: work nobody was waiting for any more.
    pub fn outliving_spans(&self) -> Vec<&Span> {
        let Some(root) = self.root() else {
            return Vec::new();
        };
        self.spans
            .iter()
            .filter(|s| s.end_time() > root.end_time())
            .collect()
    }
}

/// A client for `/api/traces` on Jaeger or the embedded store.
#[derive(Clone)]
pub struct JaegerClient {
    base: String,
    http: reqwest::Client,
}

impl JaegerClient {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// Complete traces whose root is in `service`, most recent first. `start_us`/`end_us` bound
    /// them where the backend supports it (Jaeger); callers still filter by time themselves.
    pub async fn traces(
        &self,
        service: &str,
        limit: usize,
        start_us: Option<u64>,
        end_us: Option<u64>,
    ) -> anyhow::Result<Vec<Trace>> {
        let mut query = vec![
            ("service", service.to_owned()),
            ("limit", limit.to_string()),
        ];
        if let Some(start) = start_us {
            query.push(("start", start.to_string()));
        }
        if let Some(end) = end_us {
            query.push(("end", end.to_string()));
        }
        let response: TracesResponse = self
            .http
            .get(format!("{}/api/traces", self.base))
            .query(&query)
            .send()
            .await
            .context("asking the trace API for traces")?
            .error_for_status()
            .context("the trace API refused the query")?
            .json()
            .await
            .context("decoding the trace API's answer")?;
        Ok(response.data)
    }

    /// The trace as the API returned it (for recording and raw scans).
    pub async fn trace_json(&self, trace_id: &str) -> anyhow::Result<String> {
        self.http
            .get(format!("{}/api/traces/{trace_id}", self.base))
            .send()
            .await
            .context("asking the trace API for a trace")?
            .text()
            .await
            .context("reading the trace")
    }

    pub async fn trace(&self, trace_id: &str) -> anyhow::Result<Option<Trace>> {
        let response = self
            .http
            .get(format!("{}/api/traces/{trace_id}", self.base))
            .send()
            .await
            .context("asking the trace API for a trace")?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body: TracesResponse = response
            .error_for_status()
            .context("the trace API refused the query")?
            .json()
            .await
            .context("decoding the trace")?;
        Ok(body.data.into_iter().next())
    }
}

#[cfg(test)]
mod tests {
    use super::TracesResponse;

    /// Recorded from the embedded store during a leaky storm (trimmed): the gateway gave up at
    /// 1 s, a deep-scoring shard ran on to 3 s.
    const LEAKY: &str = include_str!("../tests/data/leaky_trace.json");

    #[test]
    fn a_shard_that_ended_after_its_request_is_counted_as_outliving_it() {
        let traces: TracesResponse = serde_json::from_str(LEAKY).expect("recorded JSON parses");
        let trace = &traces.data[0];
        let root = trace.root().expect("root span");
        assert_eq!(trace.service_of(root), "gateway");
        let outliving = trace.outliving_spans();
        assert!(!outliving.is_empty());
        assert!(
            outliving
                .iter()
                .any(|s| s.operation_name == "deep_scoring shard")
        );
        assert!(outliving.iter().all(|s| s.end_time() > root.end_time()));
    }
}
