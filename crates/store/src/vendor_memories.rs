//! Vendor memories (migrations/0099_vendor_memories.sql): what a firm learnt of a vendor from
//! corrections, one row per vendor key. The memory itself is JSON the `documents` crate reads;
//! this module only stores it.

use chrono::{DateTime, Utc};
use domain::{DocType, DocumentId, UserId, VendorMemoryId};
use serde::Serialize;

use crate::cursor::{self, Page};
use crate::{Change, StoreError, StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct VendorMemoryRow {
    pub id: VendorMemoryId,
    /// `tax_id`, `name` or `layout`.
    pub key_kind: String,
    pub key_value: String,
    pub vendor_name: Option<String>,
    pub doc_type: DocType,
    pub memory: serde_json::Value,
    pub learned_from: Option<DocumentId>,
    pub corrections: i32,
    pub times_applied: i32,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! columns {
    () => {
        "id, key_kind, key_value, vendor_name, doc_type, memory, learned_from, corrections, times_applied,
         created_by, created_at, updated_at"
    };
}

/// What is written when a memory is learnt (inserted or replaced).
pub struct LearntMemory<'a> {
    pub key_kind: &'a str,
    pub key_value: &'a str,
    pub vendor_name: Option<&'a str>,
    pub doc_type: DocType,
    pub memory: &'a serde_json::Value,
    pub learned_from: DocumentId,
    pub by: UserId,
}

/// The firm's memories of documents of `doc_type` (all types when None), most recently learnt
/// first, at most `limit`.
pub async fn list(
    tx: &mut TenantTx,
    doc_type: Option<DocType>,
    limit: i64,
) -> StoreResult<Vec<VendorMemoryRow>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from vendor_memories where organization_id = $1 and ($2::text is null or doc_type = $2)
         order by updated_at desc, id desc limit $3"
    ))
    .bind(org)
    .bind(doc_type)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// A page of the firm's memories, newest first (keyset on the id, a UUIDv7).
pub async fn page(
    tx: &mut TenantTx,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<VendorMemoryRow>> {
    let org = tx.org_uuid();
    let after: Option<VendorMemoryId> = after.map(cursor::decode).transpose()?;
    let rows: Vec<VendorMemoryRow> = sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from vendor_memories where organization_id = $1 and ($2::uuid is null or id < $2)
         order by id desc limit $3"
    ))
    .bind(org)
    .bind(after)
    .bind(limit as i64 + 1)
    .fetch_all(tx.conn())
    .await?;
    Ok(Page::from_overfetch(rows, limit, |m| m.id))
}

pub async fn get(tx: &mut TenantTx, id: VendorMemoryId) -> StoreResult<VendorMemoryRow> {
    let org = tx.org_uuid();
    sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from vendor_memories where organization_id = $1 and id = $2"
    ))
    .bind(org)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(StoreError::NotFound)
}

/// The memory stored under a key, locked for update.
pub async fn by_key(tx: &mut TenantTx, kind: &str, value: &str) -> StoreResult<Option<VendorMemoryRow>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from vendor_memories where organization_id = $1 and key_kind = $2 and key_value = $3 for update"
    ))
    .bind(org)
    .bind(kind)
    .bind(value)
    .fetch_optional(tx.conn())
    .await?)
}

/// The memory last learnt from a document, locked for update.
pub async fn by_document(tx: &mut TenantTx, document: DocumentId) -> StoreResult<Option<VendorMemoryRow>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from vendor_memories where organization_id = $1 and learned_from = $2
         order by updated_at desc limit 1 for update"
    ))
    .bind(org)
    .bind(document)
    .fetch_optional(tx.conn())
    .await?)
}

/// Inserts a memory.
pub async fn insert(tx: &mut TenantTx, m: LearntMemory<'_>) -> StoreResult<VendorMemoryRow> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "insert into vendor_memories (id, organization_id, key_kind, key_value, vendor_name, doc_type, memory,
             learned_from, corrections, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)
         returning ",
        columns!()
    ))
    .bind(VendorMemoryId::new())
    .bind(org)
    .bind(m.key_kind)
    .bind(m.key_value)
    .bind(m.vendor_name)
    .bind(m.doc_type)
    .bind(m.memory)
    .bind(m.learned_from)
    .bind(m.by)
    .fetch_one(tx.conn())
    .await?)
}

/// Replaces a memory's key and content (one more correction learnt); returns it before and after.
pub async fn update(
    tx: &mut TenantTx,
    before: VendorMemoryRow,
    m: LearntMemory<'_>,
) -> StoreResult<Change<VendorMemoryRow>> {
    let org = tx.org_uuid();
    let after: VendorMemoryRow = sqlx::query_as(concat!(
        "update vendor_memories set key_kind = $3, key_value = $4, vendor_name = $5, doc_type = $6, memory = $7,
             learned_from = $8, corrections = corrections + 1
         where organization_id = $1 and id = $2
         returning ",
        columns!()
    ))
    .bind(org)
    .bind(before.id)
    .bind(m.key_kind)
    .bind(m.key_value)
    .bind(m.vendor_name)
    .bind(m.doc_type)
    .bind(m.memory)
    .bind(m.learned_from)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(Change { before, after })
}

/// Counts one more document read with a memory.
pub async fn count_applied(tx: &mut TenantTx, id: VendorMemoryId) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "update vendor_memories set times_applied = times_applied + 1 where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Deletes a memory; returns what it was.
pub async fn delete(tx: &mut TenantTx, id: VendorMemoryId) -> StoreResult<VendorMemoryRow> {
    let org = tx.org_uuid();
    sqlx::query_as(concat!(
        "delete from vendor_memories where organization_id = $1 and id = $2 returning ",
        columns!()
    ))
    .bind(org)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(StoreError::NotFound)
}
