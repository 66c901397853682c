//! `leakstorm scenario` and `leakstorm mode`: the leak scenarios' modes through the admin API.
//!
//! Module map: [`command`] lists, reads and switches scenarios (and prints the catalog);
//! [`mode`] reads and switches risk's own mode.

pub mod command;
pub mod mode;
