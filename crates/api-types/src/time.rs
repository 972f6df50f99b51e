//! Time entries: timers and logged time on workflow steps and engagements, a member's week, an
//! engagement's time and billing it.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{ClientId, EngagementId, InvoiceId, TimeEntryId, UserId, WorkflowRunId, WorkflowStepId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{date, decimal, patch};

/// Logs finished time (a manual entry) on a step or an engagement.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualEntryRequest {
    /// A workflow step; the entry counts on its run's engagement, if the run has one.
    pub step_id: Option<WorkflowStepId>,
    /// An engagement (with `step_id`, it must be the step's run's engagement).
    pub engagement_id: Option<EngagementId>,
    /// When the work started: not in the future.
    pub started_at: DateTime<Utc>,
    /// 1 to 1,440 (24 hours).
    pub minutes: i64,
    /// Default `true`.
    pub billable: Option<bool>,
    /// Default: the engagement's hourly rate.
    #[schema(value_type = Option<String>, example = "150.00")]
    #[serde(default, deserialize_with = "decimal::optional")]
    pub hourly_rate: Option<Decimal>,
    pub note: Option<String>,
}

/// Starts the caller's timer on a step or an engagement; a timer already running is stopped
/// first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartTimerRequest {
    pub step_id: Option<WorkflowStepId>,
    pub engagement_id: Option<EngagementId>,
    /// Default `true`.
    pub billable: Option<bool>,
    pub note: Option<String>,
}

/// Changes an entry: absent fields are left alone. A running timer's start and minutes change
/// only once it is stopped.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTimeEntryRequest {
    pub started_at: Option<DateTime<Utc>>,
    pub minutes: Option<i64>,
    pub billable: Option<bool>,
    /// `null` clears the rate.
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "decimal::patch")]
    pub hourly_rate: Option<Option<Decimal>>,
    /// `null` clears the note.
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "patch::field")]
    pub note: Option<Option<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TimeEntryResponse {
    pub id: TimeEntryId,
    pub user_id: UserId,
    pub user_name: String,
    pub client_id: ClientId,
    pub client_name: String,
    pub engagement_id: Option<EngagementId>,
    pub engagement_name: Option<String>,
    pub step_id: Option<WorkflowStepId>,
    pub step_name: Option<String>,
    pub run_id: Option<WorkflowRunId>,
    pub started_at: DateTime<Utc>,
    /// Absent while the timer runs.
    pub ended_at: Option<DateTime<Utc>>,
    /// Absent while the timer runs.
    pub minutes: Option<i32>,
    #[schema(value_type = Option<String>, example = "1.25")]
    pub hours: Option<Decimal>,
    pub billable: bool,
    #[schema(value_type = Option<String>)]
    pub hourly_rate: Option<Decimal>,
    /// Hours × rate to the cent, for finished billable entries with a rate.
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    pub note: Option<String>,
    /// The invoice the entry was billed on; a billed entry cannot be changed.
    pub invoice_id: Option<InvoiceId>,
    pub running: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `?week=` of the time sheet.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimesheetParams {
    /// Any day of the week wanted (weeks run Monday to Sunday, UTC); default this week.
    #[serde(default, deserialize_with = "date::optional")]
    #[param(value_type = Option<NaiveDate>)]
    pub week: Option<NaiveDate>,
}

/// One day of a time sheet.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TimesheetDay {
    pub date: NaiveDate,
    pub minutes: i64,
    #[schema(value_type = String)]
    pub hours: Decimal,
    pub billable_minutes: i64,
    #[schema(value_type = String)]
    pub billable_amount: Decimal,
    /// Finished entries that started this day, by start.
    pub entries: Vec<TimeEntryResponse>,
}

/// A member's week: seven days with their entries and totals, and the running timer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TimesheetResponse {
    /// The Monday.
    pub week_start: NaiveDate,
    /// The Sunday.
    pub week_end: NaiveDate,
    pub previous_week: NaiveDate,
    pub next_week: NaiveDate,
    pub days: Vec<TimesheetDay>,
    pub total_minutes: i64,
    #[schema(value_type = String)]
    pub total_hours: Decimal,
    pub billable_minutes: i64,
    #[schema(value_type = String)]
    pub billable_hours: Decimal,
    #[schema(value_type = String)]
    pub billable_amount: Decimal,
    /// The caller's running timer, whenever it started.
    pub running: Option<TimeEntryResponse>,
}

/// An engagement's logged time: totals over every finished entry, and a page of entries.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EngagementTimeResponse {
    pub engagement_id: EngagementId,
    /// The engagement's `actual_hours`: every finished entry on it or on a step of its runs.
    #[schema(value_type = String)]
    pub actual_hours: Decimal,
    #[schema(value_type = String)]
    pub billable_hours: Decimal,
    /// Work in progress: the amount of finished billable entries not yet billed on an invoice.
    #[schema(value_type = String)]
    pub wip_amount: Decimal,
    /// The amount of billable entries billed on invoices.
    #[schema(value_type = String)]
    pub billed_amount: Decimal,
    /// Newest first.
    pub items: Vec<TimeEntryResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Bills an engagement's work in progress as a draft invoice.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillTimeRequest {
    /// Default 30 days after today.
    #[serde(default, deserialize_with = "date::optional")]
    pub due_date: Option<NaiveDate>,
}
