//! One reading of the server's figures, and how a reading is made from two cumulative ones.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use telemetry::exposition::HistogramSeries;

/// What the sampler saw at `at`: traffic and cache use over the interval since the reading
/// before, and the queues, breakers and database pool as they stood.
#[derive(Debug, Clone)]
pub struct Sample {
    pub at: DateTime<Utc>,
    /// Routes that answered in the interval (none in the very first reading: it is the baseline).
    pub routes: Vec<RouteInterval>,
    pub cache: Vec<CacheInterval>,
    /// The job queues, or why they could not be read.
    pub queues: Result<Vec<QueueDepth>, String>,
    pub breakers: Vec<BreakerReading>,
    pub pool: PoolReading,
}

/// One route's requests in an interval.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteInterval {
    /// `GET /v1/clients/{id}`.
    pub route: String,
    /// Requests per latency bucket ([`telemetry::LATENCY_BUCKETS`], then slower).
    pub buckets: Vec<u64>,
    /// Answered 5xx.
    pub errors: u64,
}

impl RouteInterval {
    pub fn requests(&self) -> u64 {
        self.buckets.iter().sum()
    }
}

/// One cache use's lookups in an interval.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheInterval {
    pub name: String,
    /// Answered from memory or Redis, fresh or stale.
    pub hits: u64,
    pub misses: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueDepth {
    pub queue: String,
    /// Due now and waiting for a worker.
    pub ready: i64,
    pub running: i64,
    pub retrying: i64,
    pub scheduled: i64,
    pub dead: i64,
    pub oldest_ready_age_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BreakerReading {
    pub name: String,
    /// closed, half_open or open.
    pub state: &'static str,
    pub failures: u64,
    pub calls: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PoolReading {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

impl PoolReading {
    pub fn in_use(&self) -> u32 {
        self.size.saturating_sub(self.idle)
    }
}

/// The cumulative counters a reading is the difference of.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Per `(method, route, status)`: cumulative counts per bucket.
    pub latency: BTreeMap<(String, String, String), Vec<u64>>,
    /// Per cache use: (hits, misses).
    pub cache: BTreeMap<String, (u64, u64)>,
}

impl Totals {
    pub fn from_histograms(series: &[HistogramSeries]) -> BTreeMap<(String, String, String), Vec<u64>> {
        series
            .iter()
            .map(|s| {
                let key =
                    (s.label("method").to_owned(), s.label("route").to_owned(), s.label("status").to_owned());
                (key, s.cumulative.iter().map(|(_, c)| *c).collect())
            })
            .collect()
    }

    /// Per route, what happened since `before` (a counter that went down was reset: all of it is new).
    pub fn routes_since(&self, before: &Totals) -> Vec<RouteInterval> {
        let mut routes: BTreeMap<String, RouteInterval> = BTreeMap::new();
        for ((method, route, status), now) in &self.latency {
            let then = before.latency.get(&(method.clone(), route.clone(), status.clone()));
            let cumulative: Vec<u64> = match then {
                Some(t) if t.len() == now.len() && t.iter().zip(now).all(|(a, b)| a <= b) => {
                    now.iter().zip(t).map(|(n, t)| n - t).collect()
                }
                _ => now.clone(),
            };
            let per_bucket: Vec<u64> = cumulative
                .iter()
                .enumerate()
                .map(|(i, c)| c - if i == 0 { 0 } else { cumulative[i - 1].min(*c) })
                .collect();
            let count: u64 = per_bucket.iter().sum();
            if count == 0 {
                continue;
            }
            let entry = routes.entry(format!("{method} {route}")).or_insert_with(|| RouteInterval {
                route: format!("{method} {route}"),
                buckets: vec![0; per_bucket.len()],
                errors: 0,
            });
            for (sum, n) in entry.buckets.iter_mut().zip(&per_bucket) {
                *sum += n;
            }
            if status.starts_with('5') {
                entry.errors += count;
            }
        }
        routes.into_values().collect()
    }

    pub fn cache_since(&self, before: &Totals) -> Vec<CacheInterval> {
        self.cache
            .iter()
            .map(|(name, &(hits, misses))| {
                let (h0, m0) = before.cache.get(name).copied().unwrap_or((0, 0));
                let (hits, misses) =
                    if hits >= h0 && misses >= m0 { (hits - h0, misses - m0) } else { (hits, misses) };
                CacheInterval { name: name.clone(), hits, misses }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(entries: &[(&str, &str, &[u64])]) -> Totals {
        Totals {
            latency: entries
                .iter()
                .map(|(route, status, c)| (("GET".into(), (*route).into(), (*status).into()), c.to_vec()))
                .collect(),
            cache: BTreeMap::new(),
        }
    }

    #[test]
    fn an_interval_is_the_difference_per_bucket_summed_over_statuses() {
        let before = totals(&[("/a", "200", &[1, 2, 2]), ("/a", "500", &[0, 0, 1])]);
        let after =
            totals(&[("/a", "200", &[3, 5, 6]), ("/a", "500", &[0, 1, 3]), ("/b", "200", &[0, 0, 0])]);
        let routes = after.routes_since(&before);
        assert_eq!(routes.len(), 1, "a route without requests in the interval is left out");
        assert_eq!(routes[0].route, "GET /a");
        // 200: +2, +3, +4 cumulative → 2, 1, 1; 500: +0, +1, +2 → 0, 1, 1.
        assert_eq!(routes[0].buckets, vec![2, 2, 2]);
        assert_eq!(routes[0].errors, 2);
    }

    #[test]
    fn a_reset_counter_counts_whole() {
        let before = totals(&[("/a", "200", &[5, 5])]);
        let after = totals(&[("/a", "200", &[1, 2])]);
        assert_eq!(after.routes_since(&before)[0].buckets, vec![1, 1]);
    }
}
