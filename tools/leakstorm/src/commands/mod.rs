//! The subcommands.

pub mod bench;
pub mod chaos;
pub mod mode;
pub mod replay;
pub mod scenario;
pub mod tasks;
pub mod trace_store;
pub mod up;
pub mod verify;

use std::path::PathBuf;

use clap::Args;

/// Where k6, its scripts and the reports are.
#[derive(Debug, Clone, Args)]
pub struct ToolArgs {
    /// The k6 binary.
    #[arg(long, default_value = "k6")]
    pub k6: PathBuf,
    /// The directory with the k6 scripts.
    #[arg(long, default_value = "k6")]
    pub k6_dir: PathBuf,
    /// Reports go to <out>/<run>/.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
}
