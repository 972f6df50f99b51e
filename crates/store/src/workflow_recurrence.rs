//! Recurring schedules, their periods, bulk starts and their items; the firm's time zone.
//!
//! Exactly once lives in the keys: [`claim_period`] and [`finish_item`] are written in the
//! transaction that creates the run, and a second writer finds the row already there.

use chrono::{DateTime, NaiveDate, Utc};
use domain::workflow::recurrence::{BulkItemStatus, BulkStatus, DEFAULT_TIME_ZONE, PeriodStatus};
use domain::{
    ClientId, ClientScope, ClientStatus, EngagementId, OrganizationId, UserId, WorkflowBulkId, WorkflowRunId,
    WorkflowScheduleId, WorkflowTemplateId,
};
use serde::Serialize;
use uuid::Uuid;

use crate::{Change, Db, StoreResult, TenantTx};

/// The firm's time zone (an IANA name; UTC until set).
pub async fn time_zone(tx: &mut TenantTx) -> StoreResult<String> {
    let org = tx.org_uuid();
    let tz: Option<String> =
        sqlx::query_scalar("select time_zone from workflow_settings where organization_id = $1")
            .bind(org)
            .fetch_optional(tx.conn())
            .await?;
    Ok(tz.unwrap_or_else(|| DEFAULT_TIME_ZONE.to_owned()))
}

pub async fn save_time_zone(tx: &mut TenantTx, zone: &str) -> StoreResult<Change<String>> {
    let before = time_zone(tx).await?;
    let org = tx.org_uuid();
    sqlx::query(
        "insert into workflow_settings (organization_id, time_zone) values ($1, $2)
         on conflict (organization_id) do update set time_zone = excluded.time_zone",
    )
    .bind(org)
    .bind(zone)
    .execute(tx.conn())
    .await?;
    Ok(Change { before, after: zone.to_owned() })
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ScheduleRow {
    pub id: WorkflowScheduleId,
    pub client_id: ClientId,
    pub engagement_id: Option<EngagementId>,
    pub template_id: WorkflowTemplateId,
    pub cron: String,
    pub due_business_day: i16,
    pub paused_at: Option<DateTime<Utc>>,
    pub next_run_at: DateTime<Utc>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

macro_rules! schedule_columns {
    () => {
        " s.id, s.client_id, s.engagement_id, s.template_id, s.cron, s.due_business_day, s.paused_at,
          s.next_run_at, s.created_by, s.created_at "
    };
}

pub struct NewSchedule {
    pub id: WorkflowScheduleId,
    pub client_id: ClientId,
    pub engagement_id: Option<EngagementId>,
    pub template_id: WorkflowTemplateId,
    pub cron: String,
    pub due_business_day: i16,
    pub next_run_at: DateTime<Utc>,
    pub created_by: Option<UserId>,
}

pub async fn insert_schedule(tx: &mut TenantTx, s: &NewSchedule) -> StoreResult<ScheduleRow> {
    let org = tx.org_uuid();
    sqlx::query(
        "insert into workflow_schedules (id, organization_id, client_id, engagement_id, template_id, cron,
                                         due_business_day, next_run_at, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(s.id)
    .bind(org)
    .bind(s.client_id)
    .bind(s.engagement_id)
    .bind(s.template_id)
    .bind(&s.cron)
    .bind(s.due_business_day)
    .bind(s.next_run_at)
    .bind(s.created_by)
    .execute(tx.conn())
    .await?;
    get_schedule(tx, s.id, &ClientScope::All).await
}

/// A client's schedules, oldest first.
pub async fn list_schedules(tx: &mut TenantTx, client: ClientId) -> StoreResult<Vec<ScheduleRow>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select",
        schedule_columns!(),
        "from workflow_schedules s where s.organization_id = $1 and s.client_id = $2 order by s.created_at, s.id"
    ))
    .bind(org)
    .bind(client)
    .fetch_all(tx.conn())
    .await?)
}

macro_rules! schedule_by_id {
    () => {
        concat!(
            "select",
            schedule_columns!(),
            "from workflow_schedules s where s.organization_id = $1 and s.id = $2
               and ($3::uuid[] is null or s.client_id = any($3))"
        )
    };
}

pub async fn get_schedule(
    tx: &mut TenantTx,
    id: WorkflowScheduleId,
    scope: &ClientScope,
) -> StoreResult<ScheduleRow> {
    schedule_by(tx, schedule_by_id!(), id, scope).await
}

/// The schedule, locked until the transaction ends: a tick and a pause or a manual start of the
/// same schedule take turns.
pub async fn lock_schedule(
    tx: &mut TenantTx,
    id: WorkflowScheduleId,
    scope: &ClientScope,
) -> StoreResult<ScheduleRow> {
    schedule_by(tx, concat!(schedule_by_id!(), " for update"), id, scope).await
}

async fn schedule_by(
    tx: &mut TenantTx,
    sql: &'static str,
    id: WorkflowScheduleId,
    scope: &ClientScope,
) -> StoreResult<ScheduleRow> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(sql).bind(org).bind(id).bind(scope.ids()).fetch_one(tx.conn()).await?)
}

/// Pauses (cursor kept) or resumes with a new cursor.
pub async fn set_paused(
    tx: &mut TenantTx,
    id: WorkflowScheduleId,
    paused: bool,
    next_run_at: DateTime<Utc>,
) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "update workflow_schedules
            set paused_at = case when $3 then coalesce(paused_at, now()) end, next_run_at = $4
          where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(id)
    .bind(paused)
    .bind(next_run_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn set_cursor(
    tx: &mut TenantTx,
    id: WorkflowScheduleId,
    next_run_at: DateTime<Utc>,
) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query("update workflow_schedules set next_run_at = $3 where organization_id = $1 and id = $2")
        .bind(org)
        .bind(id)
        .bind(next_run_at)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Every schedule of the firm (for recomputing cursors when the time zone changes).
pub async fn all_schedules(tx: &mut TenantTx) -> StoreResult<Vec<ScheduleRow>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select",
        schedule_columns!(),
        "from workflow_schedules s where s.organization_id = $1 order by s.id for update"
    ))
    .bind(org)
    .fetch_all(tx.conn())
    .await?)
}

pub async fn delete_schedule(tx: &mut TenantTx, id: WorkflowScheduleId) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query("delete from workflow_schedules where organization_id = $1 and id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Schedules due at `at`, across firms (the scheduler's only cross-tenant read, through a definer
/// function that returns ids alone).
pub async fn due_schedules(
    db: &Db,
    at: DateTime<Utc>,
    limit: i32,
) -> StoreResult<Vec<(OrganizationId, WorkflowScheduleId)>> {
    let rows: Vec<(Uuid, Uuid)> =
        sqlx::query_as("select organization_id, schedule_id from workflow_schedules_due($1, $2)")
            .bind(at)
            .bind(limit)
            .fetch_all(db.pool())
            .await?;
    Ok(rows
        .into_iter()
        .map(|(o, s)| (OrganizationId::from_uuid(o), WorkflowScheduleId::from_uuid(s)))
        .collect())
}

/// Records a period; false if it already was (another scheduler, or an earlier tick, got there).
pub async fn claim_period(
    tx: &mut TenantTx,
    schedule: WorkflowScheduleId,
    start: DateTime<Utc>,
    status: PeriodStatus,
) -> StoreResult<bool> {
    let org = tx.org_uuid();
    let done = sqlx::query(
        "insert into workflow_schedule_periods (organization_id, schedule_id, period_start, status)
         values ($1, $2, $3, $4) on conflict (schedule_id, period_start) do nothing",
    )
    .bind(org)
    .bind(schedule)
    .bind(start)
    .bind(status)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a claimed or missed period started with its run; false if it was not claimable (already
/// started, or never recorded).
pub async fn start_period(
    tx: &mut TenantTx,
    schedule: WorkflowScheduleId,
    start: DateTime<Utc>,
    run: WorkflowRunId,
    from: PeriodStatus,
) -> StoreResult<bool> {
    let org = tx.org_uuid();
    let done = sqlx::query(
        "update workflow_schedule_periods set status = 'started', run_id = $4, started_at = now()
          where organization_id = $1 and schedule_id = $2 and period_start = $3 and status = $5
            and run_id is null",
    )
    .bind(org)
    .bind(schedule)
    .bind(start)
    .bind(run)
    .bind(from)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PeriodRow {
    pub schedule_id: WorkflowScheduleId,
    pub period_start: DateTime<Utc>,
    pub status: PeriodStatus,
    pub run_id: Option<WorkflowRunId>,
}

/// The schedules' periods, newest first, at most `per_schedule` of each.
pub async fn periods(
    tx: &mut TenantTx,
    schedules: &[WorkflowScheduleId],
    per_schedule: i64,
) -> StoreResult<Vec<PeriodRow>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select p.schedule_id, p.period_start, p.status, p.run_id
           from unnest($2::uuid[]) as s(id)
           cross join lateral (
                select schedule_id, period_start, status, run_id from workflow_schedule_periods
                 where organization_id = $1 and schedule_id = s.id
                 order by (status = 'missed') desc, period_start desc limit $3
           ) p
          order by p.schedule_id, p.period_start",
    )
    .bind(org)
    .bind(schedules.iter().map(|s| s.as_uuid()).collect::<Vec<_>>())
    .bind(per_schedule)
    .fetch_all(tx.conn())
    .await?)
}

/// Drops the oldest missed periods beyond `keep` (a schedule down for long keeps the recent ones).
pub async fn trim_missed(tx: &mut TenantTx, schedule: WorkflowScheduleId, keep: i64) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "delete from workflow_schedule_periods
          where organization_id = $1 and schedule_id = $2 and status = 'missed'
            and period_start < (select period_start from workflow_schedule_periods
                                 where organization_id = $1 and schedule_id = $2 and status = 'missed'
                                 order by period_start desc offset $3 limit 1)",
    )
    .bind(org)
    .bind(schedule)
    .bind(keep - 1)
    .execute(tx.conn())
    .await?;
    Ok(())
}

// --- bulk starts ---

pub struct NewBulk {
    pub id: WorkflowBulkId,
    pub template_id: WorkflowTemplateId,
    pub name: Option<String>,
    pub due_date: NaiveDate,
    pub created_by: Option<UserId>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BulkRow {
    pub id: WorkflowBulkId,
    pub template_id: WorkflowTemplateId,
    pub name: Option<String>,
    pub due_date: NaiveDate,
    pub status: BulkStatus,
    pub total: i32,
    pub started: i32,
    pub failed: i32,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// The bulk start and one pending item per client, in the given order.
pub async fn insert_bulk(tx: &mut TenantTx, b: &NewBulk, clients: &[ClientId]) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "insert into workflow_bulk_starts (id, organization_id, template_id, name, due_date, total, created_by)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(b.id)
    .bind(org)
    .bind(b.template_id)
    .bind(&b.name)
    .bind(b.due_date)
    .bind(clients.len() as i32)
    .bind(b.created_by)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "insert into workflow_bulk_items (organization_id, bulk_id, client_id, position)
         select $1, $2, c.id, c.pos from unnest($3::uuid[]) with ordinality as c(id, pos)",
    )
    .bind(org)
    .bind(b.id)
    .bind(clients.iter().map(|c| c.as_uuid()).collect::<Vec<_>>())
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn get_bulk(tx: &mut TenantTx, id: WorkflowBulkId) -> StoreResult<BulkRow> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select id, template_id, name, due_date, status, total, started, failed, created_by, created_at, finished_at
           from workflow_bulk_starts where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(id)
    .fetch_one(tx.conn())
    .await?)
}

/// The next pending clients of a bulk start, locked for this transaction (a second worker skips them).
pub async fn pending_items(tx: &mut TenantTx, id: WorkflowBulkId, limit: i64) -> StoreResult<Vec<ClientId>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_scalar(
        "select client_id from workflow_bulk_items
          where organization_id = $1 and bulk_id = $2 and status = 'pending'
          order by position limit $3 for update skip locked",
    )
    .bind(org)
    .bind(id)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Settles one batch: its started runs and its failures, and the bulk start's counters.
pub async fn finish_items(
    tx: &mut TenantTx,
    id: WorkflowBulkId,
    started: &[(ClientId, WorkflowRunId)],
    failed: &[(ClientId, String)],
) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "update workflow_bulk_items i set status = 'started', run_id = s.run
           from unnest($3::uuid[], $4::uuid[]) as s(client, run)
          where i.organization_id = $1 and i.bulk_id = $2 and i.client_id = s.client and i.status = 'pending'",
    )
    .bind(org)
    .bind(id)
    .bind(started.iter().map(|s| s.0.as_uuid()).collect::<Vec<_>>())
    .bind(started.iter().map(|s| s.1.as_uuid()).collect::<Vec<_>>())
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "update workflow_bulk_items i set status = 'failed', error = left(f.error, 500)
           from unnest($3::uuid[], $4::text[]) as f(client, error)
          where i.organization_id = $1 and i.bulk_id = $2 and i.client_id = f.client and i.status = 'pending'",
    )
    .bind(org)
    .bind(id)
    .bind(failed.iter().map(|f| f.0.as_uuid()).collect::<Vec<_>>())
    .bind(failed.iter().map(|f| f.1.clone()).collect::<Vec<_>>())
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "update workflow_bulk_starts set status = 'running', started = started + $3, failed = failed + $4
          where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(id)
    .bind(started.len() as i32)
    .bind(failed.len() as i32)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Marks the bulk start done when no item is pending; true if it did.
pub async fn finish_bulk(tx: &mut TenantTx, id: WorkflowBulkId) -> StoreResult<bool> {
    let org = tx.org_uuid();
    let done = sqlx::query(
        "update workflow_bulk_starts b set status = 'done', finished_at = now()
          where b.organization_id = $1 and b.id = $2 and b.status <> 'done'
            and not exists (select 1 from workflow_bulk_items i
                             where i.organization_id = $1 and i.bulk_id = $2 and i.status = 'pending')",
    )
    .bind(org)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ItemRow {
    pub client_id: ClientId,
    pub client_name: Option<String>,
    pub status: BulkItemStatus,
    pub run_id: Option<WorkflowRunId>,
    pub error: Option<String>,
}

/// The failed items of a bulk start (at most `limit`), in request order.
pub async fn failed_items(tx: &mut TenantTx, id: WorkflowBulkId, limit: i64) -> StoreResult<Vec<ItemRow>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select i.client_id, c.business_name as client_name, i.status, i.run_id, i.error
           from workflow_bulk_items i
           left join clients c on c.organization_id = i.organization_id and c.id = i.client_id
          where i.organization_id = $1 and i.bulk_id = $2 and i.status = 'failed'
          order by i.position limit $3",
    )
    .bind(org)
    .bind(id)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// The status of each of `ids` that exists (and is not deleted) within `scope`.
pub async fn client_statuses(
    tx: &mut TenantTx,
    ids: &[ClientId],
    scope: &ClientScope,
) -> StoreResult<Vec<(ClientId, ClientStatus)>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select id, status from clients
          where organization_id = $1 and id = any($2) and deleted_at is null
            and ($3::uuid[] is null or id = any($3))",
    )
    .bind(org)
    .bind(ids.iter().map(|c| c.as_uuid()).collect::<Vec<_>>())
    .bind(scope.ids())
    .fetch_all(tx.conn())
    .await?)
}

/// Every active client within `scope`, by name (at most `limit`).
pub async fn active_clients(
    tx: &mut TenantTx,
    scope: &ClientScope,
    limit: i64,
) -> StoreResult<Vec<ClientId>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_scalar(
        "select id from clients
          where organization_id = $1 and status = 'active' and deleted_at is null
            and ($2::uuid[] is null or id = any($2))
          order by lower(business_name), id limit $3",
    )
    .bind(org)
    .bind(scope.ids())
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}
