//! Clients of a firm: CRUD, archive/restore, soft delete, filtered keyset lists, search, bulk.

use chrono::{DateTime, Utc};
use domain::{BusinessType, ClientId, ClientScope, ClientStatus, RiskLevel, TaxIdKind, UserId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, QueryBuilder};

use crate::cursor::{self, InvalidCursor, Page};
use crate::query_mode::Mode;
use crate::{Change, StoreResult, TenantTx};

/// A client row. The sealed tax id never leaves the process: the caller unseals or masks it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Client {
    pub id: ClientId,
    pub business_name: String,
    pub legal_name: Option<String>,
    pub tax_id_kind: Option<TaxIdKind>,
    pub tax_id_last4: Option<String>,
    #[serde(skip)]
    pub tax_id_sealed: Option<Vec<u8>>,
    pub primary_contact_name: Option<String>,
    pub primary_contact_email: Option<String>,
    pub primary_contact_phone: Option<String>,
    pub business_type: Option<BusinessType>,
    pub industry: Option<String>,
    pub website: Option<String>,
    pub status: ClientStatus,
    pub risk_level: RiskLevel,
    pub annual_revenue: Option<Decimal>,
    pub assigned_to: Option<UserId>,
    pub tags: Vec<String>,
    pub business_address: Option<String>,
    pub quickbooks_customer_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A client as list pages and search show it: what a row in a table needs, no more.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ClientSummary {
    pub id: ClientId,
    pub business_name: String,
    pub tax_id_kind: Option<TaxIdKind>,
    pub tax_id_last4: Option<String>,
    #[serde(skip)]
    pub tax_id_sealed: Option<Vec<u8>>,
    pub primary_contact_name: Option<String>,
    pub primary_contact_email: Option<String>,
    pub business_type: Option<BusinessType>,
    pub industry: Option<String>,
    pub status: ClientStatus,
    pub risk_level: RiskLevel,
    pub annual_revenue: Option<Decimal>,
    pub assigned_to: Option<UserId>,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
}

macro_rules! summary_columns {
    () => {
        "id, business_name, tax_id_kind, tax_id_last4, tax_id_sealed, primary_contact_name,
         primary_contact_email::text as primary_contact_email, business_type, industry, status, risk_level,
         annual_revenue, assigned_to, tags, created_at"
    };
}

macro_rules! columns {
    () => {
        "id, business_name, legal_name, tax_id_kind, tax_id_last4, tax_id_sealed, primary_contact_name,
         primary_contact_email::text as primary_contact_email, primary_contact_phone, business_type, industry,
         website, status, risk_level, annual_revenue, assigned_to, tags, business_address,
         quickbooks_customer_id, created_at, updated_at"
    };
}

/// A tax id ready to store: sealed, indexed and its last four digits.
#[derive(Debug, Clone)]
pub struct SealedTaxId {
    pub kind: TaxIdKind,
    pub sealed: Vec<u8>,
    pub index: Vec<u8>,
    pub last4: String,
}

/// A validated client to create.
#[derive(Debug, Clone, Default)]
pub struct ClientFields {
    pub business_name: Option<String>,
    pub legal_name: Option<Option<String>>,
    pub tax_id: Option<Option<SealedTaxId>>,
    pub primary_contact_name: Option<Option<String>>,
    pub primary_contact_email: Option<Option<String>>,
    pub primary_contact_phone: Option<Option<String>>,
    pub business_type: Option<Option<BusinessType>>,
    pub industry: Option<Option<String>>,
    pub website: Option<Option<String>>,
    pub status: Option<ClientStatus>,
    pub risk_level: Option<RiskLevel>,
    pub annual_revenue: Option<Option<Decimal>>,
    pub assigned_to: Option<Option<UserId>>,
    pub tags: Option<Vec<String>>,
    pub business_address: Option<Option<String>>,
}

/// Inserts clients in one statement (a single create is a batch of one). All or nothing.
pub async fn insert_many(tx: &mut TenantTx, rows: &[(ClientId, ClientFields)]) -> StoreResult<()> {
    let org = tx.org_uuid();
    let created_by = tx.actor().id;
    for chunk in rows.chunks(2000) {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
            "insert into clients (id, organization_id, business_name, legal_name, tax_id_kind, tax_id_sealed,
                tax_id_index, tax_id_last4, primary_contact_name, primary_contact_email, primary_contact_phone,
                business_type, industry, website, status, risk_level, annual_revenue, assigned_to, tags,
                business_address, created_by) ",
        );
        qb.push_values(chunk, |mut b, (id, f)| {
            let tax = f.tax_id.clone().flatten();
            b.push_bind(*id)
                .push_bind(org)
                .push_bind(f.business_name.clone().unwrap_or_default())
                .push_bind(f.legal_name.clone().flatten())
                .push_bind(tax.as_ref().map(|t| t.kind))
                .push_bind(tax.as_ref().map(|t| t.sealed.clone()))
                .push_bind(tax.as_ref().map(|t| t.index.clone()))
                .push_bind(tax.as_ref().map(|t| t.last4.clone()))
                .push_bind(f.primary_contact_name.clone().flatten())
                .push_bind(f.primary_contact_email.clone().flatten())
                .push_bind(f.primary_contact_phone.clone().flatten())
                .push_bind(f.business_type.flatten())
                .push_bind(f.industry.clone().flatten())
                .push_bind(f.website.clone().flatten())
                .push_bind(f.status.unwrap_or(ClientStatus::Active))
                .push_bind(f.risk_level.unwrap_or(RiskLevel::Low))
                .push_bind(f.annual_revenue.flatten())
                .push_bind(f.assigned_to.flatten())
                .push_bind(f.tags.clone().unwrap_or_default())
                .push_bind(f.business_address.clone().flatten())
                .push_bind(created_by);
        });
        qb.build().execute(tx.conn()).await?;
    }
    Ok(())
}

pub async fn get(tx: &mut TenantTx, id: ClientId, scope: &ClientScope) -> StoreResult<Client> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from clients where organization_id = $1 and id = $2 and deleted_at is null
           and ($3::uuid[] is null or id = any($3))"
    ))
    .bind(org)
    .bind(id)
    .bind(scope.ids())
    .fetch_one(tx.conn())
    .await?)
}

/// Applies a patch; returns the client before and after. `NotFound` if the client does not exist
/// (or is deleted).
pub async fn update(tx: &mut TenantTx, id: ClientId, f: &ClientFields) -> StoreResult<Change<Client>> {
    let before = get(tx, id, &ClientScope::All).await?;
    let org = tx.org_uuid();
    let tax = f.tax_id.clone();
    sqlx::query(
        "update clients set
            business_name = coalesce($3, business_name),
            legal_name = case when $4 then $5 else legal_name end,
            tax_id_kind = case when $6 then $7 else tax_id_kind end,
            tax_id_sealed = case when $6 then $8 else tax_id_sealed end,
            tax_id_index = case when $6 then $9 else tax_id_index end,
            tax_id_last4 = case when $6 then $10 else tax_id_last4 end,
            primary_contact_name = case when $11 then $12 else primary_contact_name end,
            primary_contact_email = case when $13 then $14 else primary_contact_email end,
            primary_contact_phone = case when $15 then $16 else primary_contact_phone end,
            business_type = case when $17 then $18 else business_type end,
            industry = case when $19 then $20 else industry end,
            website = case when $21 then $22 else website end,
            status = coalesce($23, status),
            risk_level = coalesce($24, risk_level),
            annual_revenue = case when $25 then $26 else annual_revenue end,
            assigned_to = case when $27 then $28 else assigned_to end,
            tags = coalesce($29, tags),
            business_address = case when $30 then $31 else business_address end
         where organization_id = $1 and id = $2 and deleted_at is null",
    )
    .bind(org)
    .bind(id)
    .bind(&f.business_name)
    .bind(f.legal_name.is_some())
    .bind(f.legal_name.clone().flatten())
    .bind(tax.is_some())
    .bind(tax.clone().flatten().map(|t| t.kind))
    .bind(tax.clone().flatten().map(|t| t.sealed))
    .bind(tax.clone().flatten().map(|t| t.index))
    .bind(tax.flatten().map(|t| t.last4))
    .bind(f.primary_contact_name.is_some())
    .bind(f.primary_contact_name.clone().flatten())
    .bind(f.primary_contact_email.is_some())
    .bind(f.primary_contact_email.clone().flatten())
    .bind(f.primary_contact_phone.is_some())
    .bind(f.primary_contact_phone.clone().flatten())
    .bind(f.business_type.is_some())
    .bind(f.business_type.flatten())
    .bind(f.industry.is_some())
    .bind(f.industry.clone().flatten())
    .bind(f.website.is_some())
    .bind(f.website.clone().flatten())
    .bind(f.status)
    .bind(f.risk_level)
    .bind(f.annual_revenue.is_some())
    .bind(f.annual_revenue.flatten())
    .bind(f.assigned_to.is_some())
    .bind(f.assigned_to.flatten())
    .bind(&f.tags)
    .bind(f.business_address.is_some())
    .bind(f.business_address.clone().flatten())
    .execute(tx.conn())
    .await?;
    let after = get(tx, id, &ClientScope::All).await?;
    Ok(Change { before, after })
}

/// Archives (keeping the status to restore) or restores clients; returns the ids that changed.
pub async fn set_archived(tx: &mut TenantTx, ids: &[ClientId], archived: bool) -> StoreResult<Vec<ClientId>> {
    let org = tx.org_uuid();
    let changed: Vec<ClientId> = if archived {
        sqlx::query_scalar(
            "update clients set archived_from = status, status = 'archived'
             where organization_id = $1 and id = any($2) and deleted_at is null and status <> 'archived'
             returning id",
        )
    } else {
        sqlx::query_scalar(
            "update clients set status = coalesce(archived_from, 'active'), archived_from = null
             where organization_id = $1 and id = any($2) and deleted_at is null and status = 'archived'
             returning id",
        )
    }
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    Ok(changed)
}

/// Sets one field on many clients (bulk actions); returns the ids that changed.
pub async fn bulk_set(
    tx: &mut TenantTx,
    ids: &[ClientId],
    change: &BulkChange,
) -> StoreResult<Vec<ClientId>> {
    let org = tx.org_uuid();
    Ok(match change {
        BulkChange::Status(status) => {
            sqlx::query_scalar(
                "update clients set status = $3, archived_from = null
                 where organization_id = $1 and id = any($2) and deleted_at is null and status <> $3
                 returning id",
            )
            .bind(org)
            .bind(ids)
            .bind(*status)
            .fetch_all(tx.conn())
            .await?
        }
        BulkChange::Assign(user) => {
            sqlx::query_scalar(
                "update clients set assigned_to = $3
                 where organization_id = $1 and id = any($2) and deleted_at is null
                   and assigned_to is distinct from $3
                 returning id",
            )
            .bind(org)
            .bind(ids)
            .bind(*user)
            .fetch_all(tx.conn())
            .await?
        }
    })
}

#[derive(Debug, Clone)]
pub enum BulkChange {
    Status(ClientStatus),
    Assign(Option<UserId>),
}

/// Soft-deletes a client (kept for the audit trail, gone from every list and lookup); returns it
/// as it was.
pub async fn soft_delete(tx: &mut TenantTx, id: ClientId) -> StoreResult<Client> {
    let before = get(tx, id, &ClientScope::All).await?;
    let org = tx.org_uuid();
    sqlx::query("update clients set deleted_at = now() where organization_id = $1 and id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(before)
}

/// Which clients exist and are visible among `ids` (to report the rest as not found).
pub async fn existing(tx: &mut TenantTx, ids: &[ClientId]) -> StoreResult<Vec<ClientId>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_scalar(
        "select id from clients where organization_id = $1 and id = any($2) and deleted_at is null",
    )
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientSort {
    #[default]
    Name,
    Created,
    Revenue,
}

#[derive(Debug, Clone, Default)]
pub struct ClientFilter {
    /// `None`: everything but archived clients.
    pub status: Option<Vec<ClientStatus>>,
    pub business_type: Option<BusinessType>,
    pub industry: Option<String>,
    pub risk_level: Option<RiskLevel>,
    pub assigned_to: Option<UserId>,
    /// Clients with any of these tags.
    pub tags: Option<Vec<String>>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "s", content = "v")]
enum SortValue {
    #[serde(rename = "n")]
    Name(String),
    #[serde(rename = "c")]
    Created(DateTime<Utc>),
    #[serde(rename = "r")]
    Revenue(Decimal),
}

#[derive(Serialize, Deserialize)]
struct ClientKey {
    k: SortValue,
    id: ClientId,
    d: bool,
}

/// A filtered, sorted page (keyset: the cursor carries the last row's sort value and id).
pub async fn list(
    tx: &mut TenantTx,
    scope: &ClientScope,
    filter: &ClientFilter,
    sort: ClientSort,
    descending: bool,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<ClientSummary>> {
    let mut qb = list_query(Mode::Run, tx.org_uuid(), scope, filter, sort, descending, after, limit)?;
    let rows: Vec<ClientSummary> = qb.build_query_as().fetch_all(tx.conn()).await?;
    Ok(Page::from_overfetch(rows, limit, |c| ClientKey {
        k: match sort {
            ClientSort::Name => SortValue::Name(c.business_name.clone()),
            ClientSort::Created => SortValue::Created(c.created_at),
            ClientSort::Revenue => SortValue::Revenue(c.annual_revenue.unwrap_or(Decimal::NEGATIVE_ONE)),
        },
        id: c.id,
        d: descending,
    }))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn list_query(
    mode: Mode,
    org: uuid::Uuid,
    scope: &ClientScope,
    filter: &ClientFilter,
    sort: ClientSort,
    descending: bool,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<QueryBuilder<Postgres>> {
    let after: Option<ClientKey> = after.map(cursor::decode).transpose()?;
    let mut qb =
        mode.builder(concat!("select ", summary_columns!(), " from clients where organization_id = "));
    qb.push_bind(org).push(" and deleted_at is null");
    push_filters(&mut qb, scope, filter);
    let key_expr = match sort {
        ClientSort::Name => "business_name",
        ClientSort::Created => "created_at",
        ClientSort::Revenue => "coalesce(annual_revenue, -1)",
    };
    if let Some(k) = after {
        if k.d != descending {
            return Err(InvalidCursor.into());
        }
        qb.push(format_args!(" and ({key_expr}, id) {} (", if descending { "<" } else { ">" }));
        match (sort, k.k) {
            (ClientSort::Name, SortValue::Name(v)) => qb.push_bind(v),
            (ClientSort::Created, SortValue::Created(v)) => qb.push_bind(v),
            (ClientSort::Revenue, SortValue::Revenue(v)) => qb.push_bind(v),
            _ => return Err(InvalidCursor.into()),
        };
        qb.push(", ").push_bind(k.id).push(")");
    }
    let dir = if descending { "desc" } else { "asc" };
    qb.push(format_args!(" order by {key_expr} {dir}, id {dir} limit ")).push_bind(limit as i64 + 1);
    Ok(qb)
}

fn push_filters(qb: &mut QueryBuilder<Postgres>, scope: &ClientScope, f: &ClientFilter) {
    if let Some(ids) = scope.ids() {
        qb.push(" and id = any(").push_bind(ids).push(")");
    }
    match &f.status {
        Some(statuses) => {
            let s: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
            qb.push(" and status = any(")
                .push_bind(s.into_iter().map(str::to_owned).collect::<Vec<_>>())
                .push(")");
        }
        None => {
            qb.push(" and status <> 'archived'");
        }
    }
    if let Some(v) = f.business_type {
        qb.push(" and business_type = ").push_bind(v);
    }
    if let Some(v) = &f.industry {
        qb.push(" and industry = ").push_bind(v.clone());
    }
    if let Some(v) = f.risk_level {
        qb.push(" and risk_level = ").push_bind(v);
    }
    if let Some(v) = f.assigned_to {
        qb.push(" and assigned_to = ").push_bind(v);
    }
    if let Some(tags) = &f.tags {
        qb.push(" and tags && ").push_bind(tags.clone());
    }
    if let Some(v) = f.created_from {
        qb.push(" and created_at >= ").push_bind(v);
    }
    if let Some(v) = f.created_to {
        qb.push(" and created_at < ").push_bind(v);
    }
}

/// What a search looks for: words (tried as a name prefix, then full text anywhere, then by
/// trigram similarity for typos), or an exact tax id through its blind index.
#[derive(Debug, Clone)]
pub enum ClientQuery {
    Words {
        /// As typed (trigram similarity).
        raw: String,
        /// Lower-cased, spaces collapsed (name prefix).
        prefix: String,
        /// Each word as a prefix, all required (`blue:* & fer:*`).
        tsquery: String,
    },
    TaxId {
        indexes: Vec<Vec<u8>>,
    },
}

/// The stages of a word search, tried in order until a page is full; each is one indexed query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchPhase {
    /// Names that start with the words, in name order (an index range scan that stops at LIMIT).
    NamePrefix,
    /// The words as prefixes anywhere in names, contacts and emails, ranked.
    FullText,
    /// Names nearest by trigrams, for typos.
    Similar,
}

impl SearchPhase {
    pub const ALL: [SearchPhase; 3] = [SearchPhase::NamePrefix, SearchPhase::FullText, SearchPhase::Similar];
}

/// Full-text matches are ranked among at most this many candidates, so a very common word cannot
/// make a firm rank every client it has.
const RANK_CANDIDATES: i64 = 500;

/// The best matches, most relevant first: one page of up to `limit` (refine the words to narrow it).
pub async fn search(
    tx: &mut TenantTx,
    scope: &ClientScope,
    filter: &ClientFilter,
    query: &ClientQuery,
    limit: usize,
) -> StoreResult<Vec<ClientSummary>> {
    let org = tx.org_uuid();
    let mut rows: Vec<ClientSummary> = Vec::new();
    let phases: &[SearchPhase] = if matches!(query, ClientQuery::TaxId { .. }) {
        &[SearchPhase::NamePrefix]
    } else {
        &SearchPhase::ALL
    };
    for phase in phases {
        if rows.len() >= limit {
            break;
        }
        let found: Vec<ClientId> = rows.iter().map(|c| c.id).collect();
        let mut qb = search_query(Mode::Run, org, scope, filter, query, *phase, &found, limit - rows.len());
        rows.extend(qb.build_query_as::<ClientSummary>().fetch_all(tx.conn()).await?);
    }
    Ok(rows)
}

#[expect(clippy::too_many_arguments, reason = "the search's inputs, passed through from one caller")]
pub(crate) fn search_query(
    mode: Mode,
    org: uuid::Uuid,
    scope: &ClientScope,
    filter: &ClientFilter,
    query: &ClientQuery,
    phase: SearchPhase,
    exclude: &[ClientId],
    limit: usize,
) -> QueryBuilder<Postgres> {
    let exclude = |qb: &mut QueryBuilder<Postgres>| {
        if !exclude.is_empty() {
            qb.push(" and id <> all(").push_bind(exclude.to_vec()).push(")");
        }
    };
    let mut qb;
    match (query, phase) {
        (ClientQuery::TaxId { indexes }, _) => {
            qb = mode.builder(concat!(
                "select ",
                summary_columns!(),
                " from clients where organization_id = "
            ));
            qb.push_bind(org);
            qb.push(" and deleted_at is null and tax_id_index = any(").push_bind(indexes.clone()).push(")");
            push_filters(&mut qb, scope, filter);
            qb.push(" order by business_name, id");
        }
        (ClientQuery::Words { prefix, .. }, SearchPhase::NamePrefix) => {
            qb = mode.builder(concat!(
                "select ",
                summary_columns!(),
                " from clients where organization_id = "
            ));
            // Byte order: every string starting with the prefix sorts below prefix + U+10FFFF.
            qb.push_bind(org).push(" and deleted_at is null and name_key ~>=~ ").push_bind(prefix.clone());
            qb.push(" and name_key ~<~ ").push_bind(format!("{prefix}\u{10FFFF}"));
            exclude(&mut qb);
            push_filters(&mut qb, scope, filter);
            qb.push(" order by name_key using ~<~, id");
        }
        (ClientQuery::Words { tsquery, .. }, SearchPhase::FullText) => {
            // The extra `rank` column is ignored when rows are decoded.
            qb = mode.builder(concat!(
                "select * from (select ",
                summary_columns!(),
                ", ts_rank(search, to_tsquery('simple', "
            ));
            qb.push_bind(tsquery.clone())
                .push(")) as rank from clients where organization_id = ")
                .push_bind(org);
            qb.push(" and deleted_at is null and search @@ to_tsquery('simple', ")
                .push_bind(tsquery.clone())
                .push(")");
            exclude(&mut qb);
            push_filters(&mut qb, scope, filter);
            qb.push(" limit ").push_bind(RANK_CANDIDATES).push(") m order by rank desc, business_name, id");
        }
        (ClientQuery::Words { raw, .. }, SearchPhase::Similar) => {
            qb = mode.builder(concat!(
                "select ",
                summary_columns!(),
                " from clients where organization_id = "
            ));
            qb.push_bind(org).push(" and deleted_at is null and business_name % ").push_bind(raw.clone());
            exclude(&mut qb);
            push_filters(&mut qb, scope, filter);
            qb.push(" order by similarity(business_name, ")
                .push_bind(raw.clone())
                .push(") desc, business_name, id");
        }
    }
    qb.push(" limit ").push_bind(limit as i64);
    qb
}

/// Streams every live client in name order (CSV export), `batch` rows at a time by keyset.
pub async fn export_batch(
    tx: &mut TenantTx,
    scope: &ClientScope,
    filter: &ClientFilter,
    after: Option<(String, ClientId)>,
    batch: usize,
) -> StoreResult<Vec<Client>> {
    let org = tx.org_uuid();
    let mut qb: QueryBuilder<Postgres> =
        QueryBuilder::new(concat!("select ", columns!(), " from clients where organization_id = "));
    qb.push_bind(org).push(" and deleted_at is null");
    push_filters(&mut qb, scope, filter);
    if let Some((name, id)) = after {
        qb.push(" and (business_name, id) > (").push_bind(name).push(", ").push_bind(id).push(")");
    }
    qb.push(" order by business_name, id limit ").push_bind(batch as i64);
    Ok(qb.build_query_as().fetch_all(tx.conn()).await?)
}

/// Which of these tax-id blind indexes already belong to a live client of the organization.
pub async fn known_tax_indexes(tx: &mut TenantTx, indexes: &[Vec<u8>]) -> StoreResult<Vec<Vec<u8>>> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let org = tx.org_uuid();
    Ok(sqlx::query_scalar(
        "select tax_id_index from clients
         where organization_id = $1 and tax_id_index = any($2) and deleted_at is null",
    )
    .bind(org)
    .bind(indexes)
    .fetch_all(tx.conn())
    .await?)
}

/// The live clients holding one of these tax-id blind indexes.
pub async fn with_tax_index(tx: &mut TenantTx, indexes: &[Vec<u8>]) -> StoreResult<Vec<ClientId>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_scalar(
        "select id from clients where organization_id = $1 and tax_id_index = any($2) and deleted_at is null",
    )
    .bind(org)
    .bind(indexes)
    .fetch_all(tx.conn())
    .await?)
}
