//! Time entries: members' running timers and logged time on workflow steps and engagements,
//! and the engagement's derived hours.

use chrono::{DateTime, Utc};
use domain::{
    ClientId, ClientScope, EngagementId, InvoiceId, TimeEntryId, UserId, WorkflowRunId, WorkflowStepId,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::cursor::{self, Page};
use crate::{Change, StoreResult, TenantTx};

/// One entry with the names a time sheet shows.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TimeEntryRow {
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
    pub ended_at: Option<DateTime<Utc>>,
    pub minutes: Option<i32>,
    pub billable: bool,
    pub hourly_rate: Option<Decimal>,
    pub note: Option<String>,
    /// The invoice the entry was billed on.
    pub invoice_id: Option<InvoiceId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! entry_select {
    () => {
        "select t.id, t.user_id, u.name as user_name, t.client_id, c.business_name as client_name,
        t.engagement_id, e.name as engagement_name, t.step_id, s.name as step_name, s.run_id,
        t.started_at, t.ended_at, t.minutes, t.billable, t.hourly_rate, t.note, t.invoice_id, t.created_at,
        t.updated_at
   from time_entries t
   join users u on u.id = t.user_id
   join clients c on c.organization_id = t.organization_id and c.id = t.client_id
   left join engagements e on e.organization_id = t.organization_id and e.id = t.engagement_id
   left join workflow_steps s on s.organization_id = t.organization_id and s.id = t.step_id"
    };
}

/// What an entry is logged against: the client, and the engagement (for a step, its run's).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Target {
    pub client_id: ClientId,
    pub engagement_id: Option<EngagementId>,
    /// The engagement's rate, the entry's default.
    pub hourly_rate: Option<Decimal>,
}

/// A step's client and its run's engagement, if the step is within `scope`.
pub async fn step_target(
    tx: &mut TenantTx,
    step: WorkflowStepId,
    scope: &ClientScope,
) -> StoreResult<Target> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select r.client_id, r.engagement_id, e.hourly_rate
           from workflow_steps s
           join workflow_runs r on r.organization_id = s.organization_id and r.id = s.run_id
           left join engagements e on e.organization_id = r.organization_id and e.id = r.engagement_id
          where s.organization_id = $1 and s.id = $2 and ($3::uuid[] is null or r.client_id = any($3))",
    )
    .bind(org)
    .bind(step)
    .bind(scope.ids())
    .fetch_one(tx.conn())
    .await?)
}

/// An engagement's client and rate, if it is within `scope`.
pub async fn engagement_target(
    tx: &mut TenantTx,
    engagement: EngagementId,
    scope: &ClientScope,
) -> StoreResult<Target> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select e.client_id, e.id as engagement_id, e.hourly_rate from engagements e
          where e.organization_id = $1 and e.id = $2 and ($3::uuid[] is null or e.client_id = any($3))",
    )
    .bind(org)
    .bind(engagement)
    .bind(scope.ids())
    .fetch_one(tx.conn())
    .await?)
}

/// A new entry: a running timer (`ended_at` and `minutes` none) or finished time.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub id: TimeEntryId,
    pub user_id: UserId,
    pub client_id: ClientId,
    pub engagement_id: Option<EngagementId>,
    pub step_id: Option<WorkflowStepId>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub minutes: Option<i32>,
    pub billable: bool,
    pub hourly_rate: Option<Decimal>,
    pub note: Option<String>,
}

/// Writes an entry; a second running timer of one member is a `Conflict` on
/// `time_entries_one_running`.
pub async fn insert(tx: &mut TenantTx, e: &NewEntry) -> StoreResult<TimeEntryRow> {
    let org = tx.org_uuid();
    sqlx::query(
        "insert into time_entries (id, organization_id, user_id, client_id, engagement_id, step_id, started_at,
                                   ended_at, minutes, billable, hourly_rate, note)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(e.id)
    .bind(org)
    .bind(e.user_id)
    .bind(e.client_id)
    .bind(e.engagement_id)
    .bind(e.step_id)
    .bind(e.started_at)
    .bind(e.ended_at)
    .bind(e.minutes)
    .bind(e.billable)
    .bind(e.hourly_rate)
    .bind(&e.note)
    .execute(tx.conn())
    .await?;
    get(tx, e.id, &ClientScope::All).await
}

pub async fn get(tx: &mut TenantTx, id: TimeEntryId, scope: &ClientScope) -> StoreResult<TimeEntryRow> {
    let org = tx.org_uuid();
    let sql = concat!(
        entry_select!(),
        " where t.organization_id = $1 and t.id = $2 and ($3::uuid[] is null or t.client_id = any($3))"
    );
    Ok(sqlx::query_as(sql).bind(org).bind(id).bind(scope.ids()).fetch_one(tx.conn()).await?)
}

/// Takes the entry's row lock for the rest of the transaction.
pub async fn lock(tx: &mut TenantTx, id: TimeEntryId, scope: &ClientScope) -> StoreResult<TimeEntryRow> {
    let org = tx.org_uuid();
    sqlx::query(
        "select 1 from time_entries where organization_id = $1 and id = $2
           and ($3::uuid[] is null or client_id = any($3)) for update",
    )
    .bind(org)
    .bind(id)
    .bind(scope.ids())
    .fetch_one(tx.conn())
    .await?;
    get(tx, id, scope).await
}

/// The member's running timer, locked, if one runs.
pub async fn running_of(tx: &mut TenantTx, user: UserId) -> StoreResult<Option<TimeEntryRow>> {
    let org = tx.org_uuid();
    let id: Option<TimeEntryId> = sqlx::query_scalar(
        "select id from time_entries where organization_id = $1 and user_id = $2 and ended_at is null for update",
    )
    .bind(org)
    .bind(user)
    .fetch_optional(tx.conn())
    .await?;
    match id {
        Some(id) => Ok(Some(get(tx, id, &ClientScope::All).await?)),
        None => Ok(None),
    }
}

/// Stops a running timer at `ended_at`, counting `minutes`.
pub async fn stop(
    tx: &mut TenantTx,
    id: TimeEntryId,
    ended_at: DateTime<Utc>,
    minutes: i32,
) -> StoreResult<TimeEntryRow> {
    let org = tx.org_uuid();
    sqlx::query(
        "update time_entries set ended_at = greatest($3, started_at), minutes = $4
          where organization_id = $1 and id = $2 and ended_at is null",
    )
    .bind(org)
    .bind(id)
    .bind(ended_at)
    .bind(minutes)
    .execute(tx.conn())
    .await
    .and_then(|done| if done.rows_affected() == 1 { Ok(()) } else { Err(sqlx::Error::RowNotFound) })?;
    get(tx, id, &ClientScope::All).await
}

/// An entry's editable fields, all given (the use case merges a patch onto the row).
#[derive(Debug, Clone)]
pub struct EntryFields {
    pub started_at: DateTime<Utc>,
    /// `None` for a running timer, which keeps running.
    pub minutes: Option<i32>,
    pub billable: bool,
    pub hourly_rate: Option<Decimal>,
    pub note: Option<String>,
}

/// Saves an entry's fields; a finished entry's end follows its start and minutes.
pub async fn update(
    tx: &mut TenantTx,
    id: TimeEntryId,
    f: &EntryFields,
) -> StoreResult<Change<TimeEntryRow>> {
    let before = lock(tx, id, &ClientScope::All).await?;
    let org = tx.org_uuid();
    sqlx::query(
        "update time_entries set started_at = $3, minutes = $4,
                ended_at = case when $4::integer is null then null
                                when started_at = $3 and minutes = $4 then ended_at
                                else $3 + make_interval(mins => $4) end,
                billable = $5, hourly_rate = $6, note = $7
          where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(id)
    .bind(f.started_at)
    .bind(f.minutes)
    .bind(f.billable)
    .bind(f.hourly_rate)
    .bind(&f.note)
    .execute(tx.conn())
    .await?;
    let after = get(tx, id, &ClientScope::All).await?;
    Ok(Change { before, after })
}

/// Deletes an entry; returns it as it was.
pub async fn delete(tx: &mut TenantTx, id: TimeEntryId) -> StoreResult<TimeEntryRow> {
    let before = lock(tx, id, &ClientScope::All).await?;
    let org = tx.org_uuid();
    sqlx::query("delete from time_entries where organization_id = $1 and id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(before)
}

/// A member's entries that started in `[from, to)`, by start (a week holds at most a few
/// hundred; capped at 2,000).
pub async fn of_user_between(
    tx: &mut TenantTx,
    user: UserId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<TimeEntryRow>> {
    let org = tx.org_uuid();
    let sql = concat!(
        entry_select!(),
        " where t.organization_id = $1 and t.user_id = $2 and t.started_at >= $3 and t.started_at < $4
          order by t.started_at, t.id limit 2000"
    );
    Ok(sqlx::query_as(sql).bind(org).bind(user).bind(from).bind(to).fetch_all(tx.conn()).await?)
}

#[derive(Serialize, Deserialize)]
struct ByStart(DateTime<Utc>, TimeEntryId);

/// An engagement's entries, newest first.
pub async fn of_engagement(
    tx: &mut TenantTx,
    engagement: EngagementId,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<TimeEntryRow>> {
    let org = tx.org_uuid();
    let after: Option<ByStart> = after.map(cursor::decode).transpose()?;
    let sql = concat!(
        entry_select!(),
        " where t.organization_id = $1 and t.engagement_id = $2
           and ($3::timestamptz is null or (t.started_at, t.id) < ($3, $4))
         order by t.started_at desc, t.id desc limit $5"
    );
    let rows: Vec<TimeEntryRow> = sqlx::query_as(sql)
        .bind(org)
        .bind(engagement)
        .bind(after.as_ref().map(|a| a.0))
        .bind(after.as_ref().map(|a| a.1))
        .bind(limit as i64 + 1)
        .fetch_all(tx.conn())
        .await?;
    Ok(Page::from_overfetch(rows, limit, |r| ByStart(r.started_at, r.id)))
}

/// Finished minutes of an engagement grouped by billable, billed and rate. Amounts are computed
/// per entry by the caller (`domain::time::amount`), so equal (minutes, rate) pairs are grouped
/// rather than summed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MinutesGroup {
    pub billable: bool,
    /// Billed on an invoice.
    pub billed: bool,
    pub hourly_rate: Option<Decimal>,
    pub minutes: i32,
    pub entries: i64,
}

pub async fn engagement_minutes(
    tx: &mut TenantTx,
    engagement: EngagementId,
) -> StoreResult<Vec<MinutesGroup>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select billable, invoice_id is not null as billed, hourly_rate, minutes, count(*) as entries
           from time_entries
          where organization_id = $1 and engagement_id = $2 and minutes is not null
          group by billable, invoice_id is not null, hourly_rate, minutes",
    )
    .bind(org)
    .bind(engagement)
    .fetch_all(tx.conn())
    .await?)
}

/// The engagement's finished billable entries with a rate and no invoice yet, oldest first,
/// locked until the transaction ends (two concurrent billings cannot bill one entry twice).
pub async fn lock_unbilled(tx: &mut TenantTx, engagement: EngagementId) -> StoreResult<Vec<TimeEntryRow>> {
    let org = tx.org_uuid();
    let sql = concat!(
        entry_select!(),
        " where t.organization_id = $1 and t.engagement_id = $2 and t.invoice_id is null and t.billable
            and t.minutes is not null and t.hourly_rate is not null
          order by t.started_at, t.id
          for update of t"
    );
    Ok(sqlx::query_as(sql).bind(org).bind(engagement).fetch_all(tx.conn()).await?)
}

/// Marks entries as billed on `invoice`.
pub async fn mark_billed(tx: &mut TenantTx, entries: &[TimeEntryId], invoice: InvoiceId) -> StoreResult<u64> {
    let org = tx.org_uuid();
    let done = sqlx::query(
        "update time_entries set invoice_id = $3 where organization_id = $1 and id = any($2) and invoice_id is null",
    )
    .bind(org)
    .bind(entries)
    .bind(invoice)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

/// Sets the engagement's `actual_hours` to its finished entries' minutes in hours; returns the
/// hours before and after.
pub async fn recompute_engagement_hours(
    tx: &mut TenantTx,
    engagement: EngagementId,
) -> StoreResult<Change<Decimal>> {
    let org = tx.org_uuid();
    let row: (Decimal, Decimal) = sqlx::query_as(
        "with old as (select actual_hours from engagements where organization_id = $1 and id = $2 for update)
         update engagements e set actual_hours = round(coalesce(
                (select sum(t.minutes) from time_entries t
                  where t.organization_id = $1 and t.engagement_id = $2 and t.minutes is not null), 0) / 60.0, 2)
           from old
          where e.organization_id = $1 and e.id = $2
         returning old.actual_hours, e.actual_hours",
    )
    .bind(org)
    .bind(engagement)
    .fetch_one(tx.conn())
    .await?;
    Ok(Change { before: row.0, after: row.1 })
}

/// Finished minutes per step of a run: (step, minutes).
pub async fn minutes_by_step(
    tx: &mut TenantTx,
    run: WorkflowRunId,
) -> StoreResult<Vec<(WorkflowStepId, i64)>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select t.step_id, sum(t.minutes)::bigint from time_entries t
           join workflow_steps s on s.organization_id = t.organization_id and s.id = t.step_id
          where t.organization_id = $1 and s.run_id = $2 and t.minutes is not null
          group by t.step_id",
    )
    .bind(org)
    .bind(run)
    .fetch_all(tx.conn())
    .await?)
}
