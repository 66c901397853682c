//! Jaeger's trace search (`GET /api/traces`): its query parameters, parsed, and the match rule —
//! a trace matches when one of its spans satisfies every condition given.

use std::collections::BTreeMap;

use super::{
    model::{StoredSpan, TraceId},
    store::StoredTrace,
};

/// Jaeger's default when the UI sends no limit.
const DEFAULT_LIMIT: usize = 20;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceQuery {
    pub service: Option<String>,
    pub operation: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub min_duration_us: Option<u64>,
    pub max_duration_us: Option<u64>,
    /// Span start times, microseconds since the epoch.
    pub start_us: Option<u64>,
    pub end_us: Option<u64>,
    pub limit: usize,
    /// `traceID=` parameters: fetch these, ignore the rest.
    pub trace_ids: Vec<TraceId>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct QueryError(String);

fn bad(message: impl Into<String>) -> QueryError {
    QueryError(message.into())
}

impl TraceQuery {
    /// Parses the query string as Jaeger's HTTP API does; empty values count as absent (the UI
    /// sends `minDuration=&maxDuration=`).
    pub fn parse(query: &str) -> Result<Self, QueryError> {
        let mut parsed = Self {
            limit: DEFAULT_LIMIT,
            ..Self::default()
        };
        let mut lookback_us = None;
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if value.is_empty() {
                continue;
            }
            match key.as_ref() {
                "service" => parsed.service = Some(value.into_owned()),
                "operation" => parsed.operation = Some(value.into_owned()),
                "tags" => parsed.tags.extend(parse_tags_json(&value)?),
                "tag" => {
                    let (k, v) = value
                        .split_once(':')
                        .ok_or_else(|| bad(format!("malformed tag '{value}': want key:value")))?;
                    parsed.tags.insert(k.to_owned(), v.to_owned());
                }
                "minDuration" => parsed.min_duration_us = Some(parse_duration_us(&value)?),
                "maxDuration" => parsed.max_duration_us = Some(parse_duration_us(&value)?),
                "start" => parsed.start_us = Some(parse_number(&key, &value)?),
                "end" => parsed.end_us = Some(parse_number(&key, &value)?),
                "limit" => {
                    parsed.limit = match parse_number(&key, &value)? {
                        0 => DEFAULT_LIMIT,
                        n => n as usize,
                    }
                }
                "lookback" if value != "custom" => lookback_us = Some(parse_duration_us(&value)?),
                "traceID" => parsed.trace_ids.push(
                    TraceId::parse_hex(&value)
                        .ok_or_else(|| bad(format!("malformed traceID '{value}'")))?,
                ),
                _ => {}
            }
        }
        if let (Some(lookback), None) = (lookback_us, parsed.start_us) {
            let end = parsed.end_us.unwrap_or_else(now_us);
            parsed.start_us = Some(end.saturating_sub(lookback));
        }
        if let (Some(min), Some(max)) = (parsed.min_duration_us, parsed.max_duration_us)
            && min > max
        {
            return Err(bad("minDuration is greater than maxDuration"));
        }
        if parsed.service.is_none() && parsed.trace_ids.is_empty() {
            return Err(bad("parameter 'service' is required"));
        }
        Ok(parsed)
    }

    pub fn matches(&self, trace: &StoredTrace) -> bool {
        trace.spans.iter().any(|span| self.matches_span(span))
    }

    fn matches_span(&self, span: &StoredSpan) -> bool {
        let duration_us = span.duration_ns() / 1_000;
        let start_us = span.start_ns / 1_000;
        self.service
            .as_ref()
            .is_none_or(|s| *s == span.process.service)
            && self.operation.as_ref().is_none_or(|o| *o == span.name)
            && self.min_duration_us.is_none_or(|min| duration_us >= min)
            && self.max_duration_us.is_none_or(|max| duration_us <= max)
            && self.start_us.is_none_or(|start| start_us >= start)
            && self.end_us.is_none_or(|end| start_us <= end)
            && self.tags.iter().all(|(k, v)| has_tag(span, k, v))
    }
}

/// Jaeger searches span tags, the process's tags and log fields, and the derived tags it shows
/// (`error`, `span.kind`, `otel.status_code`).
fn has_tag(span: &StoredSpan, key: &str, wanted: &str) -> bool {
    let attrs = span
        .attributes
        .iter()
        .chain(&span.process.tags)
        .chain(span.events.iter().flat_map(|e| &e.attributes));
    if attrs
        .into_iter()
        .any(|a| a.key == key && a.value.as_text() == wanted)
    {
        return true;
    }
    super::jaeger_json::derived_tags(span)
        .iter()
        .any(|(k, v)| *k == key && *v == wanted)
}

fn parse_tags_json(text: &str) -> Result<BTreeMap<String, String>, QueryError> {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|_| {
            bad(format!(
                "malformed 'tags': want a JSON object, got '{text}'"
            ))
        })?;
    Ok(map
        .into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect())
}

fn parse_number(key: &str, value: &str) -> Result<u64, QueryError> {
    value.parse().map_err(|_| {
        bad(format!(
            "malformed '{key}': want a non-negative integer, got '{value}'"
        ))
    })
}

/// A Go duration as Jaeger takes it: `1.5s`, `100ms`, `250us`, `1h30m`.
pub fn parse_duration_us(text: &str) -> Result<u64, QueryError> {
    let malformed = || {
        bad(format!(
            "malformed duration '{text}': want e.g. 100ms, 1.5s, 2h"
        ))
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(malformed());
    }
    let mut total_us = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(malformed)?;
        let (number, tail) = rest.split_at(number_len);
        let number: f64 = number.parse().map_err(|_| malformed())?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let us_per_unit = match unit {
            "ns" => 0.001,
            "us" | "µs" => 1.0,
            "ms" => 1_000.0,
            "s" => 1_000_000.0,
            "m" => 60_000_000.0,
            "h" => 3_600_000_000.0,
            "d" => 86_400_000_000.0,
            _ => return Err(malformed()),
        };
        total_us += number * us_per_unit;
        rest = tail;
    }
    Ok(total_us.round() as u64)
}

fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or_default()
}
