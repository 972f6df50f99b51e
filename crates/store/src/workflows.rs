//! Workflows: a firm's templates, runs of a template for a client, and the runs' steps.
//!
//! A run's steps are written once when it starts and then only their status and assignee
//! change; [`lock_run`] takes the run's row lock so two people completing steps of one run at
//! the same time apply their changes one after the other.

use chrono::{DateTime, NaiveDate, Utc};
use domain::workflow::routing::Routing;
use domain::workflow::{Automation, RunStatus, StepKind, StepStatus, TaskType, Template, TemplateCategory};
use domain::{
    ClientId, ClientScope, EngagementId, Role, UserId, WorkflowRunId, WorkflowStepId, WorkflowTemplateId,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

use crate::cursor::{self, Page};
use crate::{Change, StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TemplateRow {
    pub id: WorkflowTemplateId,
    pub name: String,
    pub category: TemplateCategory,
    pub content: Json<Template>,
    pub version: i32,
    pub copied_from: Option<WorkflowTemplateId>,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! template_columns {
    () => {
        "id, name, category, content, version, copied_from, archived_at, created_at, updated_at"
    };
}

pub async fn insert_template(
    tx: &mut TenantTx,
    id: WorkflowTemplateId,
    template: &Template,
    copied_from: Option<WorkflowTemplateId>,
    created_by: Option<UserId>,
) -> StoreResult<TemplateRow> {
    let org = tx.org_uuid();
    let sql = concat!("insert into workflow_templates (id, organization_id, name, category, content, copied_from, created_by)
         values ($1, $2, $3, $4, $5, $6, $7) returning ", template_columns!());
    Ok(sqlx::query_as(sql)
        .bind(id)
        .bind(org)
        .bind(&template.name)
        .bind(template.category)
        .bind(Json(template))
        .bind(copied_from)
        .bind(created_by)
        .fetch_one(tx.conn())
        .await?)
}

pub async fn get_template(tx: &mut TenantTx, id: WorkflowTemplateId) -> StoreResult<TemplateRow> {
    let org = tx.org_uuid();
    let sql = concat!(
        "select ",
        template_columns!(),
        " from workflow_templates where organization_id = $1 and id = $2"
    );
    Ok(sqlx::query_as(sql).bind(org).bind(id).fetch_one(tx.conn()).await?)
}

/// Every template of the firm by name (a firm has tens, not thousands: no paging).
pub async fn list_templates(tx: &mut TenantTx, include_archived: bool) -> StoreResult<Vec<TemplateRow>> {
    let org = tx.org_uuid();
    let sql = concat!(
        "select ",
        template_columns!(),
        " from workflow_templates where organization_id = $1
           and ($2 or archived_at is null) order by lower(name), id limit 500"
    );
    Ok(sqlx::query_as(sql).bind(org).bind(include_archived).fetch_all(tx.conn()).await?)
}

/// Saves new content as the next version.
pub async fn update_template(
    tx: &mut TenantTx,
    id: WorkflowTemplateId,
    template: &Template,
) -> StoreResult<Change<TemplateRow>> {
    let before = lock_template(tx, id).await?;
    let org = tx.org_uuid();
    let sql = concat!(
        "update workflow_templates set name = $3, category = $4, content = $5, version = version + 1
          where organization_id = $1 and id = $2 returning ",
        template_columns!()
    );
    let after = sqlx::query_as(sql)
        .bind(org)
        .bind(id)
        .bind(&template.name)
        .bind(template.category)
        .bind(Json(template))
        .fetch_one(tx.conn())
        .await?;
    Ok(Change { before, after })
}

/// Archives (or restores) a template; runs already started keep going.
pub async fn set_template_archived(
    tx: &mut TenantTx,
    id: WorkflowTemplateId,
    archived: bool,
) -> StoreResult<Change<TemplateRow>> {
    let before = lock_template(tx, id).await?;
    let org = tx.org_uuid();
    let sql = concat!(
        "update workflow_templates set archived_at = case when $3 then coalesce(archived_at, now()) end
          where organization_id = $1 and id = $2 returning ",
        template_columns!()
    );
    let after = sqlx::query_as(sql).bind(org).bind(id).bind(archived).fetch_one(tx.conn()).await?;
    Ok(Change { before, after })
}

async fn lock_template(tx: &mut TenantTx, id: WorkflowTemplateId) -> StoreResult<TemplateRow> {
    let org = tx.org_uuid();
    let sql = concat!(
        "select ",
        template_columns!(),
        " from workflow_templates where organization_id = $1 and id = $2 for update"
    );
    Ok(sqlx::query_as(sql).bind(org).bind(id).fetch_one(tx.conn()).await?)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RunRow {
    pub id: WorkflowRunId,
    pub client_id: ClientId,
    pub client_name: String,
    pub engagement_id: Option<EngagementId>,
    pub template_id: WorkflowTemplateId,
    pub template_version: i32,
    pub name: String,
    pub status: RunStatus,
    pub due_date: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Steps done or skipped, and all steps.
    pub steps_finished: i64,
    pub steps_total: i64,
}

macro_rules! run_select {
    () => {
        "select r.id, r.client_id, c.business_name as client_name, r.engagement_id, r.template_id,
        r.template_version, r.name, r.status, r.due_date, r.created_at, r.updated_at, r.finished_at,
        (select count(*) from workflow_steps s where s.organization_id = r.organization_id and s.run_id = r.id
            and s.status in ('done', 'skipped')) as steps_finished,
        (select count(*) from workflow_steps s where s.organization_id = r.organization_id and s.run_id = r.id)
            as steps_total
   from workflow_runs r join clients c on c.organization_id = r.organization_id and c.id = r.client_id"
    };
}

/// A new run's row.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub id: WorkflowRunId,
    pub client_id: ClientId,
    pub engagement_id: Option<EngagementId>,
    pub template_id: WorkflowTemplateId,
    pub template_version: i32,
    pub name: String,
    pub due_date: NaiveDate,
    pub created_by: Option<UserId>,
}

/// A new run's step.
#[derive(Debug, Clone)]
pub struct NewStep {
    pub id: WorkflowStepId,
    pub key: String,
    pub name: String,
    pub kind: StepKind,
    pub task_type: TaskType,
    pub automation: Option<Automation>,
    pub role: Option<Role>,
    pub skill: Option<String>,
    pub estimated_hours: Decimal,
    pub depends_on: Vec<i16>,
    pub due_date: NaiveDate,
    pub wait_days: Option<i16>,
    pub status: StepStatus,
}

/// Writes runs and all their steps: one statement for the runs and one for the steps, however
/// many runs (a bulk start writes a hundred at once).
pub async fn insert_runs(tx: &mut TenantTx, runs: &[(NewRun, Vec<NewStep>)]) -> StoreResult<()> {
    if runs.is_empty() {
        return Ok(());
    }
    let org = tx.org_uuid();
    let heads = || runs.iter().map(|(r, _)| r);
    sqlx::query(
        "insert into workflow_runs (id, organization_id, client_id, engagement_id, template_id, template_version,
                                    name, due_date, created_by)
         select r.id, $1, r.client, r.engagement, r.template, r.version, r.name, r.due, r.created_by
           from unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::int[], $7::text[], $8::date[],
                       $9::uuid[]) as r(id, client, engagement, template, version, name, due, created_by)",
    )
    .bind(org)
    .bind(heads().map(|r| r.id).collect::<Vec<_>>())
    .bind(heads().map(|r| r.client_id).collect::<Vec<_>>())
    .bind(heads().map(|r| r.engagement_id).collect::<Vec<_>>())
    .bind(heads().map(|r| r.template_id).collect::<Vec<_>>())
    .bind(heads().map(|r| r.template_version).collect::<Vec<_>>())
    .bind(heads().map(|r| r.name.clone()).collect::<Vec<_>>())
    .bind(heads().map(|r| r.due_date).collect::<Vec<_>>())
    .bind(heads().map(|r| r.created_by).collect::<Vec<_>>())
    .execute(tx.conn())
    .await?;
    let steps =
        || runs.iter().flat_map(|(r, steps)| steps.iter().enumerate().map(move |(i, s)| (r.id, i, s)));
    // Arrays cannot nest in unnest(), so each step's dependencies travel as text ('{0,2}').
    let deps: Vec<String> = steps()
        .map(|(_, _, s)| {
            format!("{{{}}}", s.depends_on.iter().map(i16::to_string).collect::<Vec<_>>().join(","))
        })
        .collect();
    sqlx::query(
        "insert into workflow_steps (id, organization_id, run_id, position, key, name, kind, task_type, automation,
                                     role, skill, estimated_hours, depends_on, due_date, wait_days, status, ready_at)
         select s.id, $1, s.run_id, s.pos, s.key, s.name, s.kind, s.task_type, s.automation, s.role,
                s.skill, s.hours, s.deps::smallint[], s.due, s.wait, s.status,
                case when s.status = 'ready' then now() end
           from unnest($2::uuid[], $3::uuid[], $4::smallint[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::text[], $11::text[], $12::numeric[], $13::text[], $14::date[],
                       $15::smallint[], $16::text[])
                as s(id, run_id, pos, key, name, kind, task_type, automation, role, skill, hours, deps, due,
                     wait, status)",
    )
    .bind(org)
    .bind(steps().map(|(_, _, s)| s.id).collect::<Vec<_>>())
    .bind(steps().map(|(run, _, _)| run).collect::<Vec<_>>())
    .bind(steps().map(|(_, i, _)| i as i16).collect::<Vec<_>>())
    .bind(steps().map(|(_, _, s)| s.key.clone()).collect::<Vec<_>>())
    .bind(steps().map(|(_, _, s)| s.name.clone()).collect::<Vec<_>>())
    .bind(steps().map(|(_, _, s)| s.kind).collect::<Vec<_>>())
    .bind(steps().map(|(_, _, s)| s.task_type).collect::<Vec<_>>())
    .bind(steps().map(|(_, _, s)| s.automation).collect::<Vec<_>>())
    .bind(steps().map(|(_, _, s)| s.role).collect::<Vec<_>>())
    .bind(steps().map(|(_, _, s)| s.skill.clone()).collect::<Vec<_>>())
    .bind(steps().map(|(_, _, s)| s.estimated_hours).collect::<Vec<_>>())
    .bind(deps)
    .bind(steps().map(|(_, _, s)| s.due_date).collect::<Vec<_>>())
    .bind(steps().map(|(_, _, s)| s.wait_days).collect::<Vec<_>>())
    .bind(steps().map(|(_, _, s)| s.status).collect::<Vec<_>>())
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn get_run(tx: &mut TenantTx, id: WorkflowRunId, scope: &ClientScope) -> StoreResult<RunRow> {
    let org = tx.org_uuid();
    let sql = concat!(
        run_select!(),
        " where r.organization_id = $1 and r.id = $2 and ($3::uuid[] is null or r.client_id = any($3))"
    );
    Ok(sqlx::query_as(sql).bind(org).bind(id).bind(scope.ids()).fetch_one(tx.conn()).await?)
}

/// Takes the run's row lock for the rest of the transaction and returns its status.
/// A run locked for a change: what the change needs of it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedRun {
    pub status: RunStatus,
    pub name: String,
}

pub async fn lock_run(tx: &mut TenantTx, id: WorkflowRunId, scope: &ClientScope) -> StoreResult<LockedRun> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select status, name from workflow_runs where organization_id = $1 and id = $2
           and ($3::uuid[] is null or client_id = any($3)) for update",
    )
    .bind(org)
    .bind(id)
    .bind(scope.ids())
    .fetch_one(tx.conn())
    .await?)
}

#[derive(Serialize, Deserialize)]
struct ByCreated(DateTime<Utc>, WorkflowRunId);

/// A client's runs, newest first.
pub async fn list_runs(
    tx: &mut TenantTx,
    client: ClientId,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<RunRow>> {
    let org = tx.org_uuid();
    let after: Option<ByCreated> = after.map(cursor::decode).transpose()?;
    let sql = concat!(
        run_select!(),
        " where r.organization_id = $1 and r.client_id = $2
           and ($3::timestamptz is null or (r.created_at, r.id) < ($3, $4))
         order by r.created_at desc, r.id desc limit $5"
    );
    let rows: Vec<RunRow> = sqlx::query_as(sql)
        .bind(org)
        .bind(client)
        .bind(after.as_ref().map(|a| a.0))
        .bind(after.as_ref().map(|a| a.1))
        .bind(limit as i64 + 1)
        .fetch_all(tx.conn())
        .await?;
    Ok(Page::from_overfetch(rows, limit, |r| ByCreated(r.created_at, r.id)))
}

pub async fn set_run_status(tx: &mut TenantTx, id: WorkflowRunId, status: RunStatus) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "update workflow_runs set status = $3,
                finished_at = case when $3 in ('done', 'cancelled') then now() end
          where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(id)
    .bind(status)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StepRow {
    pub id: WorkflowStepId,
    pub run_id: WorkflowRunId,
    pub position: i16,
    pub key: String,
    pub name: String,
    pub kind: StepKind,
    pub task_type: TaskType,
    pub automation: Option<Automation>,
    pub role: Option<Role>,
    pub skill: Option<String>,
    pub estimated_hours: Decimal,
    pub depends_on: Vec<i16>,
    pub due_date: NaiveDate,
    pub wait_days: Option<i16>,
    pub status: StepStatus,
    pub assignee_id: Option<UserId>,
    pub assignee_name: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub routed_by: Option<Routing>,
    pub routing_reasons: Option<Json<Vec<String>>>,
}

macro_rules! step_select {
    () => {
        "select s.id, s.run_id, s.position, s.key, s.name, s.kind, s.task_type, s.automation,
        s.role, s.skill, s.estimated_hours, s.depends_on, s.due_date, s.wait_days, s.status, s.assignee_id,
        u.name as assignee_name, s.started_at, s.completed_at, s.updated_at, s.routed_by, s.routing_reasons
   from workflow_steps s left join users u on u.id = s.assignee_id"
    };
}

/// A run's steps in template order.
pub async fn steps(tx: &mut TenantTx, run: WorkflowRunId) -> StoreResult<Vec<StepRow>> {
    let org = tx.org_uuid();
    let sql = concat!(step_select!(), " where s.organization_id = $1 and s.run_id = $2 order by s.position");
    Ok(sqlx::query_as(sql).bind(org).bind(run).fetch_all(tx.conn()).await?)
}

/// The steps of several runs, each run's in template order.
pub async fn steps_of_runs(tx: &mut TenantTx, runs: &[WorkflowRunId]) -> StoreResult<Vec<StepRow>> {
    let org = tx.org_uuid();
    let sql = concat!(
        step_select!(),
        " where s.organization_id = $1 and s.run_id = any($2) order by s.run_id, s.position"
    );
    Ok(sqlx::query_as(sql).bind(org).bind(runs).fetch_all(tx.conn()).await?)
}

/// Sets the status of the given steps (by position), stamping when work started and finished.
pub async fn set_step_statuses(
    tx: &mut TenantTx,
    run: WorkflowRunId,
    changes: &[(i16, StepStatus)],
) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "update workflow_steps s set status = c.status,
                started_at = case when c.status = 'in_progress' then coalesce(s.started_at, now()) else s.started_at end,
                ready_at = case when c.status = 'ready' then coalesce(s.ready_at, now()) else s.ready_at end,
                completed_at = case when c.status in ('done', 'skipped', 'cancelled') then now() end
           from unnest($3::smallint[], $4::text[]) as c(position, status)
          where s.organization_id = $1 and s.run_id = $2 and s.position = c.position",
    )
    .bind(org)
    .bind(run)
    .bind(changes.iter().map(|c| c.0).collect::<Vec<_>>())
    .bind(changes.iter().map(|c| c.1).collect::<Vec<_>>())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Assigns one step (or clears it); returns the step before and after.
pub async fn assign_step(
    tx: &mut TenantTx,
    run: WorkflowRunId,
    key: &str,
    assignee: Option<UserId>,
) -> StoreResult<Change<StepRow>> {
    let org = tx.org_uuid();
    let before = step(tx, run, key).await?;
    sqlx::query(
        // A routed step given to someone else counts as a reassignment (the A/B figures read it).
        "update workflow_steps set assignee_id = $4,
                assigned_at = case when $4::uuid is null then null else now() end,
                reassignments = reassignments + case when routed_by is not null and assignee_id is not null
                                                      and assignee_id is distinct from $4 then 1 else 0 end
          where organization_id = $1 and run_id = $2 and key = $3",
    )
    .bind(org)
    .bind(run)
    .bind(key)
    .bind(assignee)
    .execute(tx.conn())
    .await?;
    let after = step(tx, run, key).await?;
    Ok(Change { before, after })
}

pub async fn step(tx: &mut TenantTx, run: WorkflowRunId, key: &str) -> StoreResult<StepRow> {
    let org = tx.org_uuid();
    let sql = concat!(step_select!(), " where s.organization_id = $1 and s.run_id = $2 and s.key = $3");
    Ok(sqlx::query_as(sql).bind(org).bind(run).bind(key).fetch_one(tx.conn()).await?)
}
