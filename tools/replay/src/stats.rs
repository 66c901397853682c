//! The report's arithmetic, kept small and unit-tested.

/// Nearest-rank percentile (`q` in 0..=100) of unsorted values; `None` when empty.
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// `amount` scaled to a rate per 10,000 requests (the incident write-ups' unit).
pub fn per_10k(amount: f64, requests: u64) -> Option<f64> {
    (requests > 0).then(|| amount * 10_000.0 / requests as f64)
}

/// A p99 per second over a sliding window: `(second, p99)` for every second with requests in
/// the `window` seconds up to it.
pub fn rolling_p99(points: &[(f64, f64)], window: f64) -> Vec<(f64, f64)> {
    let Some(last) = points.iter().map(|(t, _)| *t).reduce(f64::max) else {
        return Vec::new();
    };
    let first = points
        .iter()
        .map(|(t, _)| *t)
        .reduce(f64::min)
        .unwrap_or(0.0);
    let mut series = Vec::new();
    let mut second = first.floor();
    while second <= last.ceil() {
        let in_window: Vec<f64> = points
            .iter()
            .filter(|(t, _)| *t > second - window && *t <= second)
            .map(|(_, v)| *v)
            .collect();
        if let Some(p99) = percentile(&in_window, 99.0) {
            series.push((second, p99));
        }
        second += 1.0;
    }
    series
}

#[cfg(test)]
mod tests {
    use super::{per_10k, percentile, rolling_p99};

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), Some(50.0));
        assert_eq!(percentile(&values, 95.0), Some(95.0));
        assert_eq!(percentile(&values, 99.0), Some(99.0));
        assert_eq!(percentile(&values, 100.0), Some(100.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[], 99.0), None);
        // Order does not matter; one slow request in ten sets the p95.
        assert_eq!(
            percentile(&[5.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 95.0),
            Some(5.0)
        );
    }

    #[test]
    fn per_10k_normalises_and_refuses_zero_requests() {
        assert_eq!(per_10k(50.0, 1_000), Some(500.0));
        assert_eq!(per_10k(3.0, 30_000), Some(1.0));
        assert_eq!(per_10k(3.0, 0), None);
    }

    #[test]
    fn rolling_p99_follows_a_latency_step() {
        let mut points: Vec<(f64, f64)> = (0..10).map(|t| (f64::from(t), 10.0)).collect();
        points.extend((10..20).map(|t| (f64::from(t), 1_000.0)));
        let series = rolling_p99(&points, 3.0);
        assert_eq!(series.first(), Some(&(0.0, 10.0)));
        assert!(series.iter().any(|(t, v)| *t == 12.0 && *v == 1_000.0));
        assert!(series.iter().any(|(t, v)| *t == 9.0 && *v == 10.0));
    }
}
