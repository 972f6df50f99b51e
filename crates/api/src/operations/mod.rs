//! The server's own figures over the last hour, for the console's operations page: per-route
//! latency and errors (read back from this process's Prometheus recorder, the numbers `/metrics`
//! serves), cache hits and misses, job queue depths and ages, circuit breakers and the database
//! pool — read every [`SAMPLE_INTERVAL`] by [`Operations::spawn_sampler`] into a ring of one hour.
//!
//! # Why by hand
//! Prometheus keeps history, but a deployment may have none, and the page must work without one.
//! No crate fits the job: the exporter keeps only cumulative totals (no windows), the `metrics-util`
//! summaries are sketches of all time, and ring-buffer crates add nothing over `VecDeque` with a
//! bound. What is here is small: a bounded `VecDeque` of readings, each the difference of two
//! cumulative ones, and quantiles from bucket counts as `histogram_quantile` computes them.
//!
//! The figures are this process's (a fleet's other instances keep their own); the queues are the
//! database's, so every instance shows the same.

mod sample;
mod window;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use metrics_exporter_prometheus::PrometheusHandle;
use store::{Db, PlatformAdmin};
use tokio::task::JoinHandle;

use sample::Totals;
pub use sample::{BreakerReading, CacheInterval, PoolReading, QueueDepth, RouteInterval, Sample};
pub use window::{CacheFigures, Quantiles, RouteFigures, Slot, Window};

/// How often the sampler reads the figures in a deployment.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(10);
/// How far back the readings go.
pub const HISTORY: Duration = Duration::from_secs(3600);
/// The histogram `middleware::observe` records.
const LATENCY_METRIC: &str = "http_request_duration_seconds";

/// The readings of the last hour (cheap to clone: one `Arc`).
#[derive(Debug, Clone)]
pub struct Operations {
    interval: Duration,
    ring: Arc<Mutex<Ring>>,
}

#[derive(Debug, Default)]
struct Ring {
    samples: VecDeque<Arc<Sample>>,
    /// The cumulative figures of the last reading, which the next is the difference from.
    last_totals: Option<Totals>,
}

impl Operations {
    /// A sampler reading every `interval` (tests read more often than [`SAMPLE_INTERVAL`]).
    pub fn new(interval: Duration) -> Operations {
        Operations { interval, ring: Arc::default() }
    }

    fn capacity(&self) -> usize {
        (HISTORY.as_secs_f64() / self.interval.as_secs_f64().max(0.001)).ceil() as usize
    }

    /// The readings held now, for a platform administrator.
    pub fn window(&self, _admin: &PlatformAdmin) -> Window {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        Window { interval: self.interval, samples: ring.samples.iter().cloned().collect() }
    }

    /// Keeps a reading made of `totals` and the figures read as they stand.
    fn push(&self, totals: Totals, now: impl FnOnce(&Totals, &Totals) -> Sample) {
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        let before = ring.last_totals.take().unwrap_or_else(|| totals.clone());
        ring.samples.push_back(Arc::new(now(&totals, &before)));
        while ring.samples.len() > self.capacity() {
            ring.samples.pop_front();
        }
        ring.last_totals = Some(totals);
    }
}

/// Where the sampler reads its figures.
pub struct Sources {
    pub db: Db,
    pub metrics: PrometheusHandle,
    /// The query-result cache whose counters are read.
    pub cache: cache::Cache,
}

impl Operations {
    /// Reads the figures every interval until aborted (the first reading is the baseline of the
    /// next, so its traffic is empty).
    pub fn spawn_sampler(&self, sources: Sources) -> JoinHandle<()> {
        let ops = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(ops.interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                ops.read(&sources).await;
            }
        })
    }

    async fn read(&self, sources: &Sources) {
        let queues = jobs::admin::queue_stats(sources.db.pool(), Duration::from_secs(60))
            .await
            .map(|stats| {
                stats
                    .into_iter()
                    .map(|q| QueueDepth {
                        queue: q.queue,
                        ready: q.ready,
                        running: q.running,
                        retrying: q.retrying,
                        scheduled: q.scheduled,
                        dead: q.dead,
                        oldest_ready_age_seconds: q.oldest_ready_age_seconds,
                    })
                    .collect()
            })
            .map_err(|e| {
                tracing::warn!(error = %e, "the operations sampler could not read the job queues");
                e.to_string()
            });
        let latency = telemetry::exposition::histograms(&sources.metrics.render(), LATENCY_METRIC);
        let cache = sources
            .cache
            .snapshot()
            .into_iter()
            .map(|u| (u.name, (u.hits_l1 + u.hits_l2 + u.stale, u.misses)))
            .collect();
        let totals = Totals { latency: Totals::from_histograms(&latency), cache };
        let breakers = resilience::Breakers::process()
            .snapshots()
            .into_iter()
            .map(|b| BreakerReading {
                name: b.name,
                state: b.state.as_str(),
                failures: b.failures,
                calls: b.calls,
            })
            .collect();
        let (size, idle) = sources.db.pool_stats();
        let pool = PoolReading {
            size,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
            max: sources.db.pool().options().get_max_connections(),
        };
        self.push(totals, |now, before| Sample {
            at: Utc::now(),
            routes: now.routes_since(before),
            cache: now.cache_since(before),
            queues,
            breakers,
            pool,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_one_hour_and_the_first_reading_is_a_baseline() {
        let ops = Operations::new(Duration::from_secs(600));
        assert_eq!(ops.capacity(), 6);
        let mut totals = Totals::default();
        for i in 0..8u64 {
            totals.latency.insert(("GET".into(), "/a".into(), "200".into()), vec![i, i]);
            ops.push(totals.clone(), |now, before| Sample {
                at: Utc::now(),
                routes: now.routes_since(before),
                cache: vec![],
                queues: Ok(vec![]),
                breakers: vec![],
                pool: PoolReading::default(),
            });
        }
        let ring = ops.ring.lock().unwrap();
        assert_eq!(ring.samples.len(), 6);
        // Each reading after the first saw one more request.
        assert!(ring.samples.iter().all(|s| s.routes.len() == 1 && s.routes[0].requests() == 1));
    }
}
