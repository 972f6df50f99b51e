//! `workflow.wait`: completes a wait step when its business days have passed (the job is queued
//! with `run_at` = the wait's end by the transaction that made the step ready).

use chrono::{DateTime, Utc};
use domain::OrganizationId;
use domain::workflow::StepAction;
use jobs::{Job, JobContext, JobError};
use practice::Settled;
use practice::workflow_jobs::{QUEUE, StepJob, WAIT_ATTEMPTS, WAIT_KIND};
use store::{Actor, Db, TenantTx};

/// What became of a wait when its job ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitOutcome {
    /// The step is done and its dependants are ready.
    Completed,
    /// Not yet: the wait ends then (the job runs again at that time).
    NotYet(DateTime<Utc>),
    /// The run is paused; resuming queues the wait again.
    Paused,
    /// The run or step moved on without it (cancelled, skipped, done by a person).
    Moot,
}

/// The handler's state.
#[derive(Clone)]
pub struct WaitJob {
    pub db: Db,
}

impl WaitJob {
    /// Settles the wait at `now`, completing the job (when given) in the same transaction, so the
    /// step's completion happens once however often the job is delivered.
    pub async fn settle(
        &self,
        org: OrganizationId,
        job: StepJob,
        now: DateTime<Utc>,
        ctx: Option<&JobContext>,
    ) -> Result<WaitOutcome, JobError> {
        let mut tx = TenantTx::begin(&self.db, org, Actor::system()).await.map_err(JobError::retry)?;
        let row = store::workflow_automation::lock(&mut tx, job.step_id).await.map_err(JobError::retry)?;
        let wait_until = row.and_then(|r| r.wait_until);
        let outcome = match wait_until {
            Some(end) if now < end => WaitOutcome::NotYet(end),
            _ => {
                let detail = serde_json::json!({"wait_until": wait_until});
                match practice::settle_step_by_system(
                    &mut tx,
                    job.run_id,
                    job.step_id,
                    StepAction::Complete,
                    detail,
                )
                .await
                .map_err(JobError::retry)?
                {
                    Settled::Applied => WaitOutcome::Completed,
                    Settled::Paused => WaitOutcome::Paused,
                    Settled::Moot => WaitOutcome::Moot,
                }
            }
        };
        if let (Some(ctx), false) = (ctx, matches!(outcome, WaitOutcome::NotYet(_))) {
            ctx.complete_in(tx.conn()).await?;
        }
        tx.commit().await.map_err(JobError::retry)?;
        Ok(outcome)
    }
}

impl Job for WaitJob {
    const KIND: &'static str = WAIT_KIND;
    const QUEUE: &'static str = QUEUE;
    const MAX_ATTEMPTS: i32 = WAIT_ATTEMPTS;
    type Payload = StepJob;

    async fn run(&self, ctx: JobContext, job: StepJob) -> Result<(), JobError> {
        let org =
            ctx.organization_id().ok_or_else(|| JobError::fatal("a workflow job without its tenant"))?;
        match self.settle(org, job, Utc::now(), Some(&ctx)).await? {
            // Only a clock running behind the database's gets here: come back at the end.
            WaitOutcome::NotYet(end) => {
                let left = (end - Utc::now()).to_std().unwrap_or_default();
                Err(JobError::retry_after(left, "the wait has not ended yet"))
            }
            outcome => {
                tracing::info!(step = %job.step_id, ?outcome, "workflow wait settled");
                Ok(())
            }
        }
    }
}
