//! The replay's two profiles (quick and full) and which scenarios `--scenario` names.

use contract::scenario::Scenario;

/// One profile's phase lengths, load and incident knobs.
pub struct Profile {
    pub warmup_s: u64,
    pub warmup_rate: u32,
    pub storm_s: u64,
    pub rate: u32,
    pub deep_share: f64,
    pub slow_dependency_capacity: u64,
    pub leaky_recovery_s: u64,
    pub fixed_recovery_s: u64,
}

pub fn profile(name: &str) -> Profile {
    match name {
        // Under 3 minutes on a 2-core machine, and still unmistakable: the slow dependency keeps
        // a constant 30 s, so leaked work piles up for the whole 40 s storm and runs out ~30 s
        // after it.
        "quick" => Profile {
            warmup_s: 10,
            warmup_rate: 5,
            storm_s: 40,
            rate: 20,
            deep_share: 0.2,
            slow_dependency_capacity: 0,
            leaky_recovery_s: 60,
            fixed_recovery_s: 10,
        },
        // The incident as it unfolds in production: leaked calls slow the dependency down, so
        // leaked work lives longer and longer, and alive tasks and heap climb for the whole
        // storm. The leaked work then takes minutes to run out.
        _ => Profile {
            warmup_s: 20,
            warmup_rate: 5,
            storm_s: 120,
            rate: 20,
            deep_share: 0.2,
            slow_dependency_capacity: 250,
            leaky_recovery_s: 300,
            fixed_recovery_s: 20,
        },
    }
}

/// `all`, or one scenario's name. Orphaned loops never end, so `all` replays them last.
pub fn scenarios(arg: &str) -> anyhow::Result<Vec<Scenario>> {
    if arg == "all" {
        return Ok(vec![
            Scenario::DetachedSpawn,
            Scenario::BlockingPileup,
            Scenario::HeldConnection,
            Scenario::UnboundedQueue,
            Scenario::OrphanedLoop,
        ]);
    }
    Ok(vec![arg.parse().map_err(anyhow::Error::msg)?])
}
