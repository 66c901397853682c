//! What the store keeps of a span: OTLP's fields, owned and compact, with a size estimate that
//! depends only on the span itself (so adding and removing it count the same bytes).

use std::{mem::size_of, sync::Arc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId(pub [u8; 16]);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpanId(pub [u8; 8]);

impl TraceId {
    /// 32 hex digits; Jaeger also accepts shorter ids, left-padded with zeros.
    pub fn parse_hex(text: &str) -> Option<Self> {
        if text.is_empty() || text.len() > 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let padded = format!("{text:0>32}");
        let mut id = [0; 16];
        hex::decode_to_slice(padded, &mut id).ok()?;
        Some(Self(id))
    }

    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }
}

impl SpanId {
    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Str(String),
    Bool(bool),
    Int(i64),
    Float(f64),
}

impl AttrValue {
    /// As Jaeger's tag search compares it: the value's text.
    pub fn as_text(&self) -> String {
        match self {
            Self::Str(s) => s.clone(),
            Self::Bool(b) => b.to_string(),
            Self::Int(i) => i.to_string(),
            Self::Float(f) => f.to_string(),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Self::Str(s) => allocation(s.len()),
            _ => 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    pub key: String,
    pub value: AttrValue,
}

impl Attr {
    pub fn new(key: impl Into<String>, value: AttrValue) -> Self {
        Self {
            key: key.into(),
            value,
        }
    }

    /// Its heap use; the `Attr` itself is counted with the vector that holds it.
    fn heap_bytes(&self) -> usize {
        allocation(self.key.len()) + self.value.heap_bytes()
    }
}

/// What a heap block of `len` bytes costs with glibc malloc: an 8-byte header, 16-byte
/// granules, 32 bytes at least (so the estimate tracks the process's memory, not just payload).
fn allocation(len: usize) -> usize {
    if len == 0 {
        0
    } else {
        (len + 8).next_multiple_of(16).max(32)
    }
}

fn attrs_bytes(attrs: &[Attr]) -> usize {
    allocation(std::mem::size_of_val(attrs)) + attrs.iter().map(Attr::heap_bytes).sum::<usize>()
}

/// The emitting service: OTLP's resource. Shared by the spans of one service instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    pub service: String,
    pub tags: Vec<Attr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl SpanKind {
    /// Jaeger's `span.kind` tag value (none for internal spans).
    pub fn jaeger_tag(self) -> Option<&'static str> {
        match self {
            Self::Server => Some("server"),
            Self::Client => Some("client"),
            Self::Producer => Some("producer"),
            Self::Consumer => Some("consumer"),
            Self::Unspecified | Self::Internal => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Unset,
    Ok,
    Error(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub time_ns: u64,
    pub name: String,
    pub attributes: Vec<Attr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub trace_id: TraceId,
    pub span_id: SpanId,
}

#[derive(Debug, Clone)]
pub struct StoredSpan {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub parent: Option<SpanId>,
    pub name: String,
    pub kind: SpanKind,
    pub start_ns: u64,
    pub end_ns: u64,
    pub attributes: Vec<Attr>,
    pub events: Vec<Event>,
    pub links: Vec<Link>,
    pub status: Status,
    pub scope: Option<String>,
    pub process: Arc<Process>,
}

impl StoredSpan {
    pub fn duration_ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }

    /// The span's own bytes (its process is shared and counted by the store, not here). A pure
    /// function of the span: the store adds and subtracts the very same number.
    pub fn estimated_bytes(&self) -> usize {
        let status = match &self.status {
            Status::Error(message) => allocation(message.len()),
            _ => 0,
        };
        let events = allocation(self.events.len() * size_of::<Event>())
            + self
                .events
                .iter()
                .map(|e| allocation(e.name.len()) + attrs_bytes(&e.attributes))
                .sum::<usize>();
        size_of::<Self>()
            + allocation(self.name.len())
            + attrs_bytes(&self.attributes)
            + events
            + allocation(self.links.len() * size_of::<Link>())
            + status
            + self.scope.as_ref().map_or(0, |s| allocation(s.len()))
    }
}
