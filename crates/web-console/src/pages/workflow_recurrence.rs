//! Recurring runs and bulk starts: a client's schedules on its Workflows tab (create with the next
//! three periods previewed in the firm's time zone, pause, resume, delete, start a missed period),
//! and a template started for many clients ("Start for clients…" on the template's page) with a
//! progress bar that polls until the job is done.

use api_types::clients::ClientListParams;
use api_types::workflow_recurrence::{
    BulkStartRequest, BulkStartResponse, Occurrence, ScheduleRequest, ScheduleResponse,
};
use api_types::workflows::TemplateResponse;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use domain::workflow::recurrence::BulkStatus;
use domain::{ClientId, Permission, WorkflowBulkId, WorkflowScheduleId, WorkflowTemplateId};
use maud::{Markup, html};
use serde::Deserialize;

use api::AppState;

use crate::error::{PageError, PageResult, fixable};
use crate::form::{self, Refusal};
use crate::layout::{self, Nav, csrf};
use crate::session::{CsrfForm, NoFields, Viewer, see_other};
use crate::ui::{self, Fields};

/// The clients the picker lists at once (a bulk start takes up to 1,000).
const PICKER_ROWS: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub struct ScheduleForm {
    template_id: Option<String>,
    cron: Option<String>,
    due_business_day: Option<String>,
}

fn business_day(f: &ScheduleForm) -> PageResult<u8> {
    form::text(&f.due_business_day)
        .map(|d| {
            d.parse::<u8>().map_err(|_| PageError::BadForm("the due business day is a whole number".into()))
        })
        .transpose()
        .map(|d| d.unwrap_or(1))
}

fn occurrences(next: &[Occurrence]) -> Markup {
    html! {
        ol class="occurrences" {
            @for o in next { li { (o.local) " · due " (ui::date(o.due_date)) } }
        }
    }
}

fn schedule_form(
    viewer: &Viewer,
    client: ClientId,
    templates: &[TemplateResponse],
    f: &ScheduleForm,
    error: Option<&api::ApiError>,
) -> Markup {
    let refusal = Refusal(error);
    let chosen = f.template_id.as_deref().unwrap_or("");
    html! {
        form class="card form" method="post" action={ "/clients/" (client) "/workflow-schedules" } aria-labelledby="schedule-h" {
            h2 id="schedule-h" { "Repeat a workflow" }
            p class="muted" {
                "A run starts at every occurrence of the cron expression, in the firm's time zone (set on the Team page), and is due on the chosen business day counted from then; its steps are due their offsets before that. "
                "Monthly close due on the 5th business day: " code { "0 0 1 * *" } " with 5. Quarterly estimates: " code { "0 0 15 1,4,6,9 *" } " with 1."
            }
            (csrf(viewer))
            (refusal.alert())
            label { "Template"
                select name="template_id" required {
                    @for t in templates { option value=(t.id) selected[chosen == t.id.to_string()] { (t.name) @if t.system { " (system)" } } }
                }
            }
            div class="grid-2" {
                (form::input(refusal, "cron", "Cron (minute hour day month weekday)", f.cron.as_deref().unwrap_or("0 0 1 * *"), "text"))
                (form::input(refusal, "due_business_day", "Due on business day", f.due_business_day.as_deref().unwrap_or("5"), "number"))
            }
            div id="schedule-preview" aria-live="polite" {}
            div {
                button class="btn" type="button" hx-get="/workflows/schedules/preview" hx-include="closest form"
                    hx-target="#schedule-preview" { "Preview the next 3" }
                " "
                button class="btn primary" type="submit" { "Create schedule" }
            }
        }
    }
}

fn schedule_row(viewer: &Viewer, s: &ScheduleResponse, may_change: bool) -> Markup {
    let base = format!("/workflows/schedules/{}", s.id);
    html! {
        tr {
            td { (s.template_name) br; span class="muted" { "due on business day " (s.due_business_day) } }
            td { code { (s.cron) } br; span class="muted" { (s.time_zone) } }
            td {
                @if s.paused { (ui::badge("paused")) } @else { (occurrences(&s.next)) }
            }
            td {
                @if s.missed.is_empty() { span class="muted" { "—" } }
                @for m in &s.missed {
                    div class="missed" {
                        (ui::datetime(m.period_start))
                        @if may_change {
                            " "
                            form class="inline" method="post" action={ (base) "/periods/start" } {
                                (csrf(viewer))
                                input type="hidden" name="period_start" value=(m.period_start.to_rfc3339());
                                button class="btn small" type="submit" { "Start" }
                            }
                        }
                    }
                }
            }
            td {
                @if may_change {
                    form class="inline" method="post" action={ (base) (if s.paused { "/resume" } else { "/pause" }) } {
                        (csrf(viewer))
                        button class="btn small" type="submit" { (if s.paused { "Resume" } else { "Pause" }) }
                    }
                    " "
                    (form::confirm(viewer, &format!("{base}/delete"), "Delete",
                        "The schedule stops; the runs it created stay."))
                }
            }
        }
    }
}

/// The schedules section of a client's Workflows tab.
pub async fn client_section(state: &AppState, viewer: &Viewer, client: ClientId) -> PageResult<Markup> {
    let schedules = state.practice.workflow_schedules(&viewer.caller, client).await?;
    let may_change = viewer.caller.has(Permission::WorkflowsExecute);
    let templates = if may_change {
        state.practice.list_workflow_templates(&viewer.caller, false).await?
    } else {
        Vec::new()
    };
    Ok(html! {
        section aria-labelledby="schedules-h" {
            h2 id="schedules-h" { "Recurring" }
            @if schedules.is_empty() {
                p class="muted" { "No recurring schedule: runs of this client start by hand." }
            } @else {
                div class="table-wrap" tabindex="0" role="region" aria-label="Recurring schedules (scrolls)" {
                    table class="data" {
                        thead { tr { th { "Template" } th { "Cron" } th { "Next periods" } th { "Missed periods" } th { span class="visually-hidden" { "Actions" } } } }
                        tbody { @for s in &schedules { (schedule_row(viewer, s, may_change)) } }
                    }
                }
            }
            @if may_change { (schedule_form(viewer, client, &templates, &ScheduleForm::default(), None)) }
        }
    })
}

/// `POST /clients/{id}/workflow-schedules`.
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(client): Path<ClientId>,
    CsrfForm(f): CsrfForm<ScheduleForm>,
) -> PageResult<Response> {
    let template_id: WorkflowTemplateId =
        form::chosen(&f.template_id).ok_or_else(|| PageError::BadForm("choose a template".into()))?;
    let req = ScheduleRequest {
        template_id,
        engagement_id: None,
        cron: f.cron.clone().unwrap_or_default(),
        due_business_day: business_day(&f)?,
    };
    match state.practice.create_workflow_schedule(&viewer.caller, client, req).await {
        Ok(_) => Ok(see_other(&format!("/clients/{client}?tab=workflows"))),
        Err(e) => {
            let e = fixable(e)?;
            let c = state.practice.get_client(&viewer.caller, client).await?;
            let templates = state.practice.list_workflow_templates(&viewer.caller, false).await?;
            let back = format!("/clients/{client}?tab=workflows");
            let body = html! {
                (layout::head_row("Repeat a workflow", Some(html! { a href=(back) { (c.business_name) } }), None))
                (schedule_form(&viewer, client, &templates, &f, Some(&e)))
            };
            Ok((e.status(), layout::page(&viewer, Nav::Clients, "Repeat a workflow", body)).into_response())
        }
    }
}

/// `GET /workflows/schedules/preview` (htmx): the next three periods, or why the expression is refused.
pub async fn preview(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(f): Query<ScheduleForm>,
) -> PageResult<Response> {
    let day = business_day(&f)?;
    let cron = f.cron.clone().unwrap_or_default();
    Ok(match state.practice.preview_workflow_schedule(&viewer.caller, &cron, day).await {
        Ok(p) => html! { p class="muted" { "Next periods (" (p.time_zone) "):" } (occurrences(&p.next)) }
            .into_response(),
        Err(e) => {
            let e = fixable(e)?;
            html! { p class="field-error" role="alert" { (e.detail()) } }.into_response()
        }
    })
}

#[derive(Debug, Deserialize)]
pub struct PeriodForm {
    period_start: DateTime<Utc>,
}

/// `POST /workflows/schedules/{id}/periods/start`: the run of one missed period.
pub async fn start_period(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowScheduleId>,
    CsrfForm(f): CsrfForm<PeriodForm>,
) -> PageResult<Response> {
    let run = state.practice.start_missed_period(&viewer.caller, id, f.period_start).await?;
    Ok(see_other(&format!("/workflows/runs/{}", run.summary.id)))
}

async fn set_paused(
    state: &AppState,
    viewer: &Viewer,
    id: WorkflowScheduleId,
    paused: bool,
) -> PageResult<Response> {
    let s = state.practice.pause_workflow_schedule(&viewer.caller, id, paused).await?;
    Ok(see_other(&format!("/clients/{}?tab=workflows", s.client_id)))
}

/// `POST /workflows/schedules/{id}/pause`.
pub async fn pause(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowScheduleId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    set_paused(&state, &viewer, id, true).await
}

/// `POST /workflows/schedules/{id}/resume`.
pub async fn resume(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowScheduleId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    set_paused(&state, &viewer, id, false).await
}

/// `POST /workflows/schedules/{id}/delete`: back to the client (read before it goes).
pub async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowScheduleId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    // Pausing first reads the schedule within the caller's scope and tells whose it is.
    let s = state.practice.pause_workflow_schedule(&viewer.caller, id, true).await?;
    state.practice.delete_workflow_schedule(&viewer.caller, id).await?;
    Ok(see_other(&format!("/clients/{}?tab=workflows", s.client_id)))
}

#[derive(Debug, Default, Deserialize)]
pub struct PickerQuery {
    q: Option<String>,
}

fn bulk_page(
    viewer: &Viewer,
    t: &TemplateResponse,
    clients: &[(ClientId, String)],
    q: &str,
    due: &str,
    error: Option<&api::ApiError>,
) -> Markup {
    let refusal = Refusal(error);
    let base = format!("/workflows/templates/{}", t.id);
    html! {
        (layout::head_row("Start for clients", Some(html! { a href=(base) { (t.name) } }), None))
        form class="card form" method="get" action={ (base) "/bulk" } role="search" {
            label { "Filter clients" input type="search" name="q" value=(q) placeholder="Name, contact or email"; }
            div { button class="btn" type="submit" { "Filter" } }
        }
        form class="card form" method="post" action={ (base) "/bulk" } id="bulk-form" {
            (csrf(viewer))
            (refusal.alert())
            p class="muted" { "One run of " strong { (t.name) } " per chosen client, created by a job: you can leave this page. At most 1,000 clients at once." }
            div class="grid-2" {
                (form::input(refusal, "due_date", "Due", due, "date"))
                label class="inline" { input type="checkbox" name="all_active" value="true"; " Every active client (ignores the ticks below)" }
            }
            (refusal.problem("client_ids"))
            @if clients.is_empty() {
                (ui::empty("No active clients", "Nothing matches; change the filter.", None))
            } @else {
                div class="table-wrap" tabindex="0" role="region" aria-label="Clients (scrolls)" {
                    table class="data" {
                        thead { tr {
                            th scope="col" { input type="checkbox" data-select-all aria-label="Select all clients shown"; }
                            th scope="col" { "Client" }
                        } }
                        tbody {
                            @for (id, name) in clients {
                                tr {
                                    td { input type="checkbox" name="ids" value=(id) aria-label={ "Select " (name) }; }
                                    td { (name) }
                                }
                            }
                        }
                    }
                }
            }
            div data-bulkbar { span data-selected-count { "0 selected" } " " button class="btn primary" type="submit" { "Start runs" } }
        }
    }
}

async fn picker(state: &AppState, viewer: &Viewer, q: &str) -> PageResult<Vec<(ClientId, String)>> {
    let params = ClientListParams {
        status: Some("active".into()),
        q: Some(q.trim().to_owned()).filter(|q| !q.is_empty()),
        ..ClientListParams::default()
    };
    let page = state.practice.list_clients(&viewer.caller, &params, PICKER_ROWS).await?;
    Ok(page.items.into_iter().map(|c| (c.id, c.business_name)).collect())
}

/// `GET /workflows/templates/{id}/bulk`: choose the clients.
pub async fn bulk_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowTemplateId>,
    Query(pq): Query<PickerQuery>,
) -> PageResult<Response> {
    if !viewer.caller.has(Permission::WorkflowsExecute) {
        let refused = practice::PracticeError::Forbidden(Permission::WorkflowsExecute);
        return Err(PageError::Api(api::ApiError::from(refused)));
    }
    let t = state.practice.get_workflow_template(&viewer.caller, id).await?;
    let q = pq.q.unwrap_or_default();
    let clients = picker(&state, &viewer, &q).await?;
    let body = bulk_page(&viewer, &t, &clients, &q, "", None);
    Ok(layout::page(&viewer, Nav::Workflows, "Start for clients", body).into_response())
}

/// `POST /workflows/templates/{id}/bulk`: starts the job and shows its progress.
pub async fn bulk_start(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowTemplateId>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let fields = Fields(pairs);
    let all_active = fields.checked("all_active");
    let due = fields.one("due_date").unwrap_or_default();
    let due_date: NaiveDate =
        due.parse().map_err(|_| PageError::BadForm("give the date the runs are due".into()))?;
    let client_ids: Vec<ClientId> = if all_active {
        Vec::new()
    } else {
        fields.all("ids").iter().filter_map(|c| c.parse().ok()).collect()
    };
    let req = BulkStartRequest { template_id: id, client_ids, all_active, due_date, name: None };
    match state.practice.start_workflow_bulk(&viewer.caller, req).await {
        Ok(b) => Ok(see_other(&format!("/workflows/bulk/{}", b.id))),
        Err(e) => {
            let e = fixable(e)?;
            let t = state.practice.get_workflow_template(&viewer.caller, id).await?;
            let clients = picker(&state, &viewer, "").await?;
            let body = bulk_page(&viewer, &t, &clients, "", &due, Some(&e));
            Ok((e.status(), layout::page(&viewer, Nav::Workflows, "Start for clients", body)).into_response())
        }
    }
}

fn progress_card(b: &BulkStartResponse) -> Markup {
    let done = b.status == BulkStatus::Done;
    let url = format!("/workflows/bulk/{}/progress", b.id);
    html! {
        section class="card" id="bulk-progress" aria-live="polite"
            hx-get=[(!done).then_some(url.as_str())] hx-trigger=[(!done).then_some("every 1s")] hx-swap="outerHTML" {
            h2 { @if done { "Done" } @else { "Starting runs…" } }
            progress max="100" value=(b.progress) aria-label="Runs started" { (b.progress) "%" }
            p { strong { (b.progress) "%" } " · " (b.started) " started · " (b.failed) " failed · " (b.total) " clients · due " (ui::date(b.due_date)) }
            @if !b.failures.is_empty() {
                h3 { "Not started" }
                ul { @for f in &b.failures { li { (f.client_name.as_deref().unwrap_or("unknown client")) ": " (f.error) } } }
            }
        }
    }
}

/// `GET /workflows/bulk/{id}`.
pub async fn bulk_show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowBulkId>,
) -> PageResult<Response> {
    let b = state.practice.workflow_bulk(&viewer.caller, id).await?;
    let t = state.practice.get_workflow_template(&viewer.caller, b.template_id).await?;
    let body = html! {
        (layout::head_row("Start for clients", Some(html! { a href={ "/workflows/templates/" (t.id) } { (t.name) } }), None))
        (progress_card(&b))
    };
    Ok(layout::page(&viewer, Nav::Workflows, "Start for clients", body).into_response())
}

/// `GET /workflows/bulk/{id}/progress` (htmx, polled every second until done).
pub async fn bulk_progress(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowBulkId>,
) -> PageResult<Response> {
    let b = state.practice.workflow_bulk(&viewer.caller, id).await?;
    Ok(progress_card(&b).into_response())
}
