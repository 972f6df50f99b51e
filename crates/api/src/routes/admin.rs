//! Platform operations (platform administrators: `system:admin` in the platform's own
//! organization): the job queue — per-queue figures, job lists, retry and cancel — and the health
//! page with the circuit breakers, and the query-result cache's counters.

use std::time::Duration;

use api_types::Problem;
use api_types::admin::{
    BreakerResponse, CacheResponse, HealthResponse, JobListParams, JobListResponse, JobResponse,
};
use axum::Json;
use axum::extract::State;
use jobs::JobId;
use jobs::admin;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::convert::{IntoApi, job_filter};
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
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("limit", "between 1 and 500"));
    }
    let window = window(q.window_minutes)?;
    let pool = state.db.pool();
    let queues = admin::queue_stats(pool, window).await?;
    let jobs = admin::list_jobs(pool, &job_filter(q, limit)).await?;
    let next_before = (jobs.len() == limit as usize).then(|| jobs.last().map(|j| j.id.0)).flatten();
    Ok(Json(JobListResponse { queues: queues.into_api(), jobs: jobs.into_api(), next_before }))
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
    Ok(Json(admin::retry(&state.db, &admin, JobId(id)).await?.into_api()))
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
    Ok(Json(admin::cancel(&state.db, &admin, JobId(id)).await?.into_api()))
}

/// The platform's health: database, this process's circuit breakers, and the job queues
/// (platform administrators).
#[utoipa::path(get, path = "/v1/admin/health", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = HealthResponse), (status = 403, body = Problem)))]
async fn health(State(state): State<AppState>, _admin: PlatformAdmin) -> ApiResult<Json<HealthResponse>> {
    let queues = admin::queue_stats(state.db.pool(), Duration::from_secs(300)).await?;
    let breakers: Vec<BreakerResponse> = resilience::Breakers::process().snapshots().into_api();
    let degraded = breakers.iter().any(|b| b.state == "open") || queues.iter().any(|q| q.dead_in_window > 0);
    Ok(Json(HealthResponse {
        status: if degraded { "degraded" } else { "ok" }.to_owned(),
        database: "ok".to_owned(),
        breakers,
        queues: queues.into_api(),
    }))
}

/// The query-result cache of the process that answered: per-use hit, miss, stale and error counts
/// and the Redis tier's state (platform administrators).
#[utoipa::path(get, path = "/v1/admin/cache", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = CacheResponse), (status = 403, body = Problem)))]
async fn cache_stats(State(state): State<AppState>, _admin: PlatformAdmin) -> ApiResult<Json<CacheResponse>> {
    let cache = state.marketplace.cache();
    Ok(Json(CacheResponse { uses: cache.snapshot().into_api(), l2: cache.l2_state().map(IntoApi::into_api) }))
}
