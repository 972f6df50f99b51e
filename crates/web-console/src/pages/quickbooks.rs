//! QuickBooks Online: the firm's connections, and a client's QuickBooks tab — connect (the OAuth
//! round trip through Intuit's consent and back here), sync now, the sync-run history with its
//! progress (refreshing itself while a run is unfinished) and API calls, the summary read from the
//! mirror, disconnect. Every action is a `qbo_sync::Integration` use case, as in the JSON API.
//!
//! Connecting leaves this site: the form posts here, and the answer sends the browser on to the
//! authorization URL — by `HX-Redirect` (htmx navigates; a plain redirect after a form post would
//! break the CSP's `form-action 'self'`), or, without JavaScript, by a link on the answer's page.
//! Intuit returns to the API's callback, which sends the browser to [`AFTER_CONNECT_PATH`] when the
//! deployment's `after_connect_url` names it, and from there to the client's tab.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{ClientId, ConnectionStatus, Permission, SyncMode};
use maud::{Markup, html};
use qbo_sync::connections::Connection;
use qbo_sync::history::SyncRun;
use qbo_sync::summary::Summary;
use serde::Deserialize;

use api::AppState;

use crate::error::PageResult;
use crate::form;
use crate::layout::{self, Nav, csrf};
use crate::session::{CsrfForm, NoFields, Viewer, see_other};
use crate::ui::{self, PageQuery};

/// Where the API's OAuth callback sends the browser back to the console (`after_connect_url`).
pub const AFTER_CONNECT_PATH: &str = "/quickbooks/connected";

/// Sync runs the tab shows.
const RUNS_SHOWN: usize = 20;

fn tab_url(client: impl std::fmt::Display) -> String {
    format!("/clients/{client}?tab=quickbooks")
}

/// `GET /quickbooks`: each client with a live connection, its company and its last sync.
pub async fn list(State(state): State<AppState>, viewer: Viewer) -> PageResult<Response> {
    let connections = state.quickbooks.overview(&viewer.caller).await?;
    let body = html! {
        (layout::head_row("QuickBooks", None, None))
        @if state.quickbooks.service().is_none() {
            p class="alert info" { "QuickBooks is not configured on this deployment: connections made earlier and their mirrored books stay readable, but nothing connects or syncs." }
        }
        div class="card flush" {
            @if connections.is_empty() {
                (ui::empty("No QuickBooks connections", "Connect a client's QuickBooks company from the QuickBooks tab of the client's page; its books are mirrored here and kept in sync.", Some(html! { a class="btn" href="/clients" { "Go to clients" } })))
            } @else {
                div class="table-wrap" tabindex="0" role="region" aria-label="QuickBooks connections (scrolls)" {
                    table class="data" {
                        thead { tr {
                            th scope="col" { "Client" } th scope="col" { "Company" } th scope="col" { "Connection" }
                            th scope="col" { "Last synced" } th scope="col" { "Last run" }
                        } }
                        tbody {
                            @for c in &connections {
                                tr {
                                    td { a href=(tab_url(c.client_id)) { (c.client_name) } }
                                    td { (c.company_name.as_deref().unwrap_or("—")) " " span class="muted small" { "realm " (c.realm_id) } }
                                    td { (ui::badge(&ui::label(&c.status))) }
                                    td { @if let Some(t) = c.last_synced_at { (ui::time(t)) } @else { span class="muted" { "never" } } }
                                    td {
                                        @if let (Some(status), Some(mode)) = (c.last_run_status, c.last_run_mode) {
                                            (ui::badge(&ui::label(&status))) " " span class="muted small" { (mode) @if let Some(t) = c.last_run_at { ", " (ui::time(t)) } }
                                        } @else { span class="muted" { "—" } }
                                    }
                                }
                            }
                        }
                    }
                }
                div class="table-foot" { span { (connections.len()) " connected" } }
            }
        }
    };
    Ok(layout::page(&viewer, Nav::QuickBooks, "QuickBooks", body).into_response())
}

/// The client page's QuickBooks tab. While a run is queued or running, the tab reloads its own
/// content every second (htmx), so the progress, the counts and the summary follow the sync.
pub async fn tab(state: &AppState, viewer: &Viewer, client: ClientId) -> PageResult<Markup> {
    let caller = &viewer.caller;
    let Some(connection) = state.quickbooks.connection(caller, client).await? else {
        return Ok(not_connected(state, viewer, client));
    };
    let runs = state.quickbooks.sync_runs(caller, client, None, RUNS_SHOWN).await?.items;
    let summary = state.quickbooks.summary(caller, client, None, None).await?;
    let live = runs.iter().any(|r| !r.status.is_finished());
    Ok(html! {
        div id="qbo-live" class="stack" hx-get=[live.then(|| tab_url(client))] hx-trigger=[live.then_some("every 1s")] hx-select="#qbo-live" hx-swap="outerHTML" {
            div class="grid-2" {
                (connection_card(viewer, client, &connection))
                (summary_card(&summary))
            }
            (runs_card(&runs))
        }
    })
}

fn not_connected(state: &AppState, viewer: &Viewer, client: ClientId) -> Markup {
    let may_connect = viewer.caller.has(Permission::FinancialUpdate);
    let configured = state.quickbooks.service().is_some();
    let action = (may_connect && configured).then(|| connect_form(viewer, client, "Connect QuickBooks"));
    let text = if !configured {
        "QuickBooks is not configured on this deployment."
    } else if may_connect {
        "Connect the client's QuickBooks Online company: you consent at Intuit, come back here, and the books are mirrored by a first full sync."
    } else {
        "Someone with the financial:update permission can connect the client's QuickBooks Online company."
    };
    html! { div class="card" { (ui::empty("Not connected to QuickBooks", text, action)) } }
}

/// The connect button: a form post (CSRF-checked) that htmx turns into a trip to Intuit.
fn connect_form(viewer: &Viewer, client: ClientId, label: &str) -> Markup {
    let action = format!("/clients/{client}/quickbooks/connect");
    html! {
        form method="post" action=(action) hx-post=(action) hx-swap="none" {
            (csrf(viewer))
            button class="btn primary" type="submit" { (label) }
        }
    }
}

fn connection_card(viewer: &Viewer, client: ClientId, c: &Connection) -> Markup {
    let may_change = viewer.caller.has(Permission::FinancialUpdate);
    let connected = c.status == ConnectionStatus::Connected;
    let dash = || html! { span class="muted" { "—" } };
    html! {
        section class="card stack" aria-labelledby="qbo-connection-h" {
            h2 id="qbo-connection-h" { (c.company_name.as_deref().unwrap_or("QuickBooks company")) " " (ui::badge(&ui::label(&c.status))) }
            @if let Some(reason) = &c.status_reason { p class="alert error" { (reason) } }
            dl class="facts" {
                dt { "Realm" } dd { code { (c.realm_id) } }
                dt { "Connected" } dd { (ui::time(c.connected_at)) }
                dt { "Last full sync" } dd { @if let Some(t) = c.last_full_sync_at { (ui::time(t)) } @else { (dash()) } }
                dt { "Last incremental" } dd { @if let Some(t) = c.last_incremental_sync_at { (ui::time(t)) } @else { (dash()) } }
            }
            @if may_change {
                div class="actions-row" {
                    @if connected {
                        form class="filters" method="post" action={ "/clients/" (client) "/quickbooks/sync" } {
                            (csrf(viewer))
                            label { "Sync"
                                select name="mode" {
                                    option value="incremental" { "Changes since the last sync" }
                                    option value="full" { "Everything (full)" }
                                }
                            }
                            button class="btn primary" type="submit" { "Sync now" }
                        }
                    } @else {
                        (connect_form(viewer, client, "Connect again"))
                    }
                    (form::confirm(viewer, &format!("/clients/{client}/quickbooks/disconnect"), "Disconnect",
                        "The tokens are revoked at Intuit and destroyed here; nothing syncs until someone connects again. The mirrored books stay."))
                }
            }
        }
    }
}

fn summary_card(s: &Summary) -> Markup {
    let usd = |d| ui::money(d, "USD");
    let a = &s.receivables_aging;
    html! {
        section class="card stack" id="qbo-summary" aria-labelledby="qbo-summary-h" {
            h2 id="qbo-summary-h" { "Summary" }
            p class="muted small" { (ui::date(s.from)) " – " (ui::date(s.to)) ", from the mirrored books" }
            dl class="facts" {
                dt { "Income" } dd class="num" { (usd(s.income)) }
                dt { "Expenses" } dd class="num" { (usd(s.expenses)) }
                dt { "Net" } dd class="num" { strong { (usd(s.net)) } }
                dt { "Receivables (AR)" } dd class="num" { (usd(s.receivables)) }
                dt { "Payables (AP)" } dd class="num" { (usd(s.payables)) }
            }
            h3 class="small muted" { "Receivables by age" }
            (ui::aging_bars([a.current, a.days_1_30, a.days_31_60, a.days_61_90, a.days_over_90], "USD"))
        }
    }
}

fn runs_card(runs: &[SyncRun]) -> Markup {
    html! {
        section class="card flush" aria-labelledby="qbo-runs-h" {
            div class="table-foot" { h2 id="qbo-runs-h" { "Sync runs" } }
            @if runs.is_empty() {
                (ui::empty("No sync runs yet", "Each sync (on connecting, hourly, on Intuit's change notices, or when asked) is listed here with its progress.", None))
            } @else {
                div class="table-wrap" tabindex="0" role="region" aria-label="Sync runs (scrolls)" {
                    table class="data" id="qbo-runs" {
                        thead { tr {
                            th scope="col" { "Queued" } th scope="col" { "Mode" } th scope="col" { "Trigger" } th scope="col" { "Status" }
                            th scope="col" { "Progress" } th scope="col" class="num" { "API calls" } th scope="col" class="num" { "Changed" }
                            th scope="col" class="num" { "Unchanged" } th scope="col" class="num" { "Deleted" } th scope="col" class="num" { "Took" }
                        } }
                        tbody {
                            @for r in runs {
                                @let t = r.tally();
                                tr {
                                    td { (ui::time(r.queued_at)) }
                                    td { (r.mode) }
                                    td { (r.trigger) }
                                    td {
                                        (ui::badge(r.status.as_str()))
                                        @if let Some(n) = r.errors.as_array().map(Vec::len).filter(|n| *n > 0) { " " span class="muted small" { (n) " error" @if n > 1 { "s" } } }
                                    }
                                    td {
                                        div class="run-progress" {
                                            progress max=(t.kinds_total) value=(if r.status.is_finished() { t.kinds_total } else { t.kinds_done }) aria-label={ "Entity kinds read: " (t.kinds_done) " of " (t.kinds_total) } {}
                                            span class="muted small" { (t.kinds_done) "/" (t.kinds_total) }
                                        }
                                    }
                                    td class="num" { (r.api_calls) }
                                    td class="num" { (t.upserted) }
                                    td class="num" { (t.unchanged) }
                                    td class="num" { (t.deleted) }
                                    td class="num" { @if let (Some(s), Some(f)) = (r.started_at, r.finished_at) { (took(f - s)) } @else { span class="muted" { "—" } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A run's duration, to the second (`850 ms` under one).
fn took(d: chrono::TimeDelta) -> String {
    match d.num_seconds() {
        0 => format!("{} ms", d.num_milliseconds().max(0)),
        s if s < 60 => format!("{s} s"),
        s => format!("{} min {} s", s / 60, s % 60),
    }
}

/// `POST /clients/{id}/quickbooks/connect`: on to Intuit's consent (see the module's doc).
pub async fn connect(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(client): Path<ClientId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    let link = state.quickbooks.start_connect(&viewer.caller, client).await?;
    let body = html! {
        (layout::head_row("Connect QuickBooks", Some(html! { a href=(tab_url(client)) { "Back to the client" } }), None))
        div class="card stack" {
            p { "Continue at Intuit to choose the company and consent; you come back to the client's QuickBooks tab." }
            p { a class="btn primary" href=(link.authorization_url) { "Continue to QuickBooks" } }
            p class="muted small" { "The link works once, until " (ui::time(link.expires_at)) "." }
        }
    };
    let mut response = layout::page(&viewer, Nav::Clients, "Connect QuickBooks", body).into_response();
    if let Ok(to) = HeaderValue::from_str(&link.authorization_url) {
        response.headers_mut().insert("hx-redirect", to);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct ConnectedQuery {
    client_id: Option<ClientId>,
    /// The HTTP status the callback was refused with.
    status: Option<u16>,
}

/// `GET /quickbooks/connected`: where the OAuth callback lands; on to the client's tab, or, when
/// the callback was refused, a page saying why in words (chosen by the status, so a crafted link
/// cannot put its own text on this site) and what to do.
pub async fn connected(viewer: Viewer, PageQuery(q): PageQuery<ConnectedQuery>) -> Response {
    if let Some(client) = q.client_id {
        return see_other(&tab_url(client));
    }
    let why = match q.status {
        Some(409) => {
            "The client already has a live connection, or that QuickBooks company already feeds another client of the firm (a company feeds one client)."
        }
        Some(422) => {
            "The connection link was already used or had expired, or QuickBooks declined the consent. Start again from the client's QuickBooks tab."
        }
        Some(503) => {
            "QuickBooks could not be reached, or is not configured on this deployment. Try again in a few minutes."
        }
        _ => "QuickBooks did not complete the connection. Start again from the client's QuickBooks tab.",
    };
    let body = html! {
        (layout::head_row("QuickBooks did not connect", Some(html! { a href="/quickbooks" { "QuickBooks" } }), None))
        div class="card stack" {
            p class="alert error" role="alert" { (why) }
            p { a class="btn" href="/quickbooks" { "QuickBooks connections" } " " a class="btn" href="/clients" { "Clients" } }
        }
    };
    let status = q
        .status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .filter(|s| s.is_client_error() || s.is_server_error())
        .unwrap_or(StatusCode::BAD_REQUEST);
    (status, layout::page(&viewer, Nav::QuickBooks, "QuickBooks did not connect", body)).into_response()
}

#[derive(Debug, Deserialize)]
pub struct SyncForm {
    mode: Option<SyncMode>,
}

/// `POST /clients/{id}/quickbooks/sync`.
pub async fn sync(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(client): Path<ClientId>,
    CsrfForm(f): CsrfForm<SyncForm>,
) -> PageResult<Response> {
    let mode = f.mode.unwrap_or(SyncMode::Incremental);
    state.quickbooks.start_sync(&viewer.caller, client, mode).await?;
    Ok(see_other(&tab_url(client)))
}

/// `POST /clients/{id}/quickbooks/disconnect`.
pub async fn disconnect(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(client): Path<ClientId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    state.quickbooks.disconnect(&viewer.caller, client).await?;
    Ok(see_other(&tab_url(client)))
}
