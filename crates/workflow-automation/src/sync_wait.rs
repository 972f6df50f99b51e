//! `workflow.sync_wait`: a QuickBooks-sync step is done when its sync is, not when the sync was
//! queued. The automation queues the sync, starts the step and queues this job in one
//! transaction; the job looks at the sync run — done with it when it succeeded, blocked with the
//! sync's errors when it failed — and otherwise looks again later (2 s, 4 s, … then every
//! minute), for about an hour before it blocks the step as not finished.

use std::time::Duration;

use domain::workflow::StepAction;
use domain::{ClientId, OrganizationId, SyncRunStatus, WorkflowRunId, WorkflowStepId};
use jobs::{Job, JobContext, JobError, RawJob};
use practice::Settled;
use practice::workflow_jobs::{AutomationResult, QUEUE};
use serde::{Deserialize, Serialize};
use store::{Actor, Db, StoreError, TenantTx};

pub const SYNC_WAIT_KIND: &str = "workflow.sync_wait";
/// 2 s doubling to a minute, then a minute apart: about an hour in all.
pub const SYNC_WAIT_ATTEMPTS: i32 = 65;

/// The payload: the step, and the sync run it waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncWait {
    pub run_id: WorkflowRunId,
    pub step_id: WorkflowStepId,
    pub client_id: ClientId,
    pub sync_run_id: uuid::Uuid,
}

/// The job that waits for `wait`, to queue in the transaction that queued the sync (its own
/// unique key: the automation's job still holds the step's).
pub fn job(wait: SyncWait, org: OrganizationId) -> RawJob {
    RawJob {
        kind: SYNC_WAIT_KIND.to_owned(),
        queue: QUEUE.to_owned(),
        payload: serde_json::json!(wait),
        priority: 0,
        max_attempts: SYNC_WAIT_ATTEMPTS,
        run_at: None,
        unique_key: Some(format!("workflow-step-sync:{}", wait.step_id)),
        organization: Some(org),
        limit: None,
    }
}

/// How long to wait before looking again after `attempt` looks.
pub fn next_look(attempt: i32) -> Duration {
    Duration::from_secs(2u64.saturating_pow(attempt.clamp(1, 6) as u32).min(60))
}

/// What a look at the sync found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncWaitOutcome {
    /// The sync succeeded: the step is done and its dependants are ready.
    Completed,
    /// The sync failed (or never finished): the step is blocked with the reason.
    Blocked(String),
    /// Still queued or running (or the run is paused): look again later.
    NotYet,
    /// The step moved on without it (done or skipped by a person, cancelled, retried anew).
    Moot,
}

/// The handler's state.
#[derive(Clone)]
pub struct SyncWaitJob {
    pub db: Db,
}

impl SyncWaitJob {
    /// Looks at the sync once; `last` says no look follows. The step is settled, and the job
    /// (when given) completed, in one transaction.
    pub async fn look(
        &self,
        org: OrganizationId,
        wait: SyncWait,
        ctx: Option<&JobContext>,
        last: bool,
    ) -> Result<SyncWaitOutcome, JobError> {
        let mut tx = TenantTx::begin(&self.db, org, Actor::system()).await.map_err(JobError::retry)?;
        let outcome = self.settle(&mut tx, wait, last).await.map_err(JobError::retry)?;
        if let (Some(ctx), false) = (ctx, outcome == SyncWaitOutcome::NotYet) {
            ctx.complete_in(tx.conn()).await?;
        }
        tx.commit().await.map_err(JobError::retry)?;
        Ok(outcome)
    }

    async fn settle(
        &self,
        tx: &mut TenantTx,
        wait: SyncWait,
        last: bool,
    ) -> Result<SyncWaitOutcome, practice::PracticeError> {
        // Still this sync's step: its outcome names the run (a retried step queues another).
        let row = store::workflow_automation::lock(tx, wait.step_id).await?;
        let waits_for = row
            .and_then(|r| r.result)
            .and_then(|r| serde_json::from_value::<AutomationResult>(r.0).ok())
            .and_then(|r| r.sync_run_id);
        if waits_for != Some(wait.sync_run_id) {
            return Ok(SyncWaitOutcome::Moot);
        }
        let sync = match qbo_sync::history::get(tx, wait.client_id.as_uuid(), wait.sync_run_id).await {
            Ok(sync) => Some(sync),
            Err(qbo_sync::SyncError::NotFound(_)) => None,
            Err(e) => return Err(practice::PracticeError::Store(StoreError::Corrupt(e.to_string()))),
        };
        let (action, reason) = match sync.as_ref().map(|s| s.status) {
            Some(SyncRunStatus::Succeeded) => (StepAction::Complete, None),
            Some(SyncRunStatus::Failed) => {
                let errors = sync.map(|s| s.errors.to_string()).unwrap_or_default();
                let errors: String = errors.chars().take(500).collect();
                (StepAction::Block, Some(format!("the QuickBooks sync failed: {errors}")))
            }
            None => (StepAction::Block, Some("the QuickBooks sync run is gone".to_owned())),
            Some(SyncRunStatus::Queued | SyncRunStatus::Running) if last => (
                StepAction::Block,
                Some("the QuickBooks sync did not finish within an hour; retry the step".to_owned()),
            ),
            Some(SyncRunStatus::Queued | SyncRunStatus::Running) => return Ok(SyncWaitOutcome::NotYet),
        };
        if let Some(reason) = &reason {
            store::workflow_automation::record(tx, wait.step_id, None, Some(reason), false).await?;
        }
        let detail = serde_json::json!({"sync_run_id": wait.sync_run_id, "error": reason});
        Ok(match practice::settle_step_by_system(tx, wait.run_id, wait.step_id, action, detail).await? {
            Settled::Applied => match reason {
                Some(reason) => SyncWaitOutcome::Blocked(reason),
                None => SyncWaitOutcome::Completed,
            },
            // Resuming does not queue a step that is in progress: keep looking until it is resumed.
            Settled::Paused => SyncWaitOutcome::NotYet,
            Settled::Moot => SyncWaitOutcome::Moot,
        })
    }
}

impl Job for SyncWaitJob {
    const KIND: &'static str = SYNC_WAIT_KIND;
    const QUEUE: &'static str = QUEUE;
    const MAX_ATTEMPTS: i32 = SYNC_WAIT_ATTEMPTS;
    type Payload = SyncWait;

    async fn run(&self, ctx: JobContext, wait: SyncWait) -> Result<(), JobError> {
        let org =
            ctx.organization_id().ok_or_else(|| JobError::fatal("a workflow job without its tenant"))?;
        let last = ctx.attempt() >= ctx.max_attempts();
        match self.look(org, wait, Some(&ctx), last).await? {
            SyncWaitOutcome::NotYet => {
                Err(JobError::retry_after(next_look(ctx.attempt()), "the QuickBooks sync has not finished"))
            }
            outcome => {
                tracing::info!(step = %wait.step_id, ?outcome, "workflow sync wait settled");
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_come_2_4_8_seconds_apart_then_every_minute() {
        let gaps: Vec<u64> = (1..=8).map(|a| next_look(a).as_secs()).collect();
        assert_eq!(gaps, [2, 4, 8, 16, 32, 60, 60, 60]);
        // About an hour in all.
        let total: u64 = (1..SYNC_WAIT_ATTEMPTS).map(|a| next_look(a).as_secs()).sum();
        assert!((3_000..=4_200).contains(&total), "{total} s");
    }
}
