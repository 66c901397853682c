//! The subcommands.

pub mod chaos;
pub mod mode;
pub mod replay;
pub mod up;
pub mod verify;
