//! Platform operations: the job queue (figures, lists, retry, cancel), the health page with the
//! circuit breakers, and the query-result cache's counters.

use chrono::{DateTime, Utc};
use domain::OrganizationId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Where a job is in its life (a job that succeeds is deleted, so there is no "completed").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waits for its `run_at` (new or released).
    Available,
    /// Leased by a worker.
    Running,
    /// Waits for its next attempt after a failure or a rescue.
    Retrying,
    /// Out of attempts or failed fatally; kept with its last error until retried or pruned.
    Dead,
    Cancelled,
}

/// Filters of the job list, and the window of the queue figures.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobListParams {
    /// Only this queue.
    pub queue: Option<String>,
    /// Only this state.
    pub state: Option<JobState>,
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
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

/// A job as operators see it (succeeded jobs are deleted, so they are not listed).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobResponse {
    pub id: i64,
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
    /// The worker holding the lease.
    pub leased_by: Option<Uuid>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// The last failure (kept on dead letters).
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The job's input as its kind defines it: free-form JSON (each kind has its own shape, and
    /// the queue serves kinds this API does not know).
    pub payload: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobListResponse {
    /// Every queue with jobs or recent outcomes, whatever the filters.
    pub queues: Vec<QueueStatsResponse>,
    /// Jobs matching the filters, newest first.
    pub jobs: Vec<JobResponse>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<i64>,
}

/// A circuit breaker of this process.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    /// `ok`, or `degraded` when a breaker is open or jobs were dead-lettered in the last 5 minutes.
    pub status: String,
    pub database: String,
    /// The circuit breakers of the process that answered (each process keeps its own).
    pub breakers: Vec<BreakerResponse>,
    pub queues: Vec<QueueStatsResponse>,
}

/// One use of the cache (`marketplace.search`, ...) since this process started.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CacheResponse {
    pub uses: Vec<CacheUseResponse>,
    /// Absent when the cache is in process only (no `[redis]` URL).
    pub l2: Option<CacheL2Response>,
}
