//! The firm's dashboard: my open work, receivables by age, documents waiting for review, and
//! unread notifications. A portal user is taken to their own client's page instead.

use api_types::engagements::EngagementListParams;
use api_types::invoices::AgingParams;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use domain::{DocType, Permission};
use maud::{Markup, html};

use api::AppState;

use crate::error::PageResult;
use crate::layout::{self, Nav};
use crate::session::{Viewer, see_other};
use crate::ui;

/// Rows each panel shows.
const PANEL_ROWS: usize = 8;

pub async fn show(State(state): State<AppState>, viewer: Viewer) -> PageResult<Response> {
    let caller = &viewer.caller;
    if !caller.role.is_staff() {
        return Ok(match caller.portal.first() {
            Some(grant) => see_other(&format!("/clients/{}", grant.client_id)),
            None => layout::page(
                &viewer,
                Nav::Dashboard,
                "Welcome",
                ui::empty(
                    "Nothing shared with you yet",
                    "Your firm has not given you access to a client account. Ask your accountant to grant it.",
                    None,
                ),
            )
            .into_response(),
        });
    }
    let my_work = if caller.has(Permission::EngagementsRead) {
        let q = EngagementListParams { assigned_to: Some("me".into()), ..Default::default() };
        Some(state.practice.list_engagements(caller, None, &q, PANEL_ROWS).await?)
    } else {
        None
    };
    let aging = if caller.has(Permission::BillingRead) {
        Some(state.practice.aging(caller, &AgingParams::default()).await?)
    } else {
        None
    };
    let review = if caller.has(Permission::DocumentsRead) {
        Some(state.documents.review_queue(caller, &Default::default(), None, PANEL_ROWS).await?)
    } else {
        None
    };
    let notifications = state.practice.list_notifications(caller, true, None, PANEL_ROWS).await?;
    let books = if caller.has(Permission::FinancialRead) {
        Some(state.quickbooks.overview(caller).await?)
    } else {
        None
    };

    let body = html! {
        (layout::head_row("Dashboard", None, None))
        div class="grid" {
            @if let Some(w) = &my_work {
                (stat("My open engagements", &count(w.items.len(), w.next_cursor.is_some()), "/clients"))
            }
            @if let Some(r) = &review {
                (stat("Documents to review", &count(r.items.len(), r.next_cursor.is_some()), "/review"))
            }
            @if let Some(a) = &aging {
                (stat("Receivables open", &ui::money(a.total_open, "USD"), "#aging"))
                (stat("Open invoices", &a.open_invoices.to_string(), "#aging"))
            }
            (stat("Unread notifications", &count(notifications.items.len(), notifications.next_cursor.is_some()), "#notifications"))
        }
        div class="grid-2" {
            @if let Some(w) = &my_work {
                section class="card flush" aria-labelledby="work-h" {
                    div class="table-foot" { h2 id="work-h" { "My open work" } }
                    @if w.items.is_empty() {
                        (ui::empty("No open engagements", "Engagements assigned to you appear here, soonest due first.", None))
                    } @else {
                        table class="data" {
                            thead { tr { th scope="col" { "Engagement" } th scope="col" { "Status" } th scope="col" { "Due" } } }
                            tbody {
                                @for e in &w.items {
                                    tr {
                                        td { a href={ "/clients/" (e.client_id) "?tab=engagements" } { (e.name) } }
                                        td { (ui::badge(&ui::label(&e.status))) }
                                        td { @if let Some(d) = e.due_date { (ui::date(d)) } @else { span class="muted" { "—" } } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(a) = &aging {
                section class="card" id="aging" aria-labelledby="aging-h" {
                    h2 id="aging-h" { "Receivables by age" }
                    p class="muted small" { "As of " (ui::date(a.as_of)) ", " (a.open_invoices) " open invoices" }
                    (ui::aging_bars([a.current, a.days_1_30, a.days_31_60, a.days_61_90, a.days_over_90], "USD"))
                }
            }
            @if let Some(r) = &review {
                section class="card flush" aria-labelledby="review-h" {
                    div class="table-foot" { h2 id="review-h" { "Waiting for review" } a class="btn" href="/review" { "Open the queue" } }
                    @if r.items.is_empty() {
                        (ui::empty("The review queue is empty", "Documents the pipeline is unsure of wait here for a person.", None))
                    } @else {
                        table class="data" {
                            thead { tr { th scope="col" { "Document" } th scope="col" { "Type" } th scope="col" { "Uploaded" } } }
                            tbody {
                                @for d in &r.items {
                                    tr {
                                        td { a href={ "/review/" (d.id) } { (d.file_name) } }
                                        td { (d.doc_type.map_or("—", DocType::as_str)) }
                                        td { (ui::time(d.created_at)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(books) = &books {
                section class="card flush" aria-labelledby="qbo-h" {
                    div class="table-foot" { h2 id="qbo-h" { "QuickBooks" } a class="btn" href="/quickbooks" { "All connections" } }
                    @if books.is_empty() {
                        (ui::empty("No company connected", "Connect a client's QuickBooks Online company from its QuickBooks tab; its books then sync here.", None))
                    } @else {
                        table class="data" {
                            thead { tr { th scope="col" { "Client" } th scope="col" { "Connection" } th scope="col" { "Last sync" } } }
                            tbody {
                                @for b in books.iter().take(PANEL_ROWS) {
                                    tr {
                                        td { a href={ "/clients/" (b.client_id) "?tab=quickbooks" } { (b.client_name) } }
                                        td { (ui::badge(&ui::label(&b.status))) }
                                        td {
                                            @if let Some(t) = b.last_synced_at { (ui::time(t)) } @else { span class="muted" { "not yet" } }
                                            @if let Some(st) = b.last_run_status { " " (ui::badge(&ui::label(&st))) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section class="card" id="notifications" aria-labelledby="notes-h" {
                h2 id="notes-h" { "Notifications" }
                @if notifications.items.is_empty() {
                    p class="muted" { "You are all caught up." }
                } @else {
                    ul {
                        @for n in &notifications.items {
                            li { strong { (n.title) } " " span class="muted small" { (ui::time(n.created_at)) } }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&viewer, Nav::Dashboard, "Dashboard", body).into_response())
}

fn count(n: usize, more: bool) -> String {
    if more { format!("{n}+") } else { n.to_string() }
}

fn stat(label: &str, value: &str, href: &str) -> Markup {
    html! {
        a class="card stat" href=(href) {
            span class="value" { (value) }
            span class="label" { (label) }
        }
    }
}
