//! One pass of the reminders over every firm, at a `now` the caller gives (the job passes the
//! clock; the tests pass the days they want).
//!
//! Each firm is one transaction: every reminder is recorded under its unique key
//! (`store::workflow_reminders::record`) and, only if that row is new, its notifications are
//! written or its mails queued (`mailer::enqueue`) and the audit entry added — all committed
//! together. A second tick at the same time waits on the first's keys, then finds them taken.

use chrono::{DateTime, Datelike, Duration, Utc};
use domain::workflow::recurrence::firm_today;
use domain::workflow::reminders::{
    self as rules, CLIENT_REQUEST_FIRST_DAYS, CLIENT_REQUEST_MAX, OVER_ESTIMATE_FACTOR, ReminderKind,
};
use domain::{NotificationKind, OrganizationId, WorkflowStepId};
use rust_decimal::Decimal;
use serde::Serialize;
use store::notifications::{self, NewNotification};
use store::workflow_reminders::{self as rw, NewReminder, Recipient, Reminder};
use store::{Actor, AuditRecord, TenantTx, firm_holidays, organizations};

use crate::{Reminders, RemindersResult};

/// What a tick sent (new reminders only) and what it found stuck.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TickReport {
    pub organizations: usize,
    pub due_soon: usize,
    pub overdue: usize,
    pub client_requests: usize,
    pub mails: usize,
    pub stuck_runs: usize,
    pub over_estimate: usize,
    /// Runs and steps stuck at `now`, alerted before or not (the gauges).
    pub stuck_runs_now: usize,
    pub over_estimate_now: usize,
    /// Firms whose pass failed (logged; the next tick tries again).
    pub failed: usize,
}

impl TickReport {
    fn add(&mut self, o: TickReport) {
        self.organizations += o.organizations;
        self.due_soon += o.due_soon;
        self.overdue += o.overdue;
        self.client_requests += o.client_requests;
        self.mails += o.mails;
        self.stuck_runs += o.stuck_runs;
        self.over_estimate += o.over_estimate;
        self.stuck_runs_now += o.stuck_runs_now;
        self.over_estimate_now += o.over_estimate_now;
        self.failed += o.failed;
    }

    fn count(&mut self, kind: ReminderKind) {
        metrics::counter!("workflow_reminders_sent_total", "kind" => kind.as_str()).increment(1);
        match kind {
            ReminderKind::DueSoon => self.due_soon += 1,
            ReminderKind::Overdue => self.overdue += 1,
            ReminderKind::ClientRequest => self.client_requests += 1,
            ReminderKind::StuckRun => self.stuck_runs += 1,
            ReminderKind::OverEstimate => self.over_estimate += 1,
        }
    }
}

fn audit(reminder: &Reminder, about: serde_json::Value) -> AuditRecord {
    AuditRecord::new("workflow_reminder.send", "workflow_reminder", reminder.id).after(serde_json::json!({
        "kind": reminder.kind, "run_id": reminder.run_id, "step_id": reminder.step_id, "nth": reminder.nth,
        "recipients": reminder.recipients, "sent_at": reminder.sent_at, "about": about,
    }))
}

impl Reminders {
    /// Every firm's reminders due at `now`. A firm whose pass fails is logged and counted; the
    /// others go on.
    pub async fn tick(&self, now: DateTime<Utc>) -> RemindersResult<TickReport> {
        let mut report = TickReport::default();
        for (org, slug) in organizations::all_ids(&self.db).await? {
            match self.tick_organization(org, now).await {
                Ok(r) => report.add(r),
                Err(e) => {
                    tracing::warn!(organization = %slug, error = %e, "workflow reminders of a firm failed");
                    report.failed += 1;
                }
            }
        }
        metrics::gauge!("workflow_stuck_runs").set(report.stuck_runs_now as f64);
        metrics::gauge!("workflow_steps_over_estimate").set(report.over_estimate_now as f64);
        Ok(report)
    }

    /// One firm's reminders due at `now`, in one transaction.
    pub async fn tick_organization(
        &self,
        org: OrganizationId,
        now: DateTime<Utc>,
    ) -> RemindersResult<TickReport> {
        let mut tx = TenantTx::begin(&self.db, org, Actor::system()).await?;
        let mut report = TickReport { organizations: 1, ..TickReport::default() };
        self.due_and_overdue(&mut tx, now, &mut report).await?;
        self.client_requests(&mut tx, now, &mut report).await?;
        self.stuck(&mut tx, now, &mut report).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Tells each assignee of open work due within two business days, and again once overdue.
    async fn due_and_overdue(
        &self,
        tx: &mut TenantTx,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> RemindersResult<()> {
        let today = firm_today(&store::workflow_recurrence::time_zone(tx).await?, now);
        let calendar = firm_holidays::calendar(tx, today.year()..=today.year() + 1).await?;
        let until = rules::due_soon_until(&calendar, today);
        for item in rw::due_work(tx, today, until).await? {
            let step = (item.source == "step").then(|| WorkflowStepId::from_uuid(item.subject_id));
            let new = NewReminder {
                run_id: item.run_id,
                step_id: step,
                kind: item.kind,
                nth: 1,
                dedupe_key: &item.dedupe_key,
                recipients: 1,
                sent_at: now,
            };
            let Some(reminder) = rw::record(tx, new).await? else { continue };
            let run = item.run_name.as_deref().unwrap_or("Your work");
            let (kind, title, body) = match item.kind {
                ReminderKind::Overdue => (
                    NotificationKind::WorkflowStepOverdue,
                    format!("Overdue: {}", item.name),
                    format!("{run}: “{}” was due {}.", item.name, item.due_date),
                ),
                _ => (
                    NotificationKind::WorkflowStepDueSoon,
                    format!("Due soon: {}", item.name),
                    format!("{run}: “{}” is due {}.", item.name, item.due_date),
                ),
            };
            let link = item.run_id.map(|r| format!("/workflows/runs/{r}")).unwrap_or_else(|| "/work".into());
            notifications::insert(
                tx,
                NewNotification {
                    user_id: item.assignee_id,
                    kind,
                    title: &title,
                    body: &body,
                    payload: serde_json::json!({"run_id": item.run_id, "step_id": step, "due_date": item.due_date, "link": link}),
                    dedupe_key: &item.dedupe_key,
                },
            )
            .await?;
            tx.audit(audit(
                &reminder,
                serde_json::json!({"assignee": item.assignee_id, "due_date": item.due_date}),
            ));
            report.count(item.kind);
        }
        Ok(())
    }

    /// Mails the client's portal users about a client request waiting on them: 3 days after it
    /// became ready, then every 7 days, 3 times at most. Nobody to mail (no portal user yet) sends
    /// nothing, and the reminder is tried again on the next tick.
    async fn client_requests(
        &self,
        tx: &mut TenantTx,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> RemindersResult<()> {
        let ready_before = now - Duration::days(CLIENT_REQUEST_FIRST_DAYS);
        let mut firm = None;
        for request in rw::client_requests(tx, ready_before, CLIENT_REQUEST_MAX).await? {
            let Some(seq) = rules::client_request_due(request.ready_at, request.sent, now) else { continue };
            let users = rw::portal_users(tx, request.client_id, now).await?;
            if users.is_empty() {
                continue;
            }
            let key = format!("client_request:step:{}:{seq}", request.step_id);
            let new = NewReminder {
                run_id: Some(request.run_id),
                step_id: Some(request.step_id),
                kind: ReminderKind::ClientRequest,
                nth: seq,
                dedupe_key: &key,
                recipients: i32::try_from(users.len()).unwrap_or(i32::MAX),
                sent_at: now,
            };
            let Some(reminder) = rw::record(tx, new).await? else { continue };
            let firm = match &firm {
                Some(name) => name,
                None => firm.insert(organizations::get(tx).await?.name),
            };
            for user in &users {
                let message = self.request_mail(user, firm, &request, seq);
                match mailer::enqueue(tx.conn(), &self.keys, &message).await {
                    Ok(_) => report.mails += 1,
                    // An address the mailer cannot parse is that user's; the others still hear.
                    Err(mailer::MailError::Address(a)) => {
                        tracing::warn!(user = %user.user_id, address = %a, "a portal user's address cannot be mailed");
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            tx.audit(audit(
                &reminder,
                serde_json::json!({"client_id": request.client_id, "to": users.iter().map(|u| u.user_id).collect::<Vec<_>>()}),
            ));
            report.count(ReminderKind::ClientRequest);
        }
        Ok(())
    }

    fn request_mail(
        &self,
        to: &Recipient,
        firm: &str,
        request: &rw::ClientRequest,
        seq: i16,
    ) -> mailer::Message {
        let portal = format!("{}/", self.public_url.trim_end_matches('/'));
        mailer::Message {
            to: to.email.clone(),
            subject: format!("Reminder: {firm} is waiting on “{}”", request.name),
            text: format!(
                "Hello {},\n\n{firm} is waiting on you for “{}” ({}, {}) since {}.\n\
                 Please sign in to your portal to send it: {portal}\n\n\
                 This is reminder {seq} of {CLIENT_REQUEST_MAX}.\n",
                to.name,
                request.name,
                request.run_name,
                request.client_name,
                request.ready_at.date_naive(),
            ),
        }
    }

    /// Tells the firm's managers of each run without progress for 7 days (once per stretch
    /// without progress) and of each step in progress 50% over its estimate (once per step).
    async fn stuck(
        &self,
        tx: &mut TenantTx,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> RemindersResult<()> {
        let runs = rw::stuck_runs(tx, rules::stuck_before(now)).await?;
        let steps = rw::over_estimate(tx, now, OVER_ESTIMATE_FACTOR * Decimal::from(60)).await?;
        report.stuck_runs_now += runs.len();
        report.over_estimate_now += steps.len();
        if runs.is_empty() && steps.is_empty() {
            return Ok(());
        }
        let managers = rw::managers(tx).await?;
        for run in runs {
            // The stretch is named by when it began: progress, then stuck again, is a new alert.
            let key = format!("stuck_run:run:{}:{}", run.run_id, run.progressed_at.timestamp_micros());
            let days = (now - run.progressed_at).num_days();
            let title = format!("Stuck: {}", run.run_name);
            let body = format!("{} ({}) has had no progress for {days} days.", run.run_name, run.client_name);
            let link = format!("/workflows/runs/{}", run.run_id);
            let new = NewReminder {
                run_id: Some(run.run_id),
                step_id: None,
                kind: ReminderKind::StuckRun,
                nth: 1,
                dedupe_key: &key,
                recipients: i32::try_from(managers.len()).unwrap_or(i32::MAX),
                sent_at: now,
            };
            let Some(reminder) = rw::record(tx, new).await? else { continue };
            let payload =
                serde_json::json!({"run_id": run.run_id, "progressed_at": run.progressed_at, "link": link});
            notify_all(tx, &managers, NotificationKind::WorkflowRunStuck, &title, &body, &payload, &key)
                .await?;
            tx.audit(audit(&reminder, serde_json::json!({"progressed_at": run.progressed_at, "days": days})));
            report.count(ReminderKind::StuckRun);
        }
        for step in steps {
            let key = format!("over_estimate:step:{}", step.step_id);
            let logged = domain::time::hours(step.logged_minutes);
            let title = format!("Over estimate: {}", step.name);
            let body = format!(
                "{}: “{}” has {} hours logged against {} estimated{}.",
                step.run_name,
                step.name,
                logged.normalize(),
                step.estimated_hours.normalize(),
                step.assignee_name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default(),
            );
            let link = format!("/workflows/runs/{}", step.run_id);
            let new = NewReminder {
                run_id: Some(step.run_id),
                step_id: Some(step.step_id),
                kind: ReminderKind::OverEstimate,
                nth: 1,
                dedupe_key: &key,
                recipients: i32::try_from(managers.len()).unwrap_or(i32::MAX),
                sent_at: now,
            };
            let Some(reminder) = rw::record(tx, new).await? else { continue };
            let payload = serde_json::json!({"run_id": step.run_id, "step_id": step.step_id, "link": link});
            notify_all(
                tx,
                &managers,
                NotificationKind::WorkflowStepOverEstimate,
                &title,
                &body,
                &payload,
                &key,
            )
            .await?;
            tx.audit(audit(
                &reminder,
                serde_json::json!({"logged_minutes": step.logged_minutes, "estimated_hours": step.estimated_hours}),
            ));
            report.count(ReminderKind::OverEstimate);
        }
        Ok(())
    }
}

async fn notify_all(
    tx: &mut TenantTx,
    to: &[Recipient],
    kind: NotificationKind,
    title: &str,
    body: &str,
    payload: &serde_json::Value,
    key: &str,
) -> RemindersResult<()> {
    for user in to {
        notifications::insert(
            tx,
            NewNotification {
                user_id: user.user_id,
                kind,
                title,
                body,
                payload: payload.clone(),
                dedupe_key: key,
            },
        )
        .await?;
    }
    Ok(())
}
