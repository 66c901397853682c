//! `leakstorm top`: the incident, live, in a terminal — for the native fleet or the Docker one,
//! over SSH too. Once a second it scrapes every service's `/metrics` and `/debug/tasks` and
//! shows, per service, live heap, RSS, alive tasks, request rate, p50/p99, error rate, database
//! connections in use and callers waiting; risk's mode; the spawn sites holding the most tasks;
//! sparklines of the last minutes, with the alert thresholds marked. A service that does not
//! answer gets a line saying so, and the view keeps going.
//!
//! Module map: [`command`] is the subcommand and its loop; [`model`] turns scrapes into figures
//! and history; [`view`] draws them.

pub mod command;
pub mod model;
pub mod view;
