//! Engagements: opening one for a client (`engagements:create`), and its page — the terms, the
//! hours against the estimate, and the form that moves it along (`engagements:update`): status,
//! priority, dates, hours, who does it) — and its time: hours logged, work in progress (billed as a
//! draft invoice from here), entries.

use api_types::engagements::{CreateEngagementRequest, EngagementResponse, UpdateEngagementRequest};
use api_types::time::{BillTimeRequest, EngagementTimeResponse};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use domain::{
    ClientId, EngagementId, EngagementStatus, EngagementType, Permission, Priority, UserId, UserStatus,
};
use maud::{Markup, html};
use rust_decimal::Decimal;
use serde::Deserialize;
use store::users::{Member, MemberFilter};

use api::AppState;

use crate::error::{PageError, PageResult, fixable};
use crate::form::{self, Refusal};
use crate::layout::{self, Nav, csrf};
use crate::pages::time;
use crate::session::{CsrfForm, NoFields, Viewer, see_other};
use crate::ui;

/// Members an engagement can be given to: the firm's active staff (only for those who may list members).
pub(crate) async fn assignees(state: &AppState, viewer: &Viewer) -> PageResult<Vec<Member>> {
    if !viewer.caller.has(Permission::UsersRead) {
        return Ok(Vec::new());
    }
    let filter = MemberFilter { role: None, status: Some(UserStatus::Active) };
    let page = state.identity.list_members(&viewer.caller, &filter, None, 500).await?;
    Ok(page.items.into_iter().filter(|m| m.role.is_staff()).collect())
}

#[derive(Debug, Default, Deserialize)]
pub struct EngagementForm {
    name: String,
    engagement_type: Option<String>,
    status: Option<String>,
    priority: Option<String>,
    start_date: Option<String>,
    due_date: Option<String>,
    estimated_hours: Option<String>,
    hourly_rate: Option<String>,
    fixed_fee: Option<String>,
    tax_year: Option<String>,
    assigned_to: Option<String>,
    description: Option<String>,
}

/// A form field read as `T`; the error names the field, for the page that refuses the form.
fn field<T: std::str::FromStr>(value: &Option<String>, label: &str) -> Result<Option<T>, PageError> {
    form::text(value)
        .map(|v| v.parse::<T>().map_err(|_| PageError::BadForm(format!("{label}: `{v}` is not valid"))))
        .transpose()
}

impl EngagementForm {
    fn from_engagement(e: &EngagementResponse) -> Self {
        let text = |v: Option<String>| v.filter(|s| !s.is_empty());
        EngagementForm {
            name: e.name.clone(),
            engagement_type: Some(e.engagement_type.to_string()),
            status: Some(e.status.to_string()),
            priority: Some(e.priority.to_string()),
            start_date: e.start_date.map(|d| d.to_string()),
            due_date: e.due_date.map(|d| d.to_string()),
            estimated_hours: e.estimated_hours.map(|h| h.to_string()),
            hourly_rate: e.hourly_rate.map(|r| r.to_string()),
            fixed_fee: e.fixed_fee.map(|f| f.to_string()),
            tax_year: e.tax_year.map(|y| y.to_string()),
            assigned_to: e.assigned_to.map(|u| u.to_string()),
            description: text(e.description.clone()),
        }
    }

    fn create(&self, client_id: ClientId) -> Result<CreateEngagementRequest, PageError> {
        Ok(CreateEngagementRequest {
            client_id,
            name: self.name.trim().to_owned(),
            engagement_type: field(&self.engagement_type, "Type")?
                .ok_or_else(|| PageError::BadForm("choose the engagement's type".into()))?,
            status: field(&self.status, "Status")?,
            priority: field(&self.priority, "Priority")?,
            description: form::text(&self.description),
            start_date: field::<NaiveDate>(&self.start_date, "Start")?,
            due_date: field::<NaiveDate>(&self.due_date, "Due")?,
            estimated_hours: field::<Decimal>(&self.estimated_hours, "Estimated hours")?,
            hourly_rate: field::<Decimal>(&self.hourly_rate, "Hourly rate")?,
            fixed_fee: field::<Decimal>(&self.fixed_fee, "Fixed fee")?,
            tax_year: field(&self.tax_year, "Tax year")?,
            assigned_to: field::<UserId>(&self.assigned_to, "Assigned to")?,
        })
    }

    /// Every field as the form has it: an emptied one is cleared.
    fn update(&self) -> Result<UpdateEngagementRequest, PageError> {
        Ok(UpdateEngagementRequest {
            name: Some(self.name.trim().to_owned()),
            engagement_type: field(&self.engagement_type, "Type")?,
            status: field(&self.status, "Status")?,
            priority: field(&self.priority, "Priority")?,
            description: Some(form::text(&self.description)),
            start_date: Some(field(&self.start_date, "Start")?),
            due_date: Some(field(&self.due_date, "Due")?),
            estimated_hours: Some(field(&self.estimated_hours, "Estimated hours")?),
            // Derived from the time entries (the Time section), not typed in here.
            actual_hours: None,
            hourly_rate: Some(field(&self.hourly_rate, "Hourly rate")?),
            fixed_fee: Some(field(&self.fixed_fee, "Fixed fee")?),
            tax_year: Some(field(&self.tax_year, "Tax year")?),
            assigned_to: Some(field(&self.assigned_to, "Assigned to")?),
        })
    }
}

/// The engagement's fields; `existing` adds what only an open engagement has (status, hours worked).
fn fields(refusal: Refusal<'_>, f: &EngagementForm, staff: &[Member], existing: bool) -> Markup {
    let text = |name: &str, label: &str, value: &Option<String>, kind: &str| {
        form::input(refusal, name, label, value.as_deref().unwrap_or(""), kind)
    };
    let assigned = f.assigned_to.as_deref().unwrap_or("");
    html! {
        (form::input(refusal, "name", "Name", &f.name, "text"))
        (form::select(refusal, "engagement_type", "Type", EngagementType::ALL, form::chosen(&f.engagement_type), None))
        @if existing {
            (form::select(refusal, "status", "Status", EngagementStatus::ALL, form::chosen(&f.status), None))
        }
        (form::select(refusal, "priority", "Priority", Priority::ALL, form::chosen(&f.priority).or(Some(Priority::Normal)), None))
        div class="grid-2" {
            (text("start_date", "Start", &f.start_date, "date"))
            (text("due_date", "Due", &f.due_date, "date"))
            (text("estimated_hours", "Estimated hours", &f.estimated_hours, "text"))
            (text("hourly_rate", "Hourly rate (USD)", &f.hourly_rate, "text"))
            (text("fixed_fee", "Fixed fee (USD)", &f.fixed_fee, "text"))
            (text("tax_year", "Tax year", &f.tax_year, "text"))
        }
        @if !staff.is_empty() {
            label { "Assigned to"
                select name="assigned_to" {
                    option value="" selected[assigned.is_empty()] { "Nobody yet" }
                    @for m in staff { option value=(m.id) selected[assigned == m.id.to_string()] { (m.name) " (" (ui::label(&m.role)) ")" } }
                }
            }
        }
        label { "Description" textarea name="description" { (f.description.as_deref().unwrap_or("")) } }
    }
}

fn new_page(
    viewer: &Viewer,
    client: &api_types::clients::ClientResponse,
    f: &EngagementForm,
    staff: &[Member],
    error: Option<&api::ApiError>,
) -> Markup {
    let refusal = Refusal(error);
    let back = format!("/clients/{}?tab=engagements", client.id);
    let body = html! {
        (layout::head_row("New engagement", Some(html! { a href=(back) { (client.business_name) } }), None))
        form class="card form" method="post" action={ "/clients/" (client.id) "/engagements/new" } {
            (csrf(viewer))
            (refusal.alert())
            (fields(refusal, f, staff, false))
            div { button class="btn primary" type="submit" { "Open engagement" } " " a class="btn" href=(back) { "Cancel" } }
        }
    };
    layout::page(viewer, Nav::Clients, "New engagement", body)
}

/// `GET /clients/{id}/engagements/new`.
pub async fn new(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(client): Path<ClientId>,
) -> PageResult<Response> {
    viewer.caller.require(Permission::EngagementsCreate)?;
    let client = state.practice.get_client(&viewer.caller, client).await?;
    let staff = assignees(&state, &viewer).await?;
    let f = EngagementForm {
        engagement_type: Some(EngagementType::TaxPreparation.to_string()),
        ..Default::default()
    };
    Ok(new_page(&viewer, &client, &f, &staff, None).into_response())
}

/// `POST /clients/{id}/engagements/new`: opens it and shows its page, or the form again with the problems.
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(client): Path<ClientId>,
    CsrfForm(f): CsrfForm<EngagementForm>,
) -> PageResult<Response> {
    match state.practice.create_engagement(&viewer.caller, f.create(client)?).await {
        Ok(e) => Ok(see_other(&format!("/engagements/{}", e.id))),
        Err(e) => {
            let e = fixable(e)?;
            let client = state.practice.get_client(&viewer.caller, client).await?;
            let staff = assignees(&state, &viewer).await?;
            Ok((e.status(), new_page(&viewer, &client, &f, &staff, Some(&e))).into_response())
        }
    }
}

async fn engagement_page(
    state: &AppState,
    viewer: &Viewer,
    e: &EngagementResponse,
    f: &EngagementForm,
    error: Option<&api::ApiError>,
) -> PageResult<Markup> {
    let client = state.practice.get_client(&viewer.caller, e.client_id).await?;
    let may_update = viewer.caller.has(Permission::EngagementsUpdate);
    let staff = if may_update { assignees(state, viewer).await? } else { Vec::new() };
    let assignee = e.assigned_to.and_then(|u| staff.iter().find(|m| m.id == u));
    let refusal = Refusal(error);
    let dash = || html! { span class="muted" { "—" } };
    let logs_time = viewer.caller.has(Permission::WorkflowsRead);
    let time = if logs_time {
        Some(state.practice.engagement_time(&viewer.caller, e.id, None, TIME_ROWS).await?)
    } else {
        None
    };
    let here = format!("/engagements/{}", e.id);
    let usd = |d: Option<Decimal>| d.map(|d| ui::money(d, "USD"));
    let body = html! {
        (layout::head_row(&e.name, Some(html! { a href={ "/clients/" (client.id) "?tab=engagements" } { (client.business_name) } }), None))
        div { (ui::badge(&ui::label(&e.status))) " " (ui::badge(&format!("{} priority", ui::label(&e.priority)))) }
        div class="grid-2" {
            section class="card" aria-labelledby="terms-h" {
                h2 id="terms-h" { "Terms" }
                dl class="facts" {
                    dt { "Type" } dd { (ui::label(&e.engagement_type)) }
                    dt { "Tax year" } dd { @if let Some(y) = e.tax_year { (y) } @else { (dash()) } }
                    dt { "Start" } dd { @if let Some(d) = e.start_date { (ui::date(d)) } @else { (dash()) } }
                    dt { "Due" } dd { @if let Some(d) = e.due_date { (ui::date(d)) } @else { (dash()) } }
                    dt { "Hours" } dd { (format!("{:.2}", e.actual_hours)) @if let Some(est) = e.estimated_hours { " of " (est) " estimated" } }
                    dt { "Hourly rate" } dd { @if let Some(v) = usd(e.hourly_rate) { (v) } @else { (dash()) } }
                    dt { "Fixed fee" } dd { @if let Some(v) = usd(e.fixed_fee) { (v) } @else { (dash()) } }
                    dt { "Assigned to" } dd { @if let Some(m) = assignee { (m.name) } @else if e.assigned_to.is_some() { "a member" } @else { (dash()) } }
                    dt { "Completed" } dd { @if let Some(t) = e.completed_at { (ui::time(t)) } @else { (dash()) } }
                }
                @if let Some(d) = &e.description { p { (d) } }
            }
            @if may_update {
                form class="card form" method="post" action={ "/engagements/" (e.id) } aria-labelledby="edit-h" {
                    h2 id="edit-h" { "Update" }
                    (csrf(viewer))
                    (refusal.alert())
                    (fields(refusal, f, &staff, true))
                    div { button class="btn primary" type="submit" { "Save changes" } }
                }
            }
        }
        @if let Some(t) = &time { (time_section(viewer, e, t, &here)) }
    };
    Ok(layout::page(viewer, Nav::Clients, &e.name, body))
}

const TIME_ROWS: usize = 20;

/// The engagement's time: hours logged (its `actual_hours`), billable hours, work in progress,
/// billed amount, the latest entries, a timer button and \"Bill unbilled time\".
fn time_section(viewer: &Viewer, e: &EngagementResponse, t: &EngagementTimeResponse, here: &str) -> Markup {
    html! {
        section class="card stack" aria-labelledby="time-h" {
            div class="actions-row" {
                h2 id="time-h" { "Time" }
                (time::start_button(viewer, ("engagement_id", e.id.to_string()), &e.name, here))
            }
            dl class="facts" {
                dt { "Hours logged" } dd id="engagement-hours" { (format!("{:.2}", t.actual_hours)) @if let Some(est) = e.estimated_hours { " of " (est) " estimated" } }
                dt { "Billable hours" } dd { (format!("{:.2}", t.billable_hours)) }
                dt { "Work in progress" } dd id="engagement-wip" { (ui::money(t.wip_amount, "USD")) " " span class="muted" { "(billable time not billed yet)" } }
                dt { "Billed" } dd { (ui::money(t.billed_amount, "USD")) }
            }
            @if viewer.caller.has(Permission::BillingCreate) && t.wip_amount > Decimal::ZERO {
                form class="inline" method="post" action={ "/engagements/" (e.id) "/bill-time" } {
                    (csrf(viewer))
                    button class="btn primary" type="submit" { "Bill unbilled time" }
                    " " span class="muted" { "a draft invoice, one line per member and rate, that you can review before sending" }
                }
            }
            @if t.items.is_empty() {
                p class="muted" { "No time logged yet: entries on this engagement, or on steps of its workflows, appear here." }
            } @else {
                div class="table-wrap" tabindex="0" role="region" aria-label="Time entries (scrolls)" {
                    table class="data" {
                        thead { tr { th { "Started" } th { "Member" } th { "Work" } th { "Note" } th class="num" { "Hours" } th class="num" { "Amount" } } }
                        tbody {
                            @for x in &t.items {
                                tr {
                                    td { (ui::time(x.started_at)) }
                                    td { (x.user_name) }
                                    td { @if let Some(s) = &x.step_name { (s) } @else { "Engagement" } }
                                    td { @if let Some(n) = &x.note { (n) } }
                                    td class="num" { @if let Some(h) = x.hours { (h) } @else { (ui::badge("running")) } }
                                    td class="num" {
                                        @if let Some(a) = x.amount { (ui::money(a, "USD")) } @else if !x.billable { span class="muted" { "non-billable" } }
                                        @if let Some(i) = x.invoice_id { " " a href={ "/invoices/" (i) } { "billed" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /engagements/{id}/bill-time`: bills the work in progress and opens the draft invoice.
pub async fn bill_time(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<EngagementId>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult<Response> {
    let invoice = state.practice.bill_engagement_time(&viewer.caller, id, BillTimeRequest::default()).await?;
    Ok(see_other(&format!("/invoices/{}", invoice.id)))
}

/// `GET /engagements/{id}`.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<EngagementId>,
) -> PageResult<Response> {
    let e = state.practice.get_engagement(&viewer.caller, id).await?;
    let f = EngagementForm::from_engagement(&e);
    Ok(engagement_page(&state, &viewer, &e, &f, None).await?.into_response())
}

/// `POST /engagements/{id}`: saves the changes, or shows them again with the problems.
pub async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<EngagementId>,
    CsrfForm(f): CsrfForm<EngagementForm>,
) -> PageResult<Response> {
    match state.practice.update_engagement(&viewer.caller, id, f.update()?).await {
        Ok(_) => Ok(see_other(&format!("/engagements/{id}"))),
        Err(err) => {
            let err = fixable(err)?;
            let e = state.practice.get_engagement(&viewer.caller, id).await?;
            let page = engagement_page(&state, &viewer, &e, &f, Some(&err)).await?;
            Ok((err.status(), page).into_response())
        }
    }
}
