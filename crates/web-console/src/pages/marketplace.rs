//! The marketplace: advisor search with facets and typo-tolerant text (ticking advisors to
//! compare), and an advisor's page. The firm's needs assessment, the advisor's own profile and the
//! verification queue are `marketplace_*` pages this one links to.

use api_types::marketplace::{AdvisorSearchParams, AdvisorSummary, Facets};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use domain::{AdvisorId, Permission};
use maud::{Markup, html};

use api::AppState;

use crate::error::PageResult;
use crate::layout::{self, Nav};
use crate::session::Viewer;
use crate::ui::{self, PageQuery};

const PAGE_SIZE: usize = 20;

fn rate(a: &AdvisorSummary) -> String {
    match a.hourly_rate {
        Some(r) => format!("{}/h", ui::money(r, "USD")),
        None => "rate on request".into(),
    }
}

/// A facet list: each value a link that filters by it, with its count.
fn facet(
    title: &str,
    param: &'static str,
    values: &[api_types::marketplace::FacetValue],
    q: &AdvisorSearchParams,
) -> Markup {
    let base = [("q", q.q.clone().unwrap_or_default())];
    html! {
        section {
            h3 { (title) }
            ul class="nav" {
                @for v in values.iter().take(8) {
                    li { a href=(ui::href("/marketplace", &[base[0].clone(), (param, v.value.clone())])) {
                        span { (v.value.replace('_', " ")) } span class="muted small" { (v.count) }
                    } }
                }
            }
        }
    }
}

fn facets(f: &Facets, q: &AdvisorSearchParams) -> Markup {
    html! {
        aside class="card" aria-label="Refine" {
            (facet("Industries", "industries", &f.industries, q))
            (facet("Services", "services", &f.services, q))
        }
    }
}

/// `GET /marketplace`.
pub async fn search(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(mut q): PageQuery<AdvisorSearchParams>,
) -> PageResult<Response> {
    q.facets = Some(true);
    let result = state.marketplace.search_advisors(&q, PAGE_SIZE).await?;
    let verifies = state.identity.platform_admin(&viewer.caller).await.is_ok();
    let actions = html! {
        @if viewer.caller.has(Permission::ClientsUpdate) { a class="btn primary" href="/marketplace/needs" { "Match a client's needs" } }
        a class="btn" href="/marketplace/profile" { "My advisor profile" }
        @if verifies { a class="btn" href="/marketplace/verification" { "Verification queue" } }
    };
    let body = html! {
        (layout::head_row("Find an advisor", None, Some(actions)))
        form class="filters" method="get" action="/marketplace" role="search"
            hx-get="/marketplace" hx-trigger="input changed delay:250ms from:find input[name=q]" hx-target="#advisors" hx-select="#advisors" hx-swap="outerHTML" hx-push-url="true" {
            label { "Search" input type="search" name="q" value=(q.q.as_deref().unwrap_or("")) placeholder="e.g. fractional CFO SaaS, forensic accountant" data-focus-key="/"; }
            @if let Some(i) = &q.industries { input type="hidden" name="industries" value=(i); }
            @if let Some(s) = &q.services { input type="hidden" name="services" value=(s); }
            label class="inline" { input type="checkbox" name="available_now" value="true" checked[q.available_now == Some(true)]; " Available now" }
            button class="btn" type="submit" { "Search" }
        }
        div id="advisors" class="grid-2" {
            form method="get" action="/marketplace/compare" aria-label="Advisors" {
                @if result.items.len() >= 2 {
                    div class="filters" { button class="btn" type="submit" { "Compare ticked advisors" } span class="muted small" { "tick two to five" } }
                }
                @if result.items.is_empty() {
                    div class="card" { (ui::empty("No advisors match", "Try other words or remove a filter.", Some(html! { a class="btn" href="/marketplace" { "Clear" } }))) }
                }
                @for a in &result.items {
                    article class="card" {
                        h2 { a href={ "/marketplace/advisors/" (a.advisor_id) } { (a.display_name) } }
                        p class="muted" { (a.title) " · " (a.years_experience) " years · ★ " (a.rating) " (" (a.review_count) ")" }
                        @if let Some(h) = &a.headline { p { (h) } }
                        p class="small" { (a.industries.join(", ")) }
                        p class="small" { (rate(a)) " " @if a.available_now { (ui::badge("available")) } }
                        label class="inline small" { input type="checkbox" name="ids" value=(a.advisor_id); " Compare" span class="visually-hidden" { " " (a.display_name) } }
                    }
                }
            }
            @if let Some(f) = &result.facets { (facets(f, &q)) }
        }
    };
    Ok(layout::page(&viewer, Nav::Marketplace, "Marketplace", body).into_response())
}

/// `GET /marketplace/advisors/{id}`.
pub async fn advisor(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<AdvisorId>,
) -> PageResult<Response> {
    let a = state.marketplace.advisor_detail(id).await?;
    let body = html! {
        (layout::head_row(&a.display_name, Some(html! { a href="/marketplace" { "Marketplace" } }), None))
        div class="grid-2" {
            section class="card" {
                p class="muted" { (a.title) }
                @if let Some(h) = &a.headline { p { strong { (h) } } }
                @if let Some(b) = &a.bio { p { (b) } }
                dl class="facts" {
                    dt { "Experience" } dd { (a.years_experience) " years" }
                    dt { "Certifications" } dd { (a.certifications.join(", ")) }
                    dt { "Industries" } dd { (a.industries.join(", ")) }
                    dt { "Services" } dd { (a.services.join(", ")) }
                    dt { "Languages" } dd { (a.languages.join(", ")) }
                    dt { "Hourly rate" } dd { @if let Some(r) = a.hourly_rate { (ui::money(r, "USD")) } @else { "on request" } }
                    dt { "Rating" } dd { "★ " (a.rating) " from " (a.review_count) " reviews" }
                    dt { "Open client slots" } dd { (a.open_client_slots) }
                }
            }
            section class="card" {
                h2 { "Reviews" }
                @if a.reviews.is_empty() { p class="muted" { "No reviews yet." } }
                @for r in &a.reviews {
                    article { p { "★ " (r.overall) " · " span class="muted small" { (ui::date(r.created_at.date_naive())) } } @if let Some(t) = &r.testimonial { p { (t) } } }
                }
            }
        }
    };
    Ok(layout::page(&viewer, Nav::Marketplace, &a.display_name, body).into_response())
}
