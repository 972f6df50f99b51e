//! The durable job queue on PostgreSQL: documents, QuickBooks sync, workflows, dashboards and
//! notifications run on it.
//!
//! # Layout
//! - [`Job`]: a kind of job — its name, queue, priority, attempts, timeout, backoff, typed payload,
//!   optional [`Limit`] — and its handler. [`Registry`] maps kinds to handlers for the workers.
//! - [`enqueue`] / [`enqueue_many`]: insert jobs **in the caller's transaction** (pass
//!   `tenant_tx.conn()`), so a job exists if and only if the business write committed. Unique
//!   keys, delays, priorities, tenant ([`NewJob`]).
//! - [`Worker`]: claims batches with `FOR UPDATE SKIP LOCKED` through `jobs_claim()`, runs them
//!   with per-queue concurrency and per-kind timeouts, completes them in batches, wakes on
//!   LISTEN/NOTIFY with polling as the fallback, renews leases by heartbeat, rescues the jobs of
//!   dead workers, and shuts down gracefully (finish, or release without counting the attempt).
//! - [`JobContext`]: what a handler gets — the job's identity and fencing token, completion in the
//!   handler's own transaction ([`JobContext::complete_in`], exactly-once effects), and step
//!   checkpoints ([`JobContext::step`]).
//! - [`scheduler`]: cron schedules run by one leader (advisory lock), missed runs caught up once.
//! - [`admin`]: operator functions — per-queue stats, job lists, retry, cancel — and gauges;
//!   [`admin::retry`] and [`admin::cancel`] are the platform administrator's audited use cases.
//! - [`bench`]: the `countinghouse bench queue` scenarios (throughput, pickup latency).
//!
//! # Guarantees
//! - **At least once**, and **exactly once for effects written with [`JobContext::complete_in`]**:
//!   every write a worker makes names the job's fencing token (`fence`, bumped by every claim), so
//!   a worker that lost its lease — killed, frozen by SIGSTOP, cut off — can neither complete, fail
//!   nor extend the job once it was rescued or re-leased.
//! - **Rescue within 30 s** with the defaults: leases last 15 s and are renewed every 5 s; every
//!   worker looks for expired leases every 5 s, so a dead worker's job is taken back within
//!   ≤ 20 s and runs again 1 s later (2 s, 4 s … after repeated rescues of the same job, so a
//!   job that kills its workers cannot take them all down at once). A slow job is not an orphan:
//!   its lease is renewed for as long as its worker lives, however long the job's own timeout.
//! - **Limits per key, global** across workers and processes: token-bucket rate and max-in-flight,
//!   enforced inside the claim under the key's row lock in `job_limits` (PostgreSQL only, no Redis
//!   needed). See [`Limit`].
//! - **Unique keys** by a partial unique index over unfinished states, with `ON CONFLICT DO
//!   NOTHING`: correct under concurrent transactions and within one batch insert.
//!
//! Tables and functions: `migrations/0010_jobs.sql`. The queue is global infrastructure (no
//! row-level security); a job's tenant is its `organization_id`, which handlers use to open a
//! `TenantTx`.

pub mod admin;
pub mod bench;
mod context;
mod enqueue;
mod error;
mod job;
mod metrics;
mod registry;
pub mod scheduler;
mod worker;

pub use context::JobContext;
pub use enqueue::{Enqueued, NewJob, RawJob, enqueue, enqueue_many, enqueue_raw};
pub use error::{JobError, JobsError, ResultExt};
pub use job::{DEFAULT_BACKOFF, DEFAULT_QUEUE, Job, JobId, JobState, Limit};
pub use registry::Registry;
pub use worker::{QueueConfig, ShutdownReport, Worker, WorkerConfig, WorkerHandle};

/// The NOTIFY channel enqueues and rescues signal on; the payload is the queue name.
pub const CHANNEL: &str = "countinghouse_jobs";
