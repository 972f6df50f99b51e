//! The queue's benchmark scenarios, for `countinghouse bench queue`:
//! - [`throughput`]: no-op jobs enqueued in batches by concurrent producers while one worker
//!   drains them; jobs per second from the first insert to the last completion recorded.
//! - [`pickup_latency`]: single-job transactions at a constant arrival rate (open loop: each job
//!   is enqueued at its scheduled time whatever happened before), committed durably or
//!   asynchronously ([`LatencyConfig::async_commit`]); latency from the scheduled
//!   enqueue time to the handler starting, in an HDR histogram, and where it went: due → enqueue
//!   committed (as the producer saw it), committed → claimed (the claim's database clock), claimed
//!   → handler started.
//!
//! Both run in this process against the database of `options`, on the queue `bench` (emptied
//! before and after). They share the machine with PostgreSQL, as the figures in BENCHMARKS.md say.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::{
    Enqueued, Job, JobContext, JobError, JobId, JobsError, NewJob, QueueConfig, Registry, Worker,
    WorkerConfig,
};

const QUEUE: &str = "bench";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThroughputConfig {
    pub jobs: usize,
    /// Jobs per insert statement.
    pub enqueue_batch: usize,
    /// Concurrent producers.
    pub producers: usize,
    /// Jobs running at once in the worker.
    pub concurrency: usize,
    /// Jobs claimed per round trip.
    pub claim_batch: usize,
}

impl Default for ThroughputConfig {
    fn default() -> Self {
        ThroughputConfig {
            jobs: 200_000,
            enqueue_batch: 500,
            producers: 2,
            concurrency: 400,
            claim_batch: 200,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ThroughputReport {
    pub jobs: usize,
    /// First insert → last insert committed.
    pub enqueue_seconds: f64,
    /// First insert → last completion recorded (the queue empty again).
    pub total_seconds: f64,
    pub enqueued_per_second: f64,
    /// Jobs enqueued and completed per second, end to end.
    pub completed_per_second: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LatencyConfig {
    /// Jobs per second, constant.
    pub rate: f64,
    /// Measured time.
    pub duration: Duration,
    /// Time at the same rate before measuring.
    pub warmup: Duration,
    pub concurrency: usize,
    pub claim_batch: usize,
    /// The producers' transactions commit with `synchronous_commit = off` (atomic as ever, but a
    /// crash of the server can lose the last fraction of a second of them) instead of waiting for
    /// the WAL flush.
    pub async_commit: bool,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        LatencyConfig {
            rate: 1000.0,
            duration: Duration::from_secs(20),
            warmup: Duration::from_secs(3),
            concurrency: 64,
            claim_batch: 50,
            async_commit: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LatencyReport {
    pub target_rate: f64,
    pub achieved_rate: f64,
    pub jobs: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// Due → the enqueue's commit acknowledged to the producer.
    pub enqueue: Segment,
    /// Commit acknowledged → claimed (negative when the claim beat the acknowledgement: 0).
    pub to_claim: Segment,
    /// Claimed (database clock) → handler started.
    pub to_start: Segment,
}

/// One part of the pickup latency, over the measured jobs.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Segment {
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Counts completions and wakes the waiter at the target.
struct NoOp {
    done: AtomicU64,
    target: u64,
    all_done: Notify,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Empty {}

impl Job for Arc<NoOp> {
    const KIND: &'static str = "bench.noop";
    const QUEUE: &'static str = QUEUE;
    type Payload = Empty;

    async fn run(&self, _ctx: JobContext, _payload: Empty) -> Result<(), JobError> {
        if self.done.fetch_add(1, Ordering::AcqRel) + 1 >= self.target {
            self.all_done.notify_one();
        }
        Ok(())
    }
}

/// Records due → start in microseconds.
struct Probe {
    epoch: Instant,
    /// `epoch` on the wall clock, which the claim's `started_at` is read on.
    epoch_utc: chrono::DateTime<chrono::Utc>,
    /// Jobs due from here on (µs after `epoch`) are measured; set when the arrivals start.
    measure_from_us: AtomicU64,
    histogram: std::sync::Mutex<Histogram<u64>>,
    seen: AtomicU64,
    target: AtomicU64,
    all_done: Notify,
    /// Measured jobs: (id, due, claimed, started), µs after `epoch`.
    starts: std::sync::Mutex<Vec<(JobId, u64, i64, u64)>>,
    /// Every job: (id, commit acknowledged), µs after `epoch`.
    commits: std::sync::Mutex<Vec<(JobId, u64)>>,
}

impl Probe {
    fn now_us(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Due {
    due_us: u64,
}

impl Job for Arc<Probe> {
    const KIND: &'static str = "bench.latency";
    const QUEUE: &'static str = QUEUE;
    type Payload = Due;

    async fn run(&self, ctx: JobContext, payload: Due) -> Result<(), JobError> {
        let now_us = self.now_us();
        if payload.due_us >= self.measure_from_us.load(Ordering::Acquire) {
            let claimed_us = (ctx.started_at() - self.epoch_utc).num_microseconds().unwrap_or(i64::MAX);
            let mut h = self.histogram.lock().unwrap_or_else(|e| e.into_inner());
            h.saturating_record(now_us.saturating_sub(payload.due_us).max(1));
            drop(h);
            let mut starts = self.starts.lock().unwrap_or_else(|e| e.into_inner());
            starts.push((ctx.id(), payload.due_us, claimed_us, now_us));
        }
        if self.seen.fetch_add(1, Ordering::AcqRel) + 1 >= self.target.load(Ordering::Acquire) {
            self.all_done.notify_one();
        }
        Ok(())
    }
}

async fn bench_pool(options: &PgConnectOptions, connections: u32) -> Result<PgPool, JobsError> {
    let pool = PgPoolOptions::new().max_connections(connections).connect_with(options.clone()).await?;
    sqlx::query("delete from jobs where queue = $1").bind(QUEUE).execute(&pool).await?;
    Ok(pool)
}

fn worker_config(concurrency: usize, batch: usize) -> WorkerConfig {
    WorkerConfig {
        queues: vec![QueueConfig::new(QUEUE).concurrency(concurrency).batch(batch)],
        poll_interval: Duration::from_millis(100),
        ..WorkerConfig::default()
    }
}

/// Waits until no job of the bench queue is left (completions are recorded asynchronously).
async fn drained(pool: &PgPool) -> Result<(), JobsError> {
    loop {
        let left: i64 = sqlx::query_scalar("select count(*) from jobs where queue = $1")
            .bind(QUEUE)
            .fetch_one(pool)
            .await?;
        if left == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// No-op jobs per second, enqueued and completed.
pub async fn throughput(
    options: &PgConnectOptions,
    cfg: &ThroughputConfig,
) -> Result<ThroughputReport, JobsError> {
    let producers = cfg.producers.max(1);
    let pool = bench_pool(options, u32::try_from(producers + 2).unwrap_or(u32::MAX)).await?;
    let counter =
        Arc::new(NoOp { done: AtomicU64::new(0), target: cfg.jobs as u64, all_done: Notify::new() });
    let mut registry = Registry::new();
    registry.register(counter.clone());
    let worker = Worker::new(pool.clone(), registry, worker_config(cfg.concurrency, cfg.claim_batch)).start();

    let started = Instant::now();
    let per_producer = cfg.jobs.div_ceil(producers);
    let mut handles = Vec::new();
    for p in 0..producers {
        let n = per_producer.min(cfg.jobs.saturating_sub(p * per_producer));
        let (pool, batch) = (pool.clone(), cfg.enqueue_batch.max(1));
        handles.push(tokio::spawn(async move {
            let mut conn = pool.acquire().await?;
            let mut left = n;
            while left > 0 {
                let take = left.min(batch);
                let jobs = (0..take).map(|_| NewJob::<Arc<NoOp>>::new(Empty {})).collect();
                crate::enqueue_many(&mut conn, jobs).await?;
                left -= take;
            }
            Ok::<_, JobsError>(())
        }));
    }
    for h in handles {
        h.await.map_err(|e| JobsError::Database(sqlx::Error::Protocol(format!("producer task: {e}"))))??;
    }
    let enqueue_seconds = started.elapsed().as_secs_f64();
    if cfg.jobs > 0 {
        let done = counter.all_done.notified();
        if counter.done.load(Ordering::Acquire) < cfg.jobs as u64 {
            done.await;
        }
    }
    drained(&pool).await?;
    let total_seconds = started.elapsed().as_secs_f64();
    worker.shutdown(Duration::from_secs(5)).await;
    pool.close().await;
    Ok(ThroughputReport {
        jobs: cfg.jobs,
        enqueue_seconds,
        total_seconds,
        enqueued_per_second: cfg.jobs as f64 / enqueue_seconds,
        completed_per_second: cfg.jobs as f64 / total_seconds,
    })
}

/// Pickup latency (scheduled enqueue → handler start) at a constant arrival rate.
pub async fn pickup_latency(
    options: &PgConnectOptions,
    cfg: &LatencyConfig,
) -> Result<LatencyReport, JobsError> {
    let pool = bench_pool(options, 4).await?;
    let producer_options = if cfg.async_commit {
        options.clone().options([("synchronous_commit", "off")])
    } else {
        options.clone()
    };
    let producer_pool = PgPoolOptions::new().max_connections(24).connect_with(producer_options).await?;
    let interval = Duration::from_secs_f64(1.0 / cfg.rate.max(1.0));
    let warmup_jobs = (cfg.warmup.as_secs_f64() * cfg.rate) as u64;
    let measured_jobs = (cfg.duration.as_secs_f64() * cfg.rate) as u64;
    let total = warmup_jobs + measured_jobs;
    let probe = Arc::new(Probe {
        epoch: Instant::now(),
        epoch_utc: chrono::Utc::now(),
        measure_from_us: AtomicU64::new(u64::MAX),
        histogram: std::sync::Mutex::new(
            Histogram::new_with_bounds(1, 60_000_000, 3)
                .map_err(|e| JobsError::Database(sqlx::Error::Protocol(e.to_string())))?,
        ),
        seen: AtomicU64::new(0),
        target: AtomicU64::new(total),
        all_done: Notify::new(),
        starts: std::sync::Mutex::new(Vec::new()),
        commits: std::sync::Mutex::new(Vec::new()),
    });
    let mut registry = Registry::new();
    registry.register(probe.clone());
    let worker = Worker::new(pool.clone(), registry, worker_config(cfg.concurrency, cfg.claim_batch)).start();
    // Let the worker connect and LISTEN before the clock starts.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let epoch = Instant::now();
    let start_us = u64::try_from(epoch.duration_since(probe.epoch).as_micros()).unwrap_or(0);
    let warmup_us =
        u64::try_from((interval * u32::try_from(warmup_jobs).unwrap_or(u32::MAX)).as_micros()).unwrap_or(0);
    probe.measure_from_us.store(start_us.saturating_add(warmup_us), Ordering::Release);
    let mut producers = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut measured_from = None;
    for i in 0..total {
        let due = epoch + interval.mul_f64(i as f64);
        if i == warmup_jobs {
            measured_from = Some(due);
        }
        tokio::time::sleep_until(due).await;
        let due_us = start_us + u64::try_from(due.duration_since(epoch).as_micros()).unwrap_or(0);
        let (pool, probe) = (producer_pool.clone(), probe.clone());
        producers.push(tokio::spawn(async move {
            let mut conn = pool.acquire().await?;
            if let Enqueued::New(id) =
                crate::enqueue(&mut conn, NewJob::<Arc<Probe>>::new(Due { due_us })).await?
            {
                let at = probe.now_us();
                probe.commits.lock().unwrap_or_else(|e| e.into_inner()).push((id, at));
            }
            Ok::<_, JobsError>(())
        }));
    }
    let measured_span = measured_from.map_or(cfg.duration, |t| t.elapsed());
    for p in producers {
        p.await.map_err(|e| JobsError::Database(sqlx::Error::Protocol(format!("producer task: {e}"))))??;
    }
    let done = probe.all_done.notified();
    if probe.seen.load(Ordering::Acquire) < total {
        done.await;
    }
    worker.shutdown(Duration::from_secs(5)).await;
    drained(&pool).await?;
    producer_pool.close().await;
    pool.close().await;

    let h = probe.histogram.lock().unwrap_or_else(|e| e.into_inner());
    let ms = |us: u64| us as f64 / 1000.0;
    let (enqueue, to_claim, to_start) = segments(&probe)?;
    Ok(LatencyReport {
        target_rate: cfg.rate,
        achieved_rate: h.len() as f64 / measured_span.as_secs_f64(),
        jobs: h.len(),
        p50_ms: ms(h.value_at_quantile(0.50)),
        p90_ms: ms(h.value_at_quantile(0.90)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        p999_ms: ms(h.value_at_quantile(0.999)),
        max_ms: ms(h.max()),
        enqueue,
        to_claim,
        to_start,
    })
}

/// The measured jobs' latency split at the commit and the claim.
fn segments(probe: &Probe) -> Result<(Segment, Segment, Segment), JobsError> {
    let commits: std::collections::HashMap<JobId, u64> =
        probe.commits.lock().unwrap_or_else(|e| e.into_inner()).iter().copied().collect();
    let histogram = || {
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)
            .map_err(|e| JobsError::Database(sqlx::Error::Protocol(e.to_string())))
    };
    let (mut enqueue, mut to_claim, mut to_start) = (histogram()?, histogram()?, histogram()?);
    let at_least_1 = |us: i64| u64::try_from(us).unwrap_or(0).max(1);
    for &(id, due, claimed, started) in probe.starts.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let Some(&committed) = commits.get(&id) else { continue };
        let [due, committed, started] =
            [due, committed, started].map(|t| i64::try_from(t).unwrap_or(i64::MAX));
        enqueue.saturating_record(at_least_1(committed - due));
        to_claim.saturating_record(at_least_1(claimed - committed));
        to_start.saturating_record(at_least_1(started - claimed));
    }
    let segment = |h: &Histogram<u64>| Segment {
        p50_ms: h.value_at_quantile(0.50) as f64 / 1000.0,
        p99_ms: h.value_at_quantile(0.99) as f64 / 1000.0,
    };
    Ok((segment(&enqueue), segment(&to_claim), segment(&to_start)))
}
