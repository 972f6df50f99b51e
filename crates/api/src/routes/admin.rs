//! Platform operations (platform administrators: `system:admin` in the platform's own
//! organization): the job queue — per-queue figures, job lists, retry and cancel — and the health
//! page with the circuit breakers, and the query-result cache's counters.

use std::time::Duration;

use api_types::Problem;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use domain::OrganizationId;
use jobs::JobId;
use jobs::admin::{self, JobFilter, JobSummary, QueueStats};
use serde::{Deserialize, Serialize};
use store::{AuditRecord, TenantTx};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery, PlatformAdmin};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(retry_job))
        .routes(routes!(cancel_job))
        .routes(routes!(health))
        .routes(routes!(cache_stats))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobListParams {
    /// Only this queue.
    pub queue: Option<String>,
    /// Only this state: available, running, retrying, dead or cancelled.
    pub state: Option<String>,
    /// Only this kind (e.g. `documents.extract`).
    pub kind: Option<String>,
    /// Only jobs of this tenant.
    pub organization_id: Option<OrganizationId>,
    /// Jobs older than this id (the last id of the previous page).
    pub before: Option<i64>,
    /// 1..=500, default 50.
    pub limit: Option<u32>,
    /// Minutes of outcomes (throughput, failures) in the queue figures; 1..=1440, default 5.
    pub window_minutes: Option<u64>,
}

/// One queue now, and its outcomes over the window.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueStatsResponse {
    pub queue: String,
    /// Available and due now.
    pub ready: i64,
    /// Available but due later.
    pub scheduled: i64,
    pub running: i64,
    pub retrying: i64,
    pub dead: i64,
    pub cancelled: i64,
    /// How long the oldest due job has waited.
    pub oldest_ready_age_seconds: Option<f64>,
    pub window_seconds: u64,
    pub completed_in_window: i64,
    /// Failed attempts (retried or dead-lettered).
    pub failed_in_window: i64,
    pub dead_in_window: i64,
    /// Jobs taken back from dead workers.
    pub rescued_in_window: i64,
    pub throughput_per_second: f64,
}

impl From<QueueStats> for QueueStatsResponse {
    fn from(s: QueueStats) -> Self {
        QueueStatsResponse {
            queue: s.queue,
            ready: s.ready,
            scheduled: s.scheduled,
            running: s.running,
            retrying: s.retrying,
            dead: s.dead,
            cancelled: s.cancelled,
            oldest_ready_age_seconds: s.oldest_ready_age_seconds,
            window_seconds: s.window_seconds,
            completed_in_window: s.completed_in_window,
            failed_in_window: s.failed_in_window,
            dead_in_window: s.dead_in_window,
            rescued_in_window: s.rescued_in_window,
            throughput_per_second: s.throughput_per_second,
        }
    }
}

/// A job as operators see it (succeeded jobs are deleted, so they are not listed).
#[derive(Debug, Serialize, ToSchema)]
pub struct JobResponse {
    pub id: i64,
    pub queue: String,
    pub kind: String,
    pub organization_id: Option<OrganizationId>,
    /// available, running, retrying, dead or cancelled.
    pub state: String,
    pub priority: i16,
    pub attempt: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub unique_key: Option<String>,
    pub limit_key: Option<String>,
    /// The worker holding the lease.
    pub leased_by: Option<Uuid>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// The last failure (kept on dead letters).
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub payload: serde_json::Value,
}

impl From<JobSummary> for JobResponse {
    fn from(j: JobSummary) -> Self {
        JobResponse {
            id: j.id.0,
            queue: j.queue,
            kind: j.kind,
            organization_id: j.organization_id,
            state: j.state.to_string(),
            priority: j.priority,
            attempt: j.attempt,
            max_attempts: j.max_attempts,
            run_at: j.run_at,
            unique_key: j.unique_key,
            limit_key: j.limit_key,
            leased_by: j.leased_by,
            lease_expires_at: j.lease_expires_at,
            last_error: j.last_error,
            created_at: j.created_at,
            started_at: j.started_at,
            finished_at: j.finished_at,
            payload: j.payload,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobListResponse {
    /// Every queue with jobs or recent outcomes, whatever the filters.
    pub queues: Vec<QueueStatsResponse>,
    /// Jobs matching the filters, newest first.
    pub jobs: Vec<JobResponse>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<i64>,
}

/// A circuit breaker of this process.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakerResponse {
    pub name: String,
    /// closed, half_open or open.
    pub state: String,
    /// Calls and failures in the current window.
    pub calls: u64,
    pub failures: u64,
    /// While open: seconds until probes are let through.
    pub retry_after_seconds: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    /// `ok`, or `degraded` when a breaker is open or jobs were dead-lettered in the last 5 minutes.
    pub status: String,
    pub database: String,
    /// The circuit breakers of the process that answered (each process keeps its own).
    pub breakers: Vec<BreakerResponse>,
    pub queues: Vec<QueueStatsResponse>,
}

fn window(minutes: Option<u64>) -> ApiResult<Duration> {
    match minutes.unwrap_or(5) {
        m @ 1..=1440 => Ok(Duration::from_secs(m * 60)),
        _ => Err(ApiError::field("window_minutes", "between 1 and 1440")),
    }
}

/// The job queue: per-queue depth by state, age of the oldest ready job, throughput and failures,
/// and the jobs matching the filters (platform administrators).
#[utoipa::path(get, path = "/v1/admin/jobs", tag = "admin", security(("bearer" = [])), params(JobListParams),
    responses((status = 200, body = JobListResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn list_jobs(
    State(state): State<AppState>,
    _admin: PlatformAdmin,
    ApiQuery(q): ApiQuery<JobListParams>,
) -> ApiResult<Json<JobListResponse>> {
    let job_state =
        q.state.as_deref().map(str::parse).transpose().map_err(|_: String| {
            ApiError::field("state", "available, running, retrying, dead or cancelled")
        })?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("limit", "between 1 and 500"));
    }
    let filter = JobFilter {
        queue: q.queue,
        kind: q.kind,
        state: job_state,
        organization: q.organization_id,
        before: q.before.map(JobId),
        limit: Some(limit),
    };
    let pool = state.db.pool();
    let queues = admin::queue_stats(pool, window(q.window_minutes)?).await?;
    let jobs = admin::list_jobs(pool, &filter).await?;
    let next_before = (jobs.len() == limit as usize).then(|| jobs.last().map(|j| j.id.0)).flatten();
    Ok(Json(JobListResponse {
        queues: queues.into_iter().map(Into::into).collect(),
        jobs: jobs.into_iter().map(Into::into).collect(),
        next_before,
    }))
}

/// Run a dead, cancelled or retrying job again now, with one more attempt allowed (platform
/// administrators). Audited.
#[utoipa::path(post, path = "/v1/admin/jobs/{id}/retry", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = JobResponse), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem)))]
async fn retry_job(
    State(state): State<AppState>,
    admin: PlatformAdmin,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<JobResponse>> {
    let mut tx = TenantTx::begin_platform(&state.db, &admin).await?;
    let before = admin::get_job_on(tx.conn(), JobId(id)).await?;
    let after = admin::retry_job_on(tx.conn(), JobId(id)).await?;
    tx.audit(AuditRecord::new("job.retry", "job", id).before(&before).after(&after));
    tx.commit().await?;
    Ok(Json(after.into()))
}

/// Cancel a job that has not finished; a running job's worker can record nothing more (platform
/// administrators). Audited.
#[utoipa::path(post, path = "/v1/admin/jobs/{id}/cancel", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = JobResponse), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem)))]
async fn cancel_job(
    State(state): State<AppState>,
    admin: PlatformAdmin,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<JobResponse>> {
    let mut tx = TenantTx::begin_platform(&state.db, &admin).await?;
    let before = admin::get_job_on(tx.conn(), JobId(id)).await?;
    let after = admin::cancel_job_on(tx.conn(), JobId(id)).await?;
    tx.audit(AuditRecord::new("job.cancel", "job", id).before(&before).after(&after));
    tx.commit().await?;
    Ok(Json(after.into()))
}

/// The platform's health: database, this process's circuit breakers, and the job queues
/// (platform administrators).
#[utoipa::path(get, path = "/v1/admin/health", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = HealthResponse), (status = 403, body = Problem)))]
async fn health(State(state): State<AppState>, _admin: PlatformAdmin) -> ApiResult<Json<HealthResponse>> {
    let queues = admin::queue_stats(state.db.pool(), Duration::from_secs(300)).await?;
    let breakers: Vec<BreakerResponse> = resilience::Breakers::process()
        .snapshots()
        .into_iter()
        .map(|b| BreakerResponse {
            name: b.name,
            state: b.state.as_str().to_owned(),
            calls: b.calls,
            failures: b.failures,
            retry_after_seconds: b.retry_after.map(|d| d.as_secs_f64()),
        })
        .collect();
    let degraded = breakers.iter().any(|b| b.state == "open") || queues.iter().any(|q| q.dead_in_window > 0);
    Ok(Json(HealthResponse {
        status: if degraded { "degraded" } else { "ok" }.to_owned(),
        database: "ok".to_owned(),
        breakers,
        queues: queues.into_iter().map(Into::into).collect(),
    }))
}

/// One use of the cache (`marketplace.search`, ...) since this process started.
#[derive(Debug, Serialize, ToSchema)]
pub struct CacheUseResponse {
    pub name: String,
    /// Answered from process memory.
    pub hits_l1: u64,
    /// Answered from Redis.
    pub hits_l2: u64,
    /// Loaded from the database.
    pub misses: u64,
    /// Stale values served while a background refresh ran.
    pub stale: u64,
    pub refreshes: u64,
    /// Failed loads and failed Redis calls (a failed Redis call never fails the request).
    pub errors: u64,
    /// Reads while the use is switched off.
    pub bypassed: u64,
}

/// The Redis tier of the process that answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct CacheL2Response {
    /// The breaker is closed and the invalidation listener is subscribed.
    pub connected: bool,
    /// closed, half_open or open: while open, reads go to process memory and the database.
    pub breaker: String,
    pub subscribed: bool,
    /// Redis calls that failed or timed out.
    pub errors: u64,
    /// Redis calls skipped because the breaker was open.
    pub skipped: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CacheResponse {
    pub uses: Vec<CacheUseResponse>,
    /// Absent when the cache is in process only (no `[redis]` URL).
    pub l2: Option<CacheL2Response>,
}

/// The query-result cache of the process that answered: per-use hit, miss, stale and error counts
/// and the Redis tier's state (platform administrators).
#[utoipa::path(get, path = "/v1/admin/cache", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = CacheResponse), (status = 403, body = Problem)))]
async fn cache_stats(State(state): State<AppState>, _admin: PlatformAdmin) -> ApiResult<Json<CacheResponse>> {
    let cache = state.marketplace.cache();
    Ok(Json(CacheResponse {
        uses: cache
            .snapshot()
            .into_iter()
            .map(|u| CacheUseResponse {
                name: u.name,
                hits_l1: u.hits_l1,
                hits_l2: u.hits_l2,
                misses: u.misses,
                stale: u.stale,
                refreshes: u.refreshes,
                errors: u.errors,
                bypassed: u.bypassed,
            })
            .collect(),
        l2: cache.l2_state().map(|l2| CacheL2Response {
            connected: l2.connected,
            breaker: l2.breaker.to_owned(),
            subscribed: l2.subscribed,
            errors: l2.errors,
            skipped: l2.skipped,
        }),
    }))
}
