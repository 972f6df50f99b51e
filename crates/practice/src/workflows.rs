//! Workflow use cases: templates (the system ones and the firm's), runs for a client, the steps
//! people work on, and each member's open work.
//!
//! A step action locks its run, applies the domain's state machine to the run's steps and
//! writes back every step it changed, so "step done" and "its dependants ready" commit together.

use std::collections::HashMap;

use api_types::Page;
use api_types::workflows::{
    CopyTemplateRequest, RunCommand, RunResponse, RunStepResponse, RunSummary, StartRunRequest,
    TemplateRequest, TemplateResponse, TemplateStep,
};
use chrono::{Datelike, Utc};
use domain::workflow::system::{SystemTemplate, system_template, system_templates};
use domain::workflow::{RunState, StepAction, StepDef, StepStatus, TaskType, Template};
use domain::{ClientId, Permission, UserId, WorkflowRunId, WorkflowStepId, WorkflowTemplateId};
use identity::Caller;
use store::workflows::{self as wf, NewRun, NewStep, RunRow, StepRow, TemplateRow};
use store::{AuditRecord, TenantTx};

use crate::engagements::check_staff;
use crate::error::NotFoundAs;
use crate::workflow_jobs::{outcome_response, take_up_ready};
use crate::workflow_routing::route_ready;
use crate::{Practice, PracticeError, PracticeResult};

impl Practice {
    /// The system templates, then the firm's by name.
    pub async fn list_workflow_templates(
        &self,
        caller: &Caller,
        include_archived: bool,
    ) -> PracticeResult<Vec<TemplateResponse>> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = self.tx(caller).await?;
        let rows = wf::list_templates(&mut tx, include_archived).await?;
        tx.commit().await?;
        Ok(system_templates()
            .iter()
            .map(system_response)
            .chain(rows.into_iter().map(firm_response))
            .collect())
    }

    pub async fn get_workflow_template(
        &self,
        caller: &Caller,
        id: WorkflowTemplateId,
    ) -> PracticeResult<TemplateResponse> {
        caller.require(Permission::WorkflowsRead)?;
        if let Some(t) = system_template(id) {
            return Ok(system_response(&t));
        }
        let mut tx = self.tx(caller).await?;
        let row = wf::get_template(&mut tx, id).await.or_not_found("workflow template")?;
        tx.commit().await?;
        Ok(firm_response(row))
    }

    pub async fn create_workflow_template(
        &self,
        caller: &Caller,
        req: TemplateRequest,
    ) -> PracticeResult<TemplateResponse> {
        caller.require(Permission::WorkflowsCreate)?;
        let template = template_from(req);
        template.validate()?;
        let mut tx = self.tx(caller).await?;
        let id = WorkflowTemplateId::new();
        let row = wf::insert_template(&mut tx, id, &template, None, Some(caller.user_id())).await?;
        tx.audit(AuditRecord::new("workflow_template.create", "workflow_template", id).after(&row));
        tx.commit().await?;
        Ok(firm_response(row))
    }

    /// Copies a system or firm template into a new firm template (version 1).
    pub async fn copy_workflow_template(
        &self,
        caller: &Caller,
        source: WorkflowTemplateId,
        req: CopyTemplateRequest,
    ) -> PracticeResult<TemplateResponse> {
        caller.require(Permission::WorkflowsCreate)?;
        let mut tx = self.tx(caller).await?;
        let mut template = match system_template(source) {
            Some(t) => t.template,
            None => wf::get_template(&mut tx, source).await.or_not_found("workflow template")?.content.0,
        };
        template.name = match req.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => n.to_owned(),
            None => format!("{} (copy)", template.name).chars().take(120).collect(),
        };
        template.validate()?;
        let id = WorkflowTemplateId::new();
        let row = wf::insert_template(&mut tx, id, &template, Some(source), Some(caller.user_id())).await?;
        tx.audit(AuditRecord::new("workflow_template.copy", "workflow_template", id).after(&row));
        tx.commit().await?;
        Ok(firm_response(row))
    }

    /// Replaces a firm template's content as its next version; runs already started keep theirs.
    pub async fn update_workflow_template(
        &self,
        caller: &Caller,
        id: WorkflowTemplateId,
        req: TemplateRequest,
    ) -> PracticeResult<TemplateResponse> {
        caller.require(Permission::WorkflowsUpdate)?;
        refuse_system(id)?;
        let template = template_from(req);
        template.validate()?;
        let mut tx = self.tx(caller).await?;
        let change = wf::update_template(&mut tx, id, &template).await.or_not_found("workflow template")?;
        tx.audit(
            AuditRecord::new("workflow_template.update", "workflow_template", id)
                .before(&change.before)
                .after(&change.after),
        );
        tx.commit().await?;
        Ok(firm_response(change.after))
    }

    pub async fn archive_workflow_template(
        &self,
        caller: &Caller,
        id: WorkflowTemplateId,
        archived: bool,
    ) -> PracticeResult<TemplateResponse> {
        caller.require(Permission::WorkflowsUpdate)?;
        refuse_system(id)?;
        let mut tx = self.tx(caller).await?;
        let change =
            wf::set_template_archived(&mut tx, id, archived).await.or_not_found("workflow template")?;
        let verb = if archived { "workflow_template.archive" } else { "workflow_template.restore" };
        tx.audit(AuditRecord::new(verb, "workflow_template", id).before(&change.before).after(&change.after));
        tx.commit().await?;
        Ok(firm_response(change.after))
    }

    /// Starts a template for a client: the steps are copied into the run with their due dates
    /// (offsets in business days before the run's due date, on the firm's calendar: US federal
    /// holidays observed and the firm's own);
    /// steps without dependencies are ready at once.
    pub async fn start_workflow_run(
        &self,
        caller: &Caller,
        req: StartRunRequest,
    ) -> PracticeResult<RunResponse> {
        caller.require(Permission::WorkflowsExecute)?;
        let today = Utc::now().date_naive();
        let name = checked_start(req.due_date, req.name.as_deref(), today)?;
        let scope = caller.client_scope();
        let mut tx = self.tx(caller).await?;
        check_run_target(&mut tx, &scope, req.client_id, req.engagement_id).await?;
        let template = startable(&mut tx, req.template_id).await?;
        let run = insert_started_run(
            &mut tx,
            &template,
            RunStart {
                client_id: req.client_id,
                engagement_id: req.engagement_id,
                due_date: req.due_date,
                name,
                created_by: Some(caller.user_id()),
                today,
            },
        )
        .await?;
        let out = run_response(&mut tx, run, &scope).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub async fn get_workflow_run(&self, caller: &Caller, id: WorkflowRunId) -> PracticeResult<RunResponse> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = self.tx(caller).await?;
        let out = run_response(&mut tx, id, &caller.client_scope()).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// A client's runs, newest first.
    pub async fn list_workflow_runs(
        &self,
        caller: &Caller,
        client: ClientId,
        cursor: Option<&str>,
        limit: usize,
    ) -> PracticeResult<Page<RunSummary>> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = self.tx(caller).await?;
        store::clients::get(&mut tx, client, &caller.client_scope()).await.or_not_found("client")?;
        let page = wf::list_runs(&mut tx, client, cursor, limit).await?;
        tx.commit().await?;
        Ok(Page { items: page.items.into_iter().map(summary).collect(), next_cursor: page.next_cursor })
    }

    /// Starts, completes, skips, blocks or unblocks one step. The step's assignee may move their
    /// own step; anyone else (and anyone skipping) needs `workflows:execute`.
    pub async fn act_on_workflow_step(
        &self,
        caller: &Caller,
        run: WorkflowRunId,
        key: &str,
        action: StepAction,
    ) -> PracticeResult<RunResponse> {
        caller.require(Permission::WorkflowsRead)?;
        let scope = caller.client_scope();
        let mut tx = self.tx(caller).await?;
        let locked = wf::lock_run(&mut tx, run, &scope).await.or_not_found("workflow run")?;
        let rows = wf::steps(&mut tx, run).await?;
        let index = rows.iter().position(|s| s.key == key).ok_or(PracticeError::NotFound("step"))?;
        let own = rows[index].assignee_id == Some(caller.user_id());
        if !(own && action != StepAction::Skip) {
            caller.require(Permission::WorkflowsExecute)?;
        }
        let mut state = state_of(locked.status, &rows);
        let outcome = state.act(index, action).map_err(|e| PracticeError::Conflict(e.to_string()))?;
        tx.audit(
            AuditRecord::new("workflow_step.update", "workflow_step", rows[index].id)
                .before(serde_json::json!({"status": rows[index].status}))
                .after(serde_json::json!({"action": action, "changed": changed_keys(&rows, &outcome)})),
        );
        advance(&mut tx, run, &locked.name, rows, &outcome).await?;
        let out = run_response(&mut tx, run, &scope).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub async fn command_workflow_run(
        &self,
        caller: &Caller,
        run: WorkflowRunId,
        command: RunCommand,
    ) -> PracticeResult<RunResponse> {
        caller.require(Permission::WorkflowsExecute)?;
        let scope = caller.client_scope();
        let mut tx = self.tx(caller).await?;
        let status = wf::lock_run(&mut tx, run, &scope).await.or_not_found("workflow run")?.status;
        let rows = wf::steps(&mut tx, run).await?;
        let mut state = state_of(status, &rows);
        let outcome = match command {
            RunCommand::Pause => state.pause(),
            RunCommand::Resume => state.resume(),
            RunCommand::Cancel => state.cancel(),
        }
        .map_err(|e| PracticeError::Conflict(e.to_string()))?;
        apply(&mut tx, run, &outcome).await?;
        if command == RunCommand::Resume {
            // Waits and automations that came due while paused were left alone: take them up again.
            let ready: Vec<usize> =
                (0..rows.len()).filter(|&i| rows[i].status == StepStatus::Ready).collect();
            take_up_ready(&mut tx, &rows, &ready, Utc::now()).await?;
        }
        let verb = match command {
            RunCommand::Pause => "workflow_run.pause",
            RunCommand::Resume => "workflow_run.resume",
            RunCommand::Cancel => "workflow_run.cancel",
        };
        tx.audit(
            AuditRecord::new(verb, "workflow_run", run)
                .before(serde_json::json!({"status": status}))
                .after(serde_json::json!({"status": state.status})),
        );
        let out = run_response(&mut tx, run, &scope).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub async fn assign_workflow_step(
        &self,
        caller: &Caller,
        run: WorkflowRunId,
        key: &str,
        assignee: Option<UserId>,
    ) -> PracticeResult<RunResponse> {
        caller.require(Permission::WorkflowsExecute)?;
        let scope = caller.client_scope();
        let mut tx = self.tx(caller).await?;
        wf::lock_run(&mut tx, run, &scope).await.or_not_found("workflow run")?;
        if let Some(user) = assignee {
            check_staff(&mut tx, user).await?;
        }
        let change = wf::assign_step(&mut tx, run, key, assignee).await.or_not_found("step")?;
        tx.audit(
            AuditRecord::new("workflow_step.assign", "workflow_step", change.after.id)
                .before(serde_json::json!({"assignee": change.before.assignee_id}))
                .after(serde_json::json!({"assignee": change.after.assignee_id})),
        );
        let out = run_response(&mut tx, run, &scope).await?;
        tx.commit().await?;
        Ok(out)
    }
}

/// A start's due date (not in the past) and optional name (trimmed, blank meaning the template's).
pub(crate) fn checked_start(
    due_date: chrono::NaiveDate,
    name: Option<&str>,
    today: chrono::NaiveDate,
) -> PracticeResult<Option<&str>> {
    if due_date < today {
        return Err(PracticeError::invalid("due_date", "must not be in the past"));
    }
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    if name.is_some_and(|n| n.chars().count() > 200) {
        return Err(PracticeError::invalid("name", "must be at most 200 characters"));
    }
    Ok(name)
}

/// The client exists within `scope`, and the engagement (if any) is one of its.
pub(crate) async fn check_run_target(
    tx: &mut TenantTx,
    scope: &domain::ClientScope,
    client: ClientId,
    engagement: Option<domain::EngagementId>,
) -> PracticeResult<()> {
    store::clients::get(tx, client, scope).await.or_not_found("client")?;
    if let Some(e) = engagement {
        let engagement = store::engagements::get(tx, e, scope).await.or_not_found("engagement")?;
        if engagement.client_id != client {
            return Err(PracticeError::invalid("engagement_id", "is an engagement of another client"));
        }
    }
    Ok(())
}

/// A template resolved for starting runs: a system one, or a firm one that is not archived.
pub(crate) struct Startable {
    pub id: WorkflowTemplateId,
    pub template: Template,
    pub version: i32,
}

pub(crate) async fn startable(tx: &mut TenantTx, id: WorkflowTemplateId) -> PracticeResult<Startable> {
    if let Some(t) = system_template(id) {
        return Ok(Startable { id, template: t.template, version: SystemTemplate::VERSION });
    }
    let row = wf::get_template(tx, id).await.or_not_found("workflow template")?;
    if row.archived_at.is_some() {
        return Err(PracticeError::Conflict("the template is archived; restore it or choose another".into()));
    }
    Ok(Startable { id, template: row.content.0, version: row.version })
}

/// One run to start, its target already checked.
pub(crate) struct RunStart<'a> {
    pub client_id: ClientId,
    pub engagement_id: Option<domain::EngagementId>,
    pub due_date: chrono::NaiveDate,
    /// Default: the template's name.
    pub name: Option<&'a str>,
    pub created_by: Option<UserId>,
    /// Steps are never due before it.
    pub today: chrono::NaiveDate,
}

/// Creates a run of `t` in `tx`: the steps with their due dates, the ready ones routed, audited.
pub(crate) async fn insert_started_run(
    tx: &mut TenantTx,
    t: &Startable,
    s: RunStart<'_>,
) -> PracticeResult<WorkflowRunId> {
    let ids = insert_started_runs(tx, t, std::slice::from_ref(&s)).await?;
    ids.into_iter().next().ok_or_else(|| PracticeError::Store(store::StoreError::Corrupt("no run".into())))
}

/// Creates runs of `t` in `tx`, one per start: the steps with their due dates, the ready ones
/// routed, the jobs of those that run themselves queued, each run audited. Every way of starting a
/// run (one, a schedule's period, a bulk start) comes through here; the statements are per call,
/// not per run, so a bulk start's batch of a hundred costs about what one run does.
pub(crate) async fn insert_started_runs(
    tx: &mut TenantTx,
    t: &Startable,
    starts: &[RunStart<'_>],
) -> PracticeResult<Vec<WorkflowRunId>> {
    let (Some(first), Some(last)) = (
        starts.iter().map(|s| s.today.year().min(s.due_date.year())).min(),
        starts.iter().map(|s| s.due_date.year()).max(),
    ) else {
        return Ok(Vec::new());
    };
    let (template, version) = (&t.template, t.version);
    let calendar = store::firm_holidays::calendar(tx, first..=last + 1).await?;
    let deps = template.dependency_indices();
    let state = RunState::start(deps.iter().cloned().zip(template.steps.iter().map(|s| s.estimated_hours)));
    let new: Vec<(NewRun, Vec<NewStep>)> = starts
        .iter()
        .map(|s| {
            let run = NewRun {
                id: WorkflowRunId::new(),
                client_id: s.client_id,
                engagement_id: s.engagement_id,
                template_id: t.id,
                template_version: version,
                name: s.name.unwrap_or(&template.name).to_owned(),
                due_date: s.due_date,
                created_by: s.created_by,
            };
            let steps = template
                .steps
                .iter()
                .zip(&deps)
                .zip(&state.steps)
                .map(|((st, d), state)| NewStep {
                    id: WorkflowStepId::new(),
                    key: st.key.clone(),
                    name: st.name.clone(),
                    kind: st.kind,
                    task_type: st.task_type,
                    automation: st.automation,
                    role: st.role,
                    skill: st.skill.clone(),
                    estimated_hours: st.estimated_hours,
                    depends_on: d.iter().map(|&i| i as i16).collect(),
                    due_date: calendar.subtract(s.due_date, u32::from(st.due_offset_days)).max(s.today),
                    wait_days: st.wait_days.map(|w| w as i16),
                    status: state.status,
                })
                .collect();
            (run, steps)
        })
        .collect();
    wf::insert_runs(tx, &new).await?;
    let ids: Vec<WorkflowRunId> = new.iter().map(|(r, _)| r.id).collect();
    let rows = wf::steps_of_runs(tx, &ids).await?;
    let ready: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].status == StepStatus::Ready).collect();
    let names: HashMap<WorkflowRunId, &str> = new.iter().map(|(r, _)| (r.id, r.name.as_str())).collect();
    route_ready(tx, &names, &rows, &ready).await?;
    take_up_ready(tx, &rows, &ready, Utc::now()).await?;
    for (run, steps) in &new {
        tx.audit(
            AuditRecord::new("workflow_run.start", "workflow_run", run.id)
                .after(serde_json::json!({"client_id": run.client_id, "template_id": run.template_id,
                    "template_version": version, "due_date": run.due_date, "steps": steps.len()})),
        );
    }
    Ok(ids)
}

fn refuse_system(id: WorkflowTemplateId) -> PracticeResult<()> {
    match system_template(id) {
        Some(_) => {
            Err(PracticeError::Conflict("system templates are read-only; copy one to change it".into()))
        }
        None => Ok(()),
    }
}

fn state_of(status: domain::workflow::RunStatus, rows: &[StepRow]) -> RunState {
    RunState {
        status,
        steps: rows
            .iter()
            .map(|s| domain::workflow::StepState {
                status: s.status,
                depends_on: s.depends_on.iter().map(|&d| d as usize).collect(),
                estimated_hours: s.estimated_hours,
            })
            .collect(),
    }
}

async fn apply(
    tx: &mut TenantTx,
    run: WorkflowRunId,
    outcome: &domain::workflow::Outcome,
) -> PracticeResult<()> {
    if !outcome.changed.is_empty() {
        let changes: Vec<(i16, StepStatus)> = outcome.changed.iter().map(|&(i, s)| (i as i16, s)).collect();
        wf::set_step_statuses(tx, run, &changes).await?;
    }
    if let Some(status) = outcome.run {
        wf::set_run_status(tx, run, status).await?;
    }
    Ok(())
}

/// Writes an action's outcome, then routes the steps it made ready and queues the jobs of those
/// that run themselves — all in the caller's transaction. `rows` are the run's steps as read under
/// its lock; the outcome's statuses are applied to them here rather than read again.
async fn advance(
    tx: &mut TenantTx,
    run: WorkflowRunId,
    name: &str,
    mut rows: Vec<StepRow>,
    outcome: &domain::workflow::Outcome,
) -> PracticeResult<()> {
    apply(tx, run, outcome).await?;
    for &(i, status) in &outcome.changed {
        if let Some(row) = rows.get_mut(i) {
            row.status = status;
        }
    }
    let ready: Vec<usize> =
        outcome.changed.iter().filter(|(_, s)| *s == StepStatus::Ready).map(|(i, _)| *i).collect();
    if !ready.is_empty() {
        route_ready(tx, &HashMap::from([(run, name)]), &rows, &ready).await?;
        take_up_ready(tx, &rows, &ready, Utc::now()).await?;
    }
    Ok(())
}

/// What the system found when it came to settle a step it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The action was applied (the step's dependants are ready if it completed).
    Applied,
    /// The run is paused: nothing moved; resuming takes the step up again.
    Paused,
    /// The run or the step is past this (cancelled, done, skipped, blocked by a person…).
    Moot,
}

/// Applies `action` to a step on the system's behalf (a wait that ended, an automation that ran or
/// failed for good), in the caller's transaction: the run is locked, the state machine decides,
/// the dependants made ready are routed and taken up, and the change is audited as the system's.
/// A paused run, or a step already settled, changes nothing, so a retried job is harmless.
pub async fn settle_step_by_system(
    tx: &mut TenantTx,
    run: WorkflowRunId,
    step: WorkflowStepId,
    action: StepAction,
    detail: serde_json::Value,
) -> PracticeResult<Settled> {
    let locked = match wf::lock_run(tx, run, &domain::ClientScope::All).await {
        Ok(locked) => locked,
        Err(store::StoreError::NotFound) => return Ok(Settled::Moot),
        Err(e) => return Err(e.into()),
    };
    if locked.status == domain::workflow::RunStatus::Paused {
        return Ok(Settled::Paused);
    }
    let rows = wf::steps(tx, run).await?;
    let Some(index) = rows.iter().position(|s| s.id == step) else { return Ok(Settled::Moot) };
    let mut state = state_of(locked.status, &rows);
    let Ok(outcome) = state.act(index, action) else { return Ok(Settled::Moot) };
    tx.audit(
        AuditRecord::new("workflow_step.update", "workflow_step", step)
            .before(serde_json::json!({"status": rows[index].status}))
            .after(
                serde_json::json!({"action": action, "changed": changed_keys(&rows, &outcome), "by": "system",
                "detail": detail}),
            ),
    );
    advance(tx, run, &locked.name, rows, &outcome).await?;
    Ok(Settled::Applied)
}

fn changed_keys(rows: &[StepRow], outcome: &domain::workflow::Outcome) -> serde_json::Value {
    outcome.changed.iter().map(|&(i, s)| (rows[i].key.clone(), serde_json::json!(s))).collect()
}

pub(crate) async fn run_response(
    tx: &mut TenantTx,
    id: WorkflowRunId,
    scope: &domain::ClientScope,
) -> PracticeResult<RunResponse> {
    let run = wf::get_run(tx, id, scope).await.or_not_found("workflow run")?;
    let rows = wf::steps(tx, id).await?;
    let state = state_of(run.status, &rows);
    let (critical, critical_hours) = state.critical_path();
    let logged = store::time_entries::minutes_by_step(tx, id).await?;
    let outcomes = store::workflow_automation::of_run(tx, id).await?;
    let logged_hours =
        |step: WorkflowStepId| domain::time::hours(logged.iter().filter(|l| l.0 == step).map(|l| l.1).sum());
    let steps = rows
        .iter()
        .enumerate()
        .map(|(i, s)| RunStepResponse {
            id: s.id,
            key: s.key.clone(),
            name: s.name.clone(),
            kind: s.kind,
            task_type: s.task_type,
            automation: s.automation,
            role: s.role,
            skill: s.skill.clone(),
            estimated_hours: s.estimated_hours,
            depends_on: s
                .depends_on
                .iter()
                .filter_map(|&d| rows.get(d as usize))
                .map(|d| d.key.clone())
                .collect(),
            due_date: s.due_date,
            status: s.status,
            assignee: s.assignee_id,
            assignee_name: s.assignee_name.clone(),
            started_at: s.started_at,
            completed_at: s.completed_at,
            critical: critical.contains(&i),
            routed_by: s.routed_by,
            routing_reasons: s.routing_reasons.as_ref().map(|r| r.0.clone()).unwrap_or_default(),
            logged_hours: logged_hours(s.id),
            outcome: outcomes.iter().find(|o| o.step_id == s.id).map(outcome_response),
        })
        .collect();
    Ok(RunResponse {
        engagement_id: run.engagement_id,
        template_id: run.template_id,
        template_version: run.template_version,
        steps,
        critical_hours,
        summary: summary(run),
    })
}

fn summary(r: RunRow) -> RunSummary {
    RunSummary {
        progress: (r.steps_finished * 100).checked_div(r.steps_total).unwrap_or(0) as u8,
        id: r.id,
        client_id: r.client_id,
        client_name: r.client_name,
        name: r.name,
        status: r.status,
        due_date: r.due_date,
        created_at: r.created_at,
        finished_at: r.finished_at,
    }
}

fn template_from(req: TemplateRequest) -> Template {
    Template {
        name: req.name.trim().to_owned(),
        category: req.category,
        description: req.description.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()),
        steps: req
            .steps
            .into_iter()
            .map(|s| StepDef {
                key: s.key.trim().to_owned(),
                name: s.name.trim().to_owned(),
                kind: s.kind,
                task_type: s.task_type.unwrap_or(TaskType::Custom),
                automation: s.automation,
                depends_on: s.depends_on.into_iter().map(|d| d.trim().to_owned()).collect(),
                role: s.role,
                skill: s.skill.map(|k| k.trim().to_lowercase()).filter(|k| !k.is_empty()),
                estimated_hours: s.estimated_hours,
                due_offset_days: s.due_offset_days,
                wait_days: s.wait_days,
            })
            .collect(),
    }
}

fn response(
    id: WorkflowTemplateId,
    t: &Template,
    system: bool,
    version: i32,
    copied_from: Option<WorkflowTemplateId>,
    archived: bool,
) -> TemplateResponse {
    TemplateResponse {
        id,
        name: t.name.clone(),
        category: t.category,
        description: t.description.clone(),
        system,
        version,
        copied_from,
        archived,
        estimated_hours: t.estimated_hours(),
        steps: t
            .steps
            .iter()
            .map(|s| TemplateStep {
                key: s.key.clone(),
                name: s.name.clone(),
                kind: s.kind,
                task_type: Some(s.task_type),
                automation: s.automation,
                depends_on: s.depends_on.clone(),
                role: s.role,
                skill: s.skill.clone(),
                estimated_hours: s.estimated_hours,
                due_offset_days: s.due_offset_days,
                wait_days: s.wait_days,
            })
            .collect(),
        stages: t
            .stages()
            .into_iter()
            .map(|st| st.into_iter().map(|i| t.steps[i].key.clone()).collect())
            .collect(),
    }
}

fn system_response(t: &SystemTemplate) -> TemplateResponse {
    response(t.id(), &t.template, true, SystemTemplate::VERSION, None, false)
}

fn firm_response(row: TemplateRow) -> TemplateResponse {
    response(row.id, &row.content.0, false, row.version, row.copied_from, row.archived_at.is_some())
}
