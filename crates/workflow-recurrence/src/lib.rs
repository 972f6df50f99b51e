//! Starting workflow runs in quantity, on the job queue:
//!
//! - `workflow.recurrence_tick`, every minute from the scheduler: creates the run of every due
//!   recurring schedule's period ([`practice::Practice::run_due_workflow_schedules`]); the period's
//!   key makes a second tick, worker or scheduler a no-op.
//! - `workflow.bulk_start`, one per bulk start, enqueued by the use case in its transaction:
//!   creates the runs in batches ([`practice::Practice::run_workflow_bulk`]); a retry resumes with
//!   the clients still pending.
//!
//! The use cases hold the logic; this crate only binds them to the queue.

use std::time::Duration;

use chrono::Utc;
use jobs::scheduler::Schedule;
use jobs::{Job, JobContext, JobError, Registry};
use practice::workflow_jobs::QUEUE as WORKFLOW_QUEUE;
use practice::{BULK_START_JOB, BulkStartPayload, Practice};
use serde::{Deserialize, Serialize};

/// Batches a bulk start runs at once (the machine's two cores and the pool's share).
const BULK_WORKERS: usize = 2;

/// Adds the two workflow jobs to a worker's kinds.
pub fn register(registry: &mut Registry, practice: Practice) {
    registry.register(RecurrenceTick { practice: practice.clone() });
    registry.register(BulkStart { practice });
}

/// The tick, every minute.
pub fn schedules() -> Result<Vec<Schedule>, jobs::JobsError> {
    Ok(vec![Schedule::new::<RecurrenceTick>("workflow-recurrence", "* * * * *", TickPayload {})?])
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TickPayload {}

pub struct RecurrenceTick {
    practice: Practice,
}

impl Job for RecurrenceTick {
    const KIND: &'static str = "workflow.recurrence_tick";
    const QUEUE: &'static str = WORKFLOW_QUEUE;
    const MAX_ATTEMPTS: i32 = 3;
    const TIMEOUT: Duration = Duration::from_secs(600);
    type Payload = TickPayload;

    async fn run(&self, _ctx: JobContext, _payload: TickPayload) -> Result<(), JobError> {
        let report = self.practice.run_due_workflow_schedules(Utc::now()).await.map_err(JobError::retry)?;
        if report.started + report.missed > 0 {
            tracing::info!(started = report.started, missed = report.missed, "recurring workflow runs");
        }
        Ok(())
    }
}

pub struct BulkStart {
    practice: Practice,
}

impl Job for BulkStart {
    const KIND: &'static str = BULK_START_JOB;
    const QUEUE: &'static str = WORKFLOW_QUEUE;
    const MAX_ATTEMPTS: i32 = 10;
    const TIMEOUT: Duration = Duration::from_secs(1800);
    type Payload = BulkStartPayload;

    async fn run(&self, ctx: JobContext, payload: BulkStartPayload) -> Result<(), JobError> {
        let org = ctx.organization_id().ok_or_else(|| JobError::fatal("a bulk start job names its firm"))?;
        self.practice.run_workflow_bulk(org, payload.bulk_id, BULK_WORKERS).await.map_err(JobError::retry)
    }
}
