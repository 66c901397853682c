//! Traces: the Jaeger HTTP API client and the outliving-span analysis ([`jaeger`]), and
//! `leakstorm trace-store`, which serves the lab's own store alone ([`command`]).

pub mod command;
pub mod jaeger;
