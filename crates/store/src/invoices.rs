//! Invoices with their lines and payments, per-organization numbers, and AR aging.

use chrono::{DateTime, NaiveDate, Utc};
use domain::invoice::Totals;
use domain::{ClientId, ClientScope, EngagementId, InvoiceId, InvoiceStatus};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use crate::cursor::{self, Page};
use crate::query_mode::Mode;
use crate::{Change, StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Invoice {
    pub id: InvoiceId,
    pub client_id: ClientId,
    pub engagement_id: Option<EngagementId>,
    pub number: String,
    pub title: Option<String>,
    pub status: InvoiceStatus,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: String,
    pub tax_rate: Decimal,
    pub subtotal: Decimal,
    pub tax_amount: Decimal,
    pub discount_amount: Decimal,
    pub total: Decimal,
    pub paid_amount: Decimal,
    pub balance: Decimal,
    pub notes: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub viewed_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! columns {
    () => {
        "id, client_id, engagement_id, number, title, status, issue_date, due_date, currency, tax_rate, subtotal,
         tax_amount, discount_amount, total, paid_amount, balance, notes, sent_at, viewed_at, paid_at,
         cancelled_at, created_at, updated_at"
    };
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct InvoiceLine {
    pub position: i32,
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub amount: Decimal,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Payment {
    pub id: Uuid,
    pub amount: Decimal,
    pub paid_on: NaiveDate,
    pub method: Option<String>,
    pub reference: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InvoiceDetail {
    #[serde(flatten)]
    pub invoice: Invoice,
    pub lines: Vec<InvoiceLine>,
    pub payments: Vec<Payment>,
}

/// The next number of the organization's sequence (`INV-000042`), under a row lock held to commit.
pub async fn next_number(tx: &mut TenantTx) -> StoreResult<String> {
    let org = tx.org_uuid();
    let n: i64 = sqlx::query_scalar(
        "insert into invoice_sequences (organization_id, next_number) values ($1, 2)
         on conflict (organization_id) do update set next_number = invoice_sequences.next_number + 1
         returning next_number - 1",
    )
    .bind(org)
    .fetch_one(tx.conn())
    .await?;
    Ok(format!("INV-{n:06}"))
}

pub struct NewInvoice<'a> {
    pub id: InvoiceId,
    pub client_id: ClientId,
    pub engagement_id: Option<EngagementId>,
    pub number: &'a str,
    pub title: Option<&'a str>,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: &'a str,
    pub tax_rate: Decimal,
    pub notes: Option<&'a str>,
    pub descriptions: &'a [(String, Decimal, Decimal)],
    pub totals: &'a Totals,
}

/// Creates a draft. The client (and engagement, if any) must exist in this organization: a
/// missing one is `NotFound`; a taken number is `Conflict("invoices_organization_id_number_key")`.
pub async fn create(tx: &mut TenantTx, n: NewInvoice<'_>) -> StoreResult<InvoiceDetail> {
    let org = tx.org_uuid();
    let created_by = tx.actor().id;
    let inserted = sqlx::query(
        "insert into invoices (id, organization_id, client_id, engagement_id, number, title, issue_date, due_date,
             currency, tax_rate, subtotal, tax_amount, discount_amount, total, notes, created_by)
         select $1, $2, c.id, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16
         from clients c
         where c.organization_id = $2 and c.id = $3 and c.deleted_at is null
           and ($4::uuid is null or exists (select 1 from engagements e
                where e.organization_id = $2 and e.id = $4 and e.client_id = $3))",
    )
    .bind(n.id)
    .bind(org)
    .bind(n.client_id)
    .bind(n.engagement_id)
    .bind(n.number)
    .bind(n.title)
    .bind(n.issue_date)
    .bind(n.due_date)
    .bind(n.currency)
    .bind(n.tax_rate)
    .bind(n.totals.subtotal)
    .bind(n.totals.tax_amount)
    .bind(n.totals.discount_amount)
    .bind(n.totals.total)
    .bind(n.notes)
    .bind(created_by)
    .execute(tx.conn())
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(crate::StoreError::NotFound);
    }
    insert_lines(tx, n.id, n.descriptions, n.totals).await?;
    get(tx, n.id, &ClientScope::All).await
}

async fn insert_lines(
    tx: &mut TenantTx,
    invoice: InvoiceId,
    lines: &[(String, Decimal, Decimal)],
    totals: &Totals,
) -> StoreResult<()> {
    let org = tx.org_uuid();
    let ids: Vec<Uuid> = lines.iter().map(|_| Uuid::now_v7()).collect();
    let positions: Vec<i32> = (1..=lines.len() as i32).collect();
    let descriptions: Vec<&str> = lines.iter().map(|l| l.0.as_str()).collect();
    let quantities: Vec<Decimal> = lines.iter().map(|l| l.1).collect();
    let prices: Vec<Decimal> = lines.iter().map(|l| l.2).collect();
    sqlx::query(
        "insert into invoice_lines (id, organization_id, invoice_id, position, description, quantity, unit_price, amount)
         select id, $1, $2, pos, descr, qty, price, amount
         from unnest($3::uuid[], $4::int[], $5::text[], $6::numeric[], $7::numeric[], $8::numeric[])
              as t(id, pos, descr, qty, price, amount)",
    )
    .bind(org)
    .bind(invoice)
    .bind(&ids)
    .bind(&positions)
    .bind(&descriptions)
    .bind(&quantities)
    .bind(&prices)
    .bind(&totals.line_amounts)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn get(tx: &mut TenantTx, id: InvoiceId, scope: &ClientScope) -> StoreResult<InvoiceDetail> {
    let org = tx.org_uuid();
    let invoice: Invoice = sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from invoices where organization_id = $1 and id = $2 and ($3::uuid[] is null or client_id = any($3))"
    ))
    .bind(org)
    .bind(id)
    .bind(scope.ids())
    .fetch_one(tx.conn())
    .await?;
    let lines = sqlx::query_as(
        "select position, description, quantity, unit_price, amount from invoice_lines
         where organization_id = $1 and invoice_id = $2 order by position",
    )
    .bind(org)
    .bind(id)
    .fetch_all(tx.conn())
    .await?;
    let payments = sqlx::query_as(
        "select id, amount, paid_on, method, reference, created_at from invoice_payments
         where organization_id = $1 and invoice_id = $2 order by paid_on, created_at",
    )
    .bind(org)
    .bind(id)
    .fetch_all(tx.conn())
    .await?;
    Ok(InvoiceDetail { invoice, lines, payments })
}

/// Replaces a draft's lines, amounts and editable fields.
pub struct DraftChanges<'a> {
    pub title: Option<Option<&'a str>>,
    pub issue_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub notes: Option<Option<&'a str>>,
    pub tax_rate: Decimal,
    pub lines: Option<&'a [(String, Decimal, Decimal)]>,
    pub totals: &'a Totals,
}

/// Returns the invoice before and after.
pub async fn update_draft(
    tx: &mut TenantTx,
    id: InvoiceId,
    c: DraftChanges<'_>,
) -> StoreResult<Change<InvoiceDetail>> {
    let before = get(tx, id, &ClientScope::All).await?;
    let org = tx.org_uuid();
    sqlx::query(
        "update invoices set
             title = case when $3 then $4 else title end,
             issue_date = coalesce($5, issue_date),
             due_date = coalesce($6, due_date),
             notes = case when $7 then $8 else notes end,
             tax_rate = $9, subtotal = $10, tax_amount = $11, discount_amount = $12, total = $13
         where organization_id = $1 and id = $2 and status = 'draft'",
    )
    .bind(org)
    .bind(id)
    .bind(c.title.is_some())
    .bind(c.title.flatten())
    .bind(c.issue_date)
    .bind(c.due_date)
    .bind(c.notes.is_some())
    .bind(c.notes.flatten())
    .bind(c.tax_rate)
    .bind(c.totals.subtotal)
    .bind(c.totals.tax_amount)
    .bind(c.totals.discount_amount)
    .bind(c.totals.total)
    .execute(tx.conn())
    .await?;
    if let Some(lines) = c.lines {
        sqlx::query("delete from invoice_lines where organization_id = $1 and invoice_id = $2")
            .bind(org)
            .bind(id)
            .execute(tx.conn())
            .await?;
        insert_lines(tx, id, lines, c.totals).await?;
    }
    let after = get(tx, id, &ClientScope::All).await?;
    Ok(Change { before, after })
}

/// Moves an invoice to `status`, stamping the matching time.
pub async fn set_status(
    tx: &mut TenantTx,
    id: InvoiceId,
    from: InvoiceStatus,
    to: InvoiceStatus,
) -> StoreResult<()> {
    let org = tx.org_uuid();
    let done = sqlx::query(
        "update invoices set status = $4,
             sent_at = case when $4 = 'sent' then coalesce(sent_at, now()) else sent_at end,
             viewed_at = case when $4 = 'viewed' then coalesce(viewed_at, now()) else viewed_at end,
             cancelled_at = case when $4 = 'cancelled' then now() else cancelled_at end
         where organization_id = $1 and id = $2 and status = $3",
    )
    .bind(org)
    .bind(id)
    .bind(from)
    .bind(to)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(crate::StoreError::Conflict("invoice status changed concurrently".to_owned()));
    }
    Ok(())
}

pub struct NewPayment<'a> {
    pub amount: Decimal,
    pub paid_on: NaiveDate,
    pub method: Option<&'a str>,
    pub reference: Option<&'a str>,
}

/// Records a payment and moves the invoice to partial or paid in one statement (the balance
/// check is the database's: paid_amount <= total); returns the payment's id.
pub async fn record_payment(
    tx: &mut TenantTx,
    id: InvoiceId,
    p: NewPayment<'_>,
    fully_paid_status: InvoiceStatus,
    partial_status: InvoiceStatus,
) -> StoreResult<Uuid> {
    let org = tx.org_uuid();
    let recorded_by = tx.actor().id;
    let payment_id = Uuid::now_v7();
    sqlx::query(
        "insert into invoice_payments (id, organization_id, invoice_id, amount, paid_on, method, reference, recorded_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(payment_id)
    .bind(org)
    .bind(id)
    .bind(p.amount)
    .bind(p.paid_on)
    .bind(p.method)
    .bind(p.reference)
    .bind(recorded_by)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "update invoices set paid_amount = paid_amount + $3,
             status = case when paid_amount + $3 >= total then $4 else $5 end,
             paid_at = case when paid_amount + $3 >= total then now() else paid_at end
         where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(id)
    .bind(p.amount)
    .bind(fully_paid_status)
    .bind(partial_status)
    .execute(tx.conn())
    .await?;
    Ok(payment_id)
}

/// Deletes a draft; returns it as it was.
pub async fn delete_draft(tx: &mut TenantTx, id: InvoiceId) -> StoreResult<InvoiceDetail> {
    let before = get(tx, id, &ClientScope::All).await?;
    let org = tx.org_uuid();
    sqlx::query("delete from invoices where organization_id = $1 and id = $2 and status = 'draft'")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(before)
}

#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    pub client_id: Option<ClientId>,
    pub status: Option<InvoiceStatus>,
    pub due_before: Option<NaiveDate>,
    /// Only invoices the firm has issued (sent at some point): what a client may see.
    pub issued_only: bool,
}

#[derive(Serialize, Deserialize)]
struct InvoiceKey(NaiveDate, InvoiceId);

/// Newest issue date first.
pub async fn list(
    tx: &mut TenantTx,
    scope: &ClientScope,
    filter: &InvoiceFilter,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<Invoice>> {
    let mut qb = list_query(Mode::Run, tx.org_uuid(), scope, filter, after, limit)?;
    let rows: Vec<Invoice> = qb.build_query_as().fetch_all(tx.conn()).await?;
    Ok(Page::from_overfetch(rows, limit, |i| InvoiceKey(i.issue_date, i.id)))
}

pub(crate) fn list_query(
    mode: Mode,
    org: Uuid,
    scope: &ClientScope,
    filter: &InvoiceFilter,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<QueryBuilder<Postgres>> {
    let after: Option<InvoiceKey> = after.map(cursor::decode).transpose()?;
    let mut qb = mode.builder(concat!("select ", columns!(), " from invoices where organization_id = "));
    qb.push_bind(org);
    if let Some(ids) = scope.ids() {
        qb.push(" and client_id = any(").push_bind(ids).push(")");
    }
    if let Some(c) = filter.client_id {
        qb.push(" and client_id = ").push_bind(c);
    }
    if let Some(s) = filter.status {
        qb.push(" and status = ").push_bind(s);
    }
    if let Some(d) = filter.due_before {
        qb.push(" and due_date < ").push_bind(d);
    }
    if filter.issued_only {
        qb.push(" and sent_at is not null");
    }
    if let Some(InvoiceKey(d, id)) = after {
        qb.push(" and (issue_date, id) < (").push_bind(d).push(", ").push_bind(id).push(")");
    }
    qb.push(" order by issue_date desc, id desc limit ").push_bind(limit as i64 + 1);
    Ok(qb)
}

/// Open balances by days past due on `today`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Aging {
    pub current: Decimal,
    pub days_1_30: Decimal,
    pub days_31_60: Decimal,
    pub days_61_90: Decimal,
    pub days_over_90: Decimal,
    pub total_open: Decimal,
    pub open_invoices: i64,
}

pub async fn aging(
    tx: &mut TenantTx,
    scope: &ClientScope,
    client: Option<ClientId>,
    today: NaiveDate,
) -> StoreResult<Aging> {
    let mut qb = aging_query(Mode::Run, tx.org_uuid(), scope, client, today);
    Ok(qb.build_query_as().fetch_one(tx.conn()).await?)
}

/// The whole firm's aging reads the trigger-kept `ar_open_by_due` (a row per due date); a client's
/// or a portal user's reads their open invoices directly (a handful each).
pub(crate) fn aging_query(
    mode: Mode,
    org: Uuid,
    scope: &ClientScope,
    client: Option<ClientId>,
    today: NaiveDate,
) -> QueryBuilder<Postgres> {
    let whole_firm = scope.ids().is_none() && client.is_none();
    // Bucket edges as in domain::invoice::aging_bucket: due today or later is current.
    let mut qb = mode.builder(if whole_firm {
        "select
             coalesce(sum(balance) filter (where due_date >= p.today), 0) as current,
             coalesce(sum(balance) filter (where due_date < p.today and due_date >= p.today - 30), 0) as days_1_30,
             coalesce(sum(balance) filter (where due_date < p.today - 30 and due_date >= p.today - 60), 0) as days_31_60,
             coalesce(sum(balance) filter (where due_date < p.today - 60 and due_date >= p.today - 90), 0) as days_61_90,
             coalesce(sum(balance) filter (where due_date < p.today - 90), 0) as days_over_90,
             coalesce(sum(balance), 0) as total_open,
             coalesce(sum(invoices), 0)::bigint as open_invoices
         from ar_open_by_due, (select "
    } else {
        "select
             coalesce(sum(balance) filter (where due_date >= p.today), 0) as current,
             coalesce(sum(balance) filter (where due_date < p.today and due_date >= p.today - 30), 0) as days_1_30,
             coalesce(sum(balance) filter (where due_date < p.today - 30 and due_date >= p.today - 60), 0) as days_31_60,
             coalesce(sum(balance) filter (where due_date < p.today - 60 and due_date >= p.today - 90), 0) as days_61_90,
             coalesce(sum(balance) filter (where due_date < p.today - 90), 0) as days_over_90,
             coalesce(sum(balance), 0) as total_open,
             count(*) as open_invoices
         from invoices, (select "
    });
    qb.push_bind(today).push("::date as today) p where organization_id = ").push_bind(org);
    if !whole_firm {
        qb.push(" and status in ('sent', 'viewed', 'partial', 'overdue')");
    }
    if let Some(ids) = scope.ids() {
        qb.push(" and client_id = any(").push_bind(ids).push(")");
    }
    if let Some(c) = client {
        qb.push(" and client_id = ").push_bind(c);
    }
    qb
}

/// Marks sent/viewed/partial invoices past their due date as overdue (run daily by the scheduler);
/// returns the ids it marked.
pub async fn mark_overdue(tx: &mut TenantTx, today: NaiveDate) -> StoreResult<Vec<InvoiceId>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_scalar(
        "update invoices set status = 'overdue'
         where organization_id = $1 and status in ('sent', 'viewed', 'partial') and due_date < $2
         returning id",
    )
    .bind(org)
    .bind(today)
    .fetch_all(tx.conn())
    .await?)
}
