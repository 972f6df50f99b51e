//! Workers: claim, run, complete, renew, rescue, shut down.
//!
//! One [`Worker`] per process serves several queues. Its tasks:
//! - a fetcher per queue ([`fetch`]): waits for free slots (the queue's concurrency), claims up to
//!   `batch` jobs in one `jobs_claim()` call, spawns a task per job, and sleeps until a NOTIFY, the
//!   poll interval, or the moment a rate-limited key has a token again;
//! - the completer ([`complete`]): gathers finished attempts and records them in one statement per
//!   kind of outcome (batched completion is what makes the queue fast: see `bench`);
//! - the lease keeper ([`lease`]): renews the leases of running jobs, aborts handlers whose lease
//!   moved on, and rescues expired leases of dead workers;
//! - the listener ([`listen`]): LISTEN on [`crate::CHANNEL`], waking the fetcher of the queue named.
//!
//! The worker's own statements run on a small pool of their own (built from the options of the
//! pool it is given), so handlers holding connections can never starve heartbeats.

mod complete;
mod fetch;
mod lease;
mod listen;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::{AbortHandle, JoinHandle};
use uuid::Uuid;

use crate::{JobContext, JobId, Registry};

/// How one queue is served by this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    pub name: String,
    /// Jobs of this queue running at once in this process.
    pub concurrency: usize,
    /// Most jobs claimed per round trip.
    pub batch: usize,
}

impl QueueConfig {
    /// 10 at once, claimed up to 10 at a time.
    pub fn new(name: impl Into<String>) -> QueueConfig {
        QueueConfig { name: name.into(), concurrency: 10, batch: 10 }
    }

    pub fn concurrency(mut self, n: usize) -> QueueConfig {
        self.concurrency = n.max(1);
        self
    }

    pub fn batch(mut self, n: usize) -> QueueConfig {
        self.batch = n.max(1);
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkerConfig {
    /// Queues to serve; empty means every queue of the registry with [`QueueConfig::new`].
    pub queues: Vec<QueueConfig>,
    /// How long a claim holds a job without renewal.
    pub lease: Duration,
    /// How often leases are renewed (well under `lease`).
    pub heartbeat: Duration,
    /// How often this process looks for expired leases (any process may rescue any job).
    pub rescue_every: Duration,
    /// Longest sleep without a NOTIFY (delayed and retrying jobs become due silently).
    pub poll_interval: Duration,
    /// Most outcomes recorded per statement.
    pub completion_batch: usize,
}

impl Default for WorkerConfig {
    /// Lease 15 s renewed every 5 s, rescue every 5 s: a dead worker's jobs are back within 20 s.
    fn default() -> Self {
        WorkerConfig {
            queues: Vec::new(),
            lease: Duration::from_secs(15),
            heartbeat: Duration::from_secs(5),
            rescue_every: Duration::from_secs(5),
            poll_interval: Duration::from_millis(500),
            completion_batch: 500,
        }
    }
}

/// A worker, not started yet.
#[derive(Debug)]
pub struct Worker {
    pool: PgPool,
    registry: Registry,
    config: WorkerConfig,
}

/// A job this process is running.
struct Active {
    fence: i32,
    queue: String,
    ctx: JobContext,
    abort: AbortHandle,
}

/// State shared by the worker's tasks.
struct Shared {
    id: Uuid,
    /// For handlers (their own queries) — the pool the worker was given.
    pool: PgPool,
    /// For the worker's own statements.
    control: PgPool,
    registry: Registry,
    config: WorkerConfig,
    active: Mutex<HashMap<JobId, Active>>,
    /// Signalled whenever a job leaves `active`.
    job_done: Notify,
    finished: mpsc::UnboundedSender<complete::Finished>,
}

impl Shared {
    fn active(&self) -> MutexGuard<'_, HashMap<JobId, Active>> {
        // Entries are inserted and removed whole, so a poisoned map is still consistent.
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lease_ms(&self) -> i32 {
        i32::try_from(self.config.lease.as_millis()).unwrap_or(i32::MAX)
    }
}

/// A running worker.
pub struct WorkerHandle {
    shared: Arc<Shared>,
    /// Stops the fetchers (no new claims).
    stop_fetching: watch::Sender<bool>,
    /// Stops the completer, lease keeper and listener, after the last job.
    stop_all: watch::Sender<bool>,
    fetchers: Vec<JoinHandle<()>>,
    background: Vec<JoinHandle<()>>,
}

/// What a graceful shutdown did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Jobs still running when shutdown began.
    pub in_flight: usize,
    /// Of those, jobs given back (attempt not counted) because they outlived the grace period.
    pub released: usize,
}

impl Worker {
    /// A worker over `pool` (the app's pool: handlers use it through [`JobContext::pool`]).
    pub fn new(pool: PgPool, registry: Registry, config: WorkerConfig) -> Worker {
        Worker { pool, registry, config }
    }

    /// Starts the worker's tasks on the current runtime.
    pub fn start(mut self) -> WorkerHandle {
        if self.config.queues.is_empty() {
            self.config.queues = self.registry.queues().into_iter().map(QueueConfig::new).collect();
        }
        // Fetchers, completer, lease keeper and listener each hold at most one connection at a time.
        let control_connections = u32::try_from(self.config.queues.len() + 4).unwrap_or(u32::MAX);
        let control = PgPoolOptions::new()
            .max_connections(control_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy_with((*self.pool.connect_options()).clone());
        let (finished_tx, finished_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            id: Uuid::now_v7(),
            pool: self.pool,
            control,
            registry: self.registry,
            config: self.config,
            active: Mutex::new(HashMap::new()),
            job_done: Notify::new(),
            finished: finished_tx,
        });
        let (stop_fetching, fetch_rx) = watch::channel(false);
        let (stop_all, all_rx) = watch::channel(false);
        let wakeups: HashMap<String, Arc<Notify>> =
            shared.config.queues.iter().map(|q| (q.name.clone(), Arc::new(Notify::new()))).collect();
        let fetchers = shared
            .config
            .queues
            .iter()
            .map(|q| {
                let wake = wakeups.get(&q.name).cloned().unwrap_or_default();
                tokio::spawn(fetch::run(shared.clone(), q.clone(), wake, fetch_rx.clone()))
            })
            .collect();
        let background = vec![
            tokio::spawn(complete::run(shared.clone(), finished_rx, all_rx.clone())),
            tokio::spawn(lease::run_heartbeats(shared.clone(), all_rx.clone())),
            tokio::spawn(lease::run_rescues(shared.clone(), wakeups.clone(), all_rx.clone())),
            tokio::spawn(listen::run(shared.clone(), wakeups, all_rx)),
        ];
        tracing::info!(worker = %shared.id, queues = ?shared.config.queues.iter().map(|q| &q.name).collect::<Vec<_>>(), "job worker started");
        WorkerHandle { shared, stop_fetching, stop_all, fetchers, background }
    }
}

impl WorkerHandle {
    /// This process's worker id (`leased_by` of the jobs it runs).
    pub fn id(&self) -> Uuid {
        self.shared.id
    }

    /// Jobs running in this process now.
    pub fn in_flight(&self) -> usize {
        self.shared.active().len()
    }

    /// Stops claiming, lets running jobs finish for up to `grace`, then aborts the rest and gives
    /// them back without counting the attempt; records every outcome before returning.
    pub async fn shutdown(self, grace: Duration) -> ShutdownReport {
        let _ = self.stop_fetching.send(true);
        for f in self.fetchers {
            let _ = f.await;
        }
        let in_flight = self.shared.active().len();
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let done = self.shared.job_done.notified();
            if self.shared.active().is_empty() {
                break;
            }
            if tokio::time::timeout_at(deadline, done).await.is_err() {
                break;
            }
        }
        let leftovers: Vec<(JobId, i32)> = {
            let mut active = self.shared.active();
            active
                .drain()
                .map(|(id, a)| {
                    a.abort.abort();
                    (id, a.fence)
                })
                .collect()
        };
        let released = lease::release(&self.shared, &leftovers).await;
        let _ = self.stop_all.send(true);
        for task in self.background {
            let _ = task.await;
        }
        self.shared.control.close().await;
        tracing::info!(worker = %self.shared.id, in_flight, released, "job worker stopped");
        ShutdownReport { in_flight, released }
    }
}
