//! The firm's holidays, a run's reminders and the stuck work.

use chrono::{DateTime, NaiveDate, Utc};
use domain::workflow::StepStatus;
use domain::workflow::reminders::ReminderKind;
use domain::{ClientId, WorkflowRunId, WorkflowStepId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::date;

/// A day the firm is closed: due dates are never on it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayRequest {
    #[serde(deserialize_with = "date::required")]
    pub date: NaiveDate,
    /// 1 to 120 characters.
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HolidayResponse {
    pub date: NaiveDate,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// One reminder sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReminderResponse {
    pub kind: ReminderKind,
    /// The step it was about (none for the whole run).
    pub step_id: Option<WorkflowStepId>,
    pub step_key: Option<String>,
    /// The nth of its kind (a client request's reminders 1 to 3).
    pub nth: i16,
    /// Notifications written or mails queued.
    pub recipients: i32,
    pub sent_at: DateTime<Utc>,
}

/// A client request's reminders: how many were sent and when the next one is due.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClientRequestReminders {
    pub step_id: WorkflowStepId,
    pub key: String,
    pub status: StepStatus,
    pub ready_at: Option<DateTime<Utc>>,
    pub sent: i16,
    /// None when the step is finished, the run is not active or the last reminder was sent.
    pub next_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunRemindersResponse {
    pub run_id: WorkflowRunId,
    /// Oldest first.
    pub reminders: Vec<ReminderResponse>,
    pub client_requests: Vec<ClientRequestReminders>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StuckRunResponse {
    pub run_id: WorkflowRunId,
    pub run_name: String,
    pub client_id: ClientId,
    pub client_name: String,
    /// When a step last changed status (or the run was paused or resumed).
    pub progressed_at: DateTime<Utc>,
    pub days_without_progress: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OverEstimateResponse {
    pub run_id: WorkflowRunId,
    pub run_name: String,
    pub step_id: WorkflowStepId,
    pub step_name: String,
    pub assignee_name: Option<String>,
    #[schema(value_type = String)]
    pub estimated_hours: Decimal,
    #[schema(value_type = String)]
    pub logged_hours: Decimal,
    /// Logged against estimated, in percent.
    pub percent_of_estimate: u32,
}

/// Work that needs a manager's look now: runs without progress for 7 days, steps in progress
/// 50% over their estimate.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StuckWorkResponse {
    pub runs: Vec<StuckRunResponse>,
    pub steps: Vec<OverEstimateResponse>,
}
