//! What the workflow reminders job reads and records (migrations/0092_workflow_reminders.sql):
//! open work due soon or overdue, client requests waiting on the client, runs without progress,
//! steps far over their estimate, and the reminders already sent.
//!
//! Every scan takes the caller's `now` (or dates derived from it), never the database clock, so
//! the job and the tests decide what time it is.

use chrono::{DateTime, NaiveDate, Utc};
use domain::workflow::StepStatus;
use domain::workflow::reminders::ReminderKind;
use domain::{ClientId, UserId, WorkflowRunId, WorkflowStepId};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use crate::{StoreResult, TenantTx};

/// A bound on each scan per organization and tick; the rest waits for the next tick.
const SCAN_LIMIT: i64 = 5000;

/// Open, assigned work due by some day, with the reminder it is due for not yet sent.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DueItem {
    /// `step` (ad-hoc tasks would be another source of the same query).
    pub source: String,
    pub subject_id: Uuid,
    pub run_id: Option<WorkflowRunId>,
    pub run_name: Option<String>,
    pub name: String,
    pub assignee_id: UserId,
    pub due_date: NaiveDate,
    pub kind: ReminderKind,
    pub dedupe_key: String,
}

/// Open work (ready, in progress, blocked, of an active run) with an assignee, due by `until`:
/// overdue when due before `today`, else due soon; without its reminder (keyed by subject and due
/// date, so a moved due date is a new occurrence).
pub async fn due_work(tx: &mut TenantTx, today: NaiveDate, until: NaiveDate) -> StoreResult<Vec<DueItem>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        // One branch per kind of work; ad-hoc tasks join as a second `union all` of the same columns.
        "with open_work as (
             select 'step'::text as source, s.id as subject_id, s.run_id, r.name as run_name, s.name,
                    s.assignee_id, s.due_date
               from workflow_steps s
               join workflow_runs r on r.organization_id = s.organization_id and r.id = s.run_id
              where s.organization_id = $1 and s.status in ('ready', 'in_progress', 'blocked')
                and r.status = 'active' and s.assignee_id is not null and s.due_date <= $3
         ), keyed as (
             select w.*, k.kind, k.kind || ':' || w.source || ':' || w.subject_id || ':' || w.due_date as dedupe_key
               from open_work w
               cross join lateral (select case when w.due_date < $2 then 'overdue' else 'due_soon' end as kind) k
         )
         select source, subject_id, run_id, run_name, name, assignee_id, due_date, kind, dedupe_key
           from keyed w
          where not exists (select 1 from workflow_reminders m
                             where m.organization_id = $1 and m.dedupe_key = w.dedupe_key)
          order by due_date, subject_id limit $4",
    )
    .bind(org)
    .bind(today)
    .bind(until)
    .bind(SCAN_LIMIT)
    .fetch_all(tx.conn())
    .await?)
}

/// A client request waiting on the client, with how many reminders it had.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ClientRequest {
    pub step_id: WorkflowStepId,
    pub run_id: WorkflowRunId,
    pub run_name: String,
    pub name: String,
    pub client_id: ClientId,
    pub client_name: String,
    pub ready_at: DateTime<Utc>,
    /// The last reminder's number, 0 for none.
    pub sent: i16,
}

/// Client-request steps ready or in progress in active runs, ready since `ready_before` or
/// earlier, with fewer than `max` reminders.
pub async fn client_requests(
    tx: &mut TenantTx,
    ready_before: DateTime<Utc>,
    max: i16,
) -> StoreResult<Vec<ClientRequest>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select * from (
             select s.id as step_id, s.run_id, r.name as run_name, s.name, r.client_id,
                    c.business_name as client_name, s.ready_at,
                    coalesce((select max(m.nth) from workflow_reminders m
                               where m.organization_id = s.organization_id and m.step_id = s.id
                                 and m.kind = 'client_request'), 0)::smallint as sent
               from workflow_steps s
               join workflow_runs r on r.organization_id = s.organization_id and r.id = s.run_id
               join clients c on c.organization_id = r.organization_id and c.id = r.client_id
              where s.organization_id = $1 and s.kind = 'client_request' and s.status in ('ready', 'in_progress')
                and s.ready_at <= $2 and r.status = 'active'
         ) q where sent < $3
         order by ready_at, step_id limit $4",
    )
    .bind(org)
    .bind(ready_before)
    .bind(max)
    .bind(SCAN_LIMIT)
    .fetch_all(tx.conn())
    .await?)
}

/// Someone to tell: a portal user of a client, or a manager of the firm.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Recipient {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
}

/// The active portal users with live access to `client` at `now`.
pub async fn portal_users(
    tx: &mut TenantTx,
    client: ClientId,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Recipient>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select distinct u.id as user_id, u.email::text as email, u.name
           from client_portal_access a
           join users u on u.organization_id = a.organization_id and u.id = a.user_id
          where a.organization_id = $1 and a.client_id = $2 and a.revoked_at is null
            and (a.expires_at is null or a.expires_at > $3) and u.status = 'active'
          order by u.id",
    )
    .bind(org)
    .bind(client)
    .bind(now)
    .fetch_all(tx.conn())
    .await?)
}

/// The firm's active owners, admins and managers: who hears of stuck work.
pub async fn managers(tx: &mut TenantTx) -> StoreResult<Vec<Recipient>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select u.id as user_id, u.email::text as email, u.name
           from memberships m join users u on u.organization_id = m.organization_id and u.id = m.user_id
          where m.organization_id = $1 and m.role in ('owner', 'admin', 'manager') and u.status = 'active'
          order by u.id",
    )
    .bind(org)
    .fetch_all(tx.conn())
    .await?)
}

/// An active run whose steps have not changed status for a while.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StuckRun {
    pub run_id: WorkflowRunId,
    pub run_name: String,
    pub client_id: ClientId,
    pub client_name: String,
    pub progressed_at: DateTime<Utc>,
}

/// Active runs that last progressed at or before `before`, longest stuck first.
pub async fn stuck_runs(tx: &mut TenantTx, before: DateTime<Utc>) -> StoreResult<Vec<StuckRun>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select r.id as run_id, r.name as run_name, r.client_id, c.business_name as client_name, r.progressed_at
           from workflow_runs r join clients c on c.organization_id = r.organization_id and c.id = r.client_id
          where r.organization_id = $1 and r.status = 'active' and r.progressed_at <= $2
          order by r.progressed_at, r.id limit $3",
    )
    .bind(org)
    .bind(before)
    .bind(SCAN_LIMIT)
    .fetch_all(tx.conn())
    .await?)
}

/// A step in progress with more time logged than its estimate allows.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OverEstimate {
    pub step_id: WorkflowStepId,
    pub run_id: WorkflowRunId,
    pub run_name: String,
    pub name: String,
    pub assignee_name: Option<String>,
    pub estimated_hours: Decimal,
    pub logged_minutes: i64,
}

/// Steps in progress (of active runs) whose logged minutes — finished entries, and running timers
/// counted up to `now` — exceed `minutes_per_hour` × their estimated hours.
pub async fn over_estimate(
    tx: &mut TenantTx,
    now: DateTime<Utc>,
    minutes_per_hour: Decimal,
) -> StoreResult<Vec<OverEstimate>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select s.id as step_id, s.run_id, r.name as run_name, s.name, u.name as assignee_name,
                s.estimated_hours, t.minutes as logged_minutes
           from workflow_steps s
           join workflow_runs r on r.organization_id = s.organization_id and r.id = s.run_id
           left join users u on u.id = s.assignee_id
           cross join lateral (
               select coalesce(sum(coalesce(e.minutes,
                          greatest(0, floor(extract(epoch from ($2 - e.started_at)) / 60))::int)), 0)::bigint as minutes
                 from time_entries e where e.organization_id = s.organization_id and e.step_id = s.id) t
          where s.organization_id = $1 and s.status = 'in_progress' and r.status = 'active'
            and s.estimated_hours > 0 and t.minutes > s.estimated_hours * $3
          order by s.id limit $4",
    )
    .bind(org)
    .bind(now)
    .bind(minutes_per_hour)
    .bind(SCAN_LIMIT)
    .fetch_all(tx.conn())
    .await?)
}

/// A reminder to record.
#[derive(Debug, Clone)]
pub struct NewReminder<'a> {
    pub run_id: Option<WorkflowRunId>,
    pub step_id: Option<WorkflowStepId>,
    pub kind: ReminderKind,
    pub nth: i16,
    pub dedupe_key: &'a str,
    pub recipients: i32,
    pub sent_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Reminder {
    pub id: Uuid,
    pub run_id: Option<WorkflowRunId>,
    pub step_id: Option<WorkflowStepId>,
    pub kind: ReminderKind,
    pub nth: i16,
    pub recipients: i32,
    pub sent_at: DateTime<Utc>,
}

macro_rules! reminder_columns {
    () => {
        "id, run_id, step_id, kind, nth, recipients, sent_at"
    };
}

/// Records a reminder, unless one with its key exists (`None`: someone sent it already — a
/// concurrent tick waits here for the other's commit, then sees the conflict).
pub async fn record(tx: &mut TenantTx, r: NewReminder<'_>) -> StoreResult<Option<Reminder>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "insert into workflow_reminders (id, organization_id, run_id, step_id, kind, nth, dedupe_key, recipients, sent_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (organization_id, dedupe_key) do nothing
         returning ",
        reminder_columns!()
    ))
    .bind(Uuid::now_v7())
    .bind(org)
    .bind(r.run_id)
    .bind(r.step_id)
    .bind(r.kind)
    .bind(r.nth)
    .bind(r.dedupe_key)
    .bind(r.recipients)
    .bind(r.sent_at)
    .fetch_optional(tx.conn())
    .await?)
}

/// A run's reminders, oldest first.
pub async fn for_run(tx: &mut TenantTx, run: WorkflowRunId) -> StoreResult<Vec<Reminder>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        reminder_columns!(),
        " from workflow_reminders where organization_id = $1 and run_id = $2 order by sent_at, id limit 1000"
    ))
    .bind(org)
    .bind(run)
    .fetch_all(tx.conn())
    .await?)
}

/// A run's client-request steps, with when they became ready.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RequestStep {
    pub step_id: WorkflowStepId,
    pub key: String,
    pub status: StepStatus,
    pub ready_at: Option<DateTime<Utc>>,
}

pub async fn request_steps(tx: &mut TenantTx, run: WorkflowRunId) -> StoreResult<Vec<RequestStep>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select id as step_id, key, status, ready_at from workflow_steps
          where organization_id = $1 and run_id = $2 and kind = 'client_request' order by position",
    )
    .bind(org)
    .bind(run)
    .fetch_all(tx.conn())
    .await?)
}
