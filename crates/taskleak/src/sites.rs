//! The table behind the census: alive tasks per spawn site, bounded by the number of spawn
//! calls in the code (ours and our dependencies'), never by the number of tasks or requests.

use std::{
    cell::Cell,
    collections::HashMap,
    hash::{BuildHasherDefault, Hasher},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use slab::Slab;
use tokio::runtime::Id as RuntimeId;

/// One alive task of a site.
#[derive(Debug)]
struct Entry {
    spawned_at: Instant,
    task_id: u64,
    /// The runtime it was spawned on (`None` until known, see [`Site::resolve_runtime`]).
    runtime: Option<RuntimeId>,
    /// Handles to its span (tokio holds one; `Span::clone` would add more).
    refs: u32,
}

/// Upper bounds of the lifetime buckets, in seconds (the last bucket, `+Inf`, is implied):
/// from a task that lives for one poll to one that outlives any request, any retry and any
/// timeout a service sets.
pub(crate) const LIFETIME_BOUNDS: [f64; 13] = [
    0.01, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0, 300.0, 1800.0,
];

/// One spawn location and the tasks it spawned that are still alive. A slab, not an ordered
/// set: a spawn and an end cost a slot each, and the oldest is found when someone asks.
#[derive(Debug)]
pub(crate) struct Site {
    /// `file:line`, dependency paths shortened to `crate-version/src/...` (see [`short_path`]).
    pub(crate) location: Arc<str>,
    alive: Mutex<Slab<Entry>>,
    spawned: AtomicU64,
    /// How long the tasks that ended lived, by bucket (not cumulative; the last is `+Inf`), and
    /// their sum in microseconds: "tasks here usually end within a second" is what tells a lost
    /// one from long work.
    lifetimes: [AtomicU64; LIFETIME_BOUNDS.len() + 1],
    lifetime_sum_us: AtomicU64,
}

impl Site {
    fn new(location: String) -> Self {
        Self {
            location: location.into(),
            alive: Mutex::new(Slab::new()),
            spawned: AtomicU64::new(0),
            lifetimes: Default::default(),
            lifetime_sum_us: AtomicU64::new(0),
        }
    }

    /// Records how long an ended task lived.
    fn ended(&self, lived: Duration) {
        let seconds = lived.as_secs_f64();
        let bucket = LIFETIME_BOUNDS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LIFETIME_BOUNDS.len());
        self.lifetimes[bucket].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(lived.as_micros()).unwrap_or(u64::MAX);
        self.lifetime_sum_us.fetch_add(micros, Ordering::Relaxed);
    }

    /// Counts a task; returns its slot.
    pub(crate) fn add(&self, task_id: u64, runtime: Option<RuntimeId>) -> usize {
        self.spawned.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(Entry {
            spawned_at: Instant::now(),
            task_id,
            runtime,
            refs: 1,
        })
    }

    /// One more handle to the task's span.
    pub(crate) fn retain(&self, slot: usize) {
        if let Some(entry) = self.lock().get_mut(slot) {
            entry.refs += 1;
        }
    }

    /// One handle fewer; the task is uncounted with the last. Returns whether it was.
    pub(crate) fn release(&self, slot: usize) -> bool {
        let mut alive = self.lock();
        match alive.get_mut(slot) {
            Some(entry) if entry.refs > 1 => {
                entry.refs -= 1;
                false
            }
            Some(_) => {
                let entry = alive.remove(slot);
                drop(alive);
                self.ended(entry.spawned_at.elapsed());
                true
            }
            None => false,
        }
    }

    /// Fills in the runtime of a task spawned from outside any runtime (`Handle::spawn` from a
    /// plain thread), from inside its first poll.
    pub(crate) fn resolve_runtime(&self, slot: usize, runtime: RuntimeId) {
        if let Some(entry) = self.lock().get_mut(slot)
            && entry.runtime.is_none()
        {
            entry.runtime = Some(runtime);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slab<Entry>> {
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
    /// Ended tasks per lifetime bucket (not cumulative, `+Inf` last) and their summed lifetime.
    pub(crate) lifetimes: [u64; LIFETIME_BOUNDS.len() + 1],
    pub(crate) lifetime_sum: Duration,
}

/// (spawned at, task id) of a site's alive tasks.
type SpawnTimes = Vec<(Instant, u64)>;

/// One alive task, for the test guard.
#[derive(Debug, Clone)]
pub(crate) struct AliveTask {
    pub(crate) location: Arc<str>,
    pub(crate) spawned_at: Instant,
    pub(crate) task_id: u64,
    pub(crate) runtime: Option<RuntimeId>,
}

/// The spawn-site table: sites by the location's `'static` file string (by address) and line, so
/// that the per-spawn lookup neither allocates nor formats; and by index, which span ids carry.
#[derive(Debug, Default)]
pub(crate) struct SiteTable {
    /// Spawn-location file strings by address, shortened (see [`short_path`]).
    files: RwLock<HashMap<usize, Arc<str>, FastHash>>,
    index: RwLock<Index>,
}

/// Sites by location and by index, under one lock: a spawn takes it once, for reading.
#[derive(Debug, Default)]
struct Index {
    by_key: HashMap<(usize, u32), u32, FastHash>,
    sites: Vec<Arc<Site>>,
}

/// The keys are addresses and line numbers, not attacker-chosen: a multiply-rotate hash
/// (FxHash's) instead of SipHash, on the per-spawn path.
type FastHash = BuildHasherDefault<AddressHasher>;

#[derive(Debug, Default)]
pub(crate) struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

thread_local! {
    /// (table, file address) this thread last found interned: spawns repeat their sites.
    static LAST_INTERNED: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

impl SiteTable {
    /// Interns a spawn location's file (tokio's `&'static str` from `Location::file`) by its
    /// address; returns the key for [`SiteTable::open`].
    pub(crate) fn intern_file(&self, file: &str) -> usize {
        let key = file.as_ptr() as usize;
        let this = std::ptr::from_ref(self) as usize;
        if LAST_INTERNED.with(Cell::get) == (this, key) {
            return key;
        }
        let known = read(&self.files).contains_key(&key);
        if !known {
            write(&self.files)
                .entry(key)
                .or_insert_with(|| short_path(file).into());
        }
        LAST_INTERNED.with(|last| last.set((this, key)));
        key
    }

    /// Counts a task at the site of a spawn location (`file` from [`SiteTable::intern_file`]);
    /// returns the site's index and the task's slot in it.
    pub(crate) fn open(
        &self,
        file: usize,
        line: u32,
        task_id: u64,
        runtime: Option<RuntimeId>,
    ) -> (u32, usize) {
        {
            let index = read(&self.index);
            if let Some(&site) = index.by_key.get(&(file, line)) {
                return (site, index.sites[site as usize].add(task_id, runtime));
            }
        }
        let name = read(&self.files)
            .get(&file)
            .cloned()
            .unwrap_or_else(|| "unknown".into());
        let mut index = write(&self.index);
        let Index { by_key, sites } = &mut *index;
        let site = *by_key.entry((file, line)).or_insert_with(|| {
            sites.push(Arc::new(Site::new(format!("{name}:{line}"))));
            u32::try_from(sites.len() - 1).unwrap_or(u32::MAX)
        });
        (site, sites[site as usize].add(task_id, runtime))
    }

    /// Runs `f` on the site at `index` (without cloning its `Arc`: the hot path).
    pub(crate) fn with_site<R>(&self, index: u32, f: impl FnOnce(&Arc<Site>) -> R) -> Option<R> {
        read(&self.index).sites.get(index as usize).map(f)
    }

    fn sites(&self) -> Vec<Arc<Site>> {
        read(&self.index).sites.clone()
    }

    /// Every site seen so far (alive or not), most alive tasks first; each with up to
    /// `ids_limit` task ids, oldest first.
    pub(crate) fn counts(&self, ids_limit: usize) -> Vec<SiteCount> {
        let now = Instant::now();
        // Two `Location`s with different file pointers can name the same place (one per crate
        // that inlines it): merged by location text.
        let mut merged: HashMap<Arc<str>, (SiteCount, SpawnTimes)> = HashMap::new();
        for site in self.sites() {
            let (count, ages) = merged.entry(site.location.clone()).or_insert_with(|| {
                let count = SiteCount {
                    location: site.location.clone(),
                    alive: 0,
                    oldest: Duration::ZERO,
                    spawned: 0,
                    task_ids: Vec::new(),
                    lifetimes: [0; LIFETIME_BOUNDS.len() + 1],
                    lifetime_sum: Duration::ZERO,
                };
                (count, Vec::new())
            });
            count.spawned += site.spawned.load(Ordering::Relaxed);
            for (total, bucket) in count.lifetimes.iter_mut().zip(&site.lifetimes) {
                *total += bucket.load(Ordering::Relaxed);
            }
            count.lifetime_sum +=
                Duration::from_micros(site.lifetime_sum_us.load(Ordering::Relaxed));
            ages.extend(site.lock().iter().map(|(_, e)| (e.spawned_at, e.task_id)));
        }
        let mut out: Vec<SiteCount> = merged
            .into_values()
            .map(|(mut count, mut ages)| {
                ages.sort_unstable();
                count.alive = ages.len();
                count.oldest = ages
                    .first()
                    .map(|(at, _)| now.saturating_duration_since(*at))
                    .unwrap_or_default();
                count.task_ids = ages.iter().take(ids_limit).map(|(_, id)| *id).collect();
                count
            })
            .collect();
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
            out.extend(site.lock().iter().map(|(_, e)| AliveTask {
                location: site.location.clone(),
                spawned_at: e.spawned_at,
                task_id: e.task_id,
                runtime: e.runtime,
            }));
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
        let (leak, first) = table.open(file, 107, 1, None);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(
            table.open(file, 107, 2, None).0,
            leak,
            "one site per location"
        );
        let (other, gone) = table.open(file, 120, 3, None);
        assert_eq!(table.with_site(other, |s| s.release(gone)), Some(true));

        let counts = table.counts(10);
        assert_eq!(&*counts[0].location, format!("{FILE}:107"));
        assert_eq!(counts[0].alive, 2);
        assert!(counts[0].oldest >= Duration::from_millis(20));
        assert_eq!(counts[0].task_ids, vec![1, 2], "oldest first");
        assert_eq!(counts[0].spawned, 2);
        assert_eq!(counts[1].alive, 0, "a site whose tasks ended shows zero");
        assert_eq!(counts[1].spawned, 1, "but keeps its spawned total");
        assert_eq!(
            counts[1].lifetimes.iter().sum::<u64>(),
            1,
            "and how long its ended task lived"
        );
        assert_eq!(counts[1].lifetimes[0], 1, "under 10 ms");
        assert_eq!(counts[0].lifetimes, [0; LIFETIME_BOUNDS.len() + 1]);

        // A cloned span keeps its task counted until the last handle goes.
        table.with_site(leak, |s| s.retain(first));
        assert_eq!(table.with_site(leak, |s| s.release(first)), Some(false));
        assert_eq!(table.with_site(leak, |s| s.release(first)), Some(true));
        let counts = table.counts(10);
        assert_eq!(counts[0].alive, 1);
        assert!(counts[0].oldest < Duration::from_millis(20));
        assert_eq!(table.alive_tasks().len(), 1);
    }
}
