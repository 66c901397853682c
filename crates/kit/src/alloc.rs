//! jemalloc as the global allocator, so that "heap" means live allocated bytes.
//!
//! glibc keeps freed pages mapped, so RSS alone cannot show a heap returning to baseline;
//! jemalloc's `stats.allocated` can. Every binary linking this crate uses it.

use tikv_jemalloc_ctl::{epoch, stats};

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Bytes currently allocated by the application (live heap), refreshed on every call.
pub fn heap_allocated_bytes() -> u64 {
    // jemalloc caches its statistics; advancing the epoch refreshes them.
    if epoch::advance().is_err() {
        return 0;
    }
    stats::allocated::read().map(|b| b as u64).unwrap_or(0)
}

/// Resident set size of this process, from `/proc/self/statm` (0 where that is unavailable).
pub fn resident_memory_bytes() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let resident_pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    resident_pages * page_size()
}

fn page_size() -> u64 {
    // The page size is 4 KiB on the x86_64 and aarch64 Linux machines this runs on; reading it
    // via sysconf would need unsafe FFI for no practical gain.
    4096
}
