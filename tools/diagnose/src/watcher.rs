//! A diagnoser that keeps looking: each step observes the services once more (every 2 s is the
//! rules' resolution) and answers from everything seen in the last two minutes. `diagnose`,
//! `diagnose --watch` and the drill's `--auto` player all use it.

use std::collections::HashMap;

use contract::scenario::Scenario;

use super::{Diagnosis, History, diagnose, rules::Ignore, source::Source};
use fleet::jaeger::JaegerClient;

/// Traces read per service for the evidence.
const TRACES: usize = 20;

pub struct Watcher {
    source: Source,
    history: History,
    ignore: Ignore,
    http: reqwest::Client,
    jaeger: Option<JaegerClient>,
    /// Trace evidence already fetched, per service (asked once per finding, not every step).
    trace_evidence: HashMap<String, Option<String>>,
}

impl Watcher {
    /// `jaeger`: where to look for spans that outlived their request (evidence for a detached
    /// spawn); `None` reads no traces.
    pub fn new(source: Source, ignore: Ignore, jaeger: Option<&str>) -> Self {
        Self {
            source,
            history: History::default(),
            ignore,
            http: reqwest::Client::new(),
            jaeger: jaeger.map(JaegerClient::new),
            trace_evidence: HashMap::new(),
        }
    }

    /// Observes once more and answers.
    pub async fn step(&mut self) -> anyhow::Result<Diagnosis> {
        for observation in self.source.observe(&self.http).await? {
            self.history.push(observation);
        }
        let mut diagnosis = diagnose(&self.history, &self.ignore);
        for finding in &mut diagnosis.findings {
            if finding.scenario != Scenario::DetachedSpawn {
                continue;
            }
            if let Some(line) = self.traces_of(&finding.service).await {
                finding.evidence.push(line);
            }
        }
        Ok(diagnosis)
    }

    async fn traces_of(&mut self, service: &str) -> Option<String> {
        if let Some(known) = self.trace_evidence.get(service) {
            return known.clone();
        }
        let jaeger = self.jaeger.as_ref()?;
        let line = outliving_evidence(jaeger, service).await;
        self.trace_evidence.insert(service.to_owned(), line.clone());
        line
    }
}

/// "N of the last M traces through `service` have spans of it that ended after their request",
/// from traces rooted at the service or, failing that, at the gateway (the edge).
async fn outliving_evidence(jaeger: &JaegerClient, service: &str) -> Option<String> {
    for root in [service, "gateway"] {
        let Ok(traces) = jaeger.traces(root, TRACES, None, None).await else {
            continue;
        };
        let through: Vec<_> = traces
            .iter()
            .filter(|t| t.spans.iter().any(|s| t.service_of(s) == service))
            .collect();
        if through.is_empty() {
            continue;
        }
        let outliving = through
            .iter()
            .filter(|t| {
                t.outliving_spans()
                    .iter()
                    .any(|s| t.service_of(s) == service)
            })
            .count();
        return Some(format!(
            "{outliving} of the last {} complete traces through {service} have spans of it that ended after their request (trace API)",
            through.len()
        ));
    }
    None
}
