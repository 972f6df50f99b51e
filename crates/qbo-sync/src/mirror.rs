//! Writing the mirror: a batch of records in one statement (the larger SyncToken wins, so a
//! re-run or a stale page never overwrites a newer version, and an equal one is left alone), the
//! lines of the transactions that changed, tombstone deletes, and customer → client links.

use chrono::{DateTime, NaiveDate, Utc};
use quickbooks::entity::{Entity, Line};
use quickbooks::{EntityKind, Record, Tombstone};
use rust_decimal::Decimal;
use store::TenantTx;
use uuid::Uuid;

use crate::SyncResult;

/// What one batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Applied {
    pub upserted: u64,
    pub unchanged: u64,
    pub deleted: u64,
}

/// The typed columns the read models use.
#[derive(Default)]
struct Columns {
    display_name: Option<String>,
    email: Option<String>,
    account_type: Option<String>,
    classification: Option<String>,
    party_ref: Option<String>,
    txn_date: Option<NaiveDate>,
    due_date: Option<NaiveDate>,
    total: Option<Decimal>,
    balance: Option<Decimal>,
}

fn columns(entity: &Entity) -> (Columns, &[Line]) {
    let none: &[Line] = &[];
    match entity {
        Entity::CompanyInfo(c) => (
            Columns {
                display_name: Some(c.company_name.clone()),
                email: c.email.clone(),
                ..Columns::default()
            },
            none,
        ),
        Entity::Account(a) => (
            Columns {
                display_name: Some(a.fully_qualified_name.clone().unwrap_or_else(|| a.name.clone())),
                account_type: a.account_type.clone(),
                classification: a.classification.clone(),
                balance: a.current_balance,
                ..Columns::default()
            },
            none,
        ),
        Entity::Customer(c) => (
            Columns {
                display_name: Some(c.display_name.clone()),
                email: c.email.clone(),
                balance: c.balance,
                ..Columns::default()
            },
            none,
        ),
        Entity::Vendor(v) => (
            Columns {
                display_name: Some(v.display_name.clone()),
                email: v.email.clone(),
                balance: v.balance,
                ..Columns::default()
            },
            none,
        ),
        Entity::Item(i) => (
            Columns {
                display_name: Some(i.fully_qualified_name.clone().unwrap_or_else(|| i.name.clone())),
                ..Columns::default()
            },
            none,
        ),
        Entity::Invoice(i) => (
            Columns {
                display_name: i.doc_number.clone(),
                party_ref: Some(i.customer_ref.value.clone()),
                txn_date: i.txn_date,
                due_date: i.due_date,
                total: i.total_amt,
                balance: i.balance,
                ..Columns::default()
            },
            &i.lines,
        ),
        Entity::Bill(b) => (
            Columns {
                display_name: b.doc_number.clone(),
                party_ref: Some(b.vendor_ref.value.clone()),
                txn_date: b.txn_date,
                due_date: b.due_date,
                total: b.total_amt,
                balance: b.balance,
                ..Columns::default()
            },
            &b.lines,
        ),
        Entity::Payment(p) => (
            Columns {
                display_name: p.payment_ref_num.clone(),
                party_ref: Some(p.customer_ref.value.clone()),
                txn_date: p.txn_date,
                total: p.total_amt,
                balance: p.unapplied_amt,
                ..Columns::default()
            },
            &p.lines,
        ),
        Entity::BillPayment(p) => (
            Columns {
                display_name: p.doc_number.clone(),
                party_ref: Some(p.vendor_ref.value.clone()),
                txn_date: p.txn_date,
                total: p.total_amt,
                ..Columns::default()
            },
            &p.lines,
        ),
        Entity::JournalEntry(j) => (
            Columns {
                display_name: j.doc_number.clone(),
                txn_date: j.txn_date,
                total: j.total_amt,
                ..Columns::default()
            },
            &j.lines,
        ),
        Entity::Purchase(p) => (
            Columns {
                display_name: p.doc_number.clone(),
                party_ref: p.entity_ref.as_ref().map(|r| r.value.clone()),
                txn_date: p.txn_date,
                total: p.total_amt,
                ..Columns::default()
            },
            &p.lines,
        ),
        Entity::Deposit(d) => {
            (Columns { txn_date: d.txn_date, total: d.total_amt, ..Columns::default() }, &d.lines)
        }
    }
}

/// Postgres text cannot hold NUL; QuickBooks text can (in theory). Drop it rather than fail a page.
fn clean(text: Option<String>) -> Option<String> {
    text.map(|t| if t.contains('\0') { t.replace('\0', "") } else { t })
}

/// Upserts `records` (all of one kind) of `connection`'s realm.
pub async fn upsert(
    tx: &mut TenantTx,
    connection: Uuid,
    realm: &str,
    kind: EntityKind,
    records: &[Record],
) -> SyncResult<Applied> {
    if records.is_empty() {
        return Ok(Applied::default());
    }
    let n = records.len();
    let mut ids = Vec::with_capacity(n);
    let mut tokens = Vec::with_capacity(n);
    let mut created: Vec<Option<DateTime<Utc>>> = Vec::with_capacity(n);
    let mut updated: Vec<Option<DateTime<Utc>>> = Vec::with_capacity(n);
    let mut active = Vec::with_capacity(n);
    let mut names = Vec::with_capacity(n);
    let mut emails = Vec::with_capacity(n);
    let mut account_types = Vec::with_capacity(n);
    let mut classifications = Vec::with_capacity(n);
    let mut parties = Vec::with_capacity(n);
    let mut txn_dates = Vec::with_capacity(n);
    let mut due_dates = Vec::with_capacity(n);
    let mut totals = Vec::with_capacity(n);
    let mut balances = Vec::with_capacity(n);
    let mut raws = Vec::with_capacity(n);
    for record in records {
        let (c, _) = columns(&record.entity);
        ids.push(record.header.id.clone());
        tokens.push(i64::try_from(record.header.sync_token).unwrap_or(i64::MAX));
        created.push(record.header.created);
        updated.push(record.header.last_updated);
        active.push(record.header.active);
        names.push(clean(c.display_name));
        emails.push(clean(c.email));
        account_types.push(c.account_type);
        classifications.push(c.classification);
        parties.push(c.party_ref);
        txn_dates.push(c.txn_date);
        due_dates.push(c.due_date);
        totals.push(c.total);
        balances.push(c.balance);
        raws.push(record.raw_json().replace("\\u0000", ""));
    }
    // `xmax = 0` marks a row this statement inserted (rather than updated): it has no lines yet.
    let rows: Vec<(String, bool)> = sqlx::query_as(
        "insert into qbo_entities as e (organization_id, realm_id, entity, qbo_id, connection_id, sync_token,
             created_time, last_updated_time, active, display_name, email, account_type, classification,
             party_ref, txn_date, due_date, total_amount, balance, raw)
         select $1, $2, $3, r.id, $4, r.token, r.created, r.updated, r.active, r.name, r.email, r.account_type,
             r.classification, r.party, r.txn_date, r.due_date, r.total, r.balance, r.raw::jsonb
         from unnest($5::text[], $6::bigint[], $7::timestamptz[], $8::timestamptz[], $9::boolean[],
                     $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::date[],
                     $16::date[], $17::numeric[], $18::numeric[], $19::text[])
              as r(id, token, created, updated, active, name, email, account_type, classification, party,
                   txn_date, due_date, total, balance, raw)
         on conflict (organization_id, realm_id, entity, qbo_id) do update set
             connection_id = excluded.connection_id, sync_token = excluded.sync_token,
             created_time = excluded.created_time, last_updated_time = excluded.last_updated_time,
             active = excluded.active, display_name = excluded.display_name, email = excluded.email,
             account_type = excluded.account_type, classification = excluded.classification,
             party_ref = excluded.party_ref, txn_date = excluded.txn_date, due_date = excluded.due_date,
             total_amount = excluded.total_amount, balance = excluded.balance, raw = excluded.raw,
             synced_at = now()
         where e.sync_token < excluded.sync_token or e.connection_id <> excluded.connection_id
         returning qbo_id, xmax = 0",
    )
    .bind(tx.org_uuid())
    .bind(realm)
    .bind(kind.name())
    .bind(connection)
    .bind(&ids)
    .bind(&tokens)
    .bind(&created)
    .bind(&updated)
    .bind(&active)
    .bind(&names)
    .bind(&emails)
    .bind(&account_types)
    .bind(&classifications)
    .bind(&parties)
    .bind(&txn_dates)
    .bind(&due_dates)
    .bind(&totals)
    .bind(&balances)
    .bind(&raws)
    .fetch_all(tx.conn())
    .await?;
    let updated: Vec<&str> =
        rows.iter().filter(|(_, inserted)| !inserted).map(|(id, _)| id.as_str()).collect();
    let written: Vec<String> = rows.iter().map(|(id, _)| id.clone()).collect();
    if kind.is_transaction() && !written.is_empty() {
        replace_lines(tx, realm, kind, records, &written, &updated).await?;
    }
    if kind == EntityKind::Customer && !written.is_empty() {
        link_customers(tx, realm, &written).await?;
    }
    let upserted = written.len() as u64;
    Ok(Applied { upserted, unchanged: n as u64 - upserted, deleted: 0 })
}

async fn replace_lines(
    tx: &mut TenantTx,
    realm: &str,
    kind: EntityKind,
    records: &[Record],
    written: &[String],
    updated: &[&str],
) -> SyncResult<()> {
    let written: std::collections::HashSet<&str> = written.iter().map(String::as_str).collect();
    // Only updated records have lines to replace. Skipping the delete for new ones keeps a full
    // sync linear: the delete's plan can degrade to scanning all of the kind's lines when the
    // table has no statistics yet (a new mirror, or a server without autovacuum).
    if !updated.is_empty() {
        sqlx::query(
            "delete from qbo_lines where organization_id = $1 and realm_id = $2 and entity = $3 and qbo_id = any($4)",
        )
        .bind(tx.org_uuid())
        .bind(realm)
        .bind(kind.name())
        .bind(updated)
        .execute(tx.conn())
        .await?;
    }
    let (mut ids, mut indexes, mut line_ids, mut details, mut descriptions) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut amounts, mut items, mut accounts, mut postings) = (vec![], vec![], vec![], vec![]);
    for record in records.iter().filter(|r| written.contains(r.id())) {
        let (_, lines) = columns(&record.entity);
        for (index, line) in lines.iter().enumerate() {
            ids.push(record.id().to_owned());
            indexes.push(index as i32);
            line_ids.push(line.id.clone());
            details.push(line.detail_type.clone());
            descriptions.push(clean(line.description.clone()));
            amounts.push(line.amount);
            items.push(line.item_ref.as_ref().map(|r| r.value.clone()));
            accounts.push(line.account_ref.as_ref().map(|r| r.value.clone()));
            postings.push(line.posting_type.map(|p| format!("{p:?}")));
        }
    }
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "insert into qbo_lines (organization_id, realm_id, entity, qbo_id, line_index, line_id, detail_type,
             description, amount, item_ref, account_ref, posting_type)
         select $1, $2, $3, l.* from unnest($4::text[], $5::int[], $6::text[], $7::text[], $8::text[],
             $9::numeric[], $10::text[], $11::text[], $12::text[]) as l",
    )
    .bind(tx.org_uuid())
    .bind(realm)
    .bind(kind.name())
    .bind(&ids)
    .bind(&indexes)
    .bind(&line_ids)
    .bind(&details)
    .bind(&descriptions)
    .bind(&amounts)
    .bind(&items)
    .bind(&accounts)
    .bind(&postings)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Links changed customers to our clients: first a client already pointing at the customer
/// (`clients.quickbooks_customer_id`), then an unlinked client with the same contact email, whose
/// link is then recorded. Nothing else of the client is written, so local edits stay.
async fn link_customers(tx: &mut TenantTx, realm: &str, customers: &[String]) -> SyncResult<()> {
    sqlx::query(
        "with by_link as (
             select e.qbo_id, c.id as client_id from qbo_entities e
             join clients c on c.organization_id = e.organization_id and c.quickbooks_customer_id = e.qbo_id
                 and c.deleted_at is null
             where e.organization_id = $1 and e.realm_id = $2 and e.entity = 'Customer' and e.qbo_id = any($3)
         ), by_email as (
             select distinct on (c.id) e.qbo_id, c.id as client_id from qbo_entities e
             join clients c on c.organization_id = e.organization_id and c.primary_contact_email = e.email
                 and c.quickbooks_customer_id is null and c.deleted_at is null
             where e.organization_id = $1 and e.realm_id = $2 and e.entity = 'Customer' and e.qbo_id = any($3)
                 and e.email is not null and e.qbo_id not in (select qbo_id from by_link)
                 and not exists (select 1 from clients o
                                 where o.organization_id = $1 and o.quickbooks_customer_id = e.qbo_id)
             order by c.id, e.qbo_id
         ), recorded as (
             update clients c set quickbooks_customer_id = m.qbo_id
             from (select distinct on (qbo_id) qbo_id, client_id from by_email order by qbo_id, client_id) m
             where c.organization_id = $1 and c.id = m.client_id
             returning m.qbo_id, c.id as client_id
         ), links as (
             select qbo_id, client_id from by_link union all select qbo_id, client_id from recorded
         )
         update qbo_entities e set linked_client_id = links.client_id
         from links
         where e.organization_id = $1 and e.realm_id = $2 and e.entity = 'Customer' and e.qbo_id = links.qbo_id",
    )
    .bind(tx.org_uuid())
    .bind(realm)
    .bind(customers)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Applies tombstones (ids never seen are fine).
pub async fn delete(
    tx: &mut TenantTx,
    realm: &str,
    kind: EntityKind,
    tombstones: &[Tombstone],
) -> SyncResult<u64> {
    if tombstones.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&str> = tombstones.iter().map(|t| t.id.as_str()).collect();
    let done = sqlx::query(
        "delete from qbo_entities where organization_id = $1 and realm_id = $2 and entity = $3 and qbo_id = any($4)",
    )
    .bind(tx.org_uuid())
    .bind(realm)
    .bind(kind.name())
    .bind(&ids)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

/// Marks the rows a full read returned as seen by `run`.
pub async fn mark_seen(
    tx: &mut TenantTx,
    realm: &str,
    kind: EntityKind,
    run: Uuid,
    records: &[Record],
) -> SyncResult<()> {
    let ids: Vec<&str> = records.iter().map(|r| r.id()).collect();
    sqlx::query(
        "update qbo_entities set seen_run = $5
         where organization_id = $1 and realm_id = $2 and entity = $3 and qbo_id = any($4)
             and seen_run is distinct from $5",
    )
    .bind(tx.org_uuid())
    .bind(realm)
    .bind(kind.name())
    .bind(&ids)
    .bind(run)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// After a full read of `kind` by `run`: removes the rows it did not see (deleted in QuickBooks
/// while no CDC looked, or longer ago than CDC's 30 days).
pub async fn remove_unseen(tx: &mut TenantTx, realm: &str, kind: EntityKind, run: Uuid) -> SyncResult<u64> {
    let done = sqlx::query(
        "delete from qbo_entities
         where organization_id = $1 and realm_id = $2 and entity = $3 and seen_run is distinct from $4",
    )
    .bind(tx.org_uuid())
    .bind(realm)
    .bind(kind.name())
    .bind(run)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}
