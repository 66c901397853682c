//! `leakstorm chaos`: each service killed with SIGKILL during a storm with client retries, then
//! the money invariants checked.

pub mod command;
