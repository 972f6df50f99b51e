//! Ad-hoc tasks (migrations/0091_tasks.sql) and their dependencies on other tasks.

use chrono::{DateTime, NaiveDate, Utc};
use domain::workflow::task::TaskStatus;
use domain::{ClientId, EngagementId, Priority, TaskId, UserId};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::{Change, StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TaskRow {
    pub id: TaskId,
    pub client_id: Option<ClientId>,
    pub client_name: Option<String>,
    pub engagement_id: Option<EngagementId>,
    pub title: String,
    pub description: Option<String>,
    pub assignee_id: Option<UserId>,
    pub assignee_name: Option<String>,
    pub reviewer_id: Option<UserId>,
    pub reviewer_name: Option<String>,
    pub due_date: NaiveDate,
    pub priority: Priority,
    pub estimated_hours: Option<Decimal>,
    pub status: TaskStatus,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

macro_rules! task_select {
    () => {
        "select t.id, t.client_id, c.business_name as client_name, t.engagement_id, t.title, t.description,
        t.assignee_id, a.name as assignee_name, t.reviewer_id, r.name as reviewer_name, t.due_date, t.priority,
        t.estimated_hours, t.status, t.created_by, t.created_at, t.updated_at, t.started_at, t.completed_at
   from tasks t
   left join clients c on c.organization_id = t.organization_id and c.id = t.client_id
   left join users a on a.id = t.assignee_id
   left join users r on r.id = t.reviewer_id"
    };
}

/// A task's editable fields, as written.
#[derive(Debug, Clone, Serialize)]
pub struct TaskFields {
    pub client_id: Option<ClientId>,
    pub engagement_id: Option<EngagementId>,
    pub title: String,
    pub description: Option<String>,
    pub assignee_id: Option<UserId>,
    pub reviewer_id: Option<UserId>,
    pub due_date: NaiveDate,
    pub priority: Priority,
    pub estimated_hours: Option<Decimal>,
}

pub async fn insert(
    tx: &mut TenantTx,
    id: TaskId,
    f: &TaskFields,
    created_by: UserId,
) -> StoreResult<TaskRow> {
    let org = tx.org_uuid();
    sqlx::query(
        "insert into tasks (id, organization_id, client_id, engagement_id, title, description, assignee_id,
                            reviewer_id, due_date, priority, estimated_hours, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id)
    .bind(org)
    .bind(f.client_id)
    .bind(f.engagement_id)
    .bind(&f.title)
    .bind(&f.description)
    .bind(f.assignee_id)
    .bind(f.reviewer_id)
    .bind(f.due_date)
    .bind(f.priority)
    .bind(f.estimated_hours)
    .bind(created_by)
    .execute(tx.conn())
    .await?;
    get(tx, id).await
}

pub async fn get(tx: &mut TenantTx, id: TaskId) -> StoreResult<TaskRow> {
    let org = tx.org_uuid();
    let sql = concat!(task_select!(), " where t.organization_id = $1 and t.id = $2");
    Ok(sqlx::query_as(sql).bind(org).bind(id).fetch_one(tx.conn()).await?)
}

/// Takes the task's row lock for the rest of the transaction and returns it.
pub async fn lock(tx: &mut TenantTx, id: TaskId) -> StoreResult<TaskRow> {
    let org = tx.org_uuid();
    sqlx::query("select 1 from tasks where organization_id = $1 and id = $2 for update")
        .bind(org)
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
    get(tx, id).await
}

/// Writes the editable fields of a locked task.
pub async fn update(tx: &mut TenantTx, before: TaskRow, f: &TaskFields) -> StoreResult<Change<TaskRow>> {
    let org = tx.org_uuid();
    sqlx::query(
        "update tasks set client_id = $3, engagement_id = $4, title = $5, description = $6, assignee_id = $7,
                reviewer_id = $8, due_date = $9, priority = $10, estimated_hours = $11
          where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(before.id)
    .bind(f.client_id)
    .bind(f.engagement_id)
    .bind(&f.title)
    .bind(&f.description)
    .bind(f.assignee_id)
    .bind(f.reviewer_id)
    .bind(f.due_date)
    .bind(f.priority)
    .bind(f.estimated_hours)
    .execute(tx.conn())
    .await?;
    let after = get(tx, before.id).await?;
    Ok(Change { before, after })
}

/// Sets a task's status, stamping when work started and finished.
pub async fn set_status(tx: &mut TenantTx, id: TaskId, status: TaskStatus) -> StoreResult<TaskRow> {
    let org = tx.org_uuid();
    sqlx::query(
        "update tasks set status = $3,
                started_at = case when $3 = 'in_progress' then coalesce(started_at, now())
                                  when $3 = 'open' then null else started_at end,
                completed_at = case when $3 in ('done', 'cancelled') then now() end
          where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(id)
    .bind(status)
    .execute(tx.conn())
    .await?;
    get(tx, id).await
}

/// Gives a task to someone else; returns the assignee before.
pub async fn set_assignee(tx: &mut TenantTx, id: TaskId, assignee: UserId) -> StoreResult<Option<UserId>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_scalar(
        "update tasks t set assignee_id = $3 from tasks old
          where t.organization_id = $1 and t.id = $2 and old.organization_id = $1 and old.id = $2
          returning old.assignee_id",
    )
    .bind(org)
    .bind(id)
    .bind(assignee)
    .fetch_one(tx.conn())
    .await?)
}

/// One task this one depends on, with its status.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Dependency {
    pub id: TaskId,
    pub title: String,
    pub status: TaskStatus,
}

pub async fn dependencies(tx: &mut TenantTx, id: TaskId) -> StoreResult<Vec<Dependency>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select t.id, t.title, t.status from task_dependencies d
           join tasks t on t.organization_id = d.organization_id and t.id = d.depends_on_id
          where d.organization_id = $1 and d.task_id = $2 order by t.due_date, t.id",
    )
    .bind(org)
    .bind(id)
    .fetch_all(tx.conn())
    .await?)
}

/// Of `ids`, those that are tasks of this firm.
pub async fn existing(tx: &mut TenantTx, ids: &[TaskId]) -> StoreResult<Vec<TaskId>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_scalar("select id from tasks where organization_id = $1 and id = any($2)")
        .bind(org)
        .bind(ids)
        .fetch_all(tx.conn())
        .await?)
}

/// Whether `task` can be reached from any of `deps` by following "depends on" edges: making
/// `task` depend on them would close a cycle.
pub async fn reaches(tx: &mut TenantTx, deps: &[TaskId], task: TaskId) -> StoreResult<bool> {
    let org = tx.org_uuid();
    Ok(sqlx::query_scalar(
        "with recursive r(id) as (
             select unnest($2::uuid[])
             union
             select d.depends_on_id from task_dependencies d join r on d.task_id = r.id
              where d.organization_id = $1)
         select exists (select 1 from r where id = $3)",
    )
    .bind(org)
    .bind(deps)
    .bind(task)
    .fetch_one(tx.conn())
    .await?)
}

/// Replaces a task's dependencies.
pub async fn set_dependencies(tx: &mut TenantTx, id: TaskId, deps: &[TaskId]) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query("delete from task_dependencies where organization_id = $1 and task_id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "insert into task_dependencies (organization_id, task_id, depends_on_id)
         select $1, $2, d from unnest($3::uuid[]) as d on conflict do nothing",
    )
    .bind(org)
    .bind(id)
    .bind(deps)
    .execute(tx.conn())
    .await?;
    Ok(())
}
