//! Recurring schedules of a client's workflow runs, and bulk starts of a template for many clients.

use chrono::{DateTime, NaiveDate, Utc};
use domain::workflow::recurrence::{BulkStatus, PeriodStatus};
use domain::{ClientId, EngagementId, WorkflowBulkId, WorkflowRunId, WorkflowScheduleId, WorkflowTemplateId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::date;

fn first_business_day() -> u8 {
    1
}

/// A client's recurring schedule: `template_id` started at every occurrence of `cron` in the firm's
/// time zone (the period start), each run due on the `due_business_day`th business day from it.
/// The monthly close due on the 5th business day: `0 0 1 * *` with `due_business_day` 5; quarterly
/// estimates due the 15th of the quarter's first month: `0 0 15 1,4,6,9 *` with 1.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    pub template_id: WorkflowTemplateId,
    pub engagement_id: Option<EngagementId>,
    /// 5 fields (minute hour day-of-month month day-of-week), evaluated in the firm's time zone; at
    /// most one occurrence a day.
    #[schema(example = "0 0 1 * *")]
    pub cron: String,
    /// 1–60: the run is due on this business day counted from the period start (1 = the first
    /// business day on or after it). Default 1.
    #[serde(default = "first_business_day")]
    pub due_business_day: u8,
}

/// One upcoming period: when it starts and when its run will be due.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Occurrence {
    pub starts_at: DateTime<Utc>,
    /// The start in the firm's time zone, e.g. `2027-03-01 00:00 EST`.
    pub local: String,
    pub due_date: NaiveDate,
}

/// A period the schedule reached.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PeriodResponse {
    pub period_start: DateTime<Utc>,
    /// `missed`: the scheduler was down past it; start it with `…/periods/start`.
    pub status: PeriodStatus,
    pub run_id: Option<WorkflowRunId>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScheduleResponse {
    pub id: WorkflowScheduleId,
    pub client_id: ClientId,
    pub engagement_id: Option<EngagementId>,
    pub template_id: WorkflowTemplateId,
    pub template_name: String,
    pub cron: String,
    pub time_zone: String,
    pub due_business_day: u8,
    pub paused: bool,
    /// The next three periods (none while paused).
    pub next: Vec<Occurrence>,
    /// Missed periods, oldest first: never started unless asked.
    pub missed: Vec<PeriodResponse>,
    /// The latest started periods, newest first.
    pub recent: Vec<PeriodResponse>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseScheduleRequest {
    pub paused: bool,
}

/// Starts one missed period of a schedule.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartPeriodRequest {
    pub period_start: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PreviewParams {
    pub cron: String,
    pub due_business_day: Option<u8>,
}

/// What a cron expression would do in the firm's time zone.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SchedulePreview {
    pub time_zone: String,
    pub next: Vec<Occurrence>,
}

/// Starts a template for many clients, as a job.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkStartRequest {
    pub template_id: WorkflowTemplateId,
    /// Up to 1,000 clients; or none with `all_active`.
    #[serde(default)]
    pub client_ids: Vec<ClientId>,
    /// Every active client you can see (up to 1,000) instead of a list.
    #[serde(default)]
    pub all_active: bool,
    #[serde(deserialize_with = "date::required")]
    pub due_date: NaiveDate,
    /// Default: the template's name.
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BulkFailure {
    pub client_id: ClientId,
    pub client_name: Option<String>,
    pub error: String,
}

/// A bulk start and its progress.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BulkStartResponse {
    pub id: WorkflowBulkId,
    pub template_id: WorkflowTemplateId,
    pub status: BulkStatus,
    pub due_date: NaiveDate,
    pub total: u32,
    pub started: u32,
    pub failed: u32,
    /// Percent of clients settled (started or failed).
    pub progress: u8,
    /// The first 100 failures, in request order.
    pub failures: Vec<BulkFailure>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}
