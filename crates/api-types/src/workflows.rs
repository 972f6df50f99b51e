//! Workflow templates, runs and their steps, and a member's work.

use chrono::{DateTime, NaiveDate, Utc};
use domain::workflow::routing::Routing;
use domain::workflow::{Automation, RunStatus, StepAction, StepKind, StepStatus, TaskType, TemplateCategory};
use domain::{ClientId, EngagementId, Role, UserId, WorkflowRunId, WorkflowStepId, WorkflowTemplateId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{date, decimal};

/// One step of a template, as saved and as read back.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateStep {
    /// Unique within the template (a-z, 0-9, `_`); dependencies name steps by it.
    pub key: String,
    pub name: String,
    pub kind: StepKind,
    /// Default `custom`.
    pub task_type: Option<TaskType>,
    /// Required for `automation` steps, refused for others.
    pub automation: Option<Automation>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    pub role: Option<Role>,
    pub skill: Option<String>,
    #[schema(value_type = String, example = "1.5")]
    #[serde(deserialize_with = "decimal::string")]
    pub estimated_hours: Decimal,
    /// Business days before the run's due date by which the step is due.
    #[serde(default)]
    pub due_offset_days: u16,
    /// For `wait` steps.
    pub wait_days: Option<u16>,
}

/// Creates a template, or replaces a firm template's content (saved as its next version).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateRequest {
    pub name: String,
    pub category: TemplateCategory,
    pub description: Option<String>,
    pub steps: Vec<TemplateStep>,
}

/// Copies a template (a system one, typically) into a firm template you can edit.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CopyTemplateRequest {
    /// Default: the original's name with " (copy)".
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TemplateResponse {
    pub id: WorkflowTemplateId,
    pub name: String,
    pub category: TemplateCategory,
    pub description: Option<String>,
    /// One of the system templates every firm has: read-only, copy it to change it.
    pub system: bool,
    pub version: i32,
    pub copied_from: Option<WorkflowTemplateId>,
    pub archived: bool,
    #[schema(value_type = String)]
    pub estimated_hours: Decimal,
    pub steps: Vec<TemplateStep>,
    /// Step keys grouped by depth: the steps of one stage can run in parallel.
    pub stages: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TemplateListParams {
    /// Include archived firm templates.
    #[serde(default)]
    pub archived: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchiveTemplateRequest {
    /// `false` restores an archived template.
    pub archived: bool,
}

/// Starts a template for a client.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRunRequest {
    pub client_id: ClientId,
    pub template_id: WorkflowTemplateId,
    pub engagement_id: Option<EngagementId>,
    /// When the whole run is due; steps are due their offset in business days before it.
    #[serde(deserialize_with = "date::required")]
    pub due_date: NaiveDate,
    /// Default: the template's name.
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunSummary {
    pub id: WorkflowRunId,
    pub client_id: ClientId,
    pub client_name: String,
    pub name: String,
    pub status: RunStatus,
    pub due_date: NaiveDate,
    /// Percent of steps done or skipped.
    pub progress: u8,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunStepResponse {
    pub id: WorkflowStepId,
    pub key: String,
    pub name: String,
    pub kind: StepKind,
    pub task_type: TaskType,
    pub automation: Option<Automation>,
    pub role: Option<Role>,
    pub skill: Option<String>,
    #[schema(value_type = String)]
    pub estimated_hours: Decimal,
    pub depends_on: Vec<String>,
    pub due_date: NaiveDate,
    pub status: StepStatus,
    pub assignee: Option<UserId>,
    pub assignee_name: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// On the chain of unfinished work with the most estimated hours.
    pub critical: bool,
    /// How the step was assigned automatically, if it was.
    pub routed_by: Option<Routing>,
    /// Why routing chose the assignee.
    pub routing_reasons: Vec<String>,
    /// Hours of finished time entries on the step, everyone's.
    #[schema(value_type = String)]
    pub logged_hours: Decimal,
    /// What the system did with a wait or automation step, once it took the step up.
    pub outcome: Option<StepOutcome>,
}

/// What the system did with a step that runs itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct StepOutcome {
    /// A wait step: when the wait ends and the system completes the step.
    pub wait_until: Option<DateTime<Utc>>,
    /// An email or document request: the addresses mailed.
    pub sent_to: Vec<String>,
    /// A document request: what the client was asked to upload.
    pub requested: Vec<String>,
    /// A QuickBooks sync step: the sync run started (or reused from the cache).
    pub sync_run_id: Option<uuid::Uuid>,
    /// The result was reused from an identical recent run of the step (the step cache).
    pub cached: bool,
    /// The last attempt's error; the step is blocked with it after the last attempt.
    pub error: Option<String>,
    pub attempts: i32,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunResponse {
    #[serde(flatten)]
    pub summary: RunSummary,
    pub engagement_id: Option<EngagementId>,
    pub template_id: WorkflowTemplateId,
    pub template_version: i32,
    pub steps: Vec<RunStepResponse>,
    /// Estimated hours left on the critical path.
    #[schema(value_type = String)]
    pub critical_hours: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepActionRequest {
    pub action: StepAction,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignStepRequest {
    /// A member id; `null` leaves the step unassigned.
    pub assignee: Option<UserId>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RunCommand {
    Pause,
    Resume,
    Cancel,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunCommandRequest {
    pub command: RunCommand,
}

/// The firm's routing of ready steps.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingSettingsBody {
    /// `off` leaves ready steps for a manager to assign.
    pub routing: Routing,
    /// A second strategy for a share of the steps, to compare the two on the same work.
    pub ab_routing: Option<Routing>,
    /// 0–100: the share routed by `ab_routing`.
    #[serde(default)]
    pub ab_percent: u8,
    /// The firm's IANA time zone (e.g. `America/New_York`), in which recurring schedules run.
    /// Unchanged when absent; always present in responses.
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// A member's capacity, skills and time off, as routing reads them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityRequest {
    #[schema(value_type = String, example = "40")]
    #[serde(deserialize_with = "decimal::string")]
    pub weekly_hours: Decimal,
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default, deserialize_with = "date::optional")]
    pub away_from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "date::optional")]
    pub away_until: Option<NaiveDate>,
}

/// One member's workload: open steps against their weekly capacity.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberWorkload {
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
    #[schema(value_type = String)]
    pub weekly_hours: Decimal,
    pub skills: Vec<String>,
    pub away_from: Option<NaiveDate>,
    pub away_until: Option<NaiveDate>,
    pub away_today: bool,
    pub open_steps: i64,
    #[schema(value_type = String)]
    pub open_hours: Decimal,
    /// Open hours over weekly capacity, in percent (may exceed 100).
    pub utilisation: u32,
    /// Open hours by the week they are due, one per [`TeamWorkload::weeks`].
    #[schema(value_type = Vec<String>)]
    pub hours_by_week: Vec<Decimal>,
}

/// The team's open work per person and week.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TeamWorkload {
    /// The Mondays of the weeks shown (overdue work counts in the first).
    pub weeks: Vec<NaiveDate>,
    pub members: Vec<MemberWorkload>,
}

/// How one strategy did on the steps it routed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StrategyFiguresResponse {
    pub strategy: Routing,
    pub routed: i64,
    /// Median seconds from a step becoming ready to its assignment.
    pub median_seconds_to_assign: Option<f64>,
    pub reassigned: i64,
    /// Reassigned over routed, in percent.
    pub reassignment_rate: f64,
}

/// The routing figures the reference names: time to assignment and reassignment rate per
/// strategy, and the spread of utilisation across the team now.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RoutingFiguresResponse {
    pub settings: RoutingSettingsBody,
    pub strategies: Vec<StrategyFiguresResponse>,
    /// Standard deviation of members' utilisation (percentage points): lower is more even.
    pub utilisation_spread: f64,
    pub members: usize,
}
