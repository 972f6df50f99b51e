//! The firm's holidays and the stuck work, as sections of the team page (where the firm's
//! workflow settings live), and a step's client-request reminders on the run page.

use api_types::workflow_reminders::{
    HolidayRequest, HolidayResponse, RunRemindersResponse, StuckWorkResponse,
};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use domain::workflow::reminders::CLIENT_REQUEST_MAX;
use domain::{Permission, WorkflowStepId};
use maud::{Markup, html};
use serde::Deserialize;

use api::AppState;

use crate::error::{PageError, PageResult, fixable};
use crate::form::{self, Refusal};
use crate::layout::{self, Nav, csrf};
use crate::session::{CsrfForm, NoFields, Viewer, see_other};
use crate::ui;

#[derive(Debug, Default, Deserialize)]
pub struct HolidayForm {
    date: Option<String>,
    name: Option<String>,
}

fn holidays_card(
    viewer: &Viewer,
    holidays: &[HolidayResponse],
    f: &HolidayForm,
    error: Option<&api::ApiError>,
) -> Markup {
    let refusal = Refusal(error);
    let may_update = viewer.caller.has(Permission::WorkflowsUpdate);
    let today = Utc::now().date_naive();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    html! {
        section class="card" id="holidays" aria-labelledby="holidays-h" {
            h2 id="holidays-h" { "Holidays" }
            p class="muted" { "Days the firm is closed, on top of the US federal holidays: due dates of workflows started from now on skip them; due-soon and overdue notices count days in the firm’s time zone." }
            @if holidays.is_empty() {
                p class="muted" { "No firm holidays yet." }
            } @else {
                table class="data" {
                    thead { tr { th { "Date" } th { "Holiday" } @if may_update { th { span class="visually-hidden" { "Actions" } } } } }
                    tbody {
                        @for h in holidays {
                            tr class=[(h.date < today).then_some("muted")] {
                                td { (ui::date(h.date)) }
                                td { (h.name) }
                                @if may_update {
                                    td class="actions" {
                                        form class="inline" method="post" action={ "/team/holidays/" (h.date) "/delete" } {
                                            (csrf(viewer))
                                            button class="btn small" type="submit" aria-label={ "Remove " (h.name) " (" (h.date) ")" } { "Remove" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if may_update {
                form class="form" method="post" action="/team/holidays" aria-label="Add a holiday" {
                    (csrf(viewer))
                    (refusal.alert())
                    div class="grid-2" {
                        (form::input(refusal, "date", "Date", &text(&f.date), "date"))
                        (form::input(refusal, "name", "Name", &text(&f.name), "text"))
                    }
                    div { button class="btn primary" type="submit" { "Add holiday" } }
                }
            }
        }
    }
}

fn stuck_card(stuck: &StuckWorkResponse) -> Markup {
    html! {
        section class="card" id="stuck" aria-labelledby="stuck-h" {
            h2 id="stuck-h" { "Stuck work" }
            p class="muted" { "Runs with no step moving for 7 days, and steps in progress 50% over their estimate. Owners, admins and managers are notified once of each." }
            @if stuck.runs.is_empty() && stuck.steps.is_empty() {
                p class="muted" { "Nothing is stuck." }
            }
            @if !stuck.runs.is_empty() {
                table class="data" aria-label="Runs without progress" {
                    thead { tr { th { "Run" } th { "Client" } th class="num" { "Days without progress" } } }
                    tbody {
                        @for r in &stuck.runs {
                            tr {
                                td { a href={ "/workflows/runs/" (r.run_id) } { (r.run_name) } }
                                td { a href={ "/clients/" (r.client_id) } { (r.client_name) } }
                                td class="num" { (r.days_without_progress) }
                            }
                        }
                    }
                }
            }
            @if !stuck.steps.is_empty() {
                table class="data" aria-label="Steps over their estimate" {
                    thead { tr { th { "Step" } th { "Assignee" } th class="num" { "Logged / estimated" } } }
                    tbody {
                        @for s in &stuck.steps {
                            tr {
                                td { (s.step_name) br; a class="muted" href={ "/workflows/runs/" (s.run_id) } { (s.run_name) } }
                                td { @if let Some(n) = &s.assignee_name { (n) } @else { span class="muted" { "—" } } }
                                td class="num" { (s.logged_hours.normalize()) " / " (s.estimated_hours.normalize()) " h " span class="badge bad" { (s.percent_of_estimate) "%" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The team page's stuck work and holidays.
pub async fn team_sections(state: &AppState, viewer: &Viewer) -> PageResult<Markup> {
    let stuck = state.reminders.stuck_work(&viewer.caller, Utc::now()).await?;
    let holidays = state.reminders.list_holidays(&viewer.caller).await?;
    Ok(html! {
        div class="grid-2" {
            (stuck_card(&stuck))
            (holidays_card(viewer, &holidays, &HolidayForm::default(), None))
        }
    })
}

/// `POST /team/holidays`: adds the day and goes back to the team page, or shows the form again
/// with the problem (a day the firm already has, a name too long).
pub async fn add(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<HolidayForm>,
) -> PageResult<Response> {
    let date = form::text(&f.date).ok_or_else(|| PageError::BadForm("give the holiday's date".into()))?;
    let date: NaiveDate =
        date.parse().map_err(|_| PageError::BadForm(format!("`{date}` is not a date (YYYY-MM-DD)")))?;
    let req = HolidayRequest { date, name: f.name.clone().unwrap_or_default() };
    match state.reminders.add_holiday(&viewer.caller, req).await {
        Ok(_) => Ok(see_other("/team#holidays")),
        Err(e) => {
            let e = fixable(e)?;
            let holidays = state.reminders.list_holidays(&viewer.caller).await?;
            let body = html! {
                (layout::head_row("Holidays", Some(html! { a href="/team" { "Team workload" } }), None))
                (holidays_card(&viewer, &holidays, &f, Some(&e)))
            };
            Ok((e.status(), layout::page(&viewer, Nav::Team, "Holidays", body)).into_response())
        }
    }
}

/// `POST /team/holidays/{date}/delete`.
pub async fn remove(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(date): Path<NaiveDate>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    state.reminders.remove_holiday(&viewer.caller, date).await?;
    Ok(see_other("/team#holidays"))
}

/// A client request's reminders under its name on the run page: how many were mailed, and when
/// the next is due (nothing for other steps).
pub fn step_line(reminders: &RunRemindersResponse, step: WorkflowStepId) -> Markup {
    let Some(r) = reminders.client_requests.iter().find(|r| r.step_id == step) else { return html! {} };
    let sent: Vec<_> = reminders
        .reminders
        .iter()
        .filter(|m| {
            m.step_id == Some(step) && m.kind == domain::workflow::reminders::ReminderKind::ClientRequest
        })
        .collect();
    html! {
        br;
        span class="muted reminders" {
            @if sent.is_empty() { "No reminder sent yet" } @else {
                "Reminders sent: " (r.sent) " of " (CLIENT_REQUEST_MAX) " ("
                @for (i, m) in sent.iter().enumerate() { @if i > 0 { ", " } (ui::date(m.sent_at.date_naive())) }
                ")"
            }
            @if let Some(next) = r.next_at { " · next " (ui::date(next.date_naive())) }
        }
    }
}
