//! Turning a task's trace into a short, readable stack.

use tokio::runtime::dump::Trace;

use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
};

use super::StackSample;
use crate::short_path;

/// At most this many frames per sample: enough to see the path from the spawn to the wait.
const MAX_FRAMES: usize = 24;

pub(super) fn sample(trace: &Trace) -> StackSample {
    let mut frames = Vec::new();
    let mut parked_in = None;
    // One backtrace per leaf future the task is waiting on; the first is enough for a sample.
    if let Some(backtrace) = trace.resolve_backtraces().first() {
        for symbol in backtrace.frames().flat_map(|f| f.symbols()) {
            let Some(name) = symbol.name_demangled().map(without_hash) else {
                continue;
            };
            if is_noise(name) {
                continue;
            }
            let file = symbol
                .filename()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let place = format!("{}:{}", workspace_path(&file), symbol.lineno().unwrap_or(0));
            let function = without_closures(name);
            if parked_in.is_none() && is_ours(&file) {
                parked_in = Some(if function.contains("::") {
                    format!("{function} ({place})")
                } else {
                    place.clone()
                });
            }
            let line = format!("{function} at {place}");
            if frames.last() != Some(&line) && frames.len() < MAX_FRAMES {
                frames.push(line);
            }
        }
    }
    StackSample { parked_in, frames }
}

/// Paths as the workspace names them, as spawn sites are: relative to the outermost directory
/// with a `Cargo.toml` above the working directory (the workspace root, under `cargo test`),
/// else the two directories above `src` (`/app/services/risk/src/a.rs` →
/// `services/risk/src/a.rs`); dependency and std paths shortened by [`short_path`].
fn workspace_path(file: &str) -> String {
    if !is_ours(file) {
        return short_path(file).to_owned();
    }
    if let Some(root) = workspace_root()
        && let Ok(relative) = Path::new(file).strip_prefix(root)
    {
        return relative.display().to_string();
    }
    let parts: Vec<&str> = file.split('/').collect();
    match parts.iter().rposition(|p| *p == "src") {
        Some(src) if src >= 2 => parts[src - 2..].join("/"),
        _ => file.to_owned(),
    }
}

fn workspace_root() -> Option<&'static Path> {
    static ROOT: OnceLock<Option<PathBuf>> = OnceLock::new();
    ROOT.get_or_init(|| {
        let cwd = std::env::current_dir().ok()?;
        cwd.ancestors()
            .filter(|dir| dir.join("Cargo.toml").is_file())
            .last()
            .map(Path::to_path_buf)
    })
    .as_deref()
}

/// `risk::x::f::h0123456789abcdef` → `risk::x::f`.
fn without_hash(name: &str) -> &str {
    match name.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            head
        }
        _ => name,
    }
}

/// `risk::x::f::{{closure}}::{{closure}}` → `risk::x::f`.
fn without_closures(mut name: &str) -> &str {
    while let Some(head) = name.strip_suffix("::{{closure}}") {
        name = head;
    }
    name
}

/// Frames of the dump machinery, the runtime, std and the tracing wrapper say nothing about
/// where the task is.
fn is_noise(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "backtrace::",
        "core::",
        "std::",
        "alloc::",
        "<core::",
        "<std::",
        "<alloc::",
        "tokio::runtime::",
        "<tokio::runtime::",
        "<tracing::instrument::Instrumented",
        "tracing::instrument::",
        "__rust",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Source of this workspace rather than a dependency or the standard library.
fn is_ours(file: &str) -> bool {
    !file.is_empty()
        && !file.contains("/registry/src/")
        && !file.contains("/git/checkouts/")
        && !file.starts_with("/rustc/")
        && !file.contains("/.rustup/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_hashes_and_closure_suffixes() {
        assert_eq!(
            without_closures(without_hash(
                "risk::deep_scoring::SlowDependency::call::{{closure}}::{{closure}}::h0123456789abcdef"
            )),
            "risk::deep_scoring::SlowDependency::call"
        );
        assert_eq!(without_hash("a::hello"), "a::hello");
        assert_eq!(
            workspace_path("/work/wt10/services/risk/src/deep_scoring.rs"),
            "services/risk/src/deep_scoring.rs"
        );
    }
}
