//! Recurring runs and bulk starts: a client's schedules (a template at every occurrence of a cron
//! expression in the firm's time zone), the scheduler's tick, and one template started for many
//! clients as a job with progress.
//!
//! Every run is created by [`crate::workflows::insert_started_runs`] (a bulk batch at once), in the transaction that
//! records its period (schedule, period start) or its bulk item (bulk start, client): those
//! primary keys make a second scheduler, a concurrent tick or a retried job a no-op. The tick and
//! the bulk job take no caller (they act as the system) and the tick takes `now`.

use api_types::workflow_recurrence::{
    BulkFailure, BulkStartRequest, BulkStartResponse, Occurrence, PeriodResponse, SchedulePreview,
    ScheduleRequest, ScheduleResponse,
};
use api_types::workflows::RunResponse;
use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use domain::workflow::BusinessCalendar;
use domain::workflow::recurrence::{
    self as rec, BulkStatus, MAX_MISSED, PeriodStatus, Recurrence, RecurrenceError, parse_time_zone,
};
use domain::workflow::system::system_template;
use domain::{
    ClientId, ClientScope, ClientStatus, OrganizationId, Permission, WorkflowBulkId, WorkflowRunId,
    WorkflowScheduleId, WorkflowTemplateId,
};
use identity::Caller;
use serde::{Deserialize, Serialize};
use store::workflow_recurrence::{self as wrec, BulkRow, NewBulk, NewSchedule, PeriodRow, ScheduleRow};
use store::{Actor, AuditRecord, TenantTx};

use crate::error::NotFoundAs;
use crate::workflows::{
    RunStart, Startable, check_run_target, checked_start, insert_started_run, insert_started_runs,
    run_response, startable,
};
use crate::{Practice, PracticeError, PracticeResult};

/// The job that creates a bulk start's runs (handler: crate `workflow-recurrence`).
pub const BULK_START_JOB: &str = "workflow.bulk_start";
/// Clients in one bulk start.
pub const MAX_BULK_CLIENTS: usize = 1000;
/// Runs created per transaction by the bulk job.
pub const BULK_BATCH: i64 = 100;
/// Due schedules read per round of a tick.
const TICK_ROUND: i32 = 200;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BulkStartPayload {
    pub bulk_id: WorkflowBulkId,
}

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Runs created for due periods.
    pub started: usize,
    /// Earlier periods recorded as missed.
    pub missed: usize,
}

fn invalid(field: &str, e: RecurrenceError) -> PracticeError {
    PracticeError::invalid(field, e.to_string())
}

fn zone_of(name: &str) -> Tz {
    parse_time_zone(name).unwrap_or(Tz::UTC)
}

async fn calendar_around(tx: &mut TenantTx, at: DateTime<Utc>) -> PracticeResult<BusinessCalendar> {
    Ok(store::firm_holidays::calendar(tx, at.year() - 1..=at.year() + 1).await?)
}

fn occurrence(
    r: &Recurrence,
    calendar: &BusinessCalendar,
    at: DateTime<Utc>,
    business_day: u8,
) -> Occurrence {
    Occurrence {
        starts_at: at,
        local: at.with_timezone(&r.zone()).format("%Y-%m-%d %H:%M %Z").to_string(),
        due_date: rec::due_date(calendar, r.local_date(at), business_day),
    }
}

fn period(p: &PeriodRow) -> PeriodResponse {
    PeriodResponse { period_start: p.period_start, status: p.status, run_id: p.run_id }
}

/// The run's name: the template's, with the period's date in the firm's zone.
fn period_name(template: &str, r: &Recurrence, start: DateTime<Utc>) -> String {
    let base: String = template.chars().take(180).collect();
    format!("{base} · {}", r.local_date(start))
}

async fn template_name(tx: &mut TenantTx, id: WorkflowTemplateId) -> PracticeResult<String> {
    Ok(match system_template(id) {
        Some(t) => t.template.name,
        None => store::workflows::get_template(tx, id).await.map(|t| t.name).unwrap_or_else(|_| "—".into()),
    })
}

async fn schedule_responses(
    tx: &mut TenantTx,
    rows: Vec<ScheduleRow>,
    now: DateTime<Utc>,
) -> PracticeResult<Vec<ScheduleResponse>> {
    let zone_name = wrec::time_zone(tx).await?;
    let zone = zone_of(&zone_name);
    let calendar = calendar_around(tx, now).await?;
    let ids: Vec<WorkflowScheduleId> = rows.iter().map(|s| s.id).collect();
    let periods = wrec::periods(tx, &ids, MAX_MISSED as i64 + 3).await?;
    let mut out = Vec::with_capacity(rows.len());
    for s in rows {
        let business_day = s.due_business_day.clamp(1, 60) as u8;
        let next = match (Recurrence::stored(&s.cron, zone), s.paused_at) {
            (Some(r), None) => {
                let mut at = vec![s.next_run_at];
                at.extend(r.upcoming(s.next_run_at, 2));
                at.iter().map(|&t| occurrence(&r, &calendar, t, business_day)).collect()
            }
            _ => Vec::new(),
        };
        let mine = periods.iter().filter(|p| p.schedule_id == s.id);
        let missed = mine.clone().filter(|p| p.status == PeriodStatus::Missed).map(period).collect();
        let mut recent: Vec<PeriodResponse> =
            mine.filter(|p| p.status == PeriodStatus::Started).map(period).collect();
        recent.reverse();
        recent.truncate(3);
        out.push(ScheduleResponse {
            id: s.id,
            client_id: s.client_id,
            engagement_id: s.engagement_id,
            template_name: template_name(tx, s.template_id).await?,
            template_id: s.template_id,
            cron: s.cron,
            time_zone: zone_name.clone(),
            due_business_day: business_day,
            paused: s.paused_at.is_some(),
            next,
            missed,
            recent,
            created_at: s.created_at,
        });
    }
    Ok(out)
}

fn bulk_response(b: BulkRow, failures: Vec<wrec::ItemRow>) -> BulkStartResponse {
    let settled = (b.started + b.failed).max(0) as u32;
    let total = b.total.max(1) as u32;
    BulkStartResponse {
        id: b.id,
        template_id: b.template_id,
        status: b.status,
        due_date: b.due_date,
        total: b.total as u32,
        started: b.started as u32,
        failed: b.failed as u32,
        progress: if b.status == BulkStatus::Done { 100 } else { (settled * 100 / total).min(99) as u8 },
        failures: failures
            .into_iter()
            .map(|f| BulkFailure {
                client_id: f.client_id,
                client_name: f.client_name,
                error: f.error.unwrap_or_default(),
            })
            .collect(),
        created_at: b.created_at,
        finished_at: b.finished_at,
    }
}

impl Practice {
    /// A client's recurring schedules, with their next periods and the missed ones.
    pub async fn workflow_schedules(
        &self,
        caller: &Caller,
        client: ClientId,
    ) -> PracticeResult<Vec<ScheduleResponse>> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = self.tx(caller).await?;
        store::clients::get(&mut tx, client, &caller.client_scope()).await.or_not_found("client")?;
        let rows = wrec::list_schedules(&mut tx, client).await?;
        let out = schedule_responses(&mut tx, rows, Utc::now()).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// The next three periods a cron expression gives in the firm's time zone, and their due dates.
    pub async fn preview_workflow_schedule(
        &self,
        caller: &Caller,
        cron: &str,
        due_business_day: u8,
    ) -> PracticeResult<SchedulePreview> {
        caller.require(Permission::WorkflowsRead)?;
        if !(1..=60).contains(&due_business_day) {
            return Err(PracticeError::invalid("due_business_day", "must be 1 to 60"));
        }
        let mut tx = self.tx(caller).await?;
        let zone_name = wrec::time_zone(&mut tx).await?;
        let now = Utc::now();
        let calendar = calendar_around(&mut tx, now).await?;
        tx.commit().await?;
        let r = Recurrence::parse(cron, zone_of(&zone_name), now).map_err(|e| invalid("cron", e))?;
        Ok(SchedulePreview {
            time_zone: zone_name,
            next: r
                .upcoming(now, 3)
                .into_iter()
                .map(|t| occurrence(&r, &calendar, t, due_business_day))
                .collect(),
        })
    }

    pub async fn create_workflow_schedule(
        &self,
        caller: &Caller,
        client: ClientId,
        req: ScheduleRequest,
    ) -> PracticeResult<ScheduleResponse> {
        caller.require(Permission::WorkflowsExecute)?;
        if !(1..=60).contains(&req.due_business_day) {
            return Err(PracticeError::invalid("due_business_day", "must be 1 to 60"));
        }
        let scope = caller.client_scope();
        let now = Utc::now();
        let mut tx = self.tx(caller).await?;
        check_run_target(&mut tx, &scope, client, req.engagement_id).await?;
        startable(&mut tx, req.template_id).await?;
        let zone = zone_of(&wrec::time_zone(&mut tx).await?);
        let r = Recurrence::parse(&req.cron, zone, now).map_err(|e| invalid("cron", e))?;
        let next = r.next_after(now).ok_or_else(|| invalid("cron", RecurrenceError::Never))?;
        let row = wrec::insert_schedule(
            &mut tx,
            &NewSchedule {
                id: WorkflowScheduleId::new(),
                client_id: client,
                engagement_id: req.engagement_id,
                template_id: req.template_id,
                cron: req.cron.trim().to_owned(),
                due_business_day: i16::from(req.due_business_day),
                next_run_at: next,
                created_by: Some(caller.user_id()),
            },
        )
        .await?;
        tx.audit(AuditRecord::new("workflow_schedule.create", "workflow_schedule", row.id).after(&row));
        let out = schedule_responses(&mut tx, vec![row], now).await?.remove(0);
        tx.commit().await?;
        Ok(out)
    }

    /// Pauses or resumes a schedule. Resuming starts from the next period after now: the periods
    /// passed while paused are not created.
    pub async fn pause_workflow_schedule(
        &self,
        caller: &Caller,
        id: WorkflowScheduleId,
        paused: bool,
    ) -> PracticeResult<ScheduleResponse> {
        caller.require(Permission::WorkflowsExecute)?;
        let now = Utc::now();
        let mut tx = self.tx(caller).await?;
        let before =
            wrec::lock_schedule(&mut tx, id, &caller.client_scope()).await.or_not_found("schedule")?;
        let zone = zone_of(&wrec::time_zone(&mut tx).await?);
        let next = match paused {
            true => before.next_run_at,
            false => Recurrence::stored(&before.cron, zone)
                .and_then(|r| r.next_after(now))
                .ok_or_else(|| invalid("cron", RecurrenceError::Never))?,
        };
        wrec::set_paused(&mut tx, id, paused, next).await?;
        let after = wrec::get_schedule(&mut tx, id, &ClientScope::All).await?;
        let verb = if paused { "workflow_schedule.pause" } else { "workflow_schedule.resume" };
        tx.audit(AuditRecord::new(verb, "workflow_schedule", id).before(&before).after(&after));
        let out = schedule_responses(&mut tx, vec![after], now).await?.remove(0);
        tx.commit().await?;
        Ok(out)
    }

    /// Deletes a schedule and its period records; runs already created stay.
    pub async fn delete_workflow_schedule(
        &self,
        caller: &Caller,
        id: WorkflowScheduleId,
    ) -> PracticeResult<()> {
        caller.require(Permission::WorkflowsExecute)?;
        let mut tx = self.tx(caller).await?;
        let before =
            wrec::lock_schedule(&mut tx, id, &caller.client_scope()).await.or_not_found("schedule")?;
        wrec::delete_schedule(&mut tx, id).await?;
        tx.audit(AuditRecord::new("workflow_schedule.delete", "workflow_schedule", id).before(&before));
        tx.commit().await?;
        Ok(())
    }

    /// Starts one missed period of a schedule (catch-up is asked for, period by period).
    pub async fn start_missed_period(
        &self,
        caller: &Caller,
        id: WorkflowScheduleId,
        period_start: DateTime<Utc>,
    ) -> PracticeResult<RunResponse> {
        caller.require(Permission::WorkflowsExecute)?;
        let scope = caller.client_scope();
        let mut tx = self.tx(caller).await?;
        let s = wrec::lock_schedule(&mut tx, id, &scope).await.or_not_found("schedule")?;
        let periods = wrec::periods(&mut tx, &[id], i64::MAX).await?;
        if !periods.iter().any(|p| p.period_start == period_start && p.status == PeriodStatus::Missed) {
            return Err(PracticeError::Conflict(
                "that period is not a missed period of this schedule".into(),
            ));
        }
        let zone = zone_of(&wrec::time_zone(&mut tx).await?);
        let r = Recurrence::stored(&s.cron, zone).ok_or_else(|| invalid("cron", RecurrenceError::Never))?;
        check_run_target(&mut tx, &scope, s.client_id, s.engagement_id).await?;
        let t = startable(&mut tx, s.template_id).await?;
        let run = start_period_run(&mut tx, &s, &t, &r, period_start, Some(caller.user_id())).await?;
        if !wrec::start_period(&mut tx, id, period_start, run, PeriodStatus::Missed).await? {
            return Err(PracticeError::Conflict("that period was started meanwhile".into()));
        }
        tx.audit(
            AuditRecord::new("workflow_schedule.start_missed", "workflow_schedule", id)
                .after(serde_json::json!({"period_start": period_start, "run_id": run})),
        );
        let out = run_response(&mut tx, run, &scope).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Creates the run of every due schedule's latest period, across firms, and records the
    /// earlier periods it finds as missed. Safe to run concurrently: each schedule is locked, and
    /// its period's key refuses a second run. `now` is the clock (tests pass their own).
    pub async fn run_due_workflow_schedules(&self, now: DateTime<Utc>) -> PracticeResult<TickReport> {
        let mut report = TickReport::default();
        loop {
            let due = wrec::due_schedules(&self.db, now, TICK_ROUND).await?;
            let mut failed = 0;
            for &(org, id) in &due {
                // One schedule's failure (its firm's data, say) does not hold up the others; it
                // stays due and is tried again at the next tick.
                match self.tick_schedule(org, id, now).await {
                    Ok(r) => {
                        report.started += r.started;
                        report.missed += r.missed;
                    }
                    Err(e) => {
                        failed += 1;
                        tracing::warn!(schedule = %id, error = %e, "recurring run not created");
                    }
                }
            }
            if due.len() < TICK_ROUND as usize || failed == due.len() {
                return Ok(report);
            }
        }
    }

    async fn tick_schedule(
        &self,
        org: OrganizationId,
        id: WorkflowScheduleId,
        now: DateTime<Utc>,
    ) -> PracticeResult<TickReport> {
        let mut report = TickReport::default();
        let mut tx = TenantTx::begin(&self.db, org, Actor::system()).await?;
        let Ok(s) = wrec::lock_schedule(&mut tx, id, &ClientScope::All).await else { return Ok(report) };
        // Another tick got here first (it moved the cursor), or the schedule was paused meanwhile.
        if s.paused_at.is_some() || s.next_run_at > now {
            return Ok(report);
        }
        let zone = zone_of(&wrec::time_zone(&mut tx).await?);
        let Some(r) = Recurrence::stored(&s.cron, zone) else {
            tracing::warn!(schedule = %id, cron = %s.cron, "unparseable schedule paused");
            wrec::set_paused(&mut tx, id, true, s.next_run_at).await?;
            tx.commit().await?;
            return Ok(report);
        };
        let due = r.due(s.next_run_at, now);
        if let Some(latest) = due.latest {
            // A client archived or a template archived since: the period waits as missed.
            let target =
                match check_run_target(&mut tx, &ClientScope::All, s.client_id, s.engagement_id).await {
                    Ok(()) => startable(&mut tx, s.template_id).await.ok(),
                    Err(_) => None,
                };
            let status = if target.is_some() { PeriodStatus::Started } else { PeriodStatus::Missed };
            if wrec::claim_period(&mut tx, id, latest, status).await? {
                match target {
                    Some(t) => {
                        let run = start_period_run(&mut tx, &s, &t, &r, latest, s.created_by).await?;
                        wrec::start_period(&mut tx, id, latest, run, PeriodStatus::Started).await?;
                        report.started += 1;
                    }
                    None => report.missed += 1,
                }
            }
        }
        for &m in &due.missed {
            if wrec::claim_period(&mut tx, id, m, PeriodStatus::Missed).await? {
                report.missed += 1;
            }
        }
        if !due.missed.is_empty() {
            wrec::trim_missed(&mut tx, id, MAX_MISSED as i64).await?;
            tx.audit(
                AuditRecord::new("workflow_schedule.missed", "workflow_schedule", id)
                    .after(serde_json::json!({"periods": due.missed})),
            );
        }
        wrec::set_cursor(&mut tx, id, due.next).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Starts a template for many clients: records the bulk start with one item per client and
    /// enqueues its job, in one transaction; answers at once with the progress to poll.
    pub async fn start_workflow_bulk(
        &self,
        caller: &Caller,
        req: BulkStartRequest,
    ) -> PracticeResult<BulkStartResponse> {
        caller.require(Permission::WorkflowsExecute)?;
        let today = Utc::now().date_naive();
        let name = checked_start(req.due_date, req.name.as_deref(), today)?;
        match (req.all_active, req.client_ids.len()) {
            (true, n) if n > 0 => {
                return Err(PracticeError::invalid("client_ids", "give either client_ids or all_active"));
            }
            (false, 0) => return Err(PracticeError::invalid("client_ids", "name at least one client")),
            (false, n) if n > MAX_BULK_CLIENTS => {
                return Err(PracticeError::invalid("client_ids", "at most 1,000 clients per request"));
            }
            _ => {}
        }
        let scope = caller.client_scope();
        let mut tx = self.tx(caller).await?;
        startable(&mut tx, req.template_id).await?;
        let mut clients: Vec<ClientId> = if req.all_active {
            let all = wrec::active_clients(&mut tx, &scope, MAX_BULK_CLIENTS as i64 + 1).await?;
            if all.len() > MAX_BULK_CLIENTS {
                return Err(PracticeError::invalid(
                    "all_active",
                    "more than 1,000 active clients: start them in several requests",
                ));
            }
            if all.is_empty() {
                return Err(PracticeError::invalid("all_active", "there are no active clients"));
            }
            all
        } else {
            req.client_ids.clone()
        };
        let mut seen = std::collections::HashSet::new();
        clients.retain(|c| seen.insert(*c));
        // Clients the caller cannot see are failures from the start, as if they did not exist.
        let visible: std::collections::HashSet<ClientId> =
            wrec::client_statuses(&mut tx, &clients, &scope).await?.into_iter().map(|c| c.0).collect();
        let id = WorkflowBulkId::new();
        wrec::insert_bulk(
            &mut tx,
            &NewBulk {
                id,
                template_id: req.template_id,
                name: name.map(str::to_owned),
                due_date: req.due_date,
                created_by: Some(caller.user_id()),
            },
            &clients,
        )
        .await?;
        let unseen: Vec<(ClientId, String)> = clients
            .iter()
            .filter(|c| !visible.contains(c))
            .map(|&c| (c, "client not found".into()))
            .collect();
        if !unseen.is_empty() {
            wrec::finish_items(&mut tx, id, &[], &unseen).await?;
        }
        let job = jobs::RawJob {
            kind: BULK_START_JOB.to_owned(),
            queue: crate::workflow_jobs::QUEUE.to_owned(),
            payload: serde_json::to_value(BulkStartPayload { bulk_id: id })
                .map_err(|e| PracticeError::Unreadable(e.to_string()))?,
            priority: 0,
            max_attempts: 10,
            run_at: None,
            unique_key: Some(format!("workflow-bulk:{id}")),
            organization: Some(tx.organization_id()),
            limit: None,
        };
        jobs::enqueue_raw(tx.conn(), vec![job]).await.map_err(|e| match e {
            jobs::JobsError::Database(e) => PracticeError::Store(e.into()),
            jobs::JobsError::Store(e) => PracticeError::Store(e),
            other => PracticeError::Store(store::StoreError::Corrupt(other.to_string())),
        })?;
        tx.audit(AuditRecord::new("workflow_bulk.start", "workflow_bulk", id).after(serde_json::json!({
            "template_id": req.template_id, "clients": clients.len(), "all_active": req.all_active,
            "due_date": req.due_date})));
        let row = wrec::get_bulk(&mut tx, id).await?;
        let failures = wrec::failed_items(&mut tx, id, 100).await?;
        tx.commit().await?;
        Ok(bulk_response(row, failures))
    }

    pub async fn workflow_bulk(
        &self,
        caller: &Caller,
        id: WorkflowBulkId,
    ) -> PracticeResult<BulkStartResponse> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = self.tx(caller).await?;
        let row = wrec::get_bulk(&mut tx, id).await.or_not_found("bulk start")?;
        let failures = wrec::failed_items(&mut tx, id, 100).await?;
        tx.commit().await?;
        Ok(bulk_response(row, failures))
    }

    /// The bulk job: creates the pending runs in batches of [`BULK_BATCH`], each batch one
    /// transaction with its items' outcomes, until none is pending. A retry after a crash resumes
    /// with the items still pending, so no client gets a second run. `workers` batches run at once.
    pub async fn run_workflow_bulk(
        &self,
        org: OrganizationId,
        id: WorkflowBulkId,
        workers: usize,
    ) -> PracticeResult<()> {
        let loops = (0..workers.max(1)).map(|_| self.bulk_loop(org, id));
        futures::future::try_join_all(loops).await?;
        let mut tx = TenantTx::begin(&self.db, org, Actor::system()).await?;
        if wrec::finish_bulk(&mut tx, id).await? {
            let b = wrec::get_bulk(&mut tx, id).await?;
            tx.audit(
                AuditRecord::new("workflow_bulk.finish", "workflow_bulk", id)
                    .after(serde_json::json!({"started": b.started, "failed": b.failed})),
            );
        }
        tx.commit().await?;
        Ok(())
    }

    async fn bulk_loop(&self, org: OrganizationId, id: WorkflowBulkId) -> PracticeResult<()> {
        loop {
            let mut tx = TenantTx::begin(&self.db, org, Actor::system()).await?;
            let batch = wrec::pending_items(&mut tx, id, BULK_BATCH).await?;
            if batch.is_empty() {
                tx.commit().await?;
                return Ok(());
            }
            let bulk = wrec::get_bulk(&mut tx, id).await?;
            if let Some(user) = bulk.created_by {
                tx.act_as(Actor::user(user));
            }
            let mut started: Vec<(ClientId, WorkflowRunId)> = Vec::with_capacity(batch.len());
            let mut failed: Vec<(ClientId, String)> = Vec::new();
            match startable(&mut tx, bulk.template_id).await {
                Err(e) => failed.extend(batch.iter().map(|&c| (c, e.to_string()))),
                Ok(t) => {
                    let statuses = wrec::client_statuses(&mut tx, &batch, &ClientScope::All).await?;
                    let today = Utc::now().date_naive();
                    let mut starts = Vec::with_capacity(batch.len());
                    for client in batch {
                        match statuses.iter().find(|s| s.0 == client).map(|s| s.1) {
                            None => failed.push((client, "client not found".into())),
                            Some(ClientStatus::Archived) => {
                                failed.push((client, "client is archived".into()))
                            }
                            Some(_) => starts.push(RunStart {
                                client_id: client,
                                engagement_id: None,
                                due_date: bulk.due_date,
                                name: bulk.name.as_deref(),
                                created_by: bulk.created_by,
                                today,
                            }),
                        }
                    }
                    let runs = insert_started_runs(&mut tx, &t, &starts).await?;
                    started.extend(starts.iter().map(|s| s.client_id).zip(runs));
                }
            }
            wrec::finish_items(&mut tx, id, &started, &failed).await?;
            tx.commit().await?;
        }
    }
}

/// The run of one period: due on the schedule's business day counted from the period's start.
async fn start_period_run(
    tx: &mut TenantTx,
    s: &ScheduleRow,
    t: &Startable,
    r: &Recurrence,
    start: DateTime<Utc>,
    created_by: Option<domain::UserId>,
) -> PracticeResult<WorkflowRunId> {
    let calendar = calendar_around(tx, start).await?;
    let due = rec::due_date(&calendar, r.local_date(start), s.due_business_day.clamp(1, 60) as u8);
    let name = period_name(&t.template.name, r, start);
    insert_started_run(
        tx,
        t,
        RunStart {
            client_id: s.client_id,
            engagement_id: s.engagement_id,
            due_date: due,
            name: Some(&name),
            created_by,
            today: Utc::now().date_naive(),
        },
    )
    .await
}
