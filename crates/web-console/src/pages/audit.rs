//! The audit log: every change, newest first, filtered by action, entity or day; and verifying the
//! hash chain on demand.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, TimeZone, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use store::audit::{AuditFilter, ChainReport};

use api::AppState;

use crate::error::PageResult;
use crate::layout::{self, Nav, csrf};
use crate::session::{CsrfForm, NoFields, Viewer};
use crate::ui::{self, PageQuery};

const PAGE_SIZE: usize = 50;

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    entity_type: Option<String>,
    entity_id: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    cursor: Option<String>,
}

fn day_start(d: NaiveDate) -> chrono::DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    q: &AuditQuery,
    report: Option<&ChainReport>,
) -> PageResult<Markup> {
    let filter = AuditFilter {
        action: q.action.clone(),
        entity_type: q.entity_type.clone(),
        entity_id: q.entity_id.clone(),
        from: q.from.map(day_start),
        to: q.to.and_then(|d| d.succ_opt()).map(day_start),
        ..Default::default()
    };
    let page = state.identity.audit_log(&viewer.caller, &filter, q.cursor.as_deref(), PAGE_SIZE).await?;
    let params = vec![
        ("action", q.action.clone().unwrap_or_default()),
        ("entity_type", q.entity_type.clone().unwrap_or_default()),
        ("entity_id", q.entity_id.clone().unwrap_or_default()),
        ("from", q.from.map(|d| d.to_string()).unwrap_or_default()),
        ("to", q.to.map(|d| d.to_string()).unwrap_or_default()),
        ("cursor", q.cursor.clone().unwrap_or_default()),
    ];
    let body = html! {
        (layout::head_row("Audit log", None, Some(html! {
            form method="post" action="/audit/verify" {
                (csrf(viewer))
                button class="btn" type="submit" { "Verify the chain" }
            }
        })))
        @if let Some(r) = report {
            @if r.breaks.is_empty() {
                div class="alert ok" role="status" id="chain-report" { "The chain is intact: all " (r.entries) " entries hash as recorded." }
            } @else {
                div class="alert error" role="alert" id="chain-report" {
                    strong { "The chain is broken in " (r.breaks.len()) " place(s)." }
                    ul { @for b in &r.breaks { li { "Lane " (b.lane) ", entry " (b.seq) ": " (b.reason) } } }
                }
            }
        }
        form class="filters" method="get" action="/audit" {
            label { "Action" input name="action" value=(q.action.as_deref().unwrap_or("")) placeholder="client.update"; }
            label { "Entity type" input name="entity_type" value=(q.entity_type.as_deref().unwrap_or("")) placeholder="client"; }
            label { "Entity id" input name="entity_id" value=(q.entity_id.as_deref().unwrap_or("")); }
            label { "From" input type="date" name="from" value=(q.from.map(|d| d.to_string()).unwrap_or_default()); }
            label { "To" input type="date" name="to" value=(q.to.map(|d| d.to_string()).unwrap_or_default()); }
            button class="btn" type="submit" { "Filter" }
        }
        div class="card flush" {
            @if page.items.is_empty() {
                (ui::empty("No entries", "Nothing was recorded under these filters.", None))
            } @else {
                div class="table-wrap" tabindex="0" role="region" aria-label="Table (scrolls)" {
                    table class="data" {
                        thead { tr { th scope="col" class="num" { "#" } th scope="col" { "When" } th scope="col" { "Action" } th scope="col" { "Entity" } th scope="col" { "By" } th scope="col" { "From" } } }
                        tbody {
                            @for e in &page.items {
                                tr {
                                    td class="num" title={ "Chain lane " (e.lane) ", entry " (e.seq) } {
                                        @if e.lane > 0 { span class="muted" { (e.lane) "·" } } (e.seq)
                                    }
                                    td { (ui::time(e.occurred_at)) }
                                    td { code { (e.action) } }
                                    td { (e.entity_type) " " span class="muted small" { (e.entity_id.as_deref().unwrap_or("")) } }
                                    td { (e.actor_kind) " " span class="muted small" { (e.actor_id.map(|a| a.to_string()).unwrap_or_default()) } }
                                    td class="small muted" { (e.ip.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
                (ui::pager("/audit", &params, page.next_cursor.as_deref(), page.items.len()))
            }
        }
    };
    Ok(layout::page(viewer, Nav::Audit, "Audit log", body))
}

/// `GET /audit`.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(q): PageQuery<AuditQuery>,
) -> PageResult<Response> {
    Ok(render(&state, &viewer, &q, None).await?.into_response())
}

/// `POST /audit/verify`: re-hashes the chain and shows the result above the log.
pub async fn verify(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    let report = state.identity.verify_audit_chain(&viewer.caller).await?;
    Ok(render(&state, &viewer, &AuditQuery::default(), Some(&report)).await?.into_response())
}
