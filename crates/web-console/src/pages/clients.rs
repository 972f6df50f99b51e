//! Clients: the list (search as you type, filters, sortable columns, keyset paging, bulk
//! archive/restore), a new client, CSV import (check first, then import, each bad row named) and
//! export.

use api_types::clients::{
    BulkAction, BulkClientRequest, ClientListParams, ClientSummaryResponse, CreateClientRequest,
};
use axum::body::Body;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{ClientId, ClientStatus, Permission, RiskLevel};
use maud::{Markup, html};
use serde::Deserialize;

use api::AppState;

use crate::error::{PageError, PageResult, fixable};
use crate::form::{self, Refusal};
use crate::layout::{self, Nav, csrf};
use crate::session::{CsrfForm, Viewer, csrf_header, csrf_matches, see_other};
use crate::ui::{self, PageQuery};

const PAGE_SIZE: usize = 50;

fn list_params(q: &ClientListParams) -> Vec<(&'static str, String)> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        ("q", opt(&q.q)),
        ("status", opt(&q.status)),
        ("risk_level", q.risk_level.map(|r| r.to_string()).unwrap_or_default()),
        ("sort", opt(&q.sort)),
        ("order", opt(&q.order)),
        ("cursor", opt(&q.cursor)),
    ]
}

/// A column header that sorts by `key`, toggling the order when it already does.
fn sort_header(q: &ClientListParams, key: &str, label: &str, numeric: bool) -> Markup {
    let current = q.sort.as_deref().unwrap_or("name") == key;
    let desc = q.order.as_deref() == Some("desc");
    let next_order = if current && !desc { "desc" } else { "asc" };
    let mut params: Vec<(&str, String)> =
        list_params(q).into_iter().filter(|(k, _)| !matches!(*k, "sort" | "order" | "cursor")).collect();
    params.push(("sort", key.to_owned()));
    params.push(("order", next_order.to_owned()));
    let sort = current.then_some(if desc { "descending" } else { "ascending" });
    html! {
        th scope="col" class=[numeric.then_some("num")] aria-sort=[sort] {
            a href=(ui::href("/clients", &params)) { (label) }
        }
    }
}

fn table(
    viewer: &Viewer,
    q: &ClientListParams,
    items: &[ClientSummaryResponse],
    next: Option<&str>,
) -> Markup {
    let can_bulk = viewer.caller.has(Permission::ClientsUpdate);
    let searching = q.q.is_some();
    html! {
        div id="client-table" class="card flush" {
            @if items.is_empty() {
                @if searching || q.status.is_some() || q.risk_level.is_some() {
                    (ui::empty("No clients match", "Try fewer words, another spelling, or clear the filters.", Some(html! { a class="btn" href="/clients" { "Clear filters" } })))
                } @else {
                    (ui::empty("No clients yet", "Add your first client, or import a spreadsheet of them.",
                        viewer.caller.has(Permission::ClientsCreate).then(|| html! {
                            a class="btn primary" href="/clients/new" { "New client" } " "
                            a class="btn" href="/clients/import" { "Import CSV" }
                        })))
                }
            } @else {
                form method="post" action="/clients/bulk" id="bulk-form" {
                    (csrf(viewer))
                    @if can_bulk {
                        div class="bulkbar" data-bulkbar {
                            span data-selected-count { "0 selected" }
                            button class="btn" type="submit" name="action" value="archive" { "Archive" }
                            button class="btn" type="submit" name="action" value="restore" { "Restore" }
                        }
                    }
                    div class="table-wrap" tabindex="0" role="region" aria-label="Table (scrolls)" {
                        table class="data" {
                            caption class="visually-hidden" { "Clients" }
                            thead {
                                tr {
                                    @if can_bulk { th scope="col" { input type="checkbox" data-select-all aria-label="Select all clients on this page"; } }
                                    @if searching { th scope="col" { "Name" } } @else { (sort_header(q, "name", "Name", false)) }
                                    th scope="col" { "Contact" }
                                    th scope="col" { "Type" }
                                    th scope="col" { "Status" }
                                    th scope="col" { "Risk" }
                                    @if searching { th scope="col" class="num" { "Revenue" } } @else { (sort_header(q, "revenue", "Revenue", true)) }
                                    @if searching { th scope="col" { "Added" } } @else { (sort_header(q, "created", "Added", false)) }
                                }
                            }
                            tbody {
                                @for c in items {
                                    tr {
                                        @if can_bulk { td { input type="checkbox" name="ids" value=(c.id) aria-label={ "Select " (c.business_name) }; } }
                                        td { a href={ "/clients/" (c.id) } { (c.business_name) } }
                                        td class="wrap" {
                                            @if let Some(n) = &c.primary_contact_name { (n) }
                                            @if c.primary_contact_name.is_some() && c.primary_contact_email.is_some() { br; }
                                            @if let Some(e) = &c.primary_contact_email { span class="muted small" { (e) } }
                                        }
                                        td { @if let Some(t) = c.business_type { (ui::label(&t)) } }
                                        td { (ui::badge(c.status.as_str())) }
                                        td { (ui::badge(c.risk_level.as_str())) }
                                        td class="num" { @if let Some(r) = c.annual_revenue { (ui::money(r, "USD")) } }
                                        td { (ui::date(c.created_at.date_naive())) }
                                    }
                                }
                            }
                        }
                    }
                }
                (ui::pager("/clients", &list_params(q), next, items.len()))
            }
        }
    }
}

/// `GET /clients`.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(q): PageQuery<ClientListParams>,
) -> PageResult<Response> {
    let page = state.practice.list_clients(&viewer.caller, &q, PAGE_SIZE).await?;
    let actions = viewer.caller.has(Permission::ClientsCreate).then(|| {
        html! {
            a class="btn" href="/clients/import" { "Import CSV" }
            @if viewer.caller.has(Permission::ClientsExport) {
                a class="btn" href=(ui::href("/clients/export", &list_params(&q).into_iter().filter(|(k, _)| matches!(*k, "status" | "risk_level")).collect::<Vec<_>>())) { "Export CSV" }
            }
            a class="btn primary" href="/clients/new" aria-keyshortcuts="n" { "New client" kbd { "n" } }
        }
    });
    let body = html! {
        (layout::head_row("Clients", None, actions))
        form class="filters" method="get" action="/clients" role="search"
            hx-get="/clients" hx-trigger="input changed delay:200ms from:find input[name=q], change from:find select" hx-target="#client-table" hx-select="#client-table" hx-swap="outerHTML" hx-push-url="true" {
            label { "Search" input type="search" name="q" value=(q.q.as_deref().unwrap_or("")) placeholder="Name, contact, email or tax id" autocomplete="off" data-focus-key="/"; }
            label { "Status"
                select name="status" {
                    option value="" { "All but archived" }
                    @for s in ClientStatus::ALL {
                        option value=(s.as_str()) selected[q.status.as_deref() == Some(s.as_str())] { (s.as_str()) }
                    }
                }
            }
            label { "Risk"
                select name="risk_level" {
                    option value="" { "Any" }
                    @for r in RiskLevel::ALL {
                        option value=(r.as_str()) selected[q.risk_level == Some(*r)] { (r.as_str()) }
                    }
                }
            }
            @if let Some(s) = &q.sort { input type="hidden" name="sort" value=(s); }
            @if let Some(o) = &q.order { input type="hidden" name="order" value=(o); }
            noscript { button class="btn" type="submit" { "Filter" } }
            span class="htmx-indicator muted small" { "Searching…" }
        }
        (table(&viewer, &q, &page.items, page.next_cursor.as_deref()))
    };
    Ok(layout::page(&viewer, Nav::Clients, "Clients", body).into_response())
}

/// `POST /clients/bulk`: archive or restore the ticked clients.
pub async fn bulk(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let action = match pairs.iter().find(|(k, _)| k == "action").map(|(_, v)| v.as_str()) {
        Some("archive") => BulkAction::Archive,
        Some("restore") => BulkAction::Restore,
        _ => return Err(PageError::BadForm("choose Archive or Restore".into())),
    };
    let ids: Vec<ClientId> = pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| v.parse().map_err(|_| PageError::BadForm("a selected client id is not valid".into())))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Err(PageError::BadForm("tick at least one client first".into()));
    }
    state
        .practice
        .bulk_clients(&viewer.caller, BulkClientRequest { action, ids, status: None, assigned_to: None })
        .await?;
    Ok(see_other(if matches!(action, BulkAction::Restore) { "/clients?status=active" } else { "/clients" }))
}

#[derive(Debug, Default, Deserialize)]
pub struct NewClientForm {
    business_name: String,
    primary_contact_name: Option<String>,
    primary_contact_email: Option<String>,
    primary_contact_phone: Option<String>,
    industry: Option<String>,
    status: Option<String>,
}

fn new_form(viewer: &Viewer, f: &NewClientForm, error: Option<&api::ApiError>) -> Markup {
    let refusal = Refusal(error);
    let text = |name: &str, label: &str, value: &Option<String>, kind: &str| {
        form::input(refusal, name, label, value.as_deref().unwrap_or(""), kind)
    };
    let body = html! {
        (layout::head_row("New client", Some(html! { a href="/clients" { "Clients" } }), None))
        form class="card form" method="post" action="/clients/new" {
            (csrf(viewer))
            (refusal.alert())
            (form::input(refusal, "business_name", "Business name", &f.business_name, "text"))
            (text("primary_contact_name", "Contact name", &f.primary_contact_name, "text"))
            (text("primary_contact_email", "Contact email", &f.primary_contact_email, "email"))
            (text("primary_contact_phone", "Contact phone", &f.primary_contact_phone, "tel"))
            (text("industry", "Industry", &f.industry, "text"))
            label { "Status"
                select name="status" {
                    @for s in ClientStatus::ALL.iter().filter(|s| **s != ClientStatus::Archived) {
                        option value=(s.as_str()) selected[f.status.as_deref().unwrap_or("active") == s.as_str()] { (s.as_str()) }
                    }
                }
            }
            div { button class="btn primary" type="submit" { "Create client" } " " a class="btn" href="/clients" { "Cancel" } }
        }
    };
    layout::page(viewer, Nav::Clients, "New client", body)
}

/// `GET /clients/new`.
pub async fn new(viewer: Viewer) -> PageResult<Response> {
    viewer.caller.require(Permission::ClientsCreate)?;
    Ok(new_form(&viewer, &NewClientForm::default(), None).into_response())
}

/// `POST /clients/new`: creates it, or shows the form again with each field's problem.
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<NewClientForm>,
) -> PageResult<Response> {
    let status = match form::text(&f.status) {
        Some(s) => Some(s.parse::<ClientStatus>().map_err(|e| PageError::BadForm(e.to_string()))?),
        None => None,
    };
    let req = CreateClientRequest {
        business_name: f.business_name.trim().to_owned(),
        legal_name: None,
        tax_id: None,
        tax_id_kind: None,
        primary_contact_name: form::text(&f.primary_contact_name),
        primary_contact_email: form::text(&f.primary_contact_email),
        primary_contact_phone: form::text(&f.primary_contact_phone),
        business_type: None,
        industry: form::text(&f.industry),
        website: None,
        status,
        risk_level: None,
        annual_revenue: None,
        assigned_to: None,
        tags: Vec::new(),
        business_address: None,
    };
    match state.practice.create_client(&viewer.caller, req).await {
        Ok(c) => Ok(see_other(&format!("/clients/{}", c.id))),
        Err(e) => {
            let e = fixable(e)?;
            Ok((e.status(), new_form(&viewer, &f, Some(&e))).into_response())
        }
    }
}

fn import_page(
    viewer: &Viewer,
    report: Option<&api_types::clients::ImportReport>,
    error: Option<&str>,
) -> Markup {
    let body = html! {
        (layout::head_row("Import clients", Some(html! { a href="/clients" { "Clients" } }), None))
        form class="card form" method="post" action="/clients/import" enctype="multipart/form-data" {
            (csrf(viewer))
            p class="muted" {
                "A CSV with a header row: " code { "business_name" } " is required; "
                code { "primary_contact_name, primary_contact_email, primary_contact_phone, industry, business_type, status, risk_level, tax_id, tags, assigned_to" }
                " are optional. Every row must be valid for any to be imported."
            }
            label { "CSV file" input type="file" name="file" accept=".csv,text/csv" required; }
            div {
                button class="btn" type="submit" name="mode" value="check" { "Check the file" } " "
                button class="btn primary" type="submit" name="mode" value="import" { "Import" }
            }
        }
        @if let Some(e) = error { div class="alert error" role="alert" { (e) } }
        @if let Some(r) = report {
            section class="card" aria-labelledby="report-h" id="import-report" {
                h2 id="report-h" {
                    @if r.imported { "Imported " (r.accepted) " clients" }
                    @else if r.rejected.is_empty() { "All " (r.rows) " rows are valid — choose the file again and Import" }
                    @else { (r.rejected.len()) " of " (r.rows) " rows have problems; nothing was imported" }
                }
                @if !r.rejected.is_empty() {
                    table class="data" {
                        thead { tr { th scope="col" class="num" { "Line" } th scope="col" { "Problems" } } }
                        tbody {
                            @for row in &r.rejected {
                                tr { td class="num" { (row.line) } td class="wrap" { (row.errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")) } }
                            }
                        }
                    }
                }
            }
        }
    };
    layout::page(viewer, Nav::Clients, "Import clients", body)
}

/// `GET /clients/import`.
pub async fn import_form(viewer: Viewer) -> PageResult<Response> {
    viewer.caller.require(Permission::ClientsCreate)?;
    Ok(import_page(&viewer, None, None).into_response())
}

/// `POST /clients/import` (multipart: `_csrf` first, then `mode` and `file`).
pub async fn import(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    mut form: Multipart,
) -> PageResult<Response> {
    let mut presented = csrf_header(&headers).map(str::to_owned);
    let (mut mode, mut file) = (String::from("check"), None);
    while let Some(field) = form.next_field().await.map_err(|e| PageError::BadForm(e.body_text()))? {
        match field.name() {
            Some("_csrf") => {
                presented = Some(field.text().await.map_err(|e| PageError::BadForm(e.body_text()))?)
            }
            // Nothing is read from the body before the token is checked.
            _ if !csrf_matches(&headers, presented.as_deref()) => return Err(PageError::Csrf),
            Some("mode") => mode = field.text().await.map_err(|e| PageError::BadForm(e.body_text()))?,
            Some("file") => file = Some(field.bytes().await.map_err(|e| PageError::BadForm(e.body_text()))?),
            _ => {}
        }
    }
    if !csrf_matches(&headers, presented.as_deref()) {
        return Err(PageError::Csrf);
    }
    let Some(file) = file.filter(|f| !f.is_empty()) else {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            import_page(&viewer, None, Some("Choose a CSV file first.")),
        )
            .into_response());
    };
    match state.practice.import_clients(&viewer.caller, &file, mode != "import").await {
        Ok(report) => Ok(import_page(&viewer, Some(&report), None).into_response()),
        Err(practice::PracticeError::ImportRejected(report)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, import_page(&viewer, Some(report.as_ref()), None))
                .into_response())
        }
        Err(e) => {
            let e = fixable(e)?;
            Ok((e.status(), import_page(&viewer, None, Some(e.detail()))).into_response())
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    status: Option<String>,
    risk_level: Option<RiskLevel>,
}

/// `GET /clients/export`: the CSV of the filtered clients (the export is audited by the use case).
pub async fn export(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(q): PageQuery<ExportQuery>,
) -> PageResult<Response> {
    let params = api_types::clients::ClientExportParams {
        status: q.status,
        risk_level: q.risk_level,
        ..Default::default()
    };
    let stream = state.practice.export_clients(&viewer.caller, &params).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"clients.csv\""),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
