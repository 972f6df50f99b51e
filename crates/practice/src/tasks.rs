//! Ad-hoc tasks: work outside any run — create, change, start, complete, reopen, cancel — and
//! their dependencies on other tasks (a task is blocked until every one of them is done; a
//! dependency that would close a cycle is refused).
//!
//! Who may do what: `workflows:execute` creates, changes and cancels tasks (managers and up);
//! a task's assignee or reviewer may also start, complete and reopen it.

use api_types::tasks::{CreateTaskRequest, TaskDependency, TaskResponse, UpdateTaskRequest};
use chrono::{NaiveDate, Utc};
use domain::workflow::task::{TaskAction, TaskStatus};
use domain::{NotificationKind, Permission, Priority, TaskId, UserId};
use identity::Caller;
use rust_decimal::Decimal;
use store::notifications::{self, NewNotification};
use store::tasks::{self, TaskFields, TaskRow};
use store::{AuditRecord, TenantTx};

use crate::engagements::check_staff;
use crate::error::NotFoundAs;
use crate::{Practice, PracticeError, PracticeResult};

/// At most this many dependencies per task (a checklist of prerequisites, not a project plan).
const MAX_DEPENDENCIES: usize = 50;

impl Practice {
    pub async fn create_task(&self, caller: &Caller, req: CreateTaskRequest) -> PracticeResult<TaskResponse> {
        caller.require(Permission::WorkflowsExecute)?;
        let fields = TaskFields {
            client_id: req.client_id,
            engagement_id: req.engagement_id,
            title: req.title,
            description: req.description,
            assignee_id: req.assignee,
            reviewer_id: req.reviewer,
            due_date: req.due_date,
            priority: req.priority.unwrap_or(Priority::Normal),
            estimated_hours: req.estimated_hours,
        };
        let fields = checked(fields)?;
        let mut tx = self.tx(caller).await?;
        check_links(&mut tx, caller, &fields).await?;
        let id = TaskId::new();
        let row = tasks::insert(&mut tx, id, &fields, caller.user_id()).await?;
        if !req.depends_on.is_empty() {
            set_dependencies(&mut tx, id, &req.depends_on).await?;
        }
        if let Some(a) = row.assignee_id {
            notify_assigned(&mut tx, &row, a).await?;
        }
        tx.audit(
            AuditRecord::new("task.create", "task", id)
                .after(serde_json::json!({"task": &row, "depends_on": &req.depends_on})),
        );
        let out = response(&mut tx, row, Utc::now().date_naive()).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub async fn get_task(&self, caller: &Caller, id: TaskId) -> PracticeResult<TaskResponse> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = self.tx(caller).await?;
        let row = tasks::get(&mut tx, id).await.or_not_found("task")?;
        let out = response(&mut tx, row, Utc::now().date_naive()).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub async fn update_task(
        &self,
        caller: &Caller,
        id: TaskId,
        req: UpdateTaskRequest,
    ) -> PracticeResult<TaskResponse> {
        caller.require(Permission::WorkflowsExecute)?;
        let mut tx = self.tx(caller).await?;
        let before = tasks::lock(&mut tx, id).await.or_not_found("task")?;
        if before.status.is_finished() {
            return Err(PracticeError::Conflict(format!(
                "the task is {}; reopen it to change it",
                before.status
            )));
        }
        let fields = checked(TaskFields {
            client_id: req.client_id.unwrap_or(before.client_id),
            engagement_id: req.engagement_id.unwrap_or(before.engagement_id),
            title: req.title.unwrap_or_else(|| before.title.clone()),
            description: req.description.unwrap_or_else(|| before.description.clone()),
            assignee_id: req.assignee.unwrap_or(before.assignee_id),
            reviewer_id: req.reviewer.unwrap_or(before.reviewer_id),
            due_date: req.due_date.unwrap_or(before.due_date),
            priority: req.priority.unwrap_or(before.priority),
            estimated_hours: req.estimated_hours.unwrap_or(before.estimated_hours),
        })?;
        check_links(&mut tx, caller, &fields).await?;
        let change = tasks::update(&mut tx, before, &fields).await?;
        if let Some(a) = change.after.assignee_id.filter(|a| change.before.assignee_id != Some(*a)) {
            notify_assigned(&mut tx, &change.after, a).await?;
        }
        tx.audit(AuditRecord::new("task.update", "task", id).before(&change.before).after(&change.after));
        let out = response(&mut tx, change.after, Utc::now().date_naive()).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Starts, completes, reopens or cancels a task. Starting and completing wait for the tasks
    /// it depends on (409 while one is not done).
    pub async fn act_on_task(
        &self,
        caller: &Caller,
        id: TaskId,
        action: TaskAction,
    ) -> PracticeResult<TaskResponse> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = self.tx(caller).await?;
        let before = tasks::lock(&mut tx, id).await.or_not_found("task")?;
        let me = Some(caller.user_id());
        let involved = before.assignee_id == me || before.reviewer_id == me;
        if !(involved && action != TaskAction::Cancel) {
            caller.require(Permission::WorkflowsExecute)?;
        }
        let Some(status) = before.status.after(action) else {
            return Err(PracticeError::Conflict(format!(
                "a task that is {} cannot be given `{action}`",
                before.status
            )));
        };
        if action.needs_dependencies() {
            let waiting: Vec<String> = tasks::dependencies(&mut tx, id)
                .await?
                .into_iter()
                .filter(|d| d.status != TaskStatus::Done)
                .map(|d| format!("“{}”", d.title))
                .collect();
            if !waiting.is_empty() {
                return Err(PracticeError::Conflict(format!(
                    "the task is blocked until these are done: {}",
                    waiting.join(", ")
                )));
            }
        }
        let after = tasks::set_status(&mut tx, id, status).await?;
        tx.audit(
            AuditRecord::new(verb(action), "task", id)
                .before(serde_json::json!({"status": before.status}))
                .after(serde_json::json!({"status": after.status})),
        );
        let out = response(&mut tx, after, Utc::now().date_naive()).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Replaces the tasks `id` depends on; 422 for an unknown task, itself, or a cycle.
    pub async fn set_task_dependencies(
        &self,
        caller: &Caller,
        id: TaskId,
        depends_on: Vec<TaskId>,
    ) -> PracticeResult<TaskResponse> {
        caller.require(Permission::WorkflowsExecute)?;
        let mut tx = self.tx(caller).await?;
        let before = tasks::lock(&mut tx, id).await.or_not_found("task")?;
        let old: Vec<TaskId> = tasks::dependencies(&mut tx, id).await?.into_iter().map(|d| d.id).collect();
        set_dependencies(&mut tx, id, &depends_on).await?;
        tx.audit(
            AuditRecord::new("task.dependencies", "task", id)
                .before(serde_json::json!({"depends_on": old}))
                .after(serde_json::json!({"depends_on": depends_on})),
        );
        let out = response(&mut tx, before, Utc::now().date_naive()).await?;
        tx.commit().await?;
        Ok(out)
    }
}

const fn verb(action: TaskAction) -> &'static str {
    match action {
        TaskAction::Start => "task.start",
        TaskAction::Complete => "task.complete",
        TaskAction::Reopen => "task.reopen",
        TaskAction::Cancel => "task.cancel",
    }
}

/// Trims and validates a task's fields.
fn checked(mut f: TaskFields) -> PracticeResult<TaskFields> {
    let mut p = domain::validate::Problems::default();
    f.title = p.required("title", &f.title, 200);
    f.description = p.text("description", f.description.as_deref(), 10_000);
    if f.estimated_hours.is_some_and(|h| h < Decimal::ZERO || h > Decimal::from(100_000)) {
        p.add("estimated_hours", "must be between 0 and 100000");
    }
    if f.engagement_id.is_some() && f.client_id.is_none() {
        p.add("engagement_id", "needs the engagement's client_id");
    }
    p.into_result()?;
    Ok(f)
}

/// The client, engagement, assignee and reviewer a task names exist in this firm and fit together
/// (an unknown client or engagement is 404, as when starting a run).
async fn check_links(tx: &mut TenantTx, caller: &Caller, f: &TaskFields) -> PracticeResult<()> {
    let scope = caller.client_scope();
    if let Some(c) = f.client_id {
        store::clients::get(tx, c, &scope).await.or_not_found("client")?;
    }
    if let (Some(e), Some(c)) = (f.engagement_id, f.client_id) {
        let engagement = store::engagements::get(tx, e, &scope).await.or_not_found("engagement")?;
        if engagement.client_id != c {
            return Err(PracticeError::invalid("engagement_id", "is an engagement of another client"));
        }
    }
    for (field, user) in [("assignee", f.assignee_id), ("reviewer", f.reviewer_id)] {
        if let Some(u) = user {
            check_staff(tx, u)
                .await
                .map_err(|_| PracticeError::invalid(field, "must be a staff member of this firm"))?;
        }
    }
    Ok(())
}

async fn set_dependencies(tx: &mut TenantTx, id: TaskId, deps: &[TaskId]) -> PracticeResult<()> {
    let mut deps = deps.to_vec();
    deps.sort();
    deps.dedup();
    if deps.len() > MAX_DEPENDENCIES {
        return Err(PracticeError::invalid("depends_on", format!("at most {MAX_DEPENDENCIES} tasks")));
    }
    if deps.contains(&id) {
        return Err(PracticeError::invalid("depends_on", "a task cannot depend on itself"));
    }
    let found = tasks::existing(tx, &deps).await?;
    if let Some(missing) = deps.iter().find(|d| !found.contains(d)) {
        return Err(PracticeError::Missing(format!("task {missing} (in depends_on) not found")));
    }
    if tasks::reaches(tx, &deps, id).await? {
        return Err(PracticeError::invalid(
            "depends_on",
            "would make a cycle: one of these tasks already waits (directly or not) for this one",
        ));
    }
    tasks::set_dependencies(tx, id, &deps).await?;
    Ok(())
}

/// Tells a member a task is now theirs.
pub(crate) async fn notify_assigned(tx: &mut TenantTx, task: &TaskRow, to: UserId) -> PracticeResult<()> {
    notifications::insert(
        tx,
        NewNotification {
            user_id: to,
            kind: NotificationKind::TaskAssigned,
            title: &format!("New task: {}", task.title),
            body: &format!("“{}” is yours, due {}.", task.title, task.due_date),
            payload: serde_json::json!({"task_id": task.id, "link": format!("/tasks/{}", task.id)}),
            // One per assignment: given back to the same member later is a new one.
            dedupe_key: &format!("task:{}:{}", task.id, uuid::Uuid::now_v7()),
        },
    )
    .await?;
    Ok(())
}

pub(crate) async fn response(
    tx: &mut TenantTx,
    row: TaskRow,
    today: NaiveDate,
) -> PracticeResult<TaskResponse> {
    let deps = tasks::dependencies(tx, row.id).await?;
    Ok(TaskResponse {
        blocked: deps.iter().any(|d| d.status != TaskStatus::Done),
        overdue: row.due_date < today && !row.status.is_finished(),
        depends_on: deps
            .into_iter()
            .map(|d| TaskDependency { id: d.id, title: d.title, status: d.status })
            .collect(),
        id: row.id,
        title: row.title,
        description: row.description,
        client_id: row.client_id,
        client_name: row.client_name,
        engagement_id: row.engagement_id,
        assignee: row.assignee_id,
        assignee_name: row.assignee_name,
        reviewer: row.reviewer_id,
        reviewer_name: row.reviewer_name,
        due_date: row.due_date,
        priority: row.priority,
        estimated_hours: row.estimated_hours,
        status: row.status,
        created_at: row.created_at,
        started_at: row.started_at,
        completed_at: row.completed_at,
    })
}
