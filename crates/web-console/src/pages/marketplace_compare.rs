//! Two to five advisors side by side (`compare_advisors`), chosen on the search or matches page.

use api_types::marketplace::{AdvisorDetail, CompareParams};
use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use api::AppState;

use crate::error::PageResult;
use crate::layout::{self, Nav};
use crate::session::Viewer;
use crate::ui;

/// The advisor ids of `?ids=a,b&ids=c` (the search page's checkboxes repeat the name; the
/// matches page sends one list).
fn ids(uri: &Uri) -> Vec<String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    pairs
        .into_iter()
        .filter(|(k, _)| k == "ids")
        .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_owned()).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect()
}

fn money(v: Option<rust_decimal::Decimal>) -> String {
    v.map_or_else(|| "–".to_owned(), |r| ui::money(r, "USD"))
}

type Row = (&'static str, fn(&AdvisorDetail) -> String);

const ROWS: &[Row] = &[
    ("Title", |a| a.title.clone()),
    ("Experience", |a| format!("{} years", a.years_experience)),
    ("Rating", |a| format!("★ {} ({} reviews)", a.rating, a.review_count)),
    ("Hourly rate", |a| money(a.hourly_rate)),
    ("Retainer", |a| format!("{} – {}", money(a.retainer_min), money(a.retainer_max))),
    ("Projects from", |a| money(a.project_rate_min)),
    ("Industries", |a| a.industries.join(", ").replace('_', " ")),
    ("Services", |a| a.services.join(", ").replace('_', " ")),
    ("Certifications", |a| a.certifications.join(", ")),
    ("Languages", |a| a.languages.join(", ")),
    ("Remote only", |a| if a.remote_only { "yes".into() } else { "no".into() }),
    ("Open client slots", |a| a.open_client_slots.to_string()),
];

fn table(advisors: &[AdvisorDetail]) -> Markup {
    html! {
        div class="card flush" {
            div class="table-wrap" tabindex="0" role="region" aria-label="Comparison (scrolls)" {
                table class="data" {
                    caption class="visually-hidden" { "Advisors compared" }
                    thead { tr {
                        th scope="col" { span class="visually-hidden" { "Attribute" } }
                        @for a in advisors { th scope="col" { a href={ "/marketplace/advisors/" (a.advisor_id) } { (a.display_name) } } }
                    } }
                    tbody {
                        @for (label, value) in ROWS {
                            tr { th scope="row" { (label) } @for a in advisors { td class="wrap" { (value(a)) } } }
                        }
                        tr { th scope="row" { "Available now" } @for a in advisors { td { @if a.available_now { (ui::badge("available")) } @else { span class="muted" { "not now" } } } } }
                    }
                }
            }
        }
    }
}

/// `GET /marketplace/compare?ids=…`.
pub async fn compare(State(state): State<AppState>, viewer: Viewer, uri: Uri) -> PageResult<Response> {
    let ids = ids(&uri);
    let crumbs = html! { a href="/marketplace" { "Marketplace" } };
    let body = if ids.len() < 2 {
        html! {
            (layout::head_row("Compare advisors", Some(crumbs), None))
            div class="card" { (ui::empty("Choose two to five advisors", "Tick “Compare” on advisors in the search, then compare them here.", Some(html! { a class="btn" href="/marketplace" { "Search advisors" } }))) }
        }
    } else {
        let advisors = state.marketplace.compare_advisors(&CompareParams { ids: ids.join(",") }).await?;
        html! {
            (layout::head_row("Compare advisors", Some(crumbs), None))
            (table(&advisors))
        }
    };
    Ok(layout::page(&viewer, Nav::Marketplace, "Compare advisors", body).into_response())
}
