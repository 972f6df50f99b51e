//! What the document blob store keeps in the database: each organization's sealed data key
//! (`blob_data_keys`), which content its rows still reference, the bytes it stores (for its
//! quota), and the transaction-scoped advisory locks that order blob writes against blob
//! deletion (a blob is written and its row committed under its content lock; the sweep deletes
//! an unreferenced blob under the same lock, so it never removes one a commit is about to use).

use crate::{StoreResult, TenantTx};

/// The organization's sealed data key, if it has one.
pub async fn data_key(tx: &mut TenantTx) -> StoreResult<Option<Vec<u8>>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_scalar("select sealed from blob_data_keys where organization_id = $1")
        .bind(org)
        .fetch_optional(tx.conn())
        .await?)
}

/// Stores a data key unless the organization already has one (a concurrent first upload won);
/// read it back with [`data_key`].
pub async fn insert_data_key(tx: &mut TenantTx, sealed: &[u8], master_key_id: u16) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "insert into blob_data_keys (organization_id, sealed, master_key_id) values ($1, $2, $3)
         on conflict (organization_id) do nothing",
    )
    .bind(org)
    .bind(sealed)
    .bind(i32::from(master_key_id))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The organization's sealed data key, locked for re-sealing.
pub async fn data_key_for_update(tx: &mut TenantTx) -> StoreResult<Option<Vec<u8>>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_scalar("select sealed from blob_data_keys where organization_id = $1 for update")
        .bind(org)
        .fetch_optional(tx.conn())
        .await?)
}

/// Replaces the sealed data key (the same key, sealed by another master key).
pub async fn reseal_data_key(tx: &mut TenantTx, sealed: &[u8], master_key_id: u16) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "update blob_data_keys set sealed = $2, master_key_id = $3, resealed_at = now()
         where organization_id = $1",
    )
    .bind(org)
    .bind(sealed)
    .bind(i32::from(master_key_id))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Holds the content lock of one blob of this organization until the transaction ends.
pub async fn lock_content(tx: &mut TenantTx, sha256: &[u8]) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1::text || ':' || encode($2, 'hex'), 0))")
        .bind(org)
        .bind(sha256)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Whether a live document of this organization holds this content.
pub async fn is_referenced(tx: &mut TenantTx, sha256: &[u8]) -> StoreResult<bool> {
    let org = tx.org_uuid();
    Ok(sqlx::query_scalar(
        "select exists (select 1 from documents
                         where organization_id = $1 and content_sha256 = $2 and deleted_at is null)",
    )
    .bind(org)
    .bind(sha256)
    .fetch_one(tx.conn())
    .await?)
}

/// Serializes this organization's quota checks until the transaction ends, so two uploads
/// cannot both fit in the same remaining space.
pub async fn lock_usage(tx: &mut TenantTx) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('storage:' || $1::text, 0))")
        .bind(org)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The bytes of distinct content the organization's live documents hold: what its blob store
/// keeps once deleted documents' blobs are swept (duplicates are stored once).
pub async fn bytes_used(tx: &mut TenantTx) -> StoreResult<i64> {
    let org = tx.org_uuid();
    Ok(sqlx::query_scalar(
        "select coalesce(sum(size_bytes), 0)::bigint from (
             select distinct on (content_sha256) size_bytes from documents
              where organization_id = $1 and deleted_at is null) held",
    )
    .bind(org)
    .fetch_one(tx.conn())
    .await?)
}

/// Every content the organization's live documents hold.
pub async fn referenced(tx: &mut TenantTx) -> StoreResult<Vec<Vec<u8>>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_scalar(
        "select distinct content_sha256 from documents where organization_id = $1 and deleted_at is null",
    )
    .bind(org)
    .fetch_all(tx.conn())
    .await?)
}
