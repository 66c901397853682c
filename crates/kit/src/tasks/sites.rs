//! Alive tasks per spawn site, with the age of the oldest. Bounded: one entry per spawn
//! location in the code (ours and our dependencies'), never per task or per request.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex, PoisonError, RwLock},
    time::{Duration, Instant},
};

/// One spawn location and the tasks it spawned that are still alive.
#[derive(Debug)]
pub struct Site {
    /// `file:line`, with dependency paths shortened to `crate-version/src/...`.
    pub location: String,
    /// (spawned at, task id), ordered by age: the first is the oldest.
    alive: Mutex<BTreeSet<(Instant, u64)>>,
}

impl Site {
    fn new(location: String) -> Self {
        Self {
            location,
            alive: Mutex::new(BTreeSet::new()),
        }
    }

    pub(crate) fn add(&self, spawned_at: Instant, task_id: u64) {
        self.lock().insert((spawned_at, task_id));
    }

    pub(crate) fn remove(&self, spawned_at: Instant, task_id: u64) {
        self.lock().remove(&(spawned_at, task_id));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<(Instant, u64)>> {
        self.alive.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A site at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteSnapshot {
    pub location: String,
    pub alive: usize,
    /// Age of the oldest alive task; zero when none is alive.
    pub oldest: Duration,
    /// Ids of the alive tasks, oldest first, at most `ids_limit` of them (see [`SpawnSites::snapshot`]).
    pub task_ids: Vec<u64>,
}

/// The spawn-site table: interned by the location's `'static` file string and line, so that the
/// per-spawn lookup neither allocates nor formats.
#[derive(Debug, Default)]
pub struct SpawnSites {
    /// Spawn-location file strings by address, shortened (see [`short_path`]).
    files: RwLock<HashMap<usize, Arc<str>>>,
    by_key: RwLock<HashMap<(usize, u32), Arc<Site>>>,
}

impl SpawnSites {
    /// Interns a spawn location's file (tokio's `&'static str` from `Location::file`) by its
    /// address; returns the key for [`SpawnSites::site`].
    pub(crate) fn intern_file(&self, file: &str) -> usize {
        let key = file.as_ptr() as usize;
        let known = self
            .files
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&key);
        if !known {
            self.files
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(key)
                .or_insert_with(|| short_path(file).into());
        }
        key
    }

    /// The site for a spawn location: `file` from [`SpawnSites::intern_file`].
    pub(crate) fn site(&self, file: usize, line: u32) -> Arc<Site> {
        let key = (file, line);
        if let Some(site) = self
            .by_key
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return site.clone();
        }
        self.by_key
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_insert_with(|| {
                let name = self
                    .files
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&file)
                    .cloned()
                    .unwrap_or_else(|| "unknown".into());
                Arc::new(Site::new(format!("{name}:{line}")))
            })
            .clone()
    }

    /// Every site seen so far (alive or not), most alive tasks first; each with up to
    /// `ids_limit` task ids, oldest first.
    pub fn snapshot(&self, ids_limit: usize) -> Vec<SiteSnapshot> {
        let now = Instant::now();
        let sites: Vec<Arc<Site>> = self
            .by_key
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        // Two `Location`s with different file pointers can name the same place (one per crate
        // that inlines it): merge by location text.
        let mut merged: HashMap<String, SiteSnapshot> = HashMap::new();
        for site in sites {
            let alive = site.lock();
            let oldest = alive
                .first()
                .map(|(at, _)| now.saturating_duration_since(*at))
                .unwrap_or_default();
            let entry = merged
                .entry(site.location.clone())
                .or_insert_with(|| SiteSnapshot {
                    location: site.location.clone(),
                    alive: 0,
                    oldest: Duration::ZERO,
                    task_ids: Vec::new(),
                });
            entry.alive += alive.len();
            entry.oldest = entry.oldest.max(oldest);
            let room = ids_limit.saturating_sub(entry.task_ids.len());
            entry
                .task_ids
                .extend(alive.iter().take(room).map(|(_, id)| *id));
        }
        let mut out: Vec<SiteSnapshot> = merged.into_values().collect();
        out.sort_by(|a, b| {
            b.alive
                .cmp(&a.alive)
                .then_with(|| a.location.cmp(&b.location))
        });
        out
    }
}

/// Workspace paths stay as they are (`services/risk/src/deep_scoring.rs`); dependency paths lose
/// the registry prefix (`…/registry/src/<index>/sqlx-core-0.8.6/src/x.rs` →
/// `sqlx-core-0.8.6/src/x.rs`), the standard library its `/rustc/<hash>/` prefix.
pub fn short_path(file: &str) -> &str {
    if let Some((_, rest)) = file.split_once("/registry/src/") {
        return rest.split_once('/').map_or(rest, |(_, path)| path);
    }
    if let Some((_, rest)) = file.split_once("/git/checkouts/") {
        return rest.split_once('/').map_or(rest, |(_, path)| path);
    }
    if let Some(rest) = file.strip_prefix("/rustc/") {
        return rest.split_once('/').map_or(rest, |(_, path)| path);
    }
    file
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortens_dependency_and_std_paths_but_not_ours() {
        assert_eq!(
            short_path(
                "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/sqlx-core-0.8.6/src/pool/inner.rs"
            ),
            "sqlx-core-0.8.6/src/pool/inner.rs"
        );
        assert_eq!(
            short_path("/rustc/abc123/library/std/src/thread/mod.rs"),
            "library/std/src/thread/mod.rs"
        );
        assert_eq!(
            short_path("services/risk/src/deep_scoring.rs"),
            "services/risk/src/deep_scoring.rs"
        );
    }

    #[test]
    fn counts_alive_tasks_per_site_and_the_oldest_age() {
        static FILE: &str = "services/risk/src/deep_scoring.rs";
        let sites = SpawnSites::default();
        let file = sites.intern_file(FILE);
        let leak = sites.site(file, 107);
        let other = sites.site(file, 120);
        let long_ago = Instant::now() - Duration::from_secs(30);
        leak.add(long_ago, 1);
        leak.add(Instant::now(), 2);
        other.add(Instant::now(), 3);
        other.remove_all_for_test();

        let snapshot = sites.snapshot(10);
        assert_eq!(snapshot[0].location, format!("{FILE}:107"));
        assert_eq!(snapshot[0].alive, 2);
        assert!(snapshot[0].oldest >= Duration::from_secs(30));
        assert_eq!(snapshot[0].task_ids, vec![1, 2]);
        assert_eq!(snapshot[1].alive, 0, "a site whose tasks ended shows zero");

        leak.remove(long_ago, 1);
        let snapshot = sites.snapshot(10);
        assert_eq!(snapshot[0].alive, 1);
        assert!(snapshot[0].oldest < Duration::from_secs(30));
    }

    impl Site {
        fn remove_all_for_test(&self) {
            self.lock().clear();
        }
    }
}
