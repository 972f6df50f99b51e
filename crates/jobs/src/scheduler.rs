//! Recurring jobs from cron expressions, run by exactly one leader.
//!
//! Schedules are defined in code ([`Schedule::new`]) and written to `job_schedules` by
//! [`Scheduler::start`] (the code is the truth: rows of schedules no longer defined are deleted).
//! Every process may run a scheduler; one becomes leader by taking a PostgreSQL session advisory
//! lock on a connection of its own, and keeps it for as long as that connection lives (a
//! crashed leader's lock goes with its session, and another process takes over within
//! `leader_retry`). The leader ticks every `tick`: each due schedule enqueues one job and moves
//! to its next occurrence in one transaction, its row locked, with a unique key per occurrence —
//! so even two leaders (a split second during failover) cannot run an occurrence twice.
//!
//! **Missed runs** (no scheduler ran at the time, or the leader was late): the schedule runs
//! **once** to catch up — for the latest occurrence missed — and the other missed occurrences are
//! counted in `job_schedules.skipped_runs`, never replayed. A nightly sync that missed three
//! nights runs once in the morning, not three times at once.
//!
//! The leader also does the queue's housekeeping every `maintenance_every`: prunes outcome
//! counters, cancelled and dead jobs past their retention and orphaned checkpoints, and sets the
//! depth gauges. Advisory locks need a session: point schedulers at PostgreSQL directly, not
//! through a transaction-mode pooler.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use croner::Cron;
use sqlx::{Acquire, PgConnection, PgPool};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{Job, JobId, JobsError, RawJob, admin};

/// The advisory lock the leader holds ("jobsched").
const LEADER_LOCK: i64 = 0x6a6f_6273_6368_6564;

/// Missed occurrences counted one by one up to this many, then the count saturates.
const MAX_COUNTED_MISSES: u64 = 100_000;

/// One recurring job.
#[derive(Debug, Clone)]
pub struct Schedule {
    name: String,
    cron: Cron,
    expression: String,
    job: RawJob,
}

impl Schedule {
    /// Runs a job of kind `J` with `payload` at every occurrence of `cron` (UTC; 5 fields, or 6
    /// with seconds first, as croner parses them: `0 2 * * *` is 02:00 every day).
    pub fn new<J: Job>(
        name: impl Into<String>,
        cron: &str,
        payload: J::Payload,
    ) -> Result<Schedule, JobsError> {
        let parsed = Cron::from_str(cron)
            .map_err(|e| JobsError::InvalidCron { expression: cron.to_owned(), reason: e.to_string() })?;
        let limit = J::limit(&payload);
        Ok(Schedule {
            name: name.into(),
            cron: parsed,
            expression: cron.to_owned(),
            job: RawJob {
                kind: J::KIND.to_owned(),
                queue: J::QUEUE.to_owned(),
                payload: serde_json::to_value(&payload)?,
                priority: J::PRIORITY,
                max_attempts: J::MAX_ATTEMPTS,
                run_at: None,
                unique_key: None,
                organization: None,
                limit,
            },
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The first occurrence strictly after `t`.
    fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&t, false).ok()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerConfig {
    pub tick: Duration,
    /// How often a follower tries to become leader.
    pub leader_retry: Duration,
    pub maintenance_every: Duration,
    /// Outcome counters older than this are deleted.
    pub stats_retention: Duration,
    pub cancelled_retention: Duration,
    pub dead_retention: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            tick: Duration::from_secs(1),
            leader_retry: Duration::from_secs(5),
            maintenance_every: Duration::from_secs(60),
            stats_retention: Duration::from_secs(7 * 86_400),
            cancelled_retention: Duration::from_secs(7 * 86_400),
            dead_retention: Duration::from_secs(30 * 86_400),
        }
    }
}

/// The scheduler of one process.
#[derive(Debug)]
pub struct Scheduler {
    pool: PgPool,
    schedules: Vec<Schedule>,
    config: SchedulerConfig,
}

/// A running scheduler.
pub struct SchedulerHandle {
    status: Arc<Status>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

#[derive(Debug, Default)]
struct Status {
    leader: AtomicBool,
    runs: AtomicU64,
}

/// What one tick enqueued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledRun {
    pub schedule: String,
    /// The occurrence run (the latest one due).
    pub occurrence: DateTime<Utc>,
    /// None when the occurrence's job already existed (another leader ran it).
    pub job: Option<JobId>,
    /// Earlier occurrences missed and not run.
    pub skipped: u64,
}

impl Scheduler {
    pub fn new(pool: PgPool, schedules: Vec<Schedule>, config: SchedulerConfig) -> Scheduler {
        Scheduler { pool, schedules, config }
    }

    /// Writes the schedules to the database, then runs the leader loop in the background.
    pub async fn start(self) -> Result<SchedulerHandle, JobsError> {
        sync(&self.pool, &self.schedules).await?;
        let status = Arc::new(Status::default());
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(lead(self, status.clone(), stop_rx));
        Ok(SchedulerHandle { status, stop, task })
    }
}

impl SchedulerHandle {
    /// Whether this process holds the leader lock now.
    pub fn is_leader(&self) -> bool {
        self.status.leader.load(Ordering::Acquire)
    }

    /// Occurrences this process has enqueued.
    pub fn runs(&self) -> u64 {
        self.status.runs.load(Ordering::Acquire)
    }

    /// Stops; the leader lock is released with its connection.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Upserts the schedules; a schedule whose cron, job or payload changed is rescheduled from now.
pub async fn sync(pool: &PgPool, schedules: &[Schedule]) -> Result<(), JobsError> {
    let now = Utc::now();
    let mut tx = pool.begin().await?;
    for s in schedules {
        let next = s.next_after(now).ok_or_else(|| JobsError::InvalidCron {
            expression: s.expression.clone(),
            reason: "it has no future occurrence".to_owned(),
        })?;
        sqlx::query(
            "insert into job_schedules as s (name, cron, kind, queue, payload, priority, max_attempts, next_run_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8)
             on conflict (name) do update set
                 cron = excluded.cron, kind = excluded.kind, queue = excluded.queue, payload = excluded.payload,
                 priority = excluded.priority, max_attempts = excluded.max_attempts,
                 next_run_at = excluded.next_run_at, updated_at = now()
             where (s.cron, s.kind, s.queue, s.payload, s.priority, s.max_attempts)
                   is distinct from (excluded.cron, excluded.kind, excluded.queue, excluded.payload,
                                     excluded.priority, excluded.max_attempts)",
        )
        .bind(&s.name)
        .bind(&s.expression)
        .bind(&s.job.kind)
        .bind(&s.job.queue)
        .bind(&s.job.payload)
        .bind(s.job.priority)
        .bind(s.job.max_attempts)
        .bind(next)
        .execute(&mut *tx)
        .await?;
    }
    let names: Vec<&str> = schedules.iter().map(|s| s.name.as_str()).collect();
    sqlx::query("delete from job_schedules where name <> all($1)").bind(&names).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Enqueues the due occurrences of `schedules` as of `now` (the leader's tick; public so tests
/// and tools can run a tick by hand). Each schedule is handled in its own transaction on `conn`.
pub async fn run_due(
    conn: &mut PgConnection,
    schedules: &[Schedule],
    now: DateTime<Utc>,
) -> Result<Vec<ScheduledRun>, JobsError> {
    let mut runs = Vec::new();
    for s in schedules {
        let mut tx = conn.begin().await?;
        let due: Option<(DateTime<Utc>,)> = sqlx::query_as(
            "select next_run_at from job_schedules where name = $1 and next_run_at <= $2 for update skip locked",
        )
        .bind(&s.name)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((due_at,)) = due else { continue };
        // The latest occurrence at or before now is run; those between it and due_at are skipped.
        let mut occurrence = due_at;
        let mut skipped = 0u64;
        while let Some(next) = s.next_after(occurrence).filter(|n| *n <= now) {
            occurrence = next;
            skipped += 1;
            if skipped >= MAX_COUNTED_MISSES {
                occurrence = s.cron.find_previous_occurrence(&now, true).unwrap_or(occurrence);
                break;
            }
        }
        let next = s.next_after(now.max(occurrence)).ok_or_else(|| JobsError::InvalidCron {
            expression: s.expression.clone(),
            reason: "it has no future occurrence".to_owned(),
        })?;
        let mut job = s.job.clone();
        job.unique_key = Some(format!("schedule:{}:{}", s.name, occurrence.to_rfc3339()));
        let id = crate::enqueue_raw(&mut tx, vec![job]).await?.first().copied();
        sqlx::query(
            "update job_schedules set next_run_at = $2, last_run_at = $3, last_job_id = coalesce($4, last_job_id),
                                      skipped_runs = skipped_runs + $5, updated_at = now()
             where name = $1",
        )
        .bind(&s.name)
        .bind(next)
        .bind(occurrence)
        .bind(id.map(|i| i.0))
        .bind(i64::try_from(skipped).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if skipped > 0 {
            tracing::warn!(schedule = %s.name, skipped, "missed schedule occurrences; ran the latest once");
        }
        runs.push(ScheduledRun { schedule: s.name.clone(), occurrence, job: id, skipped });
    }
    Ok(runs)
}

async fn lead(scheduler: Scheduler, status: Arc<Status>, mut stop: watch::Receiver<bool>) {
    loop {
        match try_lead(&scheduler, &status, &mut stop).await {
            Ok(Stopped::Yes) => return,
            Ok(Stopped::No) => {}
            Err(error) => tracing::warn!(error = %error, "scheduler leadership lost"),
        }
        status.leader.store(false, Ordering::Release);
        tokio::select! {
            _ = tokio::time::sleep(scheduler.config.leader_retry) => {}
            _ = stop.changed() => return,
        }
    }
}

enum Stopped {
    Yes,
    No,
}

/// Becomes leader if the lock is free and leads until stopped or the connection fails.
async fn try_lead(
    scheduler: &Scheduler,
    status: &Status,
    stop: &mut watch::Receiver<bool>,
) -> Result<Stopped, JobsError> {
    // A connection of its own: the session lock must not go back to the pool with it.
    let mut conn = scheduler.pool.acquire().await?.detach();
    let leader: bool =
        sqlx::query_scalar("select pg_try_advisory_lock($1)").bind(LEADER_LOCK).fetch_one(&mut conn).await?;
    if !leader {
        return Ok(Stopped::No);
    }
    status.leader.store(true, Ordering::Release);
    tracing::info!("this process is the job scheduler leader");
    let mut last_maintenance: Option<tokio::time::Instant> = None;
    loop {
        let runs = run_due(&mut conn, &scheduler.schedules, Utc::now()).await?;
        status.runs.fetch_add(runs.iter().filter(|r| r.job.is_some()).count() as u64, Ordering::AcqRel);
        if last_maintenance.is_none_or(|t| t.elapsed() >= scheduler.config.maintenance_every) {
            maintain(&mut conn, &scheduler.config).await?;
            last_maintenance = Some(tokio::time::Instant::now());
        }
        tokio::select! {
            _ = tokio::time::sleep(scheduler.config.tick) => {}
            _ = stop.changed() => return Ok(Stopped::Yes),
        }
    }
}

/// Housekeeping: retention and orphans, then the depth gauges.
async fn maintain(conn: &mut PgConnection, config: &SchedulerConfig) -> Result<(), JobsError> {
    let secs = |d: Duration| d.as_secs_f64();
    sqlx::query("delete from job_stats where bucket < now() - $1 * interval '1 second'")
        .bind(secs(config.stats_retention))
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "delete from jobs where (state = 'cancelled' and finished_at < now() - $1 * interval '1 second')
                             or (state = 'dead' and finished_at < now() - $2 * interval '1 second')",
    )
    .bind(secs(config.cancelled_retention))
    .bind(secs(config.dead_retention))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "delete from job_checkpoints c where not exists (select 1 from jobs j where j.id = c.job_id)",
    )
    .execute(&mut *conn)
    .await?;
    let stats = admin::queue_stats_on(conn, Duration::from_secs(300)).await?;
    admin::export_gauges(&stats);
    Ok(())
}
