//! Ad-hoc tasks, and what every work item (a run's step or a task) carries: a checklist,
//! comments with @mentions and attached documents; the open-work lists and bulk reassignment.

use chrono::{DateTime, NaiveDate, Utc};
use domain::workflow::StepStatus;
use domain::workflow::task::{TaskAction, TaskStatus, WorkItemKind, WorkView};
use domain::{
    ChecklistItemId, ClientId, CommentId, DocumentId, EngagementId, Priority, TaskId, UserId, WorkflowRunId,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{date, decimal, patch};

/// Creates an ad-hoc task.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTaskRequest {
    pub title: String,
    pub description: Option<String>,
    pub client_id: Option<ClientId>,
    /// Must be an engagement of `client_id`.
    pub engagement_id: Option<EngagementId>,
    pub assignee: Option<UserId>,
    pub reviewer: Option<UserId>,
    #[serde(deserialize_with = "date::required")]
    pub due_date: NaiveDate,
    /// Default `normal`.
    pub priority: Option<Priority>,
    #[schema(value_type = Option<String>, example = "1.5")]
    #[serde(default, deserialize_with = "decimal::optional")]
    pub estimated_hours: Option<Decimal>,
    /// Tasks this one waits for: it is blocked until they are done.
    #[serde(default)]
    pub depends_on: Vec<TaskId>,
}

/// Changes a task's fields: an absent field is left alone, `null` clears it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTaskRequest {
    pub title: Option<String>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<ClientId>)]
    pub client_id: Option<Option<ClientId>>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<EngagementId>)]
    pub engagement_id: Option<Option<EngagementId>>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<UserId>)]
    pub assignee: Option<Option<UserId>>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<UserId>)]
    pub reviewer: Option<Option<UserId>>,
    #[serde(default, deserialize_with = "date::optional")]
    pub due_date: Option<NaiveDate>,
    pub priority: Option<Priority>,
    #[serde(default, deserialize_with = "decimal::patch")]
    #[schema(value_type = Option<String>)]
    pub estimated_hours: Option<Option<Decimal>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskActionRequest {
    pub action: TaskAction,
}

/// Replaces the tasks this one depends on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskDependenciesRequest {
    pub depends_on: Vec<TaskId>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskDependency {
    pub id: TaskId,
    pub title: String,
    pub status: TaskStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskResponse {
    pub id: TaskId,
    pub title: String,
    pub description: Option<String>,
    pub client_id: Option<ClientId>,
    pub client_name: Option<String>,
    pub engagement_id: Option<EngagementId>,
    pub assignee: Option<UserId>,
    pub assignee_name: Option<String>,
    pub reviewer: Option<UserId>,
    pub reviewer_name: Option<String>,
    pub due_date: NaiveDate,
    pub priority: Priority,
    #[schema(value_type = Option<String>)]
    pub estimated_hours: Option<Decimal>,
    pub status: TaskStatus,
    pub depends_on: Vec<TaskDependency>,
    /// A task it depends on is not done yet: it cannot be started or completed.
    pub blocked: bool,
    pub overdue: bool,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// `?view=&client_id=&assignee=&limit=&cursor=` of the work lists.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WorkListParams {
    /// Default `mine`.
    #[param(inline)]
    pub view: Option<WorkView>,
    /// Required for `view=client`.
    pub client_id: Option<ClientId>,
    /// Narrows `overdue` and `week` to one member (default: the whole firm).
    pub assignee: Option<UserId>,
    /// Items per page, 1 to 200 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One open work item of a list: a run's step or a task, soonest due first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WorkItemSummary {
    pub kind: WorkItemKind,
    /// The step's or the task's id.
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    pub name: String,
    pub client_id: Option<ClientId>,
    pub client_name: Option<String>,
    /// Steps only.
    pub run_id: Option<WorkflowRunId>,
    pub run_name: Option<String>,
    /// The step's key within its run.
    pub key: Option<String>,
    pub step_status: Option<StepStatus>,
    /// Tasks only.
    pub task_status: Option<TaskStatus>,
    pub priority: Option<Priority>,
    pub reviewer: Option<UserId>,
    pub assignee: Option<UserId>,
    pub assignee_name: Option<String>,
    #[schema(value_type = Option<String>)]
    pub estimated_hours: Option<Decimal>,
    pub due_date: NaiveDate,
    pub overdue: bool,
    pub blocked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChecklistItemResponse {
    pub id: ChecklistItemId,
    pub text: String,
    pub done: bool,
    pub done_by: Option<UserId>,
    pub done_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CommentResponse {
    pub id: CommentId,
    pub author: Option<UserId>,
    pub author_name: Option<String>,
    pub body: String,
    /// The members the comment mentions (each was notified).
    pub mentions: Vec<UserId>,
    pub created_at: DateTime<Utc>,
    /// When the author last edited the body; null if never.
    pub edited_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AttachmentResponse {
    pub document_id: DocumentId,
    pub file_name: String,
    pub added_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

/// A work item's checklist, comments and attachments.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WorkItemDetail {
    pub kind: WorkItemKind,
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    pub name: String,
    pub client_id: Option<ClientId>,
    pub run_id: Option<WorkflowRunId>,
    pub checklist: Vec<ChecklistItemResponse>,
    pub comments: Vec<CommentResponse>,
    pub attachments: Vec<AttachmentResponse>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItemRequest {
    pub text: String,
}

/// Renames and/or ticks one checklist item.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChecklistItemRequest {
    pub text: Option<String>,
    pub done: Option<bool>,
}

/// Every item of the checklist, in the new order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistOrderRequest {
    pub items: Vec<ChecklistItemId>,
}

/// A comment; `@name@firm.example` mentions (and notifies) that member.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    pub body: String,
}

/// Links one of the client's documents to the item.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachRequest {
    pub document_id: DocumentId,
}

/// Gives several work items (steps and tasks, by id) to one member.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignRequest {
    /// 1 to 500 step or task ids.
    #[schema(value_type = Vec<String>)]
    pub items: Vec<uuid::Uuid>,
    pub assignee: UserId,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReassignResponse {
    /// Items whose assignee changed (those already the member's are left as they were).
    pub reassigned: u32,
}
