//! `leakstorm tasks`: each service's `/debug/tasks`, fetched and printed for a person (the
//! fetching and rendering are the fleet crate's `debug_tasks`, which the replay uses too).

pub mod command;
