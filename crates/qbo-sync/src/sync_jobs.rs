//! The job kinds: `qbo.sync` runs one sync run of one connection; `qbo.schedule` fans out a sync
//! run to every live connection (hourly incremental, weekly full, from [`schedules`]).
//!
//! One sync per realm at a time, across all workers: every `qbo.sync` job counts against the
//! limit `qbo:realm:<realm>` with `max_in_flight(1)`. Queued duplicates are folded by unique key
//! (`qbo-sync:<connection>`, and a separate `…:webhook` key so a webhook's targeted sync queues
//! behind a running one instead of being dropped).

use std::time::Duration;

use domain::{ConnectionStatus, OrganizationId, SyncMode, SyncRunStatus, SyncTrigger};
use jobs::{Enqueued, Job, JobContext, JobError, JobId, Limit, NewJob, Registry, scheduler::Schedule};
use quickbooks::{EntityKind, QboError};
use serde::{Deserialize, Serialize};
use store::{Actor, TenantTx};
use uuid::Uuid;

use crate::connections::{self, Connection};
use crate::{QuickBooks, SyncError, SyncResult, engine};

pub const QUEUE: &str = "quickbooks";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncPayload {
    pub organization_id: Uuid,
    pub run_id: Uuid,
    pub realm_id: String,
    /// For a webhook's targeted incremental sync: only these kinds.
    #[serde(default)]
    pub kinds: Option<Vec<EntityKind>>,
}

/// Runs one sync run.
pub struct SyncJob {
    qb: QuickBooks,
}

impl Job for SyncJob {
    const KIND: &'static str = "qbo.sync";
    const QUEUE: &'static str = QUEUE;
    const MAX_ATTEMPTS: i32 = 10;
    const TIMEOUT: Duration = Duration::from_secs(4 * 3600);
    type Payload = SyncPayload;

    fn limit(payload: &SyncPayload) -> Option<Limit> {
        Some(Limit::new(format!("qbo:realm:{}", payload.realm_id)).max_in_flight(1))
    }

    async fn run(&self, ctx: JobContext, payload: SyncPayload) -> Result<(), JobError> {
        let org = OrganizationId::from_uuid(payload.organization_id);
        let result = engine::run(&self.qb, org, payload.run_id, payload.kinds.as_deref(), Some(&ctx)).await;
        let error = match result {
            Ok(outcome) => {
                tracing::info!(run = %payload.run_id, mode = ?outcome.mode, api_calls = outcome.api_calls, "QuickBooks sync done");
                return Ok(());
            }
            // Another worker has the job now; it records what happens next.
            Err(SyncError::Job(JobError::LeaseLost)) => return Err(JobError::LeaseLost),
            Err(error) => error,
        };
        let transient = error.is_transient();
        let last = !transient || ctx.attempt() >= ctx.max_attempts();
        if let Err(record) = engine::record_failure(&self.qb, org, payload.run_id, &error, last).await {
            tracing::warn!(run = %payload.run_id, error = %record, "cannot record the sync failure");
        }
        tracing::warn!(run = %payload.run_id, error = %error, transient, "QuickBooks sync failed");
        match &error {
            SyncError::Qbo(QboError::Throttled { .. }) => {
                Err(JobError::retry_after(Duration::from_secs(60), error))
            }
            SyncError::Qbo(QboError::CircuitOpen { retry_after }) => {
                Err(JobError::retry_after(*retry_after, error))
            }
            _ if transient => Err(JobError::retry(error)),
            _ => Err(JobError::fatal(error)),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SchedulePayload {
    pub mode: SyncMode,
}

/// Queues a run for every live connection.
pub struct ScheduleJob {
    qb: QuickBooks,
}

impl Job for ScheduleJob {
    const KIND: &'static str = "qbo.schedule";
    const QUEUE: &'static str = QUEUE;
    const MAX_ATTEMPTS: i32 = 3;
    type Payload = SchedulePayload;

    async fn run(&self, _ctx: JobContext, payload: SchedulePayload) -> Result<(), JobError> {
        let routes = connections::all_routes(&self.qb).await.map_err(JobError::retry)?;
        for (org, connection) in routes {
            let queued = async {
                let mut tx = TenantTx::begin(self.qb.db(), org, Actor::system()).await?;
                let connection = connections::get(&mut tx, connection).await?;
                if connection.status == ConnectionStatus::Connected {
                    queue_sync(&mut tx, &connection, payload.mode, SyncTrigger::Schedule, None).await?;
                }
                tx.commit().await?;
                Ok::<_, SyncError>(())
            };
            if let Err(error) = queued.await {
                tracing::warn!(%connection, error = %error, "cannot queue a scheduled QuickBooks sync");
            }
        }
        Ok(())
    }
}

/// Registers the job kinds with their shared state.
pub fn register(registry: &mut Registry, qb: QuickBooks) {
    registry.register(SyncJob { qb: qb.clone() });
    registry.register(ScheduleJob { qb });
}

/// Incremental sync of every connection hourly, full sync weekly (Sundays 03:00 UTC).
pub fn schedules() -> Result<Vec<Schedule>, jobs::JobsError> {
    Ok(vec![
        Schedule::new::<ScheduleJob>(
            "qbo-incremental-hourly",
            "0 * * * *",
            SchedulePayload { mode: SyncMode::Incremental },
        )?,
        Schedule::new::<ScheduleJob>(
            "qbo-full-weekly",
            "0 3 * * 0",
            SchedulePayload { mode: SyncMode::Full },
        )?,
    ])
}

/// A queued (or already queued) sync run.
#[derive(Debug, Clone, Serialize)]
pub struct QueuedSync {
    pub run_id: Uuid,
    pub job_id: Option<i64>,
    /// A run of this connection was already waiting or running; that one is returned.
    pub already_queued: bool,
}

/// Queues a run of `connection` in the caller's transaction (the run row and the job commit
/// together). When an unfinished job already holds the connection's unique key, the run that job
/// carries is returned instead: that run exists and stays readable, whatever state it is in.
pub async fn queue_sync(
    tx: &mut TenantTx,
    connection: &Connection,
    mode: SyncMode,
    trigger: SyncTrigger,
    kinds: Option<Vec<EntityKind>>,
) -> SyncResult<QueuedSync> {
    let run_id = Uuid::now_v7();
    sqlx::query(
        "insert into qbo_sync_runs (id, organization_id, connection_id, mode, trigger, status)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(run_id)
    .bind(tx.org_uuid())
    .bind(connection.id)
    .bind(mode)
    .bind(trigger)
    .bind(SyncRunStatus::Queued)
    .execute(tx.conn())
    .await?;
    let unique = match trigger {
        SyncTrigger::Webhook => format!("qbo-sync:{}:webhook", connection.id),
        _ => format!("qbo-sync:{}", connection.id),
    };
    let payload =
        SyncPayload { organization_id: tx.org_uuid(), run_id, realm_id: connection.realm_id.clone(), kinds };
    // The holder of the key can finish between the enqueue and the look-up; then the key is
    // free and the next enqueue takes it.
    for _ in 0..3 {
        let job = NewJob::<SyncJob>::new(payload.clone())
            .unique_key(unique.clone())
            .organization(tx.organization_id());
        if let Enqueued::New(JobId(id)) = jobs::enqueue(tx.conn(), job).await? {
            sqlx::query("update qbo_sync_runs set job_id = $3 where organization_id = $1 and id = $2")
                .bind(tx.org_uuid())
                .bind(run_id)
                .bind(id)
                .execute(tx.conn())
                .await?;
            return Ok(QueuedSync { run_id, job_id: Some(id), already_queued: false });
        }
        let holder: Option<(Uuid, i64)> = sqlx::query_as(
            "select r.id, j.id from jobs j
             join qbo_sync_runs r on r.organization_id = $1 and r.id = (j.payload ->> 'run_id')::uuid
             where j.unique_key = $2 and j.state in ('available', 'running', 'retrying')",
        )
        .bind(tx.org_uuid())
        .bind(&unique)
        .fetch_optional(tx.conn())
        .await?;
        if let Some((holder_run, holder_job)) = holder {
            sqlx::query("delete from qbo_sync_runs where organization_id = $1 and id = $2")
                .bind(tx.org_uuid())
                .bind(run_id)
                .execute(tx.conn())
                .await?;
            return Ok(QueuedSync { run_id: holder_run, job_id: Some(holder_job), already_queued: true });
        }
    }
    Err(SyncError::Job(JobError::retry(format!("the sync job key {unique} keeps changing hands; retry"))))
}
