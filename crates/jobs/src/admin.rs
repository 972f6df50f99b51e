//! Operator functions behind `GET /v1/admin/jobs`, the retry and cancel endpoints and the
//! `countinghouse jobs` CLI, plus the depth and age gauges.
//!
//! [`retry`] and [`cancel`] are the platform administrator's use cases (the HTTP handlers and the
//! CLI call them): they take the [`PlatformAdmin`] capability, so they cannot run unchecked, and
//! record `job.retry` / `job.cancel` in the platform organization's audit log in the transaction
//! that changes the job. [`retry_job`] and [`cancel_job`] are the bare state changes.
//!
//! Counts by state scan the jobs table: it holds only unfinished, dead and cancelled jobs
//! (succeeded jobs are deleted), so this stays cheap at operator frequency. Throughput and
//! failures come from `job_stats`, per minute.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::OrganizationId;
use sqlx::{PgConnection, PgPool};
use store::{AuditRecord, Db, PlatformAdmin, TenantTx};
use uuid::Uuid;

use crate::{JobId, JobState, JobsError, metrics as m};

/// One queue's state now and its outcomes over the window asked for.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QueueStats {
    pub queue: String,
    /// Available and due now.
    pub ready: i64,
    /// Available but due later.
    pub scheduled: i64,
    pub running: i64,
    pub retrying: i64,
    pub dead: i64,
    pub cancelled: i64,
    /// How long the oldest due job (available or retrying) has waited.
    pub oldest_ready_age_seconds: Option<f64>,
    /// What the outcome counts cover: the minute buckets the window touches.
    pub window_seconds: u64,
    pub completed_in_window: i64,
    /// Failed attempts (retried or dead-lettered).
    pub failed_in_window: i64,
    pub dead_in_window: i64,
    pub rescued_in_window: i64,
    pub throughput_per_second: f64,
}

#[derive(sqlx::FromRow)]
struct DepthRow {
    queue: String,
    ready: i64,
    scheduled: i64,
    running: i64,
    retrying: i64,
    dead: i64,
    cancelled: i64,
    oldest_ready_age: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct OutcomeRow {
    queue: String,
    completed: i64,
    failed: i64,
    dead: i64,
    rescued: i64,
}

/// Per-queue depth by state, age of the oldest ready job, and outcomes over the last `window`
/// (counted in whole-minute buckets: at most a minute more than asked, never less), for every
/// queue that has jobs or recent outcomes.
pub async fn queue_stats(pool: &PgPool, window: Duration) -> Result<Vec<QueueStats>, JobsError> {
    let mut conn = pool.acquire().await?;
    queue_stats_on(&mut conn, window).await
}

pub(crate) async fn queue_stats_on(
    conn: &mut PgConnection,
    window: Duration,
) -> Result<Vec<QueueStats>, JobsError> {
    let depths: Vec<DepthRow> = sqlx::query_as(
        "select queue,
                count(*) filter (where state = 'available' and run_at <= now()) as ready,
                count(*) filter (where state = 'available' and run_at > now()) as scheduled,
                count(*) filter (where state = 'running') as running,
                count(*) filter (where state = 'retrying') as retrying,
                count(*) filter (where state = 'dead') as dead,
                count(*) filter (where state = 'cancelled') as cancelled,
                extract(epoch from now() - min(run_at) filter (
                    where state in ('available', 'retrying') and run_at <= now()))::float8 as oldest_ready_age
         from jobs group by queue",
    )
    .fetch_all(&mut *conn)
    .await?;
    let minutes = (window.as_secs() / 60).max(1);
    let outcomes: Vec<OutcomeRow> = sqlx::query_as(
        "select queue, sum(completed)::int8 as completed, sum(failed)::int8 as failed,
                sum(dead)::int8 as dead, sum(rescued)::int8 as rescued
         from job_stats
         where bucket >= date_trunc('minute', now() - $1 * interval '1 minute')
         group by queue",
    )
    .bind(i64::try_from(minutes).unwrap_or(i64::MAX))
    .fetch_all(&mut *conn)
    .await?;

    // Every minute bucket the window touches: the current one and the `minutes` before it, so an
    // outcome inside the window is never left out when it fell in the previous minute.
    let window_seconds = (minutes + 1) * 60;
    let mut stats: BTreeMap<String, QueueStats> = BTreeMap::new();
    let blank = |queue: &str| QueueStats {
        queue: queue.to_owned(),
        ready: 0,
        scheduled: 0,
        running: 0,
        retrying: 0,
        dead: 0,
        cancelled: 0,
        oldest_ready_age_seconds: None,
        window_seconds,
        completed_in_window: 0,
        failed_in_window: 0,
        dead_in_window: 0,
        rescued_in_window: 0,
        throughput_per_second: 0.0,
    };
    for d in depths {
        let s = stats.entry(d.queue.clone()).or_insert_with(|| blank(&d.queue));
        s.ready = d.ready;
        s.scheduled = d.scheduled;
        s.running = d.running;
        s.retrying = d.retrying;
        s.dead = d.dead;
        s.cancelled = d.cancelled;
        s.oldest_ready_age_seconds = d.oldest_ready_age.map(|a| a.max(0.0));
    }
    for o in outcomes {
        let s = stats.entry(o.queue.clone()).or_insert_with(|| blank(&o.queue));
        s.completed_in_window = o.completed;
        s.failed_in_window = o.failed;
        s.dead_in_window = o.dead;
        s.rescued_in_window = o.rescued;
        // The current minute is partial; dividing by the whole window understates slightly.
        s.throughput_per_second = o.completed as f64 / window_seconds as f64;
    }
    Ok(stats.into_values().collect())
}

/// Sets the depth, age and throughput gauges from `stats`.
pub fn export_gauges(stats: &[QueueStats]) {
    for s in stats {
        for (state, n) in [
            ("ready", s.ready),
            ("scheduled", s.scheduled),
            ("running", s.running),
            ("retrying", s.retrying),
            ("dead", s.dead),
            ("cancelled", s.cancelled),
        ] {
            metrics::gauge!(m::DEPTH, "queue" => s.queue.clone(), "state" => state).set(n as f64);
        }
        metrics::gauge!(m::OLDEST_READY_AGE, "queue" => s.queue.clone())
            .set(s.oldest_ready_age_seconds.unwrap_or(0.0));
        metrics::gauge!(m::THROUGHPUT, "queue" => s.queue.clone()).set(s.throughput_per_second);
    }
}

/// Filters of [`list_jobs`]; all optional. Pages go from newest to oldest: pass the last id of a
/// page as `before` for the next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    pub queue: Option<String>,
    pub kind: Option<String>,
    pub state: Option<JobState>,
    pub organization: Option<OrganizationId>,
    pub before: Option<JobId>,
    /// 1..=500, default 50.
    pub limit: Option<u32>,
}

/// A job as operators see it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JobSummary {
    pub id: JobId,
    pub queue: String,
    pub kind: String,
    pub organization_id: Option<OrganizationId>,
    pub state: JobState,
    pub priority: i16,
    pub attempt: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub unique_key: Option<String>,
    pub limit_key: Option<String>,
    pub leased_by: Option<Uuid>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub payload: serde_json::Value,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    queue: String,
    kind: String,
    organization_id: Option<Uuid>,
    state: String,
    priority: i16,
    attempt: i32,
    max_attempts: i32,
    run_at: DateTime<Utc>,
    unique_key: Option<String>,
    limit_key: Option<String>,
    leased_by: Option<Uuid>,
    lease_expires_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    payload: serde_json::Value,
}

const COLUMNS: &str = "id, queue, kind, organization_id, state, priority, attempt, max_attempts, run_at, \
     unique_key, limit_key, leased_by, lease_expires_at, last_error, created_at, started_at, finished_at, payload";

impl TryFrom<JobRow> for JobSummary {
    type Error = JobsError;
    fn try_from(r: JobRow) -> Result<Self, JobsError> {
        let state =
            r.state.parse().map_err(|e: String| JobsError::Database(sqlx::Error::Decode(e.into())))?;
        Ok(JobSummary {
            id: JobId(r.id),
            queue: r.queue,
            kind: r.kind,
            organization_id: r.organization_id.map(OrganizationId::from_uuid),
            state,
            priority: r.priority,
            attempt: r.attempt,
            max_attempts: r.max_attempts,
            run_at: r.run_at,
            unique_key: r.unique_key,
            limit_key: r.limit_key,
            leased_by: r.leased_by,
            lease_expires_at: r.lease_expires_at,
            last_error: r.last_error,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            payload: r.payload,
        })
    }
}

/// Jobs matching `filter`, newest first.
pub async fn list_jobs(pool: &PgPool, filter: &JobFilter) -> Result<Vec<JobSummary>, JobsError> {
    let rows: Vec<JobRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from jobs
         where ($1::text is null or queue = $1)
           and ($2::text is null or kind = $2)
           and ($3::text is null or state = $3)
           and ($4::uuid is null or organization_id = $4)
           and ($5::int8 is null or id < $5)
         order by id desc
         limit $6"
    )))
    .bind(filter.queue.as_deref())
    .bind(filter.kind.as_deref())
    .bind(filter.state.map(JobState::as_str))
    .bind(filter.organization.map(|o| o.as_uuid()))
    .bind(filter.before.map(|id| id.0))
    .bind(i64::from(filter.limit.unwrap_or(50).clamp(1, 500)))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(JobSummary::try_from).collect()
}

pub async fn get_job(pool: &PgPool, id: JobId) -> Result<Option<JobSummary>, JobsError> {
    get_job_on(&mut *pool.acquire().await?, id).await
}

/// [`get_job`] on a connection (or in a transaction) of the caller's.
async fn get_job_on(conn: &mut PgConnection, id: JobId) -> Result<Option<JobSummary>, JobsError> {
    let row: Option<JobRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("select {COLUMNS} from jobs where id = $1")))
            .bind(id.0)
            .fetch_optional(conn)
            .await?;
    row.map(JobSummary::try_from).transpose()
}

/// Runs a dead, cancelled or retrying job again now, with at least one more attempt allowed.
pub async fn retry_job(pool: &PgPool, id: JobId) -> Result<JobSummary, JobsError> {
    retry_job_on(&mut *pool.acquire().await?, id).await
}

/// [`retry_job`] in the caller's transaction (an operator's audit entry commits with it).
async fn retry_job_on(conn: &mut PgConnection, id: JobId) -> Result<JobSummary, JobsError> {
    let row: Result<Option<JobRow>, sqlx::Error> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "with retried as (
             update jobs set state = 'available', run_at = now(), finished_at = null,
                             max_attempts = greatest(max_attempts, attempt + 1)
             where id = $1 and state in ('dead', 'cancelled', 'retrying')
             returning *
         ), notified as (
             select pg_notify('countinghouse_jobs', queue) from retried
         )
         select {COLUMNS} from retried where (select count(*) from notified) >= 0"
    )))
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await;
    match row {
        Ok(Some(row)) => row.try_into(),
        Ok(None) => Err(wrong_state(conn, id, "retried").await),
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("jobs_unique_key") => {
            Err(JobsError::UniqueKeyTaken(id))
        }
        Err(e) => Err(e.into()),
    }
}

/// Cancels a job that has not finished. A running job's worker is stopped at its next heartbeat
/// and can record nothing (its lease is no longer valid).
pub async fn cancel_job(pool: &PgPool, id: JobId) -> Result<JobSummary, JobsError> {
    cancel_job_on(&mut *pool.acquire().await?, id).await
}

/// [`cancel_job`] in the caller's transaction.
async fn cancel_job_on(conn: &mut PgConnection, id: JobId) -> Result<JobSummary, JobsError> {
    let row: Option<JobRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update jobs set state = 'cancelled', finished_at = now(), leased_by = null, lease_expires_at = null
         where id = $1 and state in ('available', 'running', 'retrying')
         returning {COLUMNS}"
    )))
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => row.try_into(),
        None => Err(wrong_state(conn, id, "cancelled").await),
    }
}

/// A platform administrator runs job `id` again ([`retry_job`]); audited as `job.retry`.
pub async fn retry(db: &Db, admin: &PlatformAdmin, id: JobId) -> Result<JobSummary, JobsError> {
    audited(db, admin, id, "job.retry", retry_job_on).await
}

/// A platform administrator cancels job `id` ([`cancel_job`]); audited as `job.cancel`.
pub async fn cancel(db: &Db, admin: &PlatformAdmin, id: JobId) -> Result<JobSummary, JobsError> {
    audited(db, admin, id, "job.cancel", cancel_job_on).await
}

/// Runs `change` on job `id` in a transaction of the platform organization, whose audit log
/// records it with the job before and after, as `admin`'s act.
async fn audited<F>(
    db: &Db,
    admin: &PlatformAdmin,
    id: JobId,
    action: &'static str,
    change: F,
) -> Result<JobSummary, JobsError>
where
    F: AsyncFnOnce(&mut PgConnection, JobId) -> Result<JobSummary, JobsError>,
{
    let mut tx = TenantTx::begin_platform(db, admin).await?;
    let before = get_job_on(tx.conn(), id).await?;
    let after = change(tx.conn(), id).await?;
    tx.audit(AuditRecord::new(action, "job", id).before(&before).after(&after));
    tx.commit().await?;
    Ok(after)
}

async fn wrong_state(conn: &mut PgConnection, id: JobId, action: &'static str) -> JobsError {
    match get_job_on(conn, id).await {
        Ok(Some(job)) => JobsError::WrongState { id, action, state: job.state.to_string() },
        Ok(None) => JobsError::NotFound(id),
        Err(e) => e,
    }
}
