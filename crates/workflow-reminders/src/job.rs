//! The job kind `workflow_reminders.tick` and its hourly schedule: one [`Reminders::tick`] at the
//! time the job runs.

use chrono::Utc;
use jobs::scheduler::Schedule;
use jobs::{Job, JobContext, JobError, Registry};
use serde::{Deserialize, Serialize};

use crate::Reminders;

pub const QUEUE: &str = "workflows";

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TickPayload {}

/// Every hour: the reminders due at the hour, for every firm.
pub struct Tick {
    reminders: Reminders,
}

impl Job for Tick {
    const KIND: &'static str = "workflow_reminders.tick";
    const QUEUE: &'static str = QUEUE;
    const MAX_ATTEMPTS: i32 = 3;
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1800);
    type Payload = TickPayload;

    async fn run(&self, _ctx: JobContext, _payload: TickPayload) -> Result<(), JobError> {
        let report = self.reminders.tick(Utc::now()).await.map_err(JobError::retry)?;
        tracing::info!(?report, "workflow reminders");
        Ok(())
    }
}

/// Adds the kind to a worker's registry.
pub fn register(registry: &mut Registry, reminders: Reminders) {
    registry.register(Tick { reminders });
}

/// Hourly, at minute 11.
pub fn schedules() -> Result<Vec<Schedule>, jobs::JobsError> {
    Ok(vec![Schedule::new::<Tick>("workflow-reminders-hourly", "11 * * * *", TickPayload {})?])
}
