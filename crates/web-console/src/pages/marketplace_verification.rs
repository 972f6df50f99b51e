//! The verification queue (platform administrators): profiles submitted for listing, each
//! approved or rejected with a reason (`review_queue`, `decide_profile`).

use api_types::marketplace::ProfileResponse;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use domain::AdvisorId;
use domain::marketplace::ProfileAction;
use maud::{Markup, html};
use serde::Deserialize;

use api::AppState;

use crate::error::{PageError, PageResult};
use crate::layout::{self, Nav, csrf};
use crate::session::{CsrfForm, Viewer, see_other};
use crate::ui;

const TITLE: &str = "Advisor verification";

fn card(viewer: &Viewer, p: &ProfileResponse) -> Markup {
    html! {
        article class="card stack" aria-labelledby={ "p-" (p.id) } {
            div class="page-head" {
                h2 id={ "p-" (p.id) } { (p.display_name) }
                (ui::badge(&ui::label(&p.status)))
                span class="muted small" { "submitted " (ui::time(p.updated_at)) }
            }
            p class="muted" { (p.title) " · " (p.years_experience) " years" }
            @if let Some(h) = &p.headline { p { strong { (h) } } }
            @if let Some(b) = &p.bio { p { (b) } }
            dl class="facts" {
                dt { "Certifications" } dd { @if p.certifications.is_empty() { span class="muted" { "none listed" } } @else { (p.certifications.join(", ")) } }
                dt { "Industries" } dd { (p.industries.join(", ").replace('_', " ")) }
                dt { "Services" } dd { (p.services.join(", ").replace('_', " ")) }
                dt { "Hourly rate" } dd { (p.hourly_rate.map_or_else(|| "–".to_owned(), |r| ui::money(r, "USD"))) }
            }
            div class="filters" {
                form method="post" action={ "/marketplace/verification/" (p.id) "/approve" } {
                    (csrf(viewer))
                    button class="btn primary" type="submit" aria-label={ "Approve " (p.display_name) } { "Approve" }
                }
                form class="filters" method="post" action={ "/marketplace/verification/" (p.id) "/reject" } {
                    (csrf(viewer))
                    label { "Reason (shown to the advisor)" input name="reason" required; }
                    button class="btn" type="submit" aria-label={ "Reject " (p.display_name) } { "Reject" }
                }
            }
        }
    }
}

/// `GET /marketplace/verification`.
pub async fn queue(State(state): State<AppState>, viewer: Viewer) -> PageResult<Response> {
    let admin = state.identity.platform_admin(&viewer.caller).await?;
    let profiles = state.marketplace.review_queue(&admin).await?;
    let body = html! {
        (layout::head_row(TITLE, Some(html! { a href="/marketplace" { "Marketplace" } }), None))
        @if profiles.is_empty() {
            div class="card" { (ui::empty("Nothing to verify", "Profiles advisors submit for listing wait here.", None)) }
        }
        @for p in &profiles { (card(&viewer, p)) }
    };
    Ok(layout::page(&viewer, Nav::Marketplace, TITLE, body).into_response())
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    reason: Option<String>,
}

/// `POST /marketplace/verification/{id}/{approve|reject}`.
pub async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, decision)): Path<(AdvisorId, String)>,
    CsrfForm(f): CsrfForm<DecisionForm>,
) -> PageResult<Response> {
    let action = match decision.as_str() {
        "approve" => ProfileAction::Approve,
        "reject" => ProfileAction::Reject,
        _ => return Err(PageError::not_found("decision")),
    };
    let admin = state.identity.platform_admin(&viewer.caller).await?;
    let reason = f.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    state.marketplace.decide_profile(&admin, id, action, reason).await?;
    Ok(see_other("/marketplace/verification"))
}
