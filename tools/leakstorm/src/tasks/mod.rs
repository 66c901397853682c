//! `leakstorm tasks`: each service's `/debug/tasks`, fetched and printed for a person.
//!
//! Module map: [`report`] fetches and renders; [`command`] is the subcommand.

pub mod command;
pub mod report;

pub use report::{fetch, render, thousands};
