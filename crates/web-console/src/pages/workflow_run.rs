//! Workflow runs: a client's runs and the form that starts one (the client's Workflows tab), one
//! run's page (the graph with statuses and the critical path, each step with its assignee and
//! the actions its status allows, pause/resume/cancel). "My work" is `work`.

use api_types::workflows::{RunCommand, RunResponse, RunStepResponse, StartRunRequest, TemplateResponse};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use domain::workflow::{StepAction, StepKind, StepStatus};
use domain::{ClientId, Permission, UserId, WorkflowRunId, WorkflowTemplateId};
use maud::{Markup, html};
use rust_decimal::Decimal;
use serde::Deserialize;

use api::AppState;

use crate::charts::{self, Node};
use crate::error::{PageError, PageResult, fixable};
use crate::form::{self, Refusal};
use crate::layout::{self, Nav, csrf};
use crate::pages::engagement::assignees;
use crate::pages::time;
use crate::pages::workflow_reminders;
use crate::session::{CsrfForm, NoFields, Viewer, safe_next, see_other};
use crate::ui;

const TAB_ROWS: usize = 50;

#[derive(Debug, Default, Deserialize)]
pub struct StartForm {
    template_id: Option<String>,
    due_date: Option<String>,
    name: Option<String>,
}

fn start_form(
    viewer: &Viewer,
    client: ClientId,
    templates: &[TemplateResponse],
    f: &StartForm,
    error: Option<&api::ApiError>,
) -> Markup {
    let refusal = Refusal(error);
    let chosen = f.template_id.as_deref().unwrap_or("");
    html! {
        form class="card form" method="post" action={ "/clients/" (client) "/workflows" } aria-labelledby="start-h" {
            h2 id="start-h" { "Start a workflow" }
            (csrf(viewer))
            (refusal.alert())
            label { "Template"
                select name="template_id" required {
                    @for t in templates { option value=(t.id) selected[chosen == t.id.to_string()] { (t.name) @if t.system { " (system)" } } }
                }
            }
            div class="grid-2" {
                (form::input(refusal, "due_date", "Due", f.due_date.as_deref().unwrap_or(""), "date"))
                (form::input(refusal, "name", "Name (optional)", f.name.as_deref().unwrap_or(""), "text"))
            }
            div { button class="btn primary" type="submit" { "Start" } }
        }
    }
}

fn progress(percent: u8) -> Markup {
    html! { span class="progress" { meter min="0" max="100" value=(percent) aria-label="Progress" {} span class="num" { (percent) "%" } } }
}

/// The client page's Workflows tab: its runs, newest first, and the start form.
pub async fn client_tab(state: &AppState, viewer: &Viewer, client: ClientId) -> PageResult<Markup> {
    let runs = state.practice.list_workflow_runs(&viewer.caller, client, None, TAB_ROWS).await?;
    let may_start = viewer.caller.has(Permission::WorkflowsExecute);
    let templates = if may_start {
        state.practice.list_workflow_templates(&viewer.caller, false).await?
    } else {
        Vec::new()
    };
    Ok(html! {
        @if runs.items.is_empty() {
            (ui::empty("No workflows yet", "Start a template for this client: its steps become tasks with due dates.", None))
        } @else {
            div class="table-wrap" tabindex="0" role="region" aria-label="Workflows (scrolls)" {
                table class="data" {
                    thead { tr { th { "Workflow" } th { "Status" } th { "Progress" } th { "Due" } th { "Started" } } }
                    tbody {
                        @for r in &runs.items {
                            tr {
                                td { a href={ "/workflows/runs/" (r.id) } { (r.name) } }
                                td { (ui::badge(&ui::label(&r.status))) }
                                td { (progress(r.progress)) }
                                td { (ui::date(r.due_date)) }
                                td { (ui::time(r.created_at)) }
                            }
                        }
                    }
                }
            }
        }
        @if may_start {
            p { a class="btn" href={ "/tasks/new?client_id=" (client) } { "New task" } " " a class="btn" href={ "/work?client_id=" (client) } { "Open work for this client" } }
            (start_form(viewer, client, &templates, &StartForm::default(), None))
        }
    })
}

/// `POST /clients/{id}/workflows`: starts the run and shows it, or the form again with the problems.
pub async fn start(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(client): Path<ClientId>,
    CsrfForm(f): CsrfForm<StartForm>,
) -> PageResult<Response> {
    let template_id: WorkflowTemplateId =
        form::chosen(&f.template_id).ok_or_else(|| PageError::BadForm("choose a template".into()))?;
    let due_date: NaiveDate = form::chosen(&f.due_date)
        .ok_or_else(|| PageError::BadForm("give the date the whole workflow is due".into()))?;
    let req = StartRunRequest {
        client_id: client,
        template_id,
        engagement_id: None,
        due_date,
        name: form::text(&f.name),
    };
    match state.practice.start_workflow_run(&viewer.caller, req).await {
        Ok(run) => Ok(see_other(&format!("/workflows/runs/{}", run.summary.id))),
        Err(e) => {
            let e = fixable(e)?;
            let c = state.practice.get_client(&viewer.caller, client).await?;
            let templates = state.practice.list_workflow_templates(&viewer.caller, false).await?;
            let back = format!("/clients/{client}?tab=workflows");
            let body = html! {
                (layout::head_row("Start a workflow", Some(html! { a href=(back) { (c.business_name) } }), None))
                (start_form(&viewer, client, &templates, &f, Some(&e)))
            };
            Ok((e.status(), layout::page(&viewer, Nav::Clients, "Start a workflow", body)).into_response())
        }
    }
}

const ACTIONS: [(StepAction, &str); 5] = [
    (StepAction::Start, "Start"),
    (StepAction::Complete, "Done"),
    (StepAction::Block, "Blocked"),
    (StepAction::Unblock, "Unblock"),
    (StepAction::Skip, "Skip"),
];

/// The buttons for what `viewer` may do to a step now (its assignee: all but skip; those who run
/// workflows: everything), each a form that comes back to `back`.
fn step_actions(
    viewer: &Viewer,
    run: WorkflowRunId,
    s: &RunStepResponse,
    status_active: bool,
    back: &str,
) -> Markup {
    let executes = viewer.caller.has(Permission::WorkflowsExecute);
    let own = s.assignee == Some(viewer.caller.user_id());
    html! {
        @if status_active {
            @for (action, label) in ACTIONS {
                @if s.status.after(action).is_some() && (executes || (own && action != StepAction::Skip)) {
                    // Unblocking an automation step queues its action again.
                    @let label = if action == StepAction::Unblock && s.kind == StepKind::Automation { "Retry" } else { label };
                    form method="post" action={ "/workflows/runs/" (run) "/steps/" (s.key) } {
                        (csrf(viewer))
                        input type="hidden" name="action" value=(action);
                        input type="hidden" name="back" value=(back);
                        button class={ "btn small" @if action == StepAction::Complete { " primary" } } type="submit"
                            aria-label={ (label) ": " (s.name) } { (label) }
                    }
                }
            }
        }
    }
}

async fn run_page(
    state: &AppState,
    viewer: &Viewer,
    run: &RunResponse,
    error: Option<&api::ApiError>,
) -> PageResult<Markup> {
    let r = &run.summary;
    let executes = viewer.caller.has(Permission::WorkflowsExecute);
    let staff = if executes { assignees(state, viewer).await? } else { Vec::new() };
    let active = r.status == domain::workflow::RunStatus::Active;
    let today = Utc::now().date_naive();
    let here = format!("/workflows/runs/{}", r.id);
    let actions = html! {
        @if executes {
            @match r.status {
                domain::workflow::RunStatus::Active => {
                    form class="inline" method="post" action={ (here) "/command" } {
                        (csrf(viewer)) input type="hidden" name="command" value="pause"; button class="btn" type="submit" { "Pause" }
                    }
                }
                domain::workflow::RunStatus::Paused => {
                    form class="inline" method="post" action={ (here) "/command" } {
                        (csrf(viewer)) input type="hidden" name="command" value="resume"; button class="btn" type="submit" { "Resume" }
                    }
                }
                _ => {}
            }
            @if !r.status.is_finished() {
                " " (form::confirm(viewer, &format!("{here}/cancel"), "Cancel run", "Every step not yet done is cancelled. This cannot be undone."))
            }
        }
    };
    let index = |key: &str| run.steps.iter().position(|s| s.key == key);
    let nodes: Vec<Node<'_>> = run
        .steps
        .iter()
        .map(|s| Node {
            label: &s.name,
            class: format!("{}{}", s.status, if s.critical { " critical" } else { "" }),
        })
        .collect();
    let deps: Vec<Vec<usize>> =
        run.steps.iter().map(|s| s.depends_on.iter().filter_map(|d| index(d)).collect()).collect();
    let stages = stages_of(&deps);
    let me = viewer.caller.user_id();
    let running = state.practice.running_timer(&viewer.caller).await?;
    let reminders = state.reminders.run_reminders(&viewer.caller, r.id).await?;
    let timing = |s: &RunStepResponse| running.as_ref().is_some_and(|t| t.step_id == Some(s.id));
    Ok(html! {
        (layout::head_row(&r.name, Some(html! { a href={ "/clients/" (r.client_id) "?tab=workflows" } { (r.client_name) } }), Some(actions)))
        div {
            (ui::badge(&ui::label(&r.status))) " " (ui::badge(&format!("template version {}", run.template_version)))
            " " span class="muted" { "Due " (ui::date(r.due_date)) } " " (progress(r.progress))
        }
        @if let Some(e) = error { div class="alert error" role="alert" { (e.detail()) } }
        (time::running_banner(viewer, running.as_ref(), &here))
        section class="card" aria-labelledby="graph-h" {
            h2 id="graph-h" { "Steps" span class="muted" { " · critical path (outlined): " (run.critical_hours.normalize()) " hours left" } }
            (charts::dag(&r.name, &nodes, &deps, &stages))
        }
        div class="table-wrap" tabindex="0" role="region" aria-label="Steps (scrolls)" {
            table class="data" {
                thead { tr { th { "Step" } th { "Status" } th { "Assignee" } th { "Due" } th class="num" { "Hours" } th class="num" { "Logged" } th { "Actions" } } }
                tbody {
                    @for s in &run.steps {
                        tr {
                            td { a href={ "/work/steps/" (s.id) } { (s.name) } @if s.critical { " " span class="badge warn" title="On the critical path" { "critical" } } br; span class="muted" { (ui::label(&s.kind)) @if let Some(a) = s.automation { ": " (ui::label(&a)) } @if let Some(role) = s.role { " · " (ui::label(&role)) } } (outcome(r.client_id, s)) (workflow_reminders::step_line(&reminders, s.id)) }
                            td { (ui::badge(&ui::label(&s.status))) }
                            td {
                                @if executes && !s.status.is_finished() && active {
                                    form class="inline" method="post" action={ (here) "/steps/" (s.key) "/assignee" } {
                                        (csrf(viewer))
                                        select name="assignee" aria-label={ "Assignee of " (s.name) } {
                                            option value="" selected[s.assignee.is_none()] { "Unassigned" }
                                            @for m in &staff { option value=(m.id) selected[s.assignee == Some(m.id)] { (m.name) " (" (ui::label(&m.role)) ")" } }
                                        }
                                        " " button class="btn small" type="submit" { "Assign" }
                                    }
                                } @else if let Some(n) = &s.assignee_name { (n) } @else { span class="muted" { "—" } }
                                @if !s.routing_reasons.is_empty() {
                                    details class="why" {
                                        summary { "Why " @if let Some(r) = s.routed_by { "(" (ui::label(&r)) ")" } }
                                        ul { @for reason in &s.routing_reasons { li { (reason) } } }
                                    }
                                }
                            }
                            td { (ui::date(s.due_date)) @if s.due_date < today && !s.status.is_finished() { " " span class="badge bad" { "overdue" } } }
                            td class="num" { (s.estimated_hours.normalize()) }
                            td class="num" {
                                @if s.logged_hours > Decimal::ZERO { (s.logged_hours) } @else { span class="muted" { "—" } }
                                @if active && s.assignee == Some(me) && !s.status.is_finished() && !timing(s) {
                                    " " (time::start_button(viewer, ("step_id", s.id.to_string()), &s.name, &here))
                                }
                            }
                            td class="actions" { (step_actions(viewer, r.id, s, active, &here)) }
                        }
                    }
                }
            }
        }
    })
}

/// What the system did with a wait or automation step: when the wait ends, who was mailed, the
/// sync run, whether the result came from the cache, the last error.
fn outcome(client: ClientId, s: &RunStepResponse) -> Markup {
    let Some(o) = &s.outcome else {
        return html! {};
    };
    let open = !s.status.is_finished();
    html! {
        div class="outcome muted small" {
            @if s.kind == StepKind::Wait { @if let Some(t) = o.wait_until {
                @if open { "waits until " } @else { "waited until " } (ui::time(t))
            } }
            @if s.kind == StepKind::Automation {
                @if !o.sent_to.is_empty() { "sent to " (o.sent_to.join(", ")) }
                @if !o.requested.is_empty() { br; "asked for: " (o.requested.join("; ")) }
                @if let Some(run) = o.sync_run_id {
                    a href={ "/clients/" (client) "?tab=quickbooks#qbo-runs" } { "sync run " (run.to_string().get(..8).unwrap_or_default()) }
                    @if s.status == StepStatus::InProgress { " · done when the sync finishes" }
                }
                @if o.cached { " " span class="badge info" title="Reused: an identical step ran moments ago" { "cached" } }
                @if o.finished_at.is_none() && o.error.is_none() && open { "queued" }
                @if let Some(e) = &o.error {
                    div class="outcome-error" { span class="badge danger" { "error" } " " (e)
                        @if o.attempts > 0 { " (" (o.attempts) " attempt" @if o.attempts > 1 { "s" } ")" } }
                }
            }
        }
    }
}

/// Columns for the graph: a step one right of its deepest dependency.
fn stages_of(deps: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut depth = vec![0usize; deps.len()];
    // Runs are stored in template order, which is topological for templates saved through the
    // use cases; a few passes settle any other order.
    for _ in 0..deps.len() {
        for i in 0..deps.len() {
            depth[i] = deps[i].iter().map(|&d| depth[d] + 1).max().unwrap_or(0);
        }
    }
    let mut stages: Vec<Vec<usize>> = vec![Vec::new(); depth.iter().max().map_or(0, |m| m + 1)];
    for (i, d) in depth.into_iter().enumerate() {
        stages[d].push(i);
    }
    stages
}

/// `GET /workflows/runs/{id}`.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowRunId>,
) -> PageResult<Response> {
    let run = state.practice.get_workflow_run(&viewer.caller, id).await?;
    let body = run_page(&state, &viewer, &run, None).await?;
    Ok(layout::page(&viewer, Nav::Workflows, &run.summary.name, body).into_response())
}

#[derive(Debug, Deserialize)]
pub struct StepForm {
    action: String,
    back: Option<String>,
}

/// `POST /workflows/runs/{id}/steps/{key}`: the action, then back where it was pressed (the run,
/// or My work); a refusal (the step moved meanwhile) shows the run with the reason.
pub async fn act(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, key)): Path<(WorkflowRunId, String)>,
    CsrfForm(f): CsrfForm<StepForm>,
) -> PageResult<Response> {
    let action: StepAction = f.action.parse().map_err(PageError::BadForm)?;
    match state.practice.act_on_workflow_step(&viewer.caller, id, &key, action).await {
        Ok(_) => Ok(see_other(&safe_next(f.back.as_deref()))),
        Err(e) => refused(&state, &viewer, id, fixable(e)?).await,
    }
}

async fn refused(
    state: &AppState,
    viewer: &Viewer,
    id: WorkflowRunId,
    e: api::ApiError,
) -> PageResult<Response> {
    let run = state.practice.get_workflow_run(&viewer.caller, id).await?;
    let body = run_page(state, viewer, &run, Some(&e)).await?;
    Ok((e.status(), layout::page(viewer, Nav::Workflows, &run.summary.name, body)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct AssignForm {
    assignee: Option<String>,
}

/// `POST /workflows/runs/{id}/steps/{key}/assignee`.
pub async fn assign(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, key)): Path<(WorkflowRunId, String)>,
    CsrfForm(f): CsrfForm<AssignForm>,
) -> PageResult<Response> {
    let assignee: Option<UserId> = form::text(&f.assignee)
        .map(|v| v.parse().map_err(|_| PageError::BadForm("choose a member".into())))
        .transpose()?;
    match state.practice.assign_workflow_step(&viewer.caller, id, &key, assignee).await {
        Ok(_) => Ok(see_other(&format!("/workflows/runs/{id}"))),
        Err(e) => refused(&state, &viewer, id, fixable(e)?).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct CommandForm {
    command: RunCommand,
}

/// `POST /workflows/runs/{id}/command`: pause or resume.
pub async fn command(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowRunId>,
    CsrfForm(f): CsrfForm<CommandForm>,
) -> PageResult<Response> {
    match state.practice.command_workflow_run(&viewer.caller, id, f.command).await {
        Ok(_) => Ok(see_other(&format!("/workflows/runs/{id}"))),
        Err(e) => refused(&state, &viewer, id, fixable(e)?).await,
    }
}

/// `POST /workflows/runs/{id}/cancel` (behind the confirm step).
pub async fn cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowRunId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    match state.practice.command_workflow_run(&viewer.caller, id, RunCommand::Cancel).await {
        Ok(_) => Ok(see_other(&format!("/workflows/runs/{id}"))),
        Err(e) => refused(&state, &viewer, id, fixable(e)?).await,
    }
}
