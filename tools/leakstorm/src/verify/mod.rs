//! `leakstorm verify`: the money invariants on a fleet's database ([`check`]), as a command
//! ([`command`]) and for `chaos`.

pub mod check;
pub mod command;
