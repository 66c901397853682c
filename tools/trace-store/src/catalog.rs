//! Services and operations seen, as Jaeger lists them: every service that sent a span (not only
//! those owning a root span), and each service's span names with their kinds. Kept apart from
//! the traces, as Jaeger does, so a service stays listed after its traces were evicted.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{SpanKind, StoredSpan};

/// Span names per service beyond which new ones are not listed (a guard against names built
/// from ids; the spans themselves are still stored and searchable by service).
const MAX_OPERATIONS_PER_SERVICE: usize = 2_000;
const MAX_SERVICES: usize = 1_000;

#[derive(Debug, Default)]
pub struct Catalog {
    services: BTreeMap<String, BTreeSet<(String, Option<&'static str>)>>,
}

impl Catalog {
    pub fn record(&mut self, span: &StoredSpan) {
        let service = span.process.service.as_str();
        if !self.services.contains_key(service) {
            if self.services.len() >= MAX_SERVICES {
                return;
            }
            self.services.insert(service.to_owned(), BTreeSet::new());
        }
        let Some(operations) = self.services.get_mut(service) else {
            return;
        };
        let kind = kind_name(span.kind);
        if operations.len() < MAX_OPERATIONS_PER_SERVICE
            && !operations.contains(&(span.name.clone(), kind))
        {
            operations.insert((span.name.clone(), kind));
        }
    }

    pub fn services(&self) -> impl Iterator<Item = &str> {
        self.services.keys().map(String::as_str)
    }

    /// (operation, span kind) pairs of `service`, optionally of one kind only.
    pub fn operations<'a>(
        &'a self,
        service: &str,
        kind: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.services
            .get(service)
            .into_iter()
            .flatten()
            .map(|(name, kind)| (name.as_str(), kind.unwrap_or("")))
            .filter(move |(_, k)| kind.is_none_or(|wanted| wanted.is_empty() || *k == wanted))
    }
}

/// Jaeger's names for span kinds in `/api/operations` (internal spans are "internal").
fn kind_name(kind: SpanKind) -> Option<&'static str> {
    match kind {
        SpanKind::Unspecified => None,
        SpanKind::Internal => Some("internal"),
        other => other.jaeger_tag(),
    }
}
