//! Time: the viewer's week (each day's entries with totals, billable hours and amount), the
//! running timer with its Stop button, the manual entry form, and the timer buttons other pages
//! use (a run's steps, an engagement).

use api_types::engagements::EngagementListParams;
use api_types::tasks::WorkListParams;
use api_types::time::{ManualEntryRequest, StartTimerRequest, TimeEntryResponse, TimesheetResponse};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, NaiveTime, Timelike, Utc};
use domain::workflow::task::WorkItemKind;
use domain::{EngagementId, Permission, TimeEntryId, WorkflowStepId};
use maud::{Markup, html};
use rust_decimal::Decimal;
use serde::Deserialize;

use api::AppState;

use crate::error::{PageError, PageResult, fixable};
use crate::form::{self, Refusal};
use crate::layout::{self, Nav, csrf};
use crate::session::{CsrfForm, Viewer, safe_next, see_other};
use crate::ui::{self, PageQuery};

/// What the viewer may log time on, each `(value, label)` where the value is `step:<id>` or
/// `engagement:<id>`.
struct Targets {
    /// Their open steps.
    steps: Vec<(String, String)>,
    /// Their engagements.
    engagements: Vec<(String, String)>,
}

async fn targets(state: &AppState, viewer: &Viewer) -> PageResult<Targets> {
    let work = state.practice.work_list(&viewer.caller, &WorkListParams::default(), 100, Utc::now()).await?;
    // Time is logged on steps; the member's tasks are not targets.
    let steps = work
        .items
        .into_iter()
        .filter(|w| w.kind == WorkItemKind::Step)
        .map(|w| {
            let (client, run) = (w.client_name.unwrap_or_default(), w.run_name.unwrap_or_default());
            (format!("step:{}", w.id), format!("{client} · {run} · {}", w.name))
        })
        .collect();
    let engagements = if viewer.caller.has(Permission::EngagementsRead) {
        let q = EngagementListParams { assigned_to: Some("me".into()), ..Default::default() };
        state
            .practice
            .list_engagements(&viewer.caller, None, &q, 100)
            .await?
            .items
            .into_iter()
            .map(|e| (format!("engagement:{}", e.id), e.name))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Targets { steps, engagements })
}

/// What an entry was logged on, in words.
fn work_of(e: &TimeEntryResponse) -> Markup {
    html! {
        @if let (Some(step), Some(run)) = (&e.step_name, e.run_id) {
            a href={ "/workflows/runs/" (run) } { (step) }
        } @else if let (Some(name), Some(id)) = (&e.engagement_name, e.engagement_id) {
            a href={ "/engagements/" (id) } { (name) }
        } @else {
            span class="muted" { "—" }
        }
    }
}

/// The running timer and its Stop button, which comes back to `back`.
pub fn running_banner(viewer: &Viewer, running: Option<&TimeEntryResponse>, back: &str) -> Markup {
    html! {
        @if let Some(t) = running {
            div class="alert info actions-row" role="status" id="timer" {
                span { "Timer running on " strong { (work_of(t)) } " (" (t.client_name) ") since " (ui::time(t.started_at)) }
                form class="inline" method="post" action="/time/stop" {
                    (csrf(viewer))
                    input type="hidden" name="back" value=(back);
                    button class="btn small primary" type="submit" { "Stop" }
                }
            }
        }
    }
}

/// A "Start timer" button for a step or an engagement, coming back to `back`.
pub fn start_button(viewer: &Viewer, target: (&str, String), label: &str, back: &str) -> Markup {
    html! {
        form class="inline" method="post" action="/time/timer" {
            (csrf(viewer))
            input type="hidden" name=(target.0) value=(target.1);
            input type="hidden" name="back" value=(back);
            button class="btn small" type="submit" aria-label={ "Start timer: " (label) } { "Start timer" }
        }
    }
}

fn usd(d: Decimal) -> String {
    ui::money(d, "USD")
}

fn hours(d: Decimal) -> String {
    format!("{:.2}", d)
}

#[derive(Debug, Default, Deserialize)]
pub struct EntryForm {
    target: Option<String>,
    date: Option<String>,
    start: Option<String>,
    minutes: Option<String>,
    note: Option<String>,
    billable: Option<String>,
}

fn entry_form(viewer: &Viewer, targets: &Targets, f: &EntryForm, error: Option<&api::ApiError>) -> Markup {
    let refusal = Refusal(error);
    let chosen = f.target.as_deref().unwrap_or("");
    let Targets { steps, engagements } = targets;
    let now = Utc::now();
    let today = now.date_naive().to_string();
    let hour = format!("{:02}:00", now.hour().saturating_sub(1));
    html! {
        form class="card form" method="post" action="/time/entries" aria-labelledby="log-h" {
            h2 id="log-h" { "Log time" }
            (csrf(viewer))
            (refusal.alert())
            @if steps.is_empty() && engagements.is_empty() {
                p class="muted" { "Nothing to log on: steps assigned to you and your engagements appear here." }
            } @else {
                label { "Work"
                    select name="target" required {
                        @if !steps.is_empty() {
                            optgroup label="My steps" {
                                @for (v, l) in steps { option value=(v) selected[chosen == v] { (l) } }
                            }
                        }
                        @if !engagements.is_empty() {
                            optgroup label="My engagements" {
                                @for (v, l) in engagements { option value=(v) selected[chosen == v] { (l) } }
                            }
                        }
                    }
                    (refusal.problem("step_id")) (refusal.problem("engagement_id"))
                }
                div class="grid-2" {
                    (form::input(refusal, "date", "Day", f.date.as_deref().unwrap_or(&today), "date"))
                    (form::input(refusal, "start", "Start (UTC)", f.start.as_deref().unwrap_or(&hour), "time"))
                }
                (refusal.problem("started_at"))
                div class="grid-2" {
                    (form::input(refusal, "minutes", "Minutes", f.minutes.as_deref().unwrap_or(""), "number"))
                    (form::input(refusal, "note", "Note (optional)", f.note.as_deref().unwrap_or(""), "text"))
                }
                label class="inline" { input type="checkbox" name="billable" value="true" checked[error.is_none() || f.billable.is_some()]; " Billable" }
                div { button class="btn primary" type="submit" { "Log time" } }
            }
        }
    }
}

fn sheet(viewer: &Viewer, s: &TimesheetResponse, back: &str) -> Markup {
    let me = viewer.caller.user_id();
    html! {
        div class="tiles" {
            div class="card stat" { span class="label" { "Total hours" } span class="value" id="week-total" { (hours(s.total_hours)) } }
            div class="card stat" { span class="label" { "Billable hours" } span class="value" { (hours(s.billable_hours)) } }
            div class="card stat" { span class="label" { "Non-billable hours" } span class="value" { (hours(s.total_hours - s.billable_hours)) } }
            div class="card stat" {
                span class="label" { "Billable amount" }
                span class="value" id="week-amount" { (usd(s.billable_amount)) }
                @if s.billable_amount.is_zero() && s.billable_minutes > 0 { span class="label" { "The billable entries have no hourly rate" } }
            }
        }
        div class="table-wrap" tabindex="0" role="region" aria-label="The week's time (scrolls)" {
            table class="data" {
                thead { tr { th { "Day / work" } th { "Client" } th { "Note" } th class="num" { "Hours" } th { "Billable" } th class="num" { "Amount" } th { span class="visually-hidden" { "Actions" } } } }
                @for d in &s.days {
                    tbody {
                        tr class="day" {
                            th scope="rowgroup" colspan="3" { (d.date.format("%A")) " " span class="muted" { (ui::date(d.date)) } }
                            td class="num" { strong { (hours(d.hours)) } }
                            td { @if d.billable_minutes > 0 { (hours(domain::time::hours(d.billable_minutes))) " h" } }
                            td class="num" { @if d.billable_amount > Decimal::ZERO { (usd(d.billable_amount)) } }
                            td {}
                        }
                        @for e in &d.entries {
                            tr {
                                td { (work_of(e)) }
                                td { a href={ "/clients/" (e.client_id) } { (e.client_name) } }
                                td { @if let Some(n) = &e.note { (n) } }
                                td class="num" { @if let Some(h) = e.hours { (hours(h)) } }
                                td { @if e.billable { (ui::badge("billable")) } @else { span class="muted" { "no" } } }
                                td class="num" { @if let Some(a) = e.amount { (usd(a)) } }
                                td class="actions" {
                                    @if e.user_id == me {
                                        form class="inline" method="post" action={ "/time/entries/" (e.id) "/delete" } {
                                            (csrf(viewer))
                                            input type="hidden" name="back" value=(back);
                                            button class="btn small link" type="submit" aria-label={ "Delete the entry of " (ui::date(d.date)) } { "Delete" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    week: Option<NaiveDate>,
    f: &EntryForm,
    error: Option<&api::ApiError>,
) -> PageResult<Markup> {
    let s = state.practice.timesheet(&viewer.caller, week).await?;
    let targets = targets(state, viewer).await?;
    let here = format!("/time?week={}", s.week_start);
    let nav = html! {
        a class="btn small" href={ "/time?week=" (s.previous_week) } { "← Previous week" }
        " "
        a class="btn small" href="/time" { "This week" }
        " "
        a class="btn small" href={ "/time?week=" (s.next_week) } { "Next week →" }
    };
    let title = format!("Time sheet: {} – {}", ui::date(s.week_start), ui::date(s.week_end));
    let body = html! {
        (layout::head_row(&title, Some(html! { a href="/work" { "My work" } }), Some(nav)))
        (running_banner(viewer, s.running.as_ref(), &here))
        @if let Some(e) = error.filter(|_| f.target.is_none()) { div class="alert error" role="alert" { (e.detail()) } }
        (sheet(viewer, &s, &here))
        (entry_form(viewer, &targets, f, error.filter(|_| f.target.is_some())))
    };
    Ok(layout::page(viewer, Nav::Time, "Time sheet", body))
}

#[derive(Debug, Default, Deserialize)]
pub struct WeekQuery {
    week: Option<NaiveDate>,
}

/// `GET /time?week=`: the week holding that day (default this week).
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(q): PageQuery<WeekQuery>,
) -> PageResult<Response> {
    Ok(render(&state, &viewer, q.week, &EntryForm::default(), None).await?.into_response())
}

/// `POST /time/entries`: logs the entry and shows its week, or the form again with the problems.
pub async fn log(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<EntryForm>,
) -> PageResult<Response> {
    let target =
        form::text(&f.target).ok_or_else(|| PageError::BadForm("choose what the time was on".into()))?;
    let (step_id, engagement_id) = parse_target(&target)?;
    let date: NaiveDate = form::chosen(&f.date).ok_or_else(|| PageError::BadForm("give the day".into()))?;
    let start: NaiveTime = form::text(&f.start)
        .and_then(|t| NaiveTime::parse_from_str(&t, "%H:%M").ok())
        .ok_or_else(|| PageError::BadForm("give the start as hours and minutes".into()))?;
    let minutes: i64 = form::text(&f.minutes)
        .and_then(|m| m.parse().ok())
        .ok_or_else(|| PageError::BadForm("give the minutes as a whole number".into()))?;
    let req = ManualEntryRequest {
        step_id,
        engagement_id,
        started_at: date.and_time(start).and_utc(),
        minutes,
        billable: Some(f.billable.is_some()),
        hourly_rate: None,
        note: form::text(&f.note),
    };
    match state.practice.log_time(&viewer.caller, req).await {
        Ok(_) => Ok(see_other(&format!("/time?week={date}"))),
        Err(e) => {
            let e = fixable(e)?;
            Ok((e.status(), render(&state, &viewer, Some(date), &f, Some(&e)).await?).into_response())
        }
    }
}

fn parse_target(target: &str) -> PageResult<(Option<WorkflowStepId>, Option<EngagementId>)> {
    let bad = || PageError::BadForm("choose what the time was on".into());
    match target.split_once(':') {
        Some(("step", id)) => Ok((Some(id.parse().map_err(|_| bad())?), None)),
        Some(("engagement", id)) => Ok((None, Some(id.parse().map_err(|_| bad())?))),
        _ => Err(bad()),
    }
}

#[derive(Debug, Deserialize)]
pub struct TimerForm {
    step_id: Option<WorkflowStepId>,
    engagement_id: Option<EngagementId>,
    back: Option<String>,
}

/// `POST /time/timer`: starts the viewer's timer (stopping one that runs) and goes back.
pub async fn start(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<TimerForm>,
) -> PageResult<Response> {
    let req =
        StartTimerRequest { step_id: f.step_id, engagement_id: f.engagement_id, billable: None, note: None };
    match state.practice.start_timer(&viewer.caller, req).await {
        Ok(_) => Ok(see_other(&safe_next(f.back.as_deref()))),
        Err(e) => refused(&state, &viewer, fixable(e)?).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct BackForm {
    back: Option<String>,
}

/// `POST /time/stop`: stops the viewer's timer and goes back.
pub async fn stop(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<BackForm>,
) -> PageResult<Response> {
    state.practice.stop_timer(&viewer.caller).await?;
    Ok(see_other(&safe_next(f.back.as_deref())))
}

/// `POST /time/entries/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<TimeEntryId>,
    CsrfForm(f): CsrfForm<BackForm>,
) -> PageResult<Response> {
    match state.practice.delete_time_entry(&viewer.caller, id).await {
        Ok(()) => Ok(see_other(&safe_next(f.back.as_deref()))),
        Err(e) => refused(&state, &viewer, fixable(e)?).await,
    }
}

async fn refused(state: &AppState, viewer: &Viewer, e: api::ApiError) -> PageResult<Response> {
    Ok((e.status(), render(state, viewer, None, &EntryForm::default(), Some(&e)).await?).into_response())
}
