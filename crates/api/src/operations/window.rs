//! The last hour of readings, summed the ways the operations page shows them: per time slot (the
//! charts), per route and per cache use (the tables).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use telemetry::LATENCY_BUCKETS;
use telemetry::exposition::quantile;

use super::sample::{PoolReading, QueueDepth, Sample};

/// The readings held now, oldest first.
#[derive(Debug, Clone)]
pub struct Window {
    /// How often a reading is taken.
    pub interval: Duration,
    pub samples: Vec<Arc<Sample>>,
}

/// Latency quantiles in seconds (`None` without requests).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Quantiles {
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

impl Quantiles {
    fn of(buckets: &[u64]) -> Quantiles {
        let q = |p| quantile(LATENCY_BUCKETS, buckets, p);
        Quantiles { p50: q(0.5), p95: q(0.95), p99: q(0.99) }
    }
}

/// Consecutive readings taken together: one point of a chart.
#[derive(Debug, Clone)]
pub struct Slot {
    /// When the slot's last reading was taken.
    pub at: DateTime<Utc>,
    pub requests: u64,
    pub errors: u64,
    pub latency: Quantiles,
    pub cache_hits: u64,
    pub cache_misses: u64,
    /// The busiest reading of the pool in the slot.
    pub pool: PoolReading,
    /// The queues at the slot's last reading (empty if they could not be read).
    pub queues: Vec<QueueDepth>,
}

/// A route over the whole window.
#[derive(Debug, Clone)]
pub struct RouteFigures {
    pub route: String,
    pub requests: u64,
    pub errors: u64,
    pub latency: Quantiles,
    /// p95 per slot, as [`Window::slots`] cuts them.
    pub p95_by_slot: Vec<Option<f64>>,
}

/// A cache use over the whole window.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheFigures {
    pub name: String,
    pub hits: u64,
    pub misses: u64,
}

impl CacheFigures {
    pub fn hit_rate(&self) -> Option<f64> {
        let all = self.hits + self.misses;
        (all > 0).then(|| self.hits as f64 / all as f64)
    }
}

fn add(into: &mut Vec<u64>, buckets: &[u64]) {
    if into.len() < buckets.len() {
        into.resize(buckets.len(), 0);
    }
    for (sum, n) in into.iter_mut().zip(buckets) {
        *sum += n;
    }
}

impl Window {
    pub fn latest(&self) -> Option<&Sample> {
        self.samples.last().map(Arc::as_ref)
    }

    /// The readings cut into at most `n` slots of equal count, oldest first.
    fn chunks(&self, n: usize) -> std::slice::Chunks<'_, Arc<Sample>> {
        let per = self.samples.len().div_ceil(n.max(1)).max(1);
        self.samples.chunks(per)
    }

    /// At most `n` points for the charts.
    pub fn slots(&self, n: usize) -> Vec<Slot> {
        self.chunks(n)
            .map(|chunk| {
                let mut buckets = Vec::new();
                let (mut errors, mut cache_hits, mut cache_misses) = (0, 0, 0);
                for s in chunk {
                    for r in &s.routes {
                        add(&mut buckets, &r.buckets);
                        errors += r.errors;
                    }
                    for c in &s.cache {
                        cache_hits += c.hits;
                        cache_misses += c.misses;
                    }
                }
                let last = chunk.last().expect("chunks are never empty");
                Slot {
                    at: last.at,
                    requests: buckets.iter().sum(),
                    errors,
                    latency: Quantiles::of(&buckets),
                    cache_hits,
                    cache_misses,
                    pool: chunk.iter().map(|s| s.pool).max_by_key(PoolReading::in_use).unwrap_or_default(),
                    queues: last.queues.clone().unwrap_or_default(),
                }
            })
            .collect()
    }

    /// Every route that answered in the window, the busiest first, with its p95 per slot.
    pub fn routes(&self, n: usize) -> Vec<RouteFigures> {
        let chunks: Vec<&[Arc<Sample>]> = self.chunks(n).collect();
        // Per route: buckets over the window, errors, buckets per slot.
        type Sums = (Vec<u64>, u64, Vec<Vec<u64>>);
        let mut by_route: BTreeMap<&str, Sums> = BTreeMap::new();
        for (slot, chunk) in chunks.iter().enumerate() {
            for r in chunk.iter().flat_map(|s| &s.routes) {
                let (total, errors, per_slot) = by_route
                    .entry(r.route.as_str())
                    .or_insert_with(|| (Vec::new(), 0, vec![Vec::new(); chunks.len()]));
                add(total, &r.buckets);
                add(&mut per_slot[slot], &r.buckets);
                *errors += r.errors;
            }
        }
        let mut routes: Vec<RouteFigures> = by_route
            .into_iter()
            .map(|(route, (total, errors, per_slot))| RouteFigures {
                route: route.to_owned(),
                requests: total.iter().sum(),
                errors,
                latency: Quantiles::of(&total),
                p95_by_slot: per_slot.iter().map(|b| Quantiles::of(b).p95).collect(),
            })
            .collect();
        routes.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.route.cmp(&b.route)));
        routes
    }

    /// Every cache use's lookups over the window, the busiest first.
    pub fn cache(&self) -> Vec<CacheFigures> {
        let mut uses: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for c in self.samples.iter().flat_map(|s| &s.cache) {
            let e = uses.entry(c.name.as_str()).or_default();
            e.0 += c.hits;
            e.1 += c.misses;
        }
        let mut out: Vec<CacheFigures> = uses
            .into_iter()
            .map(|(name, (hits, misses))| CacheFigures { name: name.to_owned(), hits, misses })
            .collect();
        out.sort_by(|a, b| (b.hits + b.misses).cmp(&(a.hits + a.misses)).then_with(|| a.name.cmp(&b.name)));
        out
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::operations::sample::{CacheInterval, RouteInterval};

    fn sample(
        minute: u32,
        route_buckets: &[u64],
        errors: u64,
        hits: u64,
        misses: u64,
        in_use: u32,
    ) -> Arc<Sample> {
        let mut buckets = vec![0; LATENCY_BUCKETS.len() + 1];
        buckets[..route_buckets.len()].copy_from_slice(route_buckets);
        Arc::new(Sample {
            at: Utc.with_ymd_and_hms(2026, 1, 1, 12, minute, 0).unwrap(),
            routes: vec![RouteInterval { route: "GET /v1/clients".into(), buckets, errors }],
            cache: vec![CacheInterval { name: "marketplace.search".into(), hits, misses }],
            queues: Err("down".into()),
            breakers: vec![],
            pool: PoolReading { size: 10, idle: 10 - in_use, max: 20 },
        })
    }

    #[test]
    fn slots_and_routes_sum_the_readings_they_cover() {
        // 4 requests in the first bucket (≤ 0.5 ms), then 4 in the fifth (≤ 10 ms), one a 5xx.
        let window = Window {
            interval: Duration::from_secs(10),
            samples: vec![sample(0, &[4], 0, 3, 1, 2), sample(1, &[0, 0, 0, 0, 4], 1, 1, 3, 5)],
        };
        let slots = window.slots(1);
        assert_eq!(slots.len(), 1);
        assert_eq!((slots[0].requests, slots[0].errors), (8, 1));
        assert_eq!((slots[0].cache_hits, slots[0].cache_misses), (4, 4));
        assert_eq!(slots[0].pool.in_use(), 5, "the busiest reading");
        assert!(slots[0].queues.is_empty(), "queues that could not be read show as none");
        let p50 = slots[0].latency.p50.unwrap();
        assert!((p50 - 0.0005).abs() < 1e-9, "{p50}");
        assert!(slots[0].latency.p99.unwrap() > 0.005);

        let routes = window.routes(2);
        assert_eq!(routes.len(), 1);
        assert_eq!((routes[0].requests, routes[0].errors), (8, 1));
        assert_eq!(routes[0].p95_by_slot.len(), 2);
        assert!(routes[0].p95_by_slot[0].unwrap() < routes[0].p95_by_slot[1].unwrap());

        assert_eq!(window.cache()[0].hit_rate(), Some(0.5));
    }
}
