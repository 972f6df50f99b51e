//! Steps that run themselves: when a wait step ends, what an automation step did, and the cache of
//! automation results by a hash of their inputs (migration 0093).

use chrono::{DateTime, Utc};
use domain::{ClientId, UserId, WorkflowRunId, WorkflowStepId};
use serde::Serialize;
use sqlx::types::Json;

use crate::{StoreResult, TenantTx};

/// What the system did with one wait or automation step.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StepOutcomeRow {
    pub step_id: WorkflowStepId,
    pub run_id: WorkflowRunId,
    pub wait_until: Option<DateTime<Utc>>,
    pub result: Option<Json<serde_json::Value>>,
    pub error: Option<String>,
    pub cached: bool,
    pub attempts: i32,
    pub finished_at: Option<DateTime<Utc>>,
}

macro_rules! outcome_columns {
    () => {
        "step_id, run_id, wait_until, result, error, cached, attempts, finished_at"
    };
}

/// Notes that the step is now the system's (it became ready): a wait step's end is kept from
/// the first time it was reached, so a resumed run's wait ends when it would have; an
/// automation step taken up again (retried after a block) starts without its old error.
pub async fn take_up(
    tx: &mut TenantTx,
    run: WorkflowRunId,
    step: WorkflowStepId,
    wait_until: Option<DateTime<Utc>>,
) -> StoreResult<StepOutcomeRow> {
    let org = tx.org_uuid();
    let sql = concat!(
        "insert into workflow_step_automation (step_id, organization_id, run_id, wait_until)
         values ($1, $2, $3, $4)
         on conflict (step_id) do update set
             wait_until = coalesce(workflow_step_automation.wait_until, excluded.wait_until),
             error = null
         returning ",
        outcome_columns!()
    );
    Ok(sqlx::query_as(sql).bind(step).bind(org).bind(run).bind(wait_until).fetch_one(tx.conn()).await?)
}

/// The step's row, locked for the rest of the transaction.
pub async fn lock(tx: &mut TenantTx, step: WorkflowStepId) -> StoreResult<Option<StepOutcomeRow>> {
    let org = tx.org_uuid();
    let sql = concat!(
        "select ",
        outcome_columns!(),
        " from workflow_step_automation where organization_id = $1 and step_id = $2 for update"
    );
    Ok(sqlx::query_as(sql).bind(org).bind(step).fetch_optional(tx.conn()).await?)
}

/// Records an attempt's outcome: a result (the step is done with it) or an error.
pub async fn record(
    tx: &mut TenantTx,
    step: WorkflowStepId,
    result: Option<&serde_json::Value>,
    error: Option<&str>,
    cached: bool,
) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "update workflow_step_automation set result = coalesce($3, result), error = $4, cached = $5,
                attempts = attempts + 1, finished_at = case when $3::jsonb is not null then now() end
          where organization_id = $1 and step_id = $2",
    )
    .bind(org)
    .bind(step)
    .bind(result.map(Json))
    .bind(error.map(|e| e.chars().take(2_000).collect::<String>()))
    .bind(cached)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The outcomes of a run's steps (only the steps the system took up have one).
pub async fn of_run(tx: &mut TenantTx, run: WorkflowRunId) -> StoreResult<Vec<StepOutcomeRow>> {
    let org = tx.org_uuid();
    let sql = concat!(
        "select ",
        outcome_columns!(),
        " from workflow_step_automation where organization_id = $1 and run_id = $2"
    );
    Ok(sqlx::query_as(sql).bind(org).bind(run).fetch_all(tx.conn()).await?)
}

/// A client's portal user who can be mailed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recipient {
    pub user_id: UserId,
    pub name: String,
    pub email: String,
}

/// The client's active portal users with a live grant (those who may upload, when `uploaders`).
pub async fn portal_recipients(
    tx: &mut TenantTx,
    client: ClientId,
    uploaders: bool,
) -> StoreResult<Vec<Recipient>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select distinct u.id as user_id, u.name, u.email::text as email
           from client_portal_access a
           join users u on u.organization_id = a.organization_id and u.id = a.user_id
          where a.organization_id = $1 and a.client_id = $2 and a.revoked_at is null
            and (a.expires_at is null or a.expires_at > now()) and u.status = 'active'
            and (not $3 or a.can_upload_documents)
          order by email limit 100",
    )
    .bind(org)
    .bind(client)
    .bind(uploaders)
    .fetch_all(tx.conn())
    .await?)
}

/// A live cached result for `(step_type, input_hash)` at `now`.
pub async fn cached(
    tx: &mut TenantTx,
    step_type: &str,
    input_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<serde_json::Value>> {
    let org = tx.org_uuid();
    let row: Option<Json<serde_json::Value>> = sqlx::query_scalar(
        "select result from workflow_step_cache
          where organization_id = $1 and step_type = $2 and input_hash = $3 and expires_at > $4",
    )
    .bind(org)
    .bind(step_type)
    .bind(input_hash)
    .bind(now)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|j| j.0))
}

/// Stores (or replaces) a result until `expires_at`.
pub async fn cache(
    tx: &mut TenantTx,
    step_type: &str,
    input_hash: &str,
    result: &serde_json::Value,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "insert into workflow_step_cache (organization_id, step_type, input_hash, result, expires_at)
         values ($1, $2, $3, $4, $5)
         on conflict (organization_id, step_type, input_hash)
             do update set result = excluded.result, expires_at = excluded.expires_at, created_at = now()",
    )
    .bind(org)
    .bind(step_type)
    .bind(input_hash)
    .bind(Json(result))
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}
