//! Nothing here: see `tests/uninstrumented.rs`.
