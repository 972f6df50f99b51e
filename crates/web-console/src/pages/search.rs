//! The command palette's results: clients, documents and advisors matching what was typed.

use api_types::clients::ClientListParams;
use api_types::marketplace::AdvisorSearchParams;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use domain::Permission;
use maud::html;
use serde::Deserialize;
use store::documents::DocumentFilter;

use api::AppState;

use crate::error::PageResult;
use crate::session::Viewer;
use crate::ui::PageQuery;

const EACH: usize = 5;

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// `GET /search?q=` (an htmx fragment: list items).
pub async fn palette(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(q): PageQuery<SearchQuery>,
) -> PageResult<Response> {
    let Some(text) = q.q.map(|t| t.trim().to_owned()).filter(|t| t.len() >= 2) else {
        return Ok(html! { li class="muted small" { "Type two letters or more." } }.into_response());
    };
    let c = &viewer.caller;
    let clients = if c.has(Permission::ClientsRead) {
        let params = ClientListParams { q: Some(text.clone()), ..Default::default() };
        state.practice.list_clients(c, &params, EACH).await?.items
    } else {
        Vec::new()
    };
    let documents = if c.has(Permission::DocumentsRead) {
        let filter = DocumentFilter { q: Some(text.clone()), ..Default::default() };
        state.documents.list(c, &filter, None, EACH).await?.items
    } else {
        Vec::new()
    };
    let advisors = if c.role.is_staff() {
        let params = AdvisorSearchParams { q: Some(text.clone()), ..Default::default() };
        state.marketplace.search_advisors(&params, EACH).await?.items
    } else {
        Vec::new()
    };
    Ok(html! {
        @if clients.is_empty() && documents.is_empty() && advisors.is_empty() {
            li class="muted small" { "Nothing matches “" (text) "”." }
        }
        @for x in &clients { li role="option" { a href={ "/clients/" (x.id) } { (x.business_name) span class="muted small" { "Client" } } } }
        @for d in &documents { li role="option" { a href={ "/documents/" (d.id) "/download" } { (d.file_name) span class="muted small" { "Document" } } } }
        @for a in &advisors { li role="option" { a href={ "/marketplace/advisors/" (a.advisor_id) } { (a.display_name) span class="muted small" { "Advisor" } } } }
    }
    .into_response())
}
