//! The bounded trace store: traces by id, evicted oldest-written first once either the trace
//! count or the memory estimate is over its limit.
//!
//! Each trace carries the bytes it was charged, and the store's total only ever changes together
//! with that figure, so `bytes == Σ charged` holds by construction (`otlp-embedded`'s limiter
//! recomputed sizes on removal, and got 0: see [`super`]).

use std::collections::{BTreeMap, HashMap};

use super::{
    catalog::Catalog,
    model::{StoredSpan, TraceId},
};

/// Bytes charged per trace on top of its spans: the map entry and the order index.
const TRACE_OVERHEAD_BYTES: usize = 128;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_traces: usize,
    pub max_bytes: usize,
}

#[derive(Debug, Clone)]
pub struct StoredTrace {
    pub id: TraceId,
    pub spans: Vec<StoredSpan>,
    /// Position in write order: higher is newer.
    write_seq: u64,
    /// What this trace was charged in [`Store::bytes`], kept with it so removal subtracts it.
    charged_bytes: usize,
}

impl StoredTrace {
    /// Every parent a span names has arrived (a trace still waiting for spans is partial).
    pub fn is_complete(&self) -> bool {
        self.spans.iter().all(|s| {
            s.parent
                .is_none_or(|parent| self.spans.iter().any(|p| p.span_id == parent))
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub traces: usize,
    pub spans: usize,
    pub bytes: usize,
    pub evicted_traces: u64,
}

pub struct Store {
    limits: Limits,
    traces: HashMap<TraceId, StoredTrace>,
    /// write_seq → trace, oldest first.
    order: BTreeMap<u64, TraceId>,
    next_seq: u64,
    bytes: usize,
    spans: usize,
    evicted_traces: u64,
    catalog: Catalog,
}

impl Store {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            traces: HashMap::new(),
            order: BTreeMap::new(),
            next_seq: 0,
            bytes: 0,
            spans: 0,
            evicted_traces: 0,
            catalog: Catalog::default(),
        }
    }

    /// Stores one export request's spans (any mix of traces and services), then evicts the
    /// oldest-written traces until both limits hold. Traces written by this call are newer than
    /// every other, so they go last.
    pub fn insert(&mut self, spans: Vec<StoredSpan>) {
        for span in spans {
            self.catalog.record(&span);
            let seq = self.next_seq;
            self.next_seq += 1;
            let bytes = span.estimated_bytes();
            let trace = self
                .traces
                .entry(span.trace_id)
                .or_insert_with(|| StoredTrace {
                    id: span.trace_id,
                    spans: Vec::new(),
                    write_seq: seq,
                    charged_bytes: TRACE_OVERHEAD_BYTES,
                });
            if trace.spans.is_empty() {
                self.bytes += TRACE_OVERHEAD_BYTES;
            }
            self.order.remove(&trace.write_seq);
            trace.write_seq = seq;
            self.order.insert(seq, trace.id);
            trace.spans.push(span);
            trace.charged_bytes += bytes;
            self.bytes += bytes;
            self.spans += 1;
        }
        self.evict_over_limits();
    }

    fn evict_over_limits(&mut self) {
        while self.traces.len() > self.limits.max_traces || self.bytes > self.limits.max_bytes {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some(trace) = self.traces.remove(&oldest) {
                self.bytes -= trace.charged_bytes;
                self.spans -= trace.spans.len();
                self.evicted_traces += 1;
            }
        }
    }

    pub fn get(&self, id: &TraceId) -> Option<&StoredTrace> {
        self.traces.get(id)
    }

    /// Traces, newest-written first.
    pub fn newest_first(&self) -> impl Iterator<Item = &StoredTrace> {
        self.order
            .values()
            .rev()
            .filter_map(|id| self.traces.get(id))
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn stats(&self) -> StoreStats {
        StoreStats {
            traces: self.traces.len(),
            spans: self.spans,
            bytes: self.bytes,
            evicted_traces: self.evicted_traces,
        }
    }

    /// Recounts the memory estimate from the stored spans (tests compare it with the running
    /// total: they must be equal whatever happened before).
    pub fn recount_bytes(&self) -> usize {
        self.traces
            .values()
            .map(|t| {
                TRACE_OVERHEAD_BYTES
                    + t.spans
                        .iter()
                        .map(StoredSpan::estimated_bytes)
                        .sum::<usize>()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{Limits, Store};
    use crate::model::{Attr, AttrValue, Process, SpanId, SpanKind, Status, StoredSpan, TraceId};

    fn span(trace: u64, index: u64, attrs: usize, process: &Arc<Process>) -> StoredSpan {
        let mut id = [0; 16];
        id[8..].copy_from_slice(&trace.to_be_bytes());
        StoredSpan {
            trace_id: TraceId(id),
            span_id: SpanId(index.to_be_bytes()),
            parent: (index > 0).then(|| SpanId((index - 1).to_be_bytes())),
            name: format!("op {}", index % 5),
            kind: SpanKind::Server,
            start_ns: 1,
            end_ns: 2,
            attributes: (0..attrs)
                .map(|a| Attr::new(format!("k{a}"), AttrValue::Str("v".repeat(a * 7))))
                .collect(),
            events: Vec::new(),
            links: Vec::new(),
            status: Status::Unset,
            scope: None,
            process: Arc::clone(process),
        }
    }

    /// A deterministic mix: spans of new and of earlier traces (as late shards and other
    /// services add to them), batches of every size, over both limits many times.
    #[test]
    fn the_memory_total_always_equals_the_recount_and_both_limits_hold() {
        let process = Arc::new(Process {
            service: "risk".into(),
            tags: Vec::new(),
        });
        let limits = Limits {
            max_traces: 300,
            max_bytes: 400_000,
        };
        let mut store = Store::new(limits);
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut newest_trace = 0_u64;
        for _ in 0..3_000 {
            let batch_len = next() % 40;
            let batch: Vec<StoredSpan> = (0..batch_len)
                .map(|_| {
                    let trace = if next() % 3 == 0 {
                        newest_trace.saturating_sub(next() % 400)
                    } else {
                        newest_trace += 1;
                        newest_trace
                    };
                    span(trace, next() % 8, (next() % 6) as usize, &process)
                })
                .collect();
            let last = batch.last().map(|s| s.trace_id);
            store.insert(batch);
            let stats = store.stats();
            assert_eq!(
                stats.bytes,
                store.recount_bytes(),
                "the running total drifted"
            );
            assert!(stats.traces <= limits.max_traces);
            assert!(stats.bytes <= limits.max_bytes);
            if let Some(last) = last {
                assert!(
                    store.get(&last).is_some(),
                    "the trace just written was evicted"
                );
            }
        }
        assert!(
            store.stats().evicted_traces > 10_000,
            "the limits were exercised"
        );
    }

    #[test]
    fn eviction_takes_the_oldest_written_trace_first() {
        let process = Arc::new(Process {
            service: "gateway".into(),
            tags: Vec::new(),
        });
        let mut store = Store::new(Limits {
            max_traces: 2,
            max_bytes: usize::MAX,
        });
        store.insert(vec![span(1, 0, 0, &process)]);
        store.insert(vec![span(2, 0, 0, &process)]);
        // A late span rewrites trace 1: now trace 2 is the oldest written.
        store.insert(vec![span(1, 1, 0, &process)]);
        store.insert(vec![span(3, 0, 0, &process)]);
        let kept: Vec<u64> = store
            .newest_first()
            .map(|t| u64::from_be_bytes(t.id.0[8..].try_into().unwrap()))
            .collect();
        assert_eq!(kept, [3, 1]);
    }
}
