//! Invoice use cases: drafts whose amounts the server computes, the status flow, payments and
//! AR aging. Portal users reach only invoices of clients whose grant lets them view financials.

use api_types::Page;
use api_types::invoices::{
    AgingParams, AgingResponse, CreateInvoiceRequest, InvoiceLineInput, InvoiceLineResponse,
    InvoiceListParams, InvoiceResponse, PaymentResponse, RecordPaymentRequest, UpdateInvoiceRequest,
};
use chrono::{NaiveDate, TimeDelta, Utc};
use domain::invoice::{InvoiceError, LineInput, compute_totals};
use domain::{ClientScope, InvoiceAction, InvoiceId, InvoiceStatus, Permission};
use identity::Caller;
use rust_decimal::Decimal;
use store::invoices::{self, DraftChanges, Invoice, InvoiceDetail, InvoiceFilter, NewInvoice, NewPayment};
use store::{AuditRecord, TenantTx};

use crate::error::NotFoundAs;
use crate::{Practice, PracticeError, PracticeResult};
use domain::validate::Problems;

fn invoice_response(
    i: Invoice,
    detail: Option<(Vec<invoices::InvoiceLine>, Vec<invoices::Payment>)>,
) -> InvoiceResponse {
    let (lines, payments) = match detail {
        Some((lines, payments)) => (
            Some(
                lines
                    .into_iter()
                    .map(|l| InvoiceLineResponse {
                        position: l.position,
                        description: l.description,
                        quantity: l.quantity,
                        unit_price: l.unit_price,
                        amount: l.amount,
                    })
                    .collect(),
            ),
            Some(
                payments
                    .into_iter()
                    .map(|p| PaymentResponse {
                        id: p.id,
                        amount: p.amount,
                        paid_on: p.paid_on,
                        method: p.method,
                        reference: p.reference,
                        created_at: p.created_at,
                    })
                    .collect(),
            ),
        ),
        None => (None, None),
    };
    InvoiceResponse {
        id: i.id,
        client_id: i.client_id,
        engagement_id: i.engagement_id,
        number: i.number,
        title: i.title,
        status: i.status,
        issue_date: i.issue_date,
        due_date: i.due_date,
        currency: i.currency,
        tax_rate: i.tax_rate,
        subtotal: i.subtotal,
        tax_amount: i.tax_amount,
        discount_amount: i.discount_amount,
        total: i.total,
        paid_amount: i.paid_amount,
        balance: i.balance,
        notes: i.notes,
        sent_at: i.sent_at,
        viewed_at: i.viewed_at,
        paid_at: i.paid_at,
        cancelled_at: i.cancelled_at,
        created_at: i.created_at,
        updated_at: i.updated_at,
        lines,
        payments,
    }
}

pub(crate) fn detail_response(d: InvoiceDetail) -> InvoiceResponse {
    invoice_response(d.invoice, Some((d.lines, d.payments)))
}

fn line_inputs(lines: &[InvoiceLineInput]) -> Vec<LineInput> {
    lines
        .iter()
        .map(|l| LineInput {
            description: l.description.clone(),
            quantity: l.quantity,
            unit_price: l.unit_price,
        })
        .collect()
}

fn invoice_error(e: InvoiceError) -> PracticeError {
    let field = match &e {
        InvoiceError::LineCount => "lines".to_owned(),
        InvoiceError::Description(i) => format!("lines[{i}].description"),
        InvoiceError::Quantity(i) => format!("lines[{i}].quantity"),
        InvoiceError::UnitPrice(i) => format!("lines[{i}].unit_price"),
        InvoiceError::TaxRate => "tax_rate".to_owned(),
        InvoiceError::Discount => "discount".to_owned(),
        InvoiceError::TotalMismatch { .. } => "total".to_owned(),
    };
    PracticeError::invalid(field, e.to_string())
}

/// Moves an invoice from one status to another and records the move.
async fn set_status(
    tx: &mut TenantTx,
    id: InvoiceId,
    from: InvoiceStatus,
    to: InvoiceStatus,
) -> PracticeResult<()> {
    invoices::set_status(tx, id, from, to).await?;
    tx.audit(
        AuditRecord::new("invoice.status", "invoice", id)
            .before(serde_json::json!({ "status": from }))
            .after(serde_json::json!({ "status": to })),
    );
    Ok(())
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A new invoice's checked parts, ready to write.
pub(crate) struct Prepared {
    totals: domain::invoice::Totals,
    issue_date: NaiveDate,
    due_date: NaiveDate,
    currency: String,
    number: Option<String>,
    title: Option<String>,
    notes: Option<String>,
    lines: Vec<(String, Decimal, Decimal)>,
}

/// Checks a new invoice (422 with every problem) and computes its totals; no I/O.
pub(crate) fn prepare(req: &CreateInvoiceRequest) -> PracticeResult<Prepared> {
    let mut p = Problems::default();
    let tax_rate = req.tax_rate.unwrap_or_default();
    let totals = compute_totals(&line_inputs(&req.lines), tax_rate, req.discount.unwrap_or_default())
        .map_err(invoice_error)?;
    if let Some(sent) = req.total
        && sent != totals.total
    {
        return Err(invoice_error(InvoiceError::TotalMismatch { sent, computed: totals.total }));
    }
    let issue_date = req.issue_date.unwrap_or_else(today);
    let due_date = req.due_date.unwrap_or(issue_date + TimeDelta::days(30));
    if due_date < issue_date {
        p.add("due_date", "must not be before issue_date");
    }
    let currency = req.currency.as_deref().unwrap_or("USD").trim().to_uppercase();
    if !domain::currency::is_iso_4217(&currency) {
        p.add("currency", "must be an ISO 4217 currency code in use, such as USD or EUR");
    }
    let number = req.number.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = number
        && (n.len() > 40
            || n.to_uppercase().starts_with("INV-")
            || !n.chars().all(|c| c.is_ascii_alphanumeric() || "-_/.".contains(c)))
    {
        p.add("number", "custom numbers are up to 40 letters, digits, - _ / . and must not start with INV-");
    }
    let title = p.text("title", req.title.as_deref(), 300);
    let notes = p.text("notes", req.notes.as_deref(), 10_000);
    p.into_result()?;
    let lines: Vec<(String, Decimal, Decimal)> =
        req.lines.iter().map(|l| (l.description.trim().to_owned(), l.quantity, l.unit_price)).collect();
    Ok(Prepared {
        totals,
        issue_date,
        due_date,
        currency,
        number: number.map(str::to_owned),
        title,
        notes,
        lines,
    })
}

/// Writes a prepared invoice (its number the next one unless given) and audits it.
pub(crate) async fn insert_invoice(
    tx: &mut TenantTx,
    req: &CreateInvoiceRequest,
    p: Prepared,
) -> PracticeResult<InvoiceDetail> {
    let number = match p.number {
        Some(n) => n,
        None => invoices::next_number(tx).await?,
    };
    let id = InvoiceId::new();
    let detail = invoices::create(
        tx,
        NewInvoice {
            id,
            client_id: req.client_id,
            engagement_id: req.engagement_id,
            number: &number,
            title: p.title.as_deref(),
            issue_date: p.issue_date,
            due_date: p.due_date,
            currency: &p.currency,
            tax_rate: req.tax_rate.unwrap_or_default(),
            notes: p.notes.as_deref(),
            descriptions: &p.lines,
            totals: &p.totals,
        },
    )
    .await
    .map_err(|e| match e {
        store::StoreError::NotFound => PracticeError::NotFound("client (or its engagement)"),
        e if e.is_conflict_on("invoices_organization_id_number_key") => {
            PracticeError::Conflict(format!("invoice number {number} is already used"))
        }
        other => other.into(),
    })?;
    tx.audit(AuditRecord::new("invoice.create", "invoice", id).after(&detail));
    Ok(detail)
}

impl Practice {
    pub async fn create_invoice(
        &self,
        caller: &Caller,
        req: CreateInvoiceRequest,
    ) -> PracticeResult<InvoiceResponse> {
        caller.require(Permission::BillingCreate)?;
        let prepared = prepare(&req)?;
        let mut tx = self.tx(caller).await?;
        let detail = insert_invoice(&mut tx, &req, prepared).await?;
        tx.commit().await?;
        Ok(detail_response(detail))
    }

    /// One invoice with lines and payments. A portal user sees only issued invoices (never a draft);
    /// opening a sent one marks it viewed.
    pub async fn get_invoice(&self, caller: &Caller, id: InvoiceId) -> PracticeResult<InvoiceResponse> {
        caller.require(Permission::BillingRead)?;
        let mut tx = self.tx(caller).await?;
        let mut detail =
            invoices::get(&mut tx, id, &caller.financial_scope()).await.or_not_found("invoice")?;
        if !caller.role.is_staff() && detail.invoice.sent_at.is_none() {
            return Err(PracticeError::NotFound("invoice"));
        }
        if !caller.role.is_staff() && detail.invoice.status.allows(InvoiceAction::View) {
            set_status(&mut tx, id, detail.invoice.status, InvoiceStatus::Viewed).await?;
            detail = invoices::get(&mut tx, id, &ClientScope::All).await?;
        }
        tx.commit().await?;
        Ok(detail_response(detail))
    }

    pub async fn update_invoice(
        &self,
        caller: &Caller,
        id: InvoiceId,
        req: UpdateInvoiceRequest,
    ) -> PracticeResult<InvoiceResponse> {
        caller.require(Permission::BillingUpdate)?;
        let mut tx = self.tx(caller).await?;
        let current = invoices::get(&mut tx, id, &ClientScope::All).await.or_not_found("invoice")?;
        if !current.invoice.status.allows(InvoiceAction::Edit) {
            return Err(PracticeError::Conflict(format!(
                "only drafts can be edited; this invoice is {}",
                current.invoice.status
            )));
        }
        let lines: Vec<(String, Decimal, Decimal)> = match &req.lines {
            Some(l) => {
                l.iter().map(|l| (l.description.trim().to_owned(), l.quantity, l.unit_price)).collect()
            }
            None => current.lines.iter().map(|l| (l.description.clone(), l.quantity, l.unit_price)).collect(),
        };
        let inputs: Vec<LineInput> = lines
            .iter()
            .map(|(d, q, p)| LineInput { description: d.clone(), quantity: *q, unit_price: *p })
            .collect();
        let tax_rate = req.tax_rate.unwrap_or(current.invoice.tax_rate);
        let totals =
            compute_totals(&inputs, tax_rate, req.discount.unwrap_or(current.invoice.discount_amount))
                .map_err(invoice_error)?;
        if let Some(sent) = req.total
            && sent != totals.total
        {
            return Err(invoice_error(InvoiceError::TotalMismatch { sent, computed: totals.total }));
        }
        let issue = req.issue_date.unwrap_or(current.invoice.issue_date);
        let due = req.due_date.unwrap_or(current.invoice.due_date);
        let mut p = Problems::default();
        if due < issue {
            p.add("due_date", "must not be before issue_date");
        }
        let title = req.title.as_ref().map(|t| p.text("title", t.as_deref(), 300));
        let notes = req.notes.as_ref().map(|n| p.text("notes", n.as_deref(), 10_000));
        p.into_result()?;
        let change = invoices::update_draft(
            &mut tx,
            id,
            DraftChanges {
                title: title.as_ref().map(|t| t.as_deref()),
                issue_date: req.issue_date,
                due_date: req.due_date,
                notes: notes.as_ref().map(|n| n.as_deref()),
                tax_rate,
                lines: req.lines.as_ref().map(|_| lines.as_slice()),
                totals: &totals,
            },
        )
        .await?;
        tx.audit(
            AuditRecord::new("invoice.update", "invoice", id).before(&change.before).after(&change.after),
        );
        tx.commit().await?;
        Ok(detail_response(change.after))
    }

    async fn move_invoice(
        &self,
        caller: &Caller,
        id: InvoiceId,
        action: InvoiceAction,
    ) -> PracticeResult<InvoiceResponse> {
        caller.require(Permission::BillingUpdate)?;
        let mut tx = self.tx(caller).await?;
        let current = invoices::get(&mut tx, id, &ClientScope::All).await.or_not_found("invoice")?;
        let from = current.invoice.status;
        if !from.allows(action) {
            return Err(PracticeError::Conflict(format!(
                "an invoice that is {from} cannot be {action:?}-ed"
            )));
        }
        let to = from.after(action, false);
        if to != from {
            set_status(&mut tx, id, from, to).await?;
        }
        let detail = invoices::get(&mut tx, id, &ClientScope::All).await?;
        tx.commit().await?;
        Ok(detail_response(detail))
    }

    pub async fn send_invoice(&self, caller: &Caller, id: InvoiceId) -> PracticeResult<InvoiceResponse> {
        self.move_invoice(caller, id, InvoiceAction::Send).await
    }

    pub async fn cancel_invoice(&self, caller: &Caller, id: InvoiceId) -> PracticeResult<InvoiceResponse> {
        self.move_invoice(caller, id, InvoiceAction::Cancel).await
    }

    pub async fn record_payment(
        &self,
        caller: &Caller,
        id: InvoiceId,
        req: RecordPaymentRequest,
    ) -> PracticeResult<InvoiceResponse> {
        caller.require(Permission::BillingUpdate)?;
        let mut p = Problems::default();
        let method = p.text("method", req.method.as_deref(), 50);
        let reference = p.text("reference", req.reference.as_deref(), 200);
        if req.amount <= Decimal::ZERO || req.amount.scale() > 2 {
            p.add("amount", "must be more than 0 with at most 2 decimals");
        }
        p.into_result()?;
        let mut tx = self.tx(caller).await?;
        let current = invoices::get(&mut tx, id, &ClientScope::All).await.or_not_found("invoice")?;
        let status = current.invoice.status;
        if !status.allows(InvoiceAction::Pay) {
            return Err(PracticeError::Conflict(format!("an invoice that is {status} takes no payments")));
        }
        if req.amount > current.invoice.balance {
            return Err(PracticeError::invalid(
                "amount",
                format!("exceeds the balance of {}", current.invoice.balance),
            ));
        }
        let paid_on = req.paid_on.unwrap_or_else(today);
        let payment_id = invoices::record_payment(
            &mut tx,
            id,
            NewPayment {
                amount: req.amount,
                paid_on,
                method: method.as_deref(),
                reference: reference.as_deref(),
            },
            status.after(InvoiceAction::Pay, true),
            status.after(InvoiceAction::Pay, false),
        )
        .await?;
        tx.audit(AuditRecord::new("invoice.payment", "invoice", id).after(serde_json::json!({
            "payment_id": payment_id, "amount": req.amount, "paid_on": paid_on, "method": method,
        })));
        let detail = invoices::get(&mut tx, id, &ClientScope::All).await?;
        tx.commit().await?;
        Ok(detail_response(detail))
    }

    pub async fn delete_invoice(&self, caller: &Caller, id: InvoiceId) -> PracticeResult<()> {
        caller.require(Permission::BillingDelete)?;
        let mut tx = self.tx(caller).await?;
        let current = invoices::get(&mut tx, id, &ClientScope::All).await.or_not_found("invoice")?;
        if !current.invoice.status.allows(InvoiceAction::Delete) {
            return Err(PracticeError::Conflict(
                "only drafts can be deleted; cancel a sent invoice instead".into(),
            ));
        }
        let before = invoices::delete_draft(&mut tx, id).await?;
        tx.audit(AuditRecord::new("invoice.delete", "invoice", id).before(&before));
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_invoices(
        &self,
        caller: &Caller,
        q: &InvoiceListParams,
        limit: usize,
    ) -> PracticeResult<Page<InvoiceResponse>> {
        caller.require(Permission::BillingRead)?;
        let mut tx = self.tx(caller).await?;
        let filter = InvoiceFilter {
            client_id: q.client_id,
            status: q.status,
            due_before: q.due_before,
            issued_only: !caller.role.is_staff(),
        };
        let page =
            invoices::list(&mut tx, &caller.financial_scope(), &filter, q.cursor.as_deref(), limit).await?;
        tx.commit().await?;
        Ok(Page {
            items: page.items.into_iter().map(|i| invoice_response(i, None)).collect(),
            next_cursor: page.next_cursor,
        })
    }

    pub async fn aging(&self, caller: &Caller, q: &AgingParams) -> PracticeResult<AgingResponse> {
        caller.require(Permission::BillingRead)?;
        let as_of = q.as_of.unwrap_or_else(today);
        let mut tx = self.tx(caller).await?;
        let a = invoices::aging(&mut tx, &caller.financial_scope(), q.client_id, as_of).await?;
        tx.commit().await?;
        // Money always shows cents (a bucket with nothing in it sums to a bare 0).
        let money = |mut d: Decimal| {
            d.rescale(2);
            d
        };
        Ok(AgingResponse {
            as_of,
            current: money(a.current),
            days_1_30: money(a.days_1_30),
            days_31_60: money(a.days_31_60),
            days_61_90: money(a.days_61_90),
            days_over_90: money(a.days_over_90),
            total_open: money(a.total_open),
            open_invoices: a.open_invoices,
        })
    }

    /// Marks past-due invoices overdue (the daily scheduled job calls this per organization).
    pub async fn mark_overdue(&self, tx: &mut TenantTx) -> PracticeResult<u64> {
        let marked = invoices::mark_overdue(tx, today()).await?;
        for id in &marked {
            tx.audit(AuditRecord::new("invoice.overdue", "invoice", id));
        }
        Ok(marked.len() as u64)
    }
}
