//! One client, in tabs: overview, engagements, invoices (with payments), documents (and upload),
//! notes, QuickBooks, portal access. A portal user sees only the tabs meant for clients, of their own client.

use api_types::engagements::{CreateNoteRequest, EngagementListParams};
use api_types::invoices::InvoiceListParams;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use domain::{ClientId, Permission};
use maud::{Markup, html};
use serde::Deserialize;
use store::documents::DocumentFilter;
use store::notes::NoteSubject;

use api::AppState;

use crate::error::PageResult;
use crate::layout::{self, Nav, csrf};
use crate::pages::client_portal;
use crate::pages::documents as docs;
use crate::pages::{quickbooks, workflow_recurrence, workflow_run};
use crate::session::{CsrfForm, Viewer, see_other};
use crate::ui::{self, PageQuery};

const TAB_ROWS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tab {
    Overview,
    Engagements,
    Workflows,
    Invoices,
    Documents,
    Notes,
    #[serde(rename = "quickbooks")]
    QuickBooks,
    Portal,
}

impl Tab {
    fn label(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Engagements => "Engagements",
            Tab::Workflows => "Workflows",
            Tab::Invoices => "Invoices",
            Tab::Documents => "Documents",
            Tab::Notes => "Notes",
            Tab::QuickBooks => "QuickBooks",
            Tab::Portal => "Portal access",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Tab::Overview => "overview",
            Tab::Engagements => "engagements",
            Tab::Workflows => "workflows",
            Tab::Invoices => "invoices",
            Tab::Documents => "documents",
            Tab::Notes => "notes",
            Tab::QuickBooks => "quickbooks",
            Tab::Portal => "portal",
        }
    }

    /// Whether `viewer` may open this tab at all.
    fn open_to(self, viewer: &Viewer) -> bool {
        let c = &viewer.caller;
        let staff = c.role.is_staff();
        match self {
            Tab::Overview => true,
            Tab::Engagements => c.has(Permission::EngagementsRead),
            Tab::Workflows => staff && c.has(Permission::WorkflowsRead),
            Tab::Invoices => c.has(Permission::BillingRead),
            Tab::Documents => c.has(Permission::DocumentsRead),
            Tab::Notes => staff,
            Tab::QuickBooks => staff && c.has(Permission::FinancialRead),
            Tab::Portal => staff && c.has(Permission::UsersInvite),
        }
    }
}

const TABS: [Tab; 8] = [
    Tab::Overview,
    Tab::Engagements,
    Tab::Workflows,
    Tab::Invoices,
    Tab::Documents,
    Tab::Notes,
    Tab::QuickBooks,
    Tab::Portal,
];

#[derive(Debug, Deserialize)]
pub struct ClientQuery {
    tab: Option<Tab>,
}

/// `GET /clients/{id}`.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<ClientId>,
    PageQuery(q): PageQuery<ClientQuery>,
) -> PageResult<Response> {
    let client = state.practice.get_client(&viewer.caller, id).await?;
    let tab = q.tab.filter(|t| t.open_to(&viewer)).unwrap_or(Tab::Overview);
    let content = match tab {
        Tab::Overview => overview(&state, &viewer, &client).await?,
        Tab::Engagements => engagements(&state, &viewer, id).await?,
        Tab::Workflows => html! {
            (workflow_run::client_tab(&state, &viewer, id).await?)
            (workflow_recurrence::client_section(&state, &viewer, id).await?)
        },
        Tab::Invoices => invoices(&state, &viewer, id).await?,
        Tab::Documents => documents(&state, &viewer, id).await?,
        Tab::Notes => notes(&state, &viewer, id).await?,
        Tab::QuickBooks => quickbooks::tab(&state, &viewer, id).await?,
        Tab::Portal => client_portal::tab(&state, &viewer, id).await?,
    };
    let staff = viewer.caller.role.is_staff();
    let may_edit = staff && viewer.caller.has(Permission::ClientsUpdate);
    let actions = may_edit
        .then(|| html! { a class="btn" href={ "/clients/" (id) "/edit" } accesskey="e" { "Edit client" } });
    let body = html! {
        (layout::head_row(&client.business_name, staff.then(|| html! { a href="/clients" { "Clients" } }), actions))
        div { (ui::badge(client.status.as_str())) " " @if staff { (ui::badge(&format!("{} risk", client.risk_level))) } }
        nav class="tabs" aria-label="Client sections" {
            @for t in TABS.iter().filter(|t| t.open_to(&viewer)) {
                a href={ "/clients/" (id) "?tab=" (t.slug()) } aria-current=[(*t == tab).then_some("page")] { (t.label()) }
            }
        }
        (content)
    };
    let nav = if staff { Nav::Clients } else { Nav::Dashboard };
    Ok(layout::page(&viewer, nav, &client.business_name, body).into_response())
}

async fn overview(
    state: &AppState,
    viewer: &Viewer,
    c: &api_types::clients::ClientResponse,
) -> PageResult<Markup> {
    let aging = if viewer.caller.has(Permission::BillingRead) {
        Some(
            state
                .practice
                .aging(
                    &viewer.caller,
                    &api_types::invoices::AgingParams { client_id: Some(c.id), as_of: None },
                )
                .await?,
        )
    } else {
        None
    };
    let dash = || html! { span class="muted" { "—" } };
    Ok(html! {
        div class="grid-2" {
            section class="card" aria-labelledby="facts-h" {
                h2 id="facts-h" { "Details" }
                dl class="facts" {
                    dt { "Legal name" } dd { @if let Some(v) = &c.legal_name { (v) } @else { (dash()) } }
                    dt { "Contact" } dd { @if let Some(v) = &c.primary_contact_name { (v) } @else { (dash()) } }
                    dt { "Email" } dd { @if let Some(v) = &c.primary_contact_email { a href={ "mailto:" (v) } { (v) } } @else { (dash()) } }
                    dt { "Phone" } dd { @if let Some(v) = &c.primary_contact_phone { (v) } @else { (dash()) } }
                    dt { "Industry" } dd { @if let Some(v) = &c.industry { (v) } @else { (dash()) } }
                    dt { "Business type" } dd { @if let Some(v) = c.business_type { (ui::label(&v)) } @else { (dash()) } }
                    dt { "Tax id" } dd { @if let Some(v) = &c.tax_id { (v) } @else { (dash()) } }
                    dt { "QuickBooks customer" } dd { @if let Some(v) = &c.quickbooks_customer_id { (v) } @else { (dash()) } }
                    dt { "Client since" } dd { (ui::date(c.created_at.date_naive())) }
                }
            }
            @if let Some(a) = aging {
                section class="card" aria-labelledby="ar-h" {
                    h2 id="ar-h" { "Receivables" }
                    dl class="facts" {
                        dt { "Open" } dd class="num" { (ui::money(a.total_open, "USD")) }
                        dt { "Current" } dd class="num" { (ui::money(a.current, "USD")) }
                        dt { "1–30 days" } dd class="num" { (ui::money(a.days_1_30, "USD")) }
                        dt { "31–60 days" } dd class="num" { (ui::money(a.days_31_60, "USD")) }
                        dt { "61–90 days" } dd class="num" { (ui::money(a.days_61_90, "USD")) }
                        dt { "Over 90 days" } dd class="num" { (ui::money(a.days_over_90, "USD")) }
                    }
                }
            }
        }
    })
}

async fn engagements(state: &AppState, viewer: &Viewer, id: ClientId) -> PageResult<Markup> {
    let page = state
        .practice
        .list_engagements(&viewer.caller, Some(id), &EngagementListParams::default(), TAB_ROWS)
        .await?;
    let may_create = viewer.caller.role.is_staff() && viewer.caller.has(Permission::EngagementsCreate);
    let new_link =
        || html! { a class="btn primary" href={ "/clients/" (id) "/engagements/new" } { "New engagement" } };
    Ok(html! {
        @if may_create && !page.items.is_empty() { div class="actions-row" { (new_link()) } }
        div class="card flush" {
            @if page.items.is_empty() {
                (ui::empty("No engagements", "Engagements (a year's tax return, monthly bookkeeping) for this client appear here.", may_create.then(new_link)))
            } @else {
                table class="data" {
                    thead { tr { th scope="col" { "Engagement" } th scope="col" { "Type" } th scope="col" { "Status" } th scope="col" { "Priority" } th scope="col" { "Due" } th scope="col" class="num" { "Hours" } } }
                    tbody {
                        @for e in &page.items {
                            tr {
                                td { a href={ "/engagements/" (e.id) } { (e.name) } }
                                td { (ui::label(&e.engagement_type)) }
                                td { (ui::badge(&ui::label(&e.status))) }
                                td { (ui::label(&e.priority)) }
                                td { @if let Some(d) = e.due_date { (ui::date(d)) } }
                                td class="num" { (e.actual_hours) @if let Some(est) = e.estimated_hours { " / " (est) } }
                            }
                        }
                    }
                }
            }
        }
    })
}

async fn invoices(state: &AppState, viewer: &Viewer, id: ClientId) -> PageResult<Markup> {
    let q = InvoiceListParams { client_id: Some(id), ..Default::default() };
    let page = state.practice.list_invoices(&viewer.caller, &q, TAB_ROWS).await?;
    Ok(html! {
        div class="card flush" {
            @if page.items.is_empty() {
                (ui::empty("No invoices", "Invoices sent to this client appear here with what was paid.", None))
            } @else {
                table class="data" {
                    thead { tr { th scope="col" { "Number" } th scope="col" { "Status" } th scope="col" { "Issued" } th scope="col" { "Due" } th scope="col" class="num" { "Total" } th scope="col" class="num" { "Paid" } th scope="col" class="num" { "Balance" } } }
                    tbody {
                        @for i in &page.items {
                            tr {
                                td { a href={ "/invoices/" (i.id) } { (i.number) } @if let Some(t) = &i.title { " " span class="muted" { (t) } } }
                                td { (ui::badge(&ui::label(&i.status))) }
                                td { (ui::date(i.issue_date)) }
                                td { (ui::date(i.due_date)) }
                                td class="num" { (ui::money(i.total, &i.currency)) }
                                td class="num" { (ui::money(i.paid_amount, &i.currency)) }
                                td class="num" { (ui::money(i.balance, &i.currency)) }
                            }
                        }
                    }
                }
            }
        }
    })
}

async fn documents(state: &AppState, viewer: &Viewer, id: ClientId) -> PageResult<Markup> {
    let filter = DocumentFilter { client_id: Some(id), ..Default::default() };
    let page = state.documents.list(&viewer.caller, &filter, None, TAB_ROWS).await?;
    let may_upload = viewer.caller.has(Permission::DocumentsCreate)
        && (viewer.caller.role.is_staff()
            || viewer.caller.portal.iter().any(|g| g.client_id == id && g.can_upload_documents));
    Ok(html! {
        @if may_upload { (docs::upload_form(viewer, id)) }
        div class="card flush" {
            @if page.items.is_empty() {
                (ui::empty("No documents yet", "Uploaded invoices, receipts, W-2s and 1099s are read and listed here.", None))
            } @else {
                div class="table-wrap" tabindex="0" role="region" aria-label="Table (scrolls)" { (docs::table(&page.items, viewer.caller.role.is_staff())) }
                @if page.next_cursor.is_some() { div class="table-foot" { a href={ "/documents?client_id=" (id) } { "All of this client's documents →" } } }
            }
        }
    })
}

async fn notes(state: &AppState, viewer: &Viewer, id: ClientId) -> PageResult<Markup> {
    let page = state.practice.list_notes(&viewer.caller, NoteSubject::Client(id), None, TAB_ROWS).await?;
    Ok(html! {
        form class="card form" method="post" action={ "/clients/" (id) "/notes" } {
            (csrf(viewer))
            label { "New note" textarea name="body" required {} }
            label class="inline" { input type="checkbox" name="is_private" value="true"; " Only visible to me" }
            div { button class="btn primary" type="submit" { "Add note" } }
        }
        div class="card" {
            @if page.items.is_empty() { p class="muted" { "No notes yet." } }
            @for n in &page.items {
                article {
                    h3 { @if let Some(t) = &n.title { (t) } @else { (ui::label(&n.note_type)) } " " span class="muted small" { (ui::time(n.created_at)) @if n.is_private { " · private" } } }
                    p { (n.body) }
                }
            }
        }
    })
}

#[derive(Debug, Deserialize)]
pub struct NoteForm {
    body: String,
    is_private: Option<bool>,
}

/// `POST /clients/{id}/notes`.
pub async fn add_note(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<ClientId>,
    CsrfForm(f): CsrfForm<NoteForm>,
) -> PageResult<Response> {
    let req = CreateNoteRequest {
        title: None,
        body: f.body,
        note_type: None,
        is_private: f.is_private.unwrap_or(false),
        remind_at: None,
    };
    state.practice.create_note(&viewer.caller, NoteSubject::Client(id), req).await?;
    Ok(see_other(&format!("/clients/{id}?tab=notes")))
}
