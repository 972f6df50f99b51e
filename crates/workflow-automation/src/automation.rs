//! `workflow.automation`: performs an automation step's action, records what it did on the step
//! and completes it — or, once retrying cannot help (or the last attempt failed), blocks it with
//! the reason, for a person to fix and retry (unblocking the step queues it again).
//!
//! Exactly once: the mails (`mail.send` jobs) or the sync run are queued, the outcome recorded,
//! the step completed and this job deleted in one transaction. A redelivered job finds the step
//! settled and does nothing. A sync step is not completed here but started, with a
//! `workflow.sync_wait` job that completes it when the sync has finished (`sync_wait`).

use chrono::{DateTime, Utc};
use domain::workflow::{Automation, RunStatus, StepAction, StepKind, StepStatus};
use domain::{ClientScope, ConnectionStatus, OrganizationId, SyncMode, SyncTrigger};
use jobs::{Job, JobContext, JobError};
use practice::workflow_jobs::{AUTOMATION_ATTEMPTS, AUTOMATION_KIND, AutomationResult, QUEUE, StepJob};
use store::workflows::{self as wf, StepRow};
use store::{Actor, AuditRecord, Db, StoreError, TenantTx};
use vault::KeyRing;

use crate::cache;
use crate::sync_wait::{self, SyncWait};

/// What became of an automation when its job ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutomationOutcome {
    /// Done: the step is complete with this result (`cached`: reused, nothing was done again).
    Completed { result: AutomationResult, cached: bool },
    /// A QuickBooks sync is queued (or, `cached`, an identical recent one reused): the step is in
    /// progress until the sync finishes (`workflow.sync_wait`).
    SyncQueued { result: AutomationResult, cached: bool },
    /// Failed for good (or for the last time): the step is blocked with the reason.
    Blocked(String),
    /// The run is paused; resuming queues the step again.
    Paused,
    /// Nothing to do: the run or the step moved on, or an earlier delivery already did it.
    Moot,
}

/// Why an attempt failed.
#[derive(Debug)]
enum Failure {
    /// Retrying cannot help until someone changes something (no portal user, no connection).
    Permanent(String),
    Transient(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Transient(e.to_string())
    }
}

impl From<practice::PracticeError> for Failure {
    fn from(e: practice::PracticeError) -> Self {
        Failure::Transient(e.to_string())
    }
}

/// The handler's state.
#[derive(Clone)]
pub struct AutomationJob {
    pub db: Db,
    pub keys: KeyRing,
    /// The console's address, for the link in mails to the client.
    pub public_url: String,
    /// Whether this deployment talks to QuickBooks (a sync queued without it would never run).
    pub quickbooks: bool,
}

impl AutomationJob {
    /// Runs the step's automation at `now` (the cache's clock). With `ctx`, the job is completed
    /// in the transaction that records the outcome; `last` says this attempt is the last one.
    pub async fn perform(
        &self,
        org: OrganizationId,
        job: StepJob,
        now: DateTime<Utc>,
        ctx: Option<&JobContext>,
        last: bool,
    ) -> Result<AutomationOutcome, JobError> {
        let mut tx = TenantTx::begin(&self.db, org, Actor::system()).await.map_err(JobError::retry)?;
        let failure = match self.act(&mut tx, job, now).await {
            Ok(outcome) => {
                if let Some(ctx) = ctx {
                    ctx.complete_in(tx.conn()).await?;
                }
                tx.commit().await.map_err(JobError::retry)?;
                return Ok(outcome);
            }
            Err(f) => f,
        };
        drop(tx);
        // The attempt's writes are gone; record the failure in a transaction of its own.
        let (reason, permanent) = match failure {
            Failure::Permanent(r) => (r, true),
            Failure::Transient(r) => (r, false),
        };
        let mut tx = TenantTx::begin(&self.db, org, Actor::system()).await.map_err(JobError::retry)?;
        store::workflow_automation::record(&mut tx, job.step_id, None, Some(&reason), false)
            .await
            .map_err(JobError::retry)?;
        if permanent || last {
            let detail = serde_json::json!({"error": reason});
            practice::settle_step_by_system(&mut tx, job.run_id, job.step_id, StepAction::Block, detail)
                .await
                .map_err(JobError::retry)?;
            if let Some(ctx) = ctx {
                ctx.complete_in(tx.conn()).await?;
            }
            tx.commit().await.map_err(JobError::retry)?;
            tracing::warn!(step = %job.step_id, error = %reason, "workflow automation blocked its step");
            return Ok(AutomationOutcome::Blocked(reason));
        }
        tx.commit().await.map_err(JobError::retry)?;
        Err(JobError::retry(reason))
    }

    async fn act(
        &self,
        tx: &mut TenantTx,
        job: StepJob,
        now: DateTime<Utc>,
    ) -> Result<AutomationOutcome, Failure> {
        let status = match wf::lock_run(tx, job.run_id, &ClientScope::All).await {
            Ok(locked) => locked.status,
            Err(StoreError::NotFound) => return Ok(AutomationOutcome::Moot),
            Err(e) => return Err(e.into()),
        };
        match status {
            RunStatus::Active => {}
            RunStatus::Paused => return Ok(AutomationOutcome::Paused),
            RunStatus::Done | RunStatus::Cancelled => return Ok(AutomationOutcome::Moot),
        }
        let steps = wf::steps(tx, job.run_id).await?;
        let Some(step) = steps.iter().find(|s| s.id == job.step_id) else {
            return Ok(AutomationOutcome::Moot);
        };
        let settled =
            store::workflow_automation::lock(tx, step.id).await?.is_some_and(|r| r.finished_at.is_some());
        let (StepKind::Automation, Some(automation), StepStatus::Ready | StepStatus::InProgress, false) =
            (step.kind, step.automation, step.status, settled)
        else {
            return Ok(AutomationOutcome::Moot);
        };
        let run = wf::get_run(tx, job.run_id, &ClientScope::All).await?;
        let (result, cached) = match automation {
            Automation::SendEmail => (self.send_email(tx, &run, step).await?, false),
            Automation::RequestDocuments => (self.request_documents(tx, &run, step, &steps).await?, false),
            Automation::StartQuickbooksSync => self.start_sync(tx, &run, step, now).await?,
        };
        let value = serde_json::to_value(&result).map_err(|e| Failure::Transient(e.to_string()))?;
        store::workflow_automation::record(tx, step.id, Some(&value), None, cached).await?;
        tx.audit(
            AuditRecord::new("workflow_step.automation", "workflow_step", step.id)
                .after(serde_json::json!({"automation": automation, "result": value, "cached": cached})),
        );
        let detail = serde_json::json!({"automation": automation, "cached": cached});
        if let Some(sync_run_id) = result.sync_run_id {
            // Done when the sync is: the step is in progress until `workflow.sync_wait` sees it finish.
            let wait =
                SyncWait { run_id: job.run_id, step_id: step.id, client_id: run.client_id, sync_run_id };
            let waiting = sync_wait::job(wait, tx.organization_id());
            jobs::enqueue_raw(tx.conn(), vec![waiting])
                .await
                .map_err(|e| Failure::Transient(e.to_string()))?;
            if step.status == StepStatus::Ready {
                practice::settle_step_by_system(tx, job.run_id, step.id, StepAction::Start, detail).await?;
            }
            return Ok(AutomationOutcome::SyncQueued { result, cached });
        }
        practice::settle_step_by_system(tx, job.run_id, step.id, StepAction::Complete, detail).await?;
        Ok(AutomationOutcome::Completed { result, cached })
    }

    async fn mail(
        &self,
        tx: &mut TenantTx,
        to: &[store::workflow_automation::Recipient],
        subject: &str,
        text: impl Fn(&str) -> String,
    ) -> Result<Vec<String>, Failure> {
        let mut sent = Vec::new();
        for r in to {
            let message =
                mailer::Message { to: r.email.clone(), subject: subject.to_owned(), text: text(&r.name) };
            match mailer::enqueue(tx.conn(), &self.keys, &message).await {
                Ok(_) => sent.push(r.email.clone()),
                // One unmailable address does not keep the others from their mail.
                Err(mailer::MailError::Address(a)) => {
                    tracing::warn!(address = %a, "a portal user cannot be mailed")
                }
                Err(e) => return Err(Failure::Transient(e.to_string())),
            }
        }
        if sent.is_empty() {
            return Err(Failure::Permanent("none of the client's portal users can be mailed".into()));
        }
        Ok(sent)
    }

    async fn send_email(
        &self,
        tx: &mut TenantTx,
        run: &wf::RunRow,
        step: &StepRow,
    ) -> Result<AutomationResult, Failure> {
        let to = store::workflow_automation::portal_recipients(tx, run.client_id, false).await?;
        if to.is_empty() {
            return Err(Failure::Permanent(format!(
                "{} has no portal users to mail; grant someone portal access, then retry",
                run.client_name
            )));
        }
        let firm = store::organizations::get(tx).await?.name;
        let subject = format!("{}: {}", firm, step.name);
        let url = self.public_url.trim_end_matches('/');
        let sent_to = self
            .mail(tx, &to, &subject, |name| {
                format!(
                    "Hello {name},\n\n{firm} is working on “{}” for {}: {}.\n\nYour portal: {url}/\n",
                    run.name, run.client_name, step.name
                )
            })
            .await?;
        Ok(AutomationResult { sent_to, ..AutomationResult::default() })
    }

    /// Mails the client's uploaders what to upload: this step, and the run's client requests not
    /// yet done.
    async fn request_documents(
        &self,
        tx: &mut TenantTx,
        run: &wf::RunRow,
        step: &StepRow,
        steps: &[StepRow],
    ) -> Result<AutomationResult, Failure> {
        let to = store::workflow_automation::portal_recipients(tx, run.client_id, true).await?;
        if to.is_empty() {
            return Err(Failure::Permanent(format!(
                "{} has no portal users who may upload documents; grant one upload access, then retry",
                run.client_name
            )));
        }
        let requested: Vec<String> = std::iter::once(step.name.clone())
            .chain(
                steps
                    .iter()
                    .filter(|s| s.kind == StepKind::ClientRequest && !s.status.is_finished())
                    .map(|s| s.name.clone()),
            )
            .collect();
        let firm = store::organizations::get(tx).await?.name;
        let subject = format!("{firm}: documents requested for {}", run.name);
        let url = self.public_url.trim_end_matches('/');
        let list: String = requested.iter().map(|r| format!("  - {r}\n")).collect();
        let sent_to = self
            .mail(tx, &to, &subject, |name| {
                format!(
                    "Hello {name},\n\n{firm} needs the following for “{}” ({}):\n\n{list}\nPlease upload them in your portal: {url}/\n",
                    run.name, run.client_name
                )
            })
            .await?;
        Ok(AutomationResult { sent_to, requested, ..AutomationResult::default() })
    }

    /// Queues an incremental sync of the client's connection, or reuses a sync queued for the same
    /// connection within the step type's TTL.
    async fn start_sync(
        &self,
        tx: &mut TenantTx,
        run: &wf::RunRow,
        step: &StepRow,
        now: DateTime<Utc>,
    ) -> Result<(AutomationResult, bool), Failure> {
        if !self.quickbooks {
            return Err(Failure::Permanent("QuickBooks is not configured on this deployment".into()));
        }
        let Some(connection) = qbo_sync::connections::for_client(tx, run.client_id)
            .await
            .map_err(|e| Failure::Transient(e.to_string()))?
        else {
            return Err(Failure::Permanent(format!(
                "{} has no QuickBooks connection; connect it, then retry",
                run.client_name
            )));
        };
        if connection.status != ConnectionStatus::Connected {
            return Err(Failure::Permanent(format!(
                "{}'s QuickBooks connection is {}; reconnect it, then retry",
                run.client_name, connection.status
            )));
        }
        let mode = SyncMode::Incremental;
        let connection_id = connection.id.to_string();
        let client_id = run.client_id.to_string();
        let key = cache::key(
            Automation::StartQuickbooksSync,
            step.task_type,
            &[&client_id, &connection_id, &connection.realm_id, mode.as_str()],
        );
        if let Some(key) = &key
            && let Some(hit) = cache::lookup(tx, key, now).await?
            && let Ok(result) = serde_json::from_value::<AutomationResult>(hit)
            && !self.sync_failed(tx, run, result.sync_run_id).await?
        {
            return Ok((result, true));
        }
        let queued = qbo_sync::sync_jobs::queue_sync(tx, &connection, mode, SyncTrigger::Manual, None)
            .await
            .map_err(|e| Failure::Transient(e.to_string()))?;
        tx.audit(
            AuditRecord::new("quickbooks.sync_requested", "qbo_connection", connection.id)
                .after(serde_json::json!({"mode": mode, "run_id": queued.run_id, "workflow_step": step.id})),
        );
        let result = AutomationResult { sync_run_id: Some(queued.run_id), ..AutomationResult::default() };
        if let Some(key) = &key {
            let value = serde_json::to_value(&result).map_err(|e| Failure::Transient(e.to_string()))?;
            cache::remember(tx, key, &value, now).await?;
        }
        Ok((result, false))
    }
}

impl AutomationJob {
    /// Whether the sync a cached result names failed (a failed sync is not reused).
    async fn sync_failed(
        &self,
        tx: &mut TenantTx,
        run: &wf::RunRow,
        sync_run_id: Option<uuid::Uuid>,
    ) -> Result<bool, Failure> {
        let Some(id) = sync_run_id else { return Ok(false) };
        match qbo_sync::history::get(tx, run.client_id.as_uuid(), id).await {
            Ok(sync) => Ok(sync.status == domain::SyncRunStatus::Failed),
            Err(qbo_sync::SyncError::NotFound(_)) => Ok(true),
            Err(e) => Err(Failure::Transient(e.to_string())),
        }
    }
}

impl Job for AutomationJob {
    const KIND: &'static str = AUTOMATION_KIND;
    const QUEUE: &'static str = QUEUE;
    const MAX_ATTEMPTS: i32 = AUTOMATION_ATTEMPTS;
    type Payload = StepJob;

    async fn run(&self, ctx: JobContext, job: StepJob) -> Result<(), JobError> {
        let org =
            ctx.organization_id().ok_or_else(|| JobError::fatal("a workflow job without its tenant"))?;
        let last = ctx.attempt() >= ctx.max_attempts();
        let outcome = self.perform(org, job, Utc::now(), Some(&ctx), last).await?;
        tracing::info!(step = %job.step_id, ?outcome, "workflow automation ran");
        Ok(())
    }
}
