//! An advisor's own marketplace profile: create or edit it, submit it for verification, and say
//! whether they take new clients (`my_profile`, `create_profile`, `update_profile`,
//! `submit_profile`, `set_availability`).

use std::str::FromStr;

use api_types::marketplace::{AvailabilityRequest, ProfileRequest, ProfileResponse};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::marketplace::ProfileStatus;
use maud::{Markup, html};
use rust_decimal::Decimal;

use api::{ApiError, AppState};

use crate::error::{PageResult, fixable};
use crate::layout::{self, Nav, csrf};
use crate::session::{CsrfForm, NoFields, Viewer, see_other};
use crate::ui::{self, Fields};

const TITLE: &str = "My advisor profile";

fn text(label: &str, name: &str, value: Option<String>, required: bool) -> Markup {
    html! { label { (label) input name=(name) value=(value.unwrap_or_default()) required[required]; } }
}

fn amount(label: &str, name: &str, value: Option<Decimal>) -> Markup {
    html! { label { (label) input name=(name) inputmode="decimal" value=(value.map(|v| v.to_string()).unwrap_or_default()); } }
}

fn edit_form(viewer: &Viewer, p: Option<&ProfileResponse>) -> Markup {
    let vocab = marketplace::Marketplace::vocabulary();
    let list = |f: fn(&ProfileResponse) -> &Vec<String>| p.map(f).cloned().unwrap_or_default();
    html! {
        form class="card form wide" method="post" action="/marketplace/profile" aria-labelledby="edit-h" {
            h2 id="edit-h" { @if p.is_some() { "Edit the profile" } @else { "Create your profile" } }
            (csrf(viewer))
            (text("Display name", "display_name", p.map(|p| p.display_name.clone()), true))
            (text("Title", "title", p.map(|p| p.title.clone()), true))
            (text("Headline", "headline", p.and_then(|p| p.headline.clone()), false))
            label { "About you" textarea name="bio" rows="4" { (p.and_then(|p| p.bio.clone()).unwrap_or_default()) } }
            label { "Years of experience" input type="number" name="years_experience" min="0" required value=(p.map_or(0, |p| p.years_experience)); }
            (ui::checkboxes("Industries", "industries", &vocab.industries, &list(|p| &p.industries)))
            (ui::checkboxes("Services", "services", &vocab.services, &list(|p| &p.services)))
            (ui::checkboxes("Certifications", "certifications", &vocab.certifications, &list(|p| &p.certifications)))
            (ui::checkboxes("Client sizes", "business_sizes", &vocab.business_sizes, &list(|p| &p.business_sizes)))
            (ui::checkboxes("Pricing", "pricing_models", &vocab.pricing_models, &list(|p| &p.pricing_models)))
            (text("Languages (ISO codes, comma-separated)", "languages", Some(p.map_or_else(|| "en".to_owned(), |p| p.languages.join(", "))), false))
            (text("Time zone", "timezone", p.and_then(|p| p.timezone.clone()), false))
            label class="inline" { input type="checkbox" name="remote_only" value="true" checked[p.is_some_and(|p| p.remote_only)]; " Remote only" }
            div class="filters" {
                (amount("Hourly rate (USD)", "hourly_rate", p.and_then(|p| p.hourly_rate)))
                (amount("Retainer from", "retainer_min", p.and_then(|p| p.retainer_min)))
                (amount("Retainer up to", "retainer_max", p.and_then(|p| p.retainer_max)))
                (amount("Projects from", "project_rate_min", p.and_then(|p| p.project_rate_min)))
            }
            label { "Most clients at once" input type="number" name="max_clients" min="1" value=(p.map_or(10, |p| p.max_clients)); }
            div { button class="btn primary" type="submit" { "Save the profile" } }
        }
    }
}

fn status_card(viewer: &Viewer, p: &ProfileResponse) -> Markup {
    let can_submit = matches!(p.status, ProfileStatus::Pending | ProfileStatus::Rejected);
    html! {
        section class="card stack" aria-labelledby="status-h" {
            h2 id="status-h" { "Listing" }
            dl class="facts" {
                dt { "Status" } dd { (ui::badge(&ui::label(&p.status))) }
                @if let Some(r) = &p.status_reason { dt { "Why" } dd { (r) } }
                @if let Some(t) = p.verified_at { dt { "Verified" } dd { (ui::time(t)) } }
                dt { "Clients" } dd { (p.current_clients) " of " (p.max_clients) }
            }
            @if can_submit {
                form method="post" action="/marketplace/profile/submit" {
                    (csrf(viewer))
                    p class="muted small" { "Platform administrators check a profile before it is listed." }
                    button class="btn primary" type="submit" { "Submit for verification" }
                }
            }
            form class="form" method="post" action="/marketplace/profile/availability" aria-labelledby="avail-h" {
                h3 id="avail-h" { "Availability" }
                (csrf(viewer))
                label class="inline" { input type="checkbox" name="is_available" value="true" checked[p.is_available]; " Taking new clients" }
                label { "Clients now" input type="number" name="current_clients" min="0" value=(p.current_clients); }
                div { button class="btn" type="submit" { "Save availability" } }
            }
        }
    }
}

async fn page(state: &AppState, viewer: &Viewer, error: Option<&str>) -> PageResult<Markup> {
    let profile = match state.marketplace.my_profile(&viewer.caller).await {
        Ok(p) => Some(p),
        Err(marketplace::MarketplaceError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let body = html! {
        (layout::head_row(TITLE, Some(html! { a href="/marketplace" { "Marketplace" } }), None))
        @if let Some(e) = error { div class="alert error" role="alert" { (e) } }
        @match &profile {
            Some(p) => div class="grid-2" { (edit_form(viewer, Some(p))) div { (status_card(viewer, p)) } },
            None => {
                div class="alert info" role="status" { "You have no advisor profile yet. Create one; it is listed once a platform administrator verifies it." }
                (edit_form(viewer, None))
            }
        }
    };
    Ok(layout::page(viewer, Nav::Marketplace, TITLE, body))
}

/// `GET /marketplace/profile`.
pub async fn show(State(state): State<AppState>, viewer: Viewer) -> PageResult<Response> {
    Ok(page(&state, &viewer, None).await?.into_response())
}

fn decimal(f: &Fields, name: &str) -> Result<Option<Decimal>, String> {
    f.one(name)
        .map(|v| Decimal::from_str(&v).map_err(|_| format!("{} is not an amount", name.replace('_', " "))))
        .transpose()
}

fn number(f: &Fields, name: &str) -> Result<Option<i32>, String> {
    f.one(name)
        .map(|v| v.parse().map_err(|_| format!("{} must be a whole number", name.replace('_', " "))))
        .transpose()
}

fn request(f: &Fields) -> Result<ProfileRequest, String> {
    Ok(ProfileRequest {
        display_name: f.one("display_name"),
        title: f.one("title"),
        headline: Some(f.one("headline")),
        bio: Some(f.one("bio")),
        years_experience: number(f, "years_experience")?,
        certifications: Some(f.all("certifications")),
        industries: Some(f.all("industries")),
        services: Some(f.all("services")),
        business_sizes: Some(f.all("business_sizes")),
        languages: Some(f.list("languages")),
        timezone: Some(f.one("timezone")),
        remote_only: Some(f.checked("remote_only")),
        hourly_rate: Some(decimal(f, "hourly_rate")?),
        retainer_min: Some(decimal(f, "retainer_min")?),
        retainer_max: Some(decimal(f, "retainer_max")?),
        project_rate_min: Some(decimal(f, "project_rate_min")?),
        pricing_models: Some(f.all("pricing_models")),
        max_clients: number(f, "max_clients")?,
    })
}

/// A refusal the person can fix is shown above the form; anything else is the error page.
async fn or_form(state: &AppState, viewer: &Viewer, e: ApiError) -> PageResult<Response> {
    let e = fixable(e)?;
    Ok((e.status(), page(state, viewer, Some(e.detail())).await?).into_response())
}

/// `POST /marketplace/profile`: creates the profile, or saves the changes to it.
pub async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let req = match request(&Fields(pairs)) {
        Ok(r) => r,
        Err(e) => {
            return Ok(
                (StatusCode::UNPROCESSABLE_ENTITY, page(&state, &viewer, Some(&e)).await?).into_response()
            );
        }
    };
    let saved = match state.marketplace.my_profile(&viewer.caller).await {
        Ok(_) => state.marketplace.update_profile(&viewer.caller, req).await,
        Err(marketplace::MarketplaceError::NotFound(_)) => {
            state.marketplace.create_profile(&viewer.caller, req).await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(see_other("/marketplace/profile")),
        Err(e) => or_form(&state, &viewer, e.into()).await,
    }
}

/// `POST /marketplace/profile/submit`.
pub async fn submit(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    match state.marketplace.submit_profile(&viewer.caller).await {
        Ok(_) => Ok(see_other("/marketplace/profile")),
        Err(e) => or_form(&state, &viewer, e.into()).await,
    }
}

/// `POST /marketplace/profile/availability`.
pub async fn availability(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let f = Fields(pairs);
    let current_clients = match number(&f, "current_clients") {
        Ok(n) => n,
        Err(e) => {
            return Ok(
                (StatusCode::UNPROCESSABLE_ENTITY, page(&state, &viewer, Some(&e)).await?).into_response()
            );
        }
    };
    let req = AvailabilityRequest { is_available: Some(f.checked("is_available")), current_clients };
    match state.marketplace.set_availability(&viewer.caller, req).await {
        Ok(_) => Ok(see_other("/marketplace/profile")),
        Err(e) => or_form(&state, &viewer, e.into()).await,
    }
}
