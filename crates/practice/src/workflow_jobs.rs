//! The hook for steps that run themselves: when a wait or automation step becomes ready, its job
//! is queued in the transaction that made it ready, so a ready step never lacks its job.
//!
//! The jobs themselves (`workflow.wait`, `workflow.automation`) are the crate
//! `workflow-automation`'s; they are named here, with their payload, so that this crate queues
//! them without depending on it (it depends on us).

use api_types::workflows::StepOutcome;
use chrono::{DateTime, Datelike, Utc};
use domain::workflow::{BusinessCalendar, StepKind};
use domain::{WorkflowRunId, WorkflowStepId};
use serde::{Deserialize, Serialize};
use store::workflow_automation::StepOutcomeRow;
use store::workflows::StepRow;
use store::{StoreError, TenantTx};

use crate::{PracticeError, PracticeResult};

pub const QUEUE: &str = "workflows";
pub const WAIT_KIND: &str = "workflow.wait";
pub const AUTOMATION_KIND: &str = "workflow.automation";
/// A wait is only late, never wrong: keep trying for hours.
pub const WAIT_ATTEMPTS: i32 = 20;
/// An automation that failed this many times blocks its step with the last error.
pub const AUTOMATION_ATTEMPTS: i32 = 5;

/// The payload of both kinds: the step the job acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepJob {
    pub run_id: WorkflowRunId,
    pub step_id: WorkflowStepId,
}

/// What an automation did, as `workflow_step_automation.result` keeps it (and the step cache).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomationResult {
    #[serde(default)]
    pub sent_to: Vec<String>,
    #[serde(default)]
    pub requested: Vec<String>,
    #[serde(default)]
    pub sync_run_id: Option<uuid::Uuid>,
}

/// The API's view of a step's outcome row.
pub(crate) fn outcome_response(row: &StepOutcomeRow) -> StepOutcome {
    let result: AutomationResult =
        row.result.as_ref().and_then(|r| serde_json::from_value(r.0.clone()).ok()).unwrap_or_default();
    StepOutcome {
        wait_until: row.wait_until,
        sent_to: result.sent_to,
        requested: result.requested,
        sync_run_id: result.sync_run_id,
        cached: row.cached,
        error: row.error.clone(),
        attempts: row.attempts,
        finished_at: row.finished_at,
    }
}

/// The one unfinished job per step.
pub fn unique_key(step: WorkflowStepId) -> String {
    format!("workflow-step:{step}")
}

/// When a wait of `days` business days reached at `ready` ends: the same time of day, `days`
/// business days later on the firm's calendar (US federal holidays, as due dates use).
pub fn wait_end(ready: DateTime<Utc>, days: u16) -> DateTime<Utc> {
    let day = ready.date_naive();
    let calendar = BusinessCalendar::us_federal(day.year()..=day.year() + 2);
    let end = calendar.add(day, u32::from(days));
    end.and_time(ready.time()).and_utc()
}

/// Queues the job of each wait or automation step among `ready` (positions in `rows`), at `now`
/// for an automation and at the wait's end for a wait (kept from the first time the step was
/// reached, so a resumed run's wait ends when it would have; past, the job runs at once).
pub(crate) async fn take_up_ready(
    tx: &mut TenantTx,
    rows: &[StepRow],
    ready: &[usize],
    now: DateTime<Utc>,
) -> PracticeResult<()> {
    let mut queued = Vec::new();
    for step in ready.iter().filter_map(|&i| rows.get(i)) {
        let (kind, wait_until, attempts) = match step.kind {
            StepKind::Wait => {
                let days = u16::try_from(step.wait_days.unwrap_or(1).max(1)).unwrap_or(1);
                (WAIT_KIND, Some(wait_end(now, days)), WAIT_ATTEMPTS)
            }
            StepKind::Automation => (AUTOMATION_KIND, None, AUTOMATION_ATTEMPTS),
            _ => continue,
        };
        let row = store::workflow_automation::take_up(tx, step.run_id, step.id, wait_until).await?;
        let payload = serde_json::json!(StepJob { run_id: step.run_id, step_id: step.id });
        queued.push(jobs::RawJob {
            kind: kind.to_owned(),
            queue: QUEUE.to_owned(),
            payload,
            priority: 0,
            max_attempts: attempts,
            run_at: Some(row.wait_until.unwrap_or(now)),
            unique_key: Some(unique_key(step.id)),
            organization: Some(tx.organization_id()),
            limit: None,
        });
    }
    jobs::enqueue_raw(tx.conn(), queued).await.map_err(|e| match e {
        jobs::JobsError::Database(e) => PracticeError::Store(e.into()),
        jobs::JobsError::Store(e) => PracticeError::Store(e),
        other => PracticeError::Store(StoreError::Corrupt(format!("queueing a step's job: {other}"))),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_wait_ends_business_days_later_at_the_same_time() {
        // Thu 2026-07-02 10:30 + 1 business day: Fri the 3rd is Independence Day observed.
        let ready = Utc.with_ymd_and_hms(2026, 7, 2, 10, 30, 0).unwrap();
        assert_eq!(wait_end(ready, 1), Utc.with_ymd_and_hms(2026, 7, 6, 10, 30, 0).unwrap());
        // Over a weekend.
        let fri = Utc.with_ymd_and_hms(2026, 12, 4, 9, 0, 0).unwrap();
        assert_eq!(wait_end(fri, 2), Utc.with_ymd_and_hms(2026, 12, 8, 9, 0, 0).unwrap());
    }
}
