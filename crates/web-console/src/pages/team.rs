//! The team: each member's open work per week against their capacity, their skills and time off
//! (edited here), the firm's routing of ready steps with the figures comparing strategies, and
//! (from `workflow_reminders`) the stuck work and the firm's holidays.

use api_types::workflows::{CapacityRequest, MemberWorkload, RoutingSettingsBody};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use domain::workflow::routing::Routing;
use domain::{Permission, UserId};
use maud::{Markup, html};
use rust_decimal::Decimal;
use serde::Deserialize;

use api::AppState;

use crate::error::{PageError, PageResult, fixable};
use crate::form::{self, Refusal};
use crate::layout::{self, Nav, csrf};
use crate::session::{CsrfForm, Viewer, see_other};
use crate::ui;

/// A cell's tone: over the member's weekly capacity, or above 80% of it.
fn load_class(hours: Decimal, capacity: Decimal) -> &'static str {
    if capacity <= Decimal::ZERO || hours <= Decimal::ZERO {
        ""
    } else if hours > capacity {
        "load over"
    } else if hours * Decimal::from(5) > capacity * Decimal::from(4) {
        "load high"
    } else {
        "load"
    }
}

fn routing_card(viewer: &Viewer, s: &RoutingSettingsBody, error: Option<&api::ApiError>) -> Markup {
    let refusal = Refusal(error);
    let strategies = [Routing::RoundRobin, Routing::Scored];
    html! {
        form class="card form" method="post" action="/team/routing" aria-labelledby="routing-h" {
            h2 id="routing-h" { "Routing" }
            p class="muted" { "When a step becomes ready and nobody has it, give it to someone: round robin, or by score (open hours against capacity, skills, time off, priority). The reasons are kept on the step." }
            (csrf(viewer))
            (refusal.alert())
            (form::select(refusal, "routing", "Strategy", Routing::ALL, Some(s.routing), None))
            div class="grid-2" {
                (form::select(refusal, "ab_routing", "Compare with (A/B)", &strategies, s.ab_routing, Some("no comparison")))
                (form::input(refusal, "ab_percent", "Share to compare (%)", &s.ab_percent.to_string(), "number"))
            }
            (form::input(refusal, "time_zone", "Firm time zone (IANA, e.g. America/New_York): recurring workflows, due dates and reminders run on its clock", s.time_zone.as_deref().unwrap_or("UTC"), "text"))
            div { button class="btn primary" type="submit" { "Save routing" } }
        }
    }
}

async fn team_page(
    state: &AppState,
    viewer: &Viewer,
    settings_error: Option<(&RoutingSettingsBody, &api::ApiError)>,
) -> PageResult<Markup> {
    let team = state.practice.team_workload(&viewer.caller).await?;
    let figures = state.practice.routing_figures(&viewer.caller).await?;
    let reminders = crate::pages::workflow_reminders::team_sections(state, viewer).await?;
    let may_update = viewer.caller.has(Permission::WorkflowsUpdate);
    let me = viewer.caller.user_id();
    Ok(html! {
        (layout::head_row("Team workload", Some(html! { a href="/workflows" { "Workflows" } }), None))
        p class="muted" { "Open steps by the week they are due, against each person's weekly capacity (overdue work counts in this week)." }
        div class="table-wrap" tabindex="0" role="region" aria-label="Team workload (scrolls)" {
            table class="data" {
                thead { tr {
                    th { "Member" } th class="num" { "Capacity" } th class="num" { "Open" }
                    @for (i, w) in team.weeks.iter().enumerate() { th class="num" { @if i == 0 { "This week" } @else { "Week of " (ui::date(*w)) } } }
                    th { "Skills" } th { "Away" } th { span class="visually-hidden" { "Actions" } }
                } }
                tbody {
                    @for m in &team.members {
                        tr {
                            td { (m.name) br; span class="muted" { (ui::label(&m.role)) } }
                            td class="num" { (m.weekly_hours.normalize()) " h" }
                            td class="num" { (m.open_steps) " · " (m.open_hours.normalize()) " h" br; span class="muted" { (m.utilisation) "%" } }
                            @for h in &m.hours_by_week { td class={ "num " (load_class(*h, m.weekly_hours)) } { (h.normalize()) } }
                            td { @if m.skills.is_empty() { span class="muted" { "—" } } @else { (m.skills.join(", ")) } }
                            td { @if m.away_today { (ui::badge("away")) } @else if let Some(f) = m.away_from { "from " (ui::date(f)) } }
                            td { @if may_update || m.user_id == me { a href={ "/team/members/" (m.user_id) } { "Edit" } } }
                        }
                    }
                }
            }
        }
        div class="grid-2" {
            @if may_update {
                @match settings_error {
                    Some((s, e)) => (routing_card(viewer, s, Some(e))),
                    None => (routing_card(viewer, &figures.settings, None)),
                }
            }
            section class="card" aria-labelledby="figures-h" {
                h2 id="figures-h" { "How routing is doing" }
                @if figures.strategies.is_empty() {
                    p class="muted" { "No step has been routed yet. Current strategy: " (ui::label(&figures.settings.routing)) "." }
                } @else {
                    table class="data" {
                        thead { tr { th { "Strategy" } th class="num" { "Routed" } th class="num" { "Median time to assign" } th class="num" { "Reassigned" } } }
                        tbody {
                            @for f in &figures.strategies {
                                tr {
                                    td { (ui::label(&f.strategy)) }
                                    td class="num" { (f.routed) }
                                    td class="num" { @if let Some(s) = f.median_seconds_to_assign { (format!("{s:.1} s")) } @else { "—" } }
                                    td class="num" { (format!("{:.1}%", f.reassignment_rate)) }
                                }
                            }
                        }
                    }
                }
                p { "Utilisation spread across " (figures.members) " members: " strong { (format!("{:.1}", figures.utilisation_spread)) } " points (lower is more even)." }
            }
        }
        (reminders)
    })
}

/// `GET /team`.
pub async fn show(State(state): State<AppState>, viewer: Viewer) -> PageResult<Response> {
    let body = team_page(&state, &viewer, None).await?;
    Ok(layout::page(&viewer, Nav::Team, "Team workload", body).into_response())
}

#[derive(Debug, Deserialize)]
pub struct RoutingForm {
    routing: String,
    ab_routing: Option<String>,
    ab_percent: Option<String>,
    time_zone: Option<String>,
}

/// `POST /team/routing`.
pub async fn save_routing(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<RoutingForm>,
) -> PageResult<Response> {
    let body = RoutingSettingsBody {
        routing: f.routing.parse().map_err(PageError::BadForm)?,
        ab_routing: form::chosen(&f.ab_routing),
        ab_percent: form::text(&f.ab_percent)
            .map(|p| {
                p.parse::<u8>()
                    .map_err(|_| PageError::BadForm("the share is a whole percent, 0 to 100".into()))
            })
            .transpose()?
            .unwrap_or(0),
        time_zone: form::text(&f.time_zone),
    };
    match state.practice.save_workflow_settings(&viewer.caller, body.clone()).await {
        Ok(_) => Ok(see_other("/team")),
        Err(e) => {
            let e = fixable(e)?;
            let page = team_page(&state, &viewer, Some((&body, &e))).await?;
            Ok((e.status(), layout::page(&viewer, Nav::Team, "Team workload", page)).into_response())
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CapacityForm {
    weekly_hours: String,
    skills: Option<String>,
    away_from: Option<String>,
    away_until: Option<String>,
}

fn member_page(
    viewer: &Viewer,
    m: &MemberWorkload,
    f: &CapacityForm,
    error: Option<&api::ApiError>,
) -> Markup {
    let refusal = Refusal(error);
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    html! {
        (layout::head_row(&m.name, Some(html! { a href="/team" { "Team workload" } }), None))
        form class="card form" method="post" action={ "/team/members/" (m.user_id) } {
            (csrf(viewer))
            (refusal.alert())
            (form::input(refusal, "weekly_hours", "Weekly capacity (hours)", &f.weekly_hours, "text"))
            (form::input(refusal, "skills", "Skills (comma-separated, e.g. payroll, 1120)", &text(&f.skills), "text"))
            div class="grid-2" {
                (form::input(refusal, "away_from", "Away from", &text(&f.away_from), "date"))
                (form::input(refusal, "away_until", "Away until", &text(&f.away_until), "date"))
            }
            div { button class="btn primary" type="submit" { "Save" } " " a class="btn" href="/team" { "Cancel" } }
        }
    }
}

async fn member(state: &AppState, viewer: &Viewer, id: UserId) -> PageResult<MemberWorkload> {
    let team = state.practice.team_workload(&viewer.caller).await?;
    team.members
        .into_iter()
        .find(|m| m.user_id == id)
        .ok_or_else(|| PageError::Api(api::ApiError::from(practice::PracticeError::NotFound("member"))))
}

/// `GET /team/members/{id}`.
pub async fn edit(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<UserId>,
) -> PageResult<Response> {
    let m = member(&state, &viewer, id).await?;
    let f = CapacityForm {
        weekly_hours: m.weekly_hours.normalize().to_string(),
        skills: Some(m.skills.join(", ")),
        away_from: m.away_from.map(|d| d.to_string()),
        away_until: m.away_until.map(|d| d.to_string()),
    };
    Ok(layout::page(&viewer, Nav::Team, &m.name, member_page(&viewer, &m, &f, None)).into_response())
}

/// `POST /team/members/{id}`.
pub async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<UserId>,
    CsrfForm(f): CsrfForm<CapacityForm>,
) -> PageResult<Response> {
    let date = |v: &Option<String>, label: &str| {
        form::text(v)
            .map(|d| {
                d.parse::<NaiveDate>()
                    .map_err(|_| PageError::BadForm(format!("{label}: `{d}` is not a date")))
            })
            .transpose()
    };
    let req = CapacityRequest {
        weekly_hours: f
            .weekly_hours
            .trim()
            .parse()
            .map_err(|_| PageError::BadForm("weekly capacity is a number of hours".into()))?,
        skills: form::text(&f.skills)
            .map(|s| s.split(',').map(|t| t.trim().to_owned()).collect())
            .unwrap_or_default(),
        away_from: date(&f.away_from, "Away from")?,
        away_until: date(&f.away_until, "Away until")?,
    };
    match state.practice.save_member_capacity(&viewer.caller, id, req).await {
        Ok(_) => Ok(see_other("/team")),
        Err(e) => {
            let e = fixable(e)?;
            let m = member(&state, &viewer, id).await?;
            Ok((
                e.status(),
                layout::page(&viewer, Nav::Team, &m.name, member_page(&viewer, &m, &f, Some(&e))),
            )
                .into_response())
        }
    }
}
