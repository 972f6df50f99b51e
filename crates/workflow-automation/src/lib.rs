//! Workflow steps that run themselves.
//!
//! - **Wait steps** (`workflow.wait`, [`WaitJob`]): when a wait step becomes ready, `practice`
//!   queues this job in the same transaction, due when its business days have passed (the firm's
//!   calendar: weekends and US federal holidays, as due dates). The job completes the step, which
//!   readies its dependants, unless the run is paused (resuming queues the wait again, ending when
//!   it would have) or the step was settled meanwhile.
//! - **Automation steps** (`workflow.automation`, [`AutomationJob`]): queued the same way, at
//!   once. *Send email* mails the client's portal users; *request documents* mails those who may
//!   upload the list of what to upload (the step and the run's open client requests); *start
//!   QuickBooks sync* queues an incremental sync of the client's connection and starts the step;
//!   the step is done when the sync is (`workflow.sync_wait`, [`SyncWaitJob`]: looks at the sync
//!   run with a growing interval; blocks the step with the sync's errors if it failed, or after
//!   about an hour if it never finished). The outcome (who was
//!   mailed, the sync run, the error) is kept on the step. A failure that retrying cannot fix (no
//!   portal user, no connection) blocks the step at once with the reason; others are retried and
//!   block the step after the last attempt. Unblocking the step ("Retry" on the run's page) queues
//!   it again.
//!
//! Both settle the step, record the outcome, queue any mail or sync, and delete their own job in
//! one transaction ([`jobs::JobContext::complete_in`]), so a job delivered twice acts once: the
//! second delivery finds the step settled.
//!
//! # The step-result cache ([`cache`])
//! An automation whose inputs did not change reuses the result of the last identical run while it
//! is fresh: keyed by (automation and task type, SHA-256 of the inputs), kept for the reference's
//! TTL of the step's task type (document review 15 min, data entry 5, preparation 30, review 10;
//! client meetings and custom steps never), counted by `workflow_step_cache_hits_total` and
//! `workflow_step_cache_misses_total`.
//!
//! Only what is safe to reuse is cached. A QuickBooks sync reads the client's books: a second
//! sync of the same connection minutes after the first reads the same books, so reusing the
//! first run (the step records `cached: true` and links that run) loses nothing and spares the
//! realm's API quota. A mail is not a reading but an event for its recipient: "we asked for your
//! bank statements" sent for the March close is a different message from the same words for the
//! April close, and skipping it because an identical mail went out ten minutes ago would leave a
//! run claiming a mail nobody received. So email and document-request steps always act.

pub mod automation;
pub mod cache;
pub mod sync_wait;
pub mod wait;

pub use automation::{AutomationJob, AutomationOutcome};
pub use practice::workflow_jobs::{AUTOMATION_KIND, QUEUE, StepJob, WAIT_KIND};
pub use sync_wait::{SyncWait, SyncWaitJob, SyncWaitOutcome};
pub use wait::{WaitJob, WaitOutcome};

/// Adds `workflow.wait` and `workflow.automation` to a worker's kinds.
pub fn register(registry: &mut jobs::Registry, wait: WaitJob, automation: AutomationJob) {
    registry.register(SyncWaitJob { db: automation.db.clone() });
    registry.register(wait);
    registry.register(automation);
}
