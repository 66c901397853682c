//! Risk's integration tests, one binary: the two scenarios it hosts (detached-spawn,
//! blocking-pileup), both ways, against a real Postgres, with the shared harness in [`support`].

mod blocking_pileup;
mod leak_fixed;
mod leak_leaky;
mod support;
mod tasks_by_spawn_site;
