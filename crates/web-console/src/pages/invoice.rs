//! One invoice: its lines and totals, the payments received, and (with `billing:update`) sending
//! it, cancelling it and recording a payment.

use api_types::invoices::{InvoiceResponse, RecordPaymentRequest};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use domain::invoice::InvoiceAction;
use domain::{InvoiceId, Permission};
use maud::{Markup, html};
use rust_decimal::Decimal;
use serde::Deserialize;

use api::AppState;

use crate::error::{PageError, PageResult, fixable};
use crate::form;
use crate::layout::{self, Nav, csrf};
use crate::session::{CsrfForm, NoFields, Viewer, see_other};
use crate::ui;

fn render(viewer: &Viewer, i: &InvoiceResponse, error: Option<&str>) -> Markup {
    let can_update = viewer.caller.has(Permission::BillingUpdate);
    let cur = i.currency.as_str();
    let title = format!("Invoice {}", i.number);
    let body = html! {
        (layout::head_row(&title, Some(html! { a href={ "/clients/" (i.client_id) "?tab=invoices" } { "Client's invoices" } }), can_update.then(|| html! {
            @if i.status.allows(InvoiceAction::Send) {
                form method="post" action={ "/invoices/" (i.id) "/send" } { (csrf(viewer)) button class="btn primary" type="submit" { "Send" } }
            }
            @if i.status.allows(InvoiceAction::Cancel) {
                (form::confirm(viewer, &format!("/invoices/{}/cancel", i.id), "Cancel invoice", "A cancelled invoice cannot be sent or paid again; its number stays used."))
            }
        })))
        @if let Some(e) = error { div class="alert error" role="alert" { (e) } }
        div { (ui::badge(&ui::label(&i.status))) " " span class="muted" { "Issued " (ui::date(i.issue_date)) ", due " (ui::date(i.due_date)) } }
        div class="grid-2" {
            section class="card flush" aria-labelledby="lines-h" {
                div class="table-foot" { h2 id="lines-h" { "Lines" } }
                table class="data" {
                    thead { tr { th scope="col" { "Description" } th scope="col" class="num" { "Qty" } th scope="col" class="num" { "Price" } th scope="col" class="num" { "Amount" } } }
                    tbody {
                        @for l in i.lines.iter().flatten() {
                            tr { td class="wrap" { (l.description) } td class="num" { (l.quantity) } td class="num" { (ui::money(l.unit_price, cur)) } td class="num" { (ui::money(l.amount, cur)) } }
                        }
                    }
                }
                dl class="facts table-foot" {
                    dt { "Subtotal" } dd class="num" { (ui::money(i.subtotal, cur)) }
                    dt { "Tax" } dd class="num" { (ui::money(i.tax_amount, cur)) }
                    dt { "Discount" } dd class="num" { (ui::money(i.discount_amount, cur)) }
                    dt { strong { "Total" } } dd class="num" { strong { (ui::money(i.total, cur)) } }
                    dt { "Paid" } dd class="num" { (ui::money(i.paid_amount, cur)) }
                    dt { strong { "Balance" } } dd class="num" id="balance" { strong { (ui::money(i.balance, cur)) } }
                }
            }
            section class="card" aria-labelledby="pay-h" {
                h2 id="pay-h" { "Payments" }
                @let payments = i.payments.as_deref().unwrap_or_default();
                @if payments.is_empty() { p class="muted" { "No payments yet." } }
                @else {
                    table class="data" {
                        thead { tr { th scope="col" { "Paid on" } th scope="col" { "Method" } th scope="col" { "Reference" } th scope="col" class="num" { "Amount" } } }
                        tbody {
                            @for p in payments {
                                tr { td { (ui::date(p.paid_on)) } td { (p.method.as_deref().unwrap_or("")) } td { (p.reference.as_deref().unwrap_or("")) } td class="num" { (ui::money(p.amount, cur)) } }
                            }
                        }
                    }
                }
                @if can_update && i.status.allows(InvoiceAction::Pay) {
                    form class="form" method="post" action={ "/invoices/" (i.id) "/payments" } {
                        (csrf(viewer))
                        h3 { "Record a payment" }
                        label { "Amount (" (cur) ")" input name="amount" required inputmode="decimal" value=(i.balance); }
                        label { "Paid on" input type="date" name="paid_on"; }
                        label { "Method" input name="method" placeholder="ACH, check, card"; }
                        label { "Reference" input name="reference"; }
                        div { button class="btn primary" type="submit" { "Record payment" } }
                    }
                }
            }
        }
    };
    layout::page(viewer, Nav::Clients, &title, body)
}

/// `GET /invoices/{id}`.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<InvoiceId>,
) -> PageResult<Response> {
    let i = state.practice.get_invoice(&viewer.caller, id).await?;
    Ok(render(&viewer, &i, None).into_response())
}

/// A refusal the person can act on (a conflict, a bad amount) shows on the invoice's page.
async fn after(
    state: &AppState,
    viewer: &Viewer,
    id: InvoiceId,
    result: Result<InvoiceResponse, practice::PracticeError>,
) -> PageResult<Response> {
    match result {
        Ok(_) => Ok(see_other(&format!("/invoices/{id}"))),
        Err(e) => {
            let e = fixable(e)?;
            let i = state.practice.get_invoice(&viewer.caller, id).await?;
            Ok((e.status(), render(viewer, &i, Some(e.detail()))).into_response())
        }
    }
}

/// `POST /invoices/{id}/send`.
pub async fn send(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<InvoiceId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    let r = state.practice.send_invoice(&viewer.caller, id).await;
    after(&state, &viewer, id, r).await
}

/// `POST /invoices/{id}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<InvoiceId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    let r = state.practice.cancel_invoice(&viewer.caller, id).await;
    after(&state, &viewer, id, r).await
}

#[derive(Debug, Deserialize)]
pub struct PaymentForm {
    amount: String,
    paid_on: Option<String>,
    method: Option<String>,
    reference: Option<String>,
}

/// `POST /invoices/{id}/payments`.
pub async fn pay(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<InvoiceId>,
    CsrfForm(f): CsrfForm<PaymentForm>,
) -> PageResult<Response> {
    let amount: Decimal = f
        .amount
        .trim()
        .replace(',', "")
        .parse()
        .map_err(|_| PageError::BadForm("the amount is not a number (use 1234.56)".into()))?;
    let nonempty = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let paid_on = match nonempty(f.paid_on) {
        Some(d) => Some(
            d.parse::<NaiveDate>()
                .map_err(|_| PageError::BadForm("the payment date is not a date".into()))?,
        ),
        None => None,
    };
    let req = RecordPaymentRequest {
        amount,
        paid_on,
        method: nonempty(f.method),
        reference: nonempty(f.reference),
    };
    let r = state.practice.record_payment(&viewer.caller, id, req).await;
    after(&state, &viewer, id, r).await
}
