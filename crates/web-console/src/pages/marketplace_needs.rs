//! A firm looking for an advisor: the needs assessment, then its matches, best first, each with
//! its score's components and the reason for each (`marketplace::matching`).

use std::str::FromStr;

use api_types::clients::ClientListParams;
use api_types::marketplace::{CreateAssessmentRequest, MatchResponse};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::marketplace::{BudgetType, BusinessSize, EngagementLength, MatchStatus, ScoreComponent, Urgency};
use domain::{AssessmentId, MatchId};
use maud::{Markup, html};
use rust_decimal::Decimal;

use api::AppState;

use crate::error::{PageResult, fixable};
use crate::layout::{self, Nav, csrf};
use crate::session::{CsrfForm, NoFields, Viewer, see_other};
use crate::ui::{self, Fields};

/// Matches kept per assessment.
const MATCHES: usize = 5;
/// Clients offered in the form's list.
const CLIENTS: usize = 200;
/// Earlier assessments listed under the form.
const EARLIER: usize = 20;

fn crumbs() -> Markup {
    html! { a href="/marketplace" { "Marketplace" } }
}

fn select<T: Copy + PartialEq>(
    label: &str,
    name: &str,
    all: &[T],
    text: impl Fn(T) -> &'static str,
    chosen: Option<T>,
) -> Markup {
    html! {
        label { (label)
            select name=(name) required {
                @for v in all { option value=(text(*v)) selected[chosen == Some(*v)] { (text(*v).replace('_', " ")) } }
            }
        }
    }
}

async fn form_page(state: &AppState, viewer: &Viewer, f: &Fields, error: Option<&str>) -> PageResult<Markup> {
    let clients = state.practice.list_clients(&viewer.caller, &ClientListParams::default(), CLIENTS).await?;
    let vocab = marketplace::Marketplace::vocabulary();
    let chosen_client = f.one("client_id");
    let earlier = state.marketplace.list_assessments(&viewer.caller, None, EARLIER).await?;
    let client_name = |id| clients.items.iter().find(|c| c.id == id).map(|c| c.business_name.as_str());
    let body = html! {
        (layout::head_row("Find an advisor for a client", Some(crumbs()), None))
        @if let Some(e) = error { div class="alert error" role="alert" { (e) } }
        form class="card form wide" method="post" action="/marketplace/needs" {
            (csrf(viewer))
            p class="muted" { "Describe what the client needs; the best five listed advisors are matched, each with the reasons for its score." }
            label { "Client"
                select name="client_id" {
                    option value="" { "No particular client" }
                    @for c in &clients.items {
                        option value=(c.id) selected[chosen_client.as_deref() == Some(c.id.to_string().as_str())] { (c.business_name) }
                    }
                }
            }
            (select("Business size", "business_size", BusinessSize::ALL, BusinessSize::as_str, f.one("business_size").and_then(|v| v.parse().ok())))
            label { "Industry"
                select name="industry" {
                    option value="" { "Any" }
                    @for i in &vocab.industries { option value=(i) selected[f.one("industry").as_ref() == Some(i)] { (i.replace('_', " ")) } }
                }
            }
            (ui::checkboxes("Services needed", "services_needed", &vocab.services, &f.all("services_needed")))
            (select("Budget", "budget_type", BudgetType::ALL, BudgetType::as_str, f.one("budget_type").and_then(|v| v.parse().ok())))
            div class="filters" {
                label { "Budget from (USD)" input name="budget_min" inputmode="decimal" value=(f.one("budget_min").unwrap_or_default()); }
                label { "Budget up to (USD)" input name="budget_max" inputmode="decimal" value=(f.one("budget_max").unwrap_or_default()); }
            }
            (select("Urgency", "urgency", Urgency::ALL, Urgency::as_str, f.one("urgency").and_then(|v| v.parse().ok())))
            (select("Engagement", "engagement_length", EngagementLength::ALL, EngagementLength::as_str, f.one("engagement_length").and_then(|v| v.parse().ok())))
            (ui::checkboxes("Certifications required", "required_certifications", &vocab.certifications, &f.all("required_certifications")))
            label { "Years of experience, at least" input type="number" name="min_years_experience" min="0" value=(f.one("min_years_experience").unwrap_or_else(|| "0".into())); }
            label class="inline" { input type="checkbox" name="remote_ok" value="true" checked[f.0.is_empty() || f.checked("remote_ok")]; " Remote is fine" }
            div { button class="btn primary" type="submit" { "Find matches" } }
        }
        section class="card flush" aria-labelledby="earlier-h" {
            div class="table-foot" { h2 id="earlier-h" { "Earlier assessments" } }
            @if earlier.items.is_empty() {
                (ui::empty("No assessments yet", "Each assessment you make is kept here with its matches, to come back to.", None))
            } @else {
                table class="data" {
                    thead { tr { th scope="col" { "Made" } th scope="col" { "Client" } th scope="col" { "Services" } th scope="col" { "Budget" } th scope="col" { "Urgency" } th scope="col" { span class="visually-hidden" { "Matches" } } } }
                    tbody {
                        @for a in &earlier.items {
                            tr {
                                td { (ui::time(a.created_at)) }
                                td { @match a.client_id.and_then(client_name) { Some(n) => (n), None => span class="muted" { "—" } } }
                                td { (a.services_needed.join(", ").replace('_', " ")) }
                                td { (a.budget_type.replace('_', " ")) }
                                td { (a.urgency.replace('_', " ")) }
                                td class="row-actions" { a href={ "/marketplace/needs/" (a.id) } { "Matches →" } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(viewer, Nav::Marketplace, "Find an advisor for a client", body))
}

/// `GET /marketplace/needs`.
pub async fn new(State(state): State<AppState>, viewer: Viewer) -> PageResult<Response> {
    Ok(form_page(&state, &viewer, &Fields(Vec::new()), None).await?.into_response())
}

fn parsed<T: FromStr>(f: &Fields, name: &str, what: &str) -> Result<T, String> {
    f.one(name).and_then(|v| v.parse().ok()).ok_or_else(|| format!("choose {what} from the list"))
}

fn amount(f: &Fields, name: &str) -> Result<Option<Decimal>, String> {
    f.one(name)
        .map(|v| Decimal::from_str(&v).map_err(|_| format!("{} is not an amount", name.replace('_', " "))))
        .transpose()
}

fn request(f: &Fields) -> Result<CreateAssessmentRequest, String> {
    Ok(CreateAssessmentRequest {
        client_id: f
            .one("client_id")
            .map(|v| v.parse().map_err(|_| "choose a client from the list".to_owned()))
            .transpose()?,
        business_size: parsed(f, "business_size", "a business size")?,
        annual_revenue: None,
        industry: f.one("industry"),
        services_needed: f.all("services_needed"),
        budget_type: parsed(f, "budget_type", "a budget")?,
        budget_min: amount(f, "budget_min")?,
        budget_max: amount(f, "budget_max")?,
        urgency: parsed(f, "urgency", "an urgency")?,
        engagement_length: parsed(f, "engagement_length", "an engagement")?,
        required_certifications: f.all("required_certifications"),
        min_years_experience: f
            .one("min_years_experience")
            .map_or(Ok(0), |v| v.parse().map_err(|_| "years must be a whole number".to_owned()))?,
        languages: Vec::new(),
        remote_ok: f.checked("remote_ok"),
    })
}

/// `POST /marketplace/needs`: saves the assessment, matches it, and shows the matches.
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields(pairs);
    let req = match request(&f) {
        Ok(r) => r,
        Err(e) => {
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, form_page(&state, &viewer, &f, Some(&e)).await?)
                .into_response());
        }
    };
    match state.marketplace.create_assessment(&viewer.caller, req).await {
        Ok(a) => {
            state.marketplace.request_matches(&viewer.caller, a.id, MATCHES).await?;
            Ok(see_other(&format!("/marketplace/needs/{}", a.id)))
        }
        Err(e) => {
            let e = fixable(e)?;
            Ok((e.status(), form_page(&state, &viewer, &f, Some(e.detail())).await?).into_response())
        }
    }
}

/// A component's points as a bar out of its maximum.
fn meter(c: &ScoreComponent) -> Markup {
    let share = if c.max > 0.0 { (c.points / c.max).clamp(0.0, 1.0) } else { 0.0 };
    html! {
        svg viewBox="0 0 100 8" width="100" height="8" aria-hidden="true" {
            rect class="track" x="0" y="0" width="100" height="8" rx="2" {}
            rect class="bar" x="0" y="0" width=(format!("{:.1}", share * 100.0)) height="8" rx="2" {}
        }
    }
}

fn match_card(viewer: &Viewer, m: &MatchResponse) -> Markup {
    let name = m.advisor.as_ref().map_or("An advisor no longer listed", |a| a.display_name.as_str());
    html! {
        article class="card" aria-labelledby={ "m-" (m.id) } {
            div class="page-head" {
                h2 id={ "m-" (m.id) } {
                    "#" (m.rank) " · "
                    @if m.advisor.is_some() { a href={ "/marketplace/advisors/" (m.advisor_id) } { (name) } } @else { (name) }
                }
                span class="badge info" { (m.score.round_dp(1)) " / 100" }
                (ui::badge(&ui::label(&m.status)))
                @if matches!(m.status, MatchStatus::Suggested | MatchStatus::Viewed) {
                    form class="actions" method="post" action={ "/marketplace/matches/" (m.id) "/contact" } {
                        (csrf(viewer))
                        button class="btn" type="submit" aria-label={ "Contact " (name) } { "Contact" }
                    }
                }
            }
            @if let Some(a) = &m.advisor { p class="muted" { (a.title) " · " (a.years_experience) " years · ★ " (a.rating) } }
            div role="list" aria-label={ "Why " (name) " scored " (m.score.round_dp(1)) } {
                @for c in &m.breakdown {
                    div class="score-row" role="listitem" {
                        span { (c.component.replace('_', " ")) }
                        (meter(c))
                        // A component without a maximum adjusts the total (the budget fit) rather than adding to it.
                        span class="num" { (format!("{:.1}", c.points)) @if c.max > 0.0 { " / " (format!("{:.0}", c.max)) } }
                        span class="muted" { (c.reason) }
                    }
                }
            }
        }
    }
}

/// `GET /marketplace/needs/{id}`: the matches of an assessment.
pub async fn matches(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<AssessmentId>,
) -> PageResult<Response> {
    let matches = state.marketplace.assessment_matches(&viewer.caller, id).await?;
    let ids: Vec<String> =
        matches.iter().filter(|m| m.advisor.is_some()).map(|m| m.advisor_id.to_string()).take(5).collect();
    let actions = html! {
        @if ids.len() >= 2 { a class="btn" href=(ui::href("/marketplace/compare", &[("ids", ids.join(","))])) { "Compare these advisors" } }
        form method="post" action={ "/marketplace/needs/" (id) "/matches" } {
            (csrf(&viewer))
            button class="btn" type="submit" { "Match again" }
        }
    };
    let body = html! {
        (layout::head_row("Matches", Some(crumbs()), Some(actions)))
        @if matches.is_empty() {
            div class="card" { (ui::empty("No advisor fits these needs yet", "No listed advisor passed the hard filters (certifications, experience, availability). Match again later, or describe the needs more broadly.", Some(html! { a class="btn" href="/marketplace/needs" { "New assessment" } }))) }
        }
        @for m in &matches { (match_card(&viewer, m)) }
    };
    Ok(layout::page(&viewer, Nav::Marketplace, "Matches", body).into_response())
}

/// `POST /marketplace/needs/{id}/matches`: matches the assessment again.
pub async fn rematch(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<AssessmentId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    state.marketplace.request_matches(&viewer.caller, id, MATCHES).await?;
    Ok(see_other(&format!("/marketplace/needs/{id}")))
}

/// `POST /marketplace/matches/{id}/contact`: the firm contacts a matched advisor.
pub async fn contact(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<MatchId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    let m = state.marketplace.move_match(&viewer.caller, id, MatchStatus::Contacted).await?;
    Ok(see_other(&format!("/marketplace/needs/{}", m.assessment_id)))
}
