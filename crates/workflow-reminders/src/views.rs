//! What the screens read: a run's reminders (with each client request's next one) and the firm's
//! stuck work at a given time.

use std::collections::HashMap;

use api_types::workflow_reminders::{
    ClientRequestReminders, OverEstimateResponse, ReminderResponse, RunRemindersResponse, StuckRunResponse,
    StuckWorkResponse,
};
use chrono::{DateTime, Utc};
use domain::workflow::reminders::{self as rules, OVER_ESTIMATE_FACTOR, ReminderKind};
use domain::workflow::{RunStatus, StepStatus};
use domain::{Permission, WorkflowRunId};
use identity::Caller;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use store::StoreError;
use store::workflow_reminders as rw;
use store::workflows as wf;

use crate::{Reminders, RemindersError, RemindersResult};

impl Reminders {
    /// The reminders a run's steps had, and when each open client request's next one is due.
    pub async fn run_reminders(
        &self,
        caller: &Caller,
        run: WorkflowRunId,
    ) -> RemindersResult<RunRemindersResponse> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = caller.begin(&self.db).await?;
        let row = wf::get_run(&mut tx, run, &caller.client_scope()).await.map_err(|e| match e {
            StoreError::NotFound => RemindersError::NotFound("workflow run"),
            other => other.into(),
        })?;
        let sent = rw::for_run(&mut tx, run).await?;
        let requests = rw::request_steps(&mut tx, run).await?;
        let keys: HashMap<_, _> = wf::steps(&mut tx, run).await?.into_iter().map(|s| (s.id, s.key)).collect();
        tx.commit().await?;
        let client_requests = requests
            .into_iter()
            .map(|r| {
                let count = sent
                    .iter()
                    .filter(|m| m.step_id == Some(r.step_id) && m.kind == ReminderKind::ClientRequest)
                    .map(|m| m.nth)
                    .max()
                    .unwrap_or(0);
                let waiting = row.status == RunStatus::Active
                    && matches!(r.status, StepStatus::Ready | StepStatus::InProgress);
                ClientRequestReminders {
                    next_at: r
                        .ready_at
                        .filter(|_| waiting)
                        .and_then(|at| rules::client_request_next(at, count)),
                    step_id: r.step_id,
                    key: r.key,
                    status: r.status,
                    ready_at: r.ready_at,
                    sent: count,
                }
            })
            .collect();
        Ok(RunRemindersResponse {
            run_id: run,
            reminders: sent
                .into_iter()
                .map(|m| ReminderResponse {
                    kind: m.kind,
                    step_key: m.step_id.and_then(|s| keys.get(&s).cloned()),
                    step_id: m.step_id,
                    nth: m.nth,
                    recipients: m.recipients,
                    sent_at: m.sent_at,
                })
                .collect(),
            client_requests,
        })
    }

    /// Runs without progress for 7 days and steps in progress 50% over their estimate, at `now`.
    pub async fn stuck_work(
        &self,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> RemindersResult<StuckWorkResponse> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = caller.begin(&self.db).await?;
        let runs = rw::stuck_runs(&mut tx, rules::stuck_before(now)).await?;
        let steps = rw::over_estimate(&mut tx, now, OVER_ESTIMATE_FACTOR * Decimal::from(60)).await?;
        tx.commit().await?;
        Ok(StuckWorkResponse {
            runs: runs
                .into_iter()
                .map(|r| StuckRunResponse {
                    days_without_progress: (now - r.progressed_at).num_days(),
                    run_id: r.run_id,
                    run_name: r.run_name,
                    client_id: r.client_id,
                    client_name: r.client_name,
                    progressed_at: r.progressed_at,
                })
                .collect(),
            steps: steps
                .into_iter()
                .map(|s| {
                    let logged = domain::time::hours(s.logged_minutes);
                    OverEstimateResponse {
                        percent_of_estimate: (logged * Decimal::from(100) / s.estimated_hours)
                            .round()
                            .to_u32()
                            .unwrap_or(u32::MAX),
                        run_id: s.run_id,
                        run_name: s.run_name,
                        step_id: s.step_id,
                        step_name: s.name,
                        assignee_name: s.assignee_name,
                        estimated_hours: s.estimated_hours,
                        logged_hours: logged,
                    }
                })
                .collect(),
        })
    }
}
