//! The table behind the census: alive tasks per spawn site, bounded by the number of spawn
//! calls in the code (ours and our dependencies'), never by the number of tasks or requests.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::runtime::Id as RuntimeId;

/// One spawn location and the tasks it spawned that are still alive.
#[derive(Debug)]
pub(crate) struct Site {
    /// `file:line`, dependency paths shortened to `crate-version/src/...` (see [`short_path`]).
    pub(crate) location: Arc<str>,
    /// (spawned at, task id) → the runtime it was spawned on; ordered by age, oldest first.
    alive: Mutex<BTreeMap<(Instant, u64), Option<RuntimeId>>>,
    spawned: AtomicU64,
}

impl Site {
    fn new(location: String) -> Self {
        Self {
            location: location.into(),
            alive: Mutex::new(BTreeMap::new()),
            spawned: AtomicU64::new(0),
        }
    }

    pub(crate) fn add(&self, spawned_at: Instant, task_id: u64, runtime: Option<RuntimeId>) {
        self.spawned.fetch_add(1, Ordering::Relaxed);
        self.lock().insert((spawned_at, task_id), runtime);
    }

    pub(crate) fn remove(&self, spawned_at: Instant, task_id: u64) {
        self.lock().remove(&(spawned_at, task_id));
    }

    /// Fills in the runtime of a task spawned from outside any runtime (`Handle::spawn` from a
    /// plain thread), once it is first polled on its own.
    pub(crate) fn set_runtime(&self, spawned_at: Instant, task_id: u64, runtime: RuntimeId) {
        if let Some(slot) = self.lock().get_mut(&(spawned_at, task_id)) {
            *slot = Some(runtime);
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<(Instant, u64), Option<RuntimeId>>> {
        self.alive.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A site at one moment, before it is turned into the public [`crate::SiteSnapshot`].
#[derive(Debug)]
pub(crate) struct SiteCount {
    pub(crate) location: Arc<str>,
    pub(crate) alive: usize,
    pub(crate) oldest: Duration,
    pub(crate) spawned: u64,
    pub(crate) task_ids: Vec<u64>,
}

/// One alive task, for the test guard.
#[derive(Debug, Clone)]
pub(crate) struct AliveTask {
    pub(crate) location: Arc<str>,
    pub(crate) spawned_at: Instant,
    pub(crate) task_id: u64,
    pub(crate) runtime: Option<RuntimeId>,
}

/// The spawn-site table: interned by the location's `'static` file string and line, so that the
/// per-spawn lookup neither allocates nor formats.
#[derive(Debug, Default)]
pub(crate) struct SiteTable {
    /// Spawn-location file strings by address, shortened (see [`short_path`]).
    files: RwLock<HashMap<usize, Arc<str>>>,
    by_key: RwLock<HashMap<(usize, u32), Arc<Site>>>,
}

impl SiteTable {
    /// Interns a spawn location's file (tokio's `&'static str` from `Location::file`) by its
    /// address; returns the key for [`SiteTable::site`].
    pub(crate) fn intern_file(&self, file: &str) -> usize {
        let key = file.as_ptr() as usize;
        let known = read(&self.files).contains_key(&key);
        if !known {
            write(&self.files)
                .entry(key)
                .or_insert_with(|| short_path(file).into());
        }
        key
    }

    /// The site for a spawn location: `file` from [`SiteTable::intern_file`].
    pub(crate) fn site(&self, file: usize, line: u32) -> Arc<Site> {
        let key = (file, line);
        if let Some(site) = read(&self.by_key).get(&key) {
            return site.clone();
        }
        let name = read(&self.files)
            .get(&file)
            .cloned()
            .unwrap_or_else(|| "unknown".into());
        write(&self.by_key)
            .entry(key)
            .or_insert_with(|| Arc::new(Site::new(format!("{name}:{line}"))))
            .clone()
    }

    fn sites(&self) -> Vec<Arc<Site>> {
        read(&self.by_key).values().cloned().collect()
    }

    /// Every site seen so far (alive or not), most alive tasks first; each with up to
    /// `ids_limit` task ids, oldest first.
    pub(crate) fn counts(&self, ids_limit: usize) -> Vec<SiteCount> {
        let now = Instant::now();
        // Two `Location`s with different file pointers can name the same place (one per crate
        // that inlines it): merged by location text.
        let mut merged: HashMap<Arc<str>, SiteCount> = HashMap::new();
        for site in self.sites() {
            let alive = site.lock();
            let oldest = alive
                .keys()
                .next()
                .map(|(at, _)| now.saturating_duration_since(*at))
                .unwrap_or_default();
            let entry = merged
                .entry(site.location.clone())
                .or_insert_with(|| SiteCount {
                    location: site.location.clone(),
                    alive: 0,
                    oldest: Duration::ZERO,
                    spawned: 0,
                    task_ids: Vec::new(),
                });
            entry.alive += alive.len();
            entry.oldest = entry.oldest.max(oldest);
            entry.spawned += site.spawned.load(Ordering::Relaxed);
            let room = ids_limit.saturating_sub(entry.task_ids.len());
            entry
                .task_ids
                .extend(alive.keys().take(room).map(|(_, id)| *id));
        }
        let mut out: Vec<SiteCount> = merged.into_values().collect();
        out.sort_by(|a, b| {
            b.alive
                .cmp(&a.alive)
                .then_with(|| a.location.cmp(&b.location))
        });
        out
    }

    /// Every alive task, with its site and runtime.
    pub(crate) fn alive_tasks(&self) -> Vec<AliveTask> {
        let mut out = Vec::new();
        for site in self.sites() {
            out.extend(
                site.lock()
                    .iter()
                    .map(|(&(spawned_at, task_id), &runtime)| AliveTask {
                        location: site.location.clone(),
                        spawned_at,
                        task_id,
                        runtime,
                    }),
            );
        }
        out
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// How a spawn site's file is shown: paths inside your workspace stay as rustc wrote them
/// (`services/risk/src/deep_scoring.rs`); dependency paths lose the registry prefix
/// (`…/registry/src/<index>/sqlx-core-0.8.6/src/x.rs` → `sqlx-core-0.8.6/src/x.rs`), the
/// standard library its `/rustc/<hash>/` prefix.
///
/// ```
/// assert_eq!(
///     taskleak::short_path("/home/me/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/hyper-util-0.1.17/src/rt/tokio.rs"),
///     "hyper-util-0.1.17/src/rt/tokio.rs",
/// );
/// assert_eq!(taskleak::short_path("src/handlers.rs"), "src/handlers.rs");
/// ```
pub fn short_path(file: &str) -> &str {
    for marker in ["/registry/src/", "/git/checkouts/"] {
        if let Some((_, rest)) = file.split_once(marker) {
            return rest.split_once('/').map_or(rest, |(_, path)| path);
        }
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
    fn counts_alive_tasks_per_site_with_the_oldest_age_and_the_spawned_total() {
        static FILE: &str = "services/risk/src/deep_scoring.rs";
        let table = SiteTable::default();
        let file = table.intern_file(FILE);
        let leak = table.site(file, 107);
        let other = table.site(file, 120);
        let long_ago = Instant::now() - Duration::from_secs(30);
        leak.add(long_ago, 1, None);
        leak.add(Instant::now(), 2, None);
        let now = Instant::now();
        other.add(now, 3, None);
        other.remove(now, 3);

        let counts = table.counts(10);
        assert_eq!(&*counts[0].location, format!("{FILE}:107"));
        assert_eq!(counts[0].alive, 2);
        assert!(counts[0].oldest >= Duration::from_secs(30));
        assert_eq!(counts[0].task_ids, vec![1, 2]);
        assert_eq!(counts[0].spawned, 2);
        assert_eq!(counts[1].alive, 0, "a site whose tasks ended shows zero");
        assert_eq!(counts[1].spawned, 1, "but keeps its spawned total");

        leak.remove(long_ago, 1);
        let counts = table.counts(10);
        assert_eq!(counts[0].alive, 1);
        assert!(counts[0].oldest < Duration::from_secs(30));
        assert_eq!(table.alive_tasks().len(), 1);
    }
}
