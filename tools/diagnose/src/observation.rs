//! One look at one service: the figures the rules read, taken from its `/metrics` text (or the
//! same series out of a Prometheus), nothing else.

use std::collections::BTreeMap;

use contract::prom_text::Series;

/// A Prometheus histogram: cumulative `(le, count)` buckets, ascending, `+Inf` last.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    pub buckets: Vec<(f64, f64)>,
}

impl Histogram {
    /// Observations in it.
    pub fn count(&self) -> f64 {
        self.buckets.last().map_or(0.0, |(_, c)| *c)
    }

    /// The share of observations above `bound` (a bucket's upper bound); None when empty.
    pub fn share_above(&self, bound: f64) -> Option<f64> {
        let total = self.count();
        let at_most = self
            .buckets
            .iter()
            .find(|(le, _)| *le >= bound)
            .map_or(total, |(_, c)| *c);
        (total > 0.0).then(|| (total - at_most) / total)
    }

    /// What was observed since `earlier` (counters only grow; a restart reads as everything).
    pub fn since(&self, earlier: &Histogram) -> Histogram {
        if earlier.count() > self.count() || earlier.buckets.len() != self.buckets.len() {
            return self.clone();
        }
        let buckets = self
            .buckets
            .iter()
            .zip(&earlier.buckets)
            .map(|((le, now), (_, then))| (*le, (now - then).max(0.0)))
            .collect();
        Histogram { buckets }
    }

    /// The `q` quantile as Prometheus's `histogram_quantile` estimates it: linear within the
    /// bucket it falls in. `None` without observations.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total <= 0.0 {
            return None;
        }
        let rank = q * total;
        let mut lower = (0.0, 0.0);
        for &(le, count) in &self.buckets {
            if count >= rank {
                if le.is_infinite() {
                    return Some(lower.0);
                }
                let inside = count - lower.1;
                let share = if inside > 0.0 {
                    (rank - lower.1) / inside
                } else {
                    1.0
                };
                return Some(lower.0 + (le - lower.0) * share);
            }
            lower = (le, count);
        }
        Some(lower.0)
    }
}

/// One spawn site of the task census.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Site {
    pub alive: f64,
    pub oldest_s: f64,
    /// Tasks spawned there so far (a counter).
    pub spawned: f64,
    /// How long the tasks spawned there that ended lived (cumulative).
    pub lifetimes: Histogram,
}

/// One channel (`channel_*{channel}`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Channel {
    pub queued: f64,
    /// Messages its consumer took off (a counter), if exported.
    pub received: Option<f64>,
    /// `+Inf` for an unbounded channel.
    pub capacity: Option<f64>,
}

/// One service at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    /// Unix time, seconds.
    pub t: f64,
    pub service: String,
    pub sites: BTreeMap<String, Site>,
    pub blocking_queue: Option<f64>,
    pub pool_pending: Option<f64>,
    /// How long pooled connections were held (cumulative).
    pub pool_use: Histogram,
    pub channels: BTreeMap<String, Channel>,
    /// Live heap, for the evidence only.
    pub heap_bytes: Option<f64>,
}

impl Observation {
    /// Reads the series of one scrape (or one instant of a Prometheus range query).
    pub fn from_series(service: &str, t: f64, series: &[Series]) -> Self {
        let mut o = Observation {
            t,
            service: service.to_owned(),
            ..Observation::default()
        };
        let mut lifetimes: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        let mut pool_use = Vec::new();
        for s in series {
            let label = |name: &str| s.labels.get(name).cloned().unwrap_or_default();
            match s.name.as_str() {
                "runtime_alive_tasks_by_spawn_site" => {
                    o.sites.entry(label("spawn_site")).or_default().alive = s.value;
                }
                "runtime_oldest_task_age_seconds" => {
                    o.sites.entry(label("spawn_site")).or_default().oldest_s = s.value;
                }
                "runtime_spawned_tasks_total" => {
                    o.sites.entry(label("spawn_site")).or_default().spawned = s.value;
                }
                "runtime_task_lifetime_seconds_bucket" => {
                    if let Some(le) = le(&s.labels) {
                        lifetimes
                            .entry(label("spawn_site"))
                            .or_default()
                            .push((le, s.value));
                    }
                }
                "runtime_blocking_queue_depth" => {
                    *o.blocking_queue.get_or_insert(0.0) += s.value;
                }
                "db_client_connection_pending_requests" => {
                    *o.pool_pending.get_or_insert(0.0) += s.value;
                }
                "db_client_connection_use_time_seconds_bucket" => {
                    if let Some(le) = le(&s.labels) {
                        pool_use.push((le, s.value));
                    }
                }
                "channel_queued_messages" => {
                    o.channels.entry(label("channel")).or_default().queued = s.value;
                }
                "channel_received_messages_total" => {
                    o.channels.entry(label("channel")).or_default().received = Some(s.value);
                }
                "channel_capacity_messages" => {
                    o.channels.entry(label("channel")).or_default().capacity = Some(s.value);
                }
                "process_heap_allocated_bytes" => o.heap_bytes = Some(s.value),
                _ => {}
            }
        }
        for (site, mut buckets) in lifetimes {
            buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            o.sites.entry(site).or_default().lifetimes = Histogram { buckets };
        }
        pool_use.sort_by(|a, b| a.0.total_cmp(&b.0));
        o.pool_use = merge_buckets(pool_use);
        o
    }
}

fn le(labels: &BTreeMap<String, String>) -> Option<f64> {
    match labels.get("le")?.as_str() {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        text => text.parse().ok(),
    }
}

/// Sums buckets with the same bound (one histogram per label set, added up).
fn merge_buckets(sorted: Vec<(f64, f64)>) -> Histogram {
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    for (le, count) in sorted {
        match buckets.last_mut() {
            Some((last, total)) if *last == le => *total += count,
            _ => buckets.push((le, count)),
        }
    }
    Histogram { buckets }
}

#[cfg(test)]
mod tests {
    use super::Histogram;

    #[test]
    fn quantiles_interpolate_within_their_bucket_as_prometheus_does() {
        let h = Histogram {
            buckets: vec![(0.1, 10.0), (1.0, 10.0), (2.5, 40.0), (f64::INFINITY, 40.0)],
        };
        // Rank 20 of 40 falls a third into (1, 2.5].
        assert!((h.quantile(0.5).unwrap() - 1.5).abs() < 1e-9);
        assert!((h.quantile(0.25).unwrap() - 0.1).abs() < 1e-9);
        assert_eq!(Histogram::default().quantile(0.5), None);
        let earlier = Histogram {
            buckets: vec![(0.1, 10.0), (1.0, 10.0), (2.5, 10.0), (f64::INFINITY, 10.0)],
        };
        assert_eq!(h.since(&earlier).count(), 30.0);
        assert_eq!(h.share_above(1.0), Some(0.75));
        assert_eq!(h.share_above(2.5), Some(0.0));
        assert_eq!(Histogram::default().share_above(1.0), None);
        assert!((h.since(&earlier).quantile(0.5).unwrap() - 1.75).abs() < 1e-9);
    }
}
