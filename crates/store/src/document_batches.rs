//! Upload batches (migrations/0050_notifications.sql): one per upload request. Progress is
//! counted from the batch's documents; the decision that a batch is finished is the documents
//! crate's (`documents::batches`), made under [`lock`].

use chrono::{DateTime, Utc};
use domain::{BatchSource, ClientId, ClientScope, DocumentBatchId, UserId};
use serde::{Deserialize, Serialize};

use crate::cursor::{self, Page};
use crate::{StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DocumentBatch {
    pub id: DocumentBatchId,
    pub client_id: ClientId,
    pub client_name: String,
    pub uploaded_by: Option<UserId>,
    pub source: BatchSource,
    /// Files that became documents (duplicates included).
    pub accepted: i32,
    /// Files refused at upload (no document).
    pub rejected: i32,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

macro_rules! columns {
    () => {
        "b.id, b.client_id, c.business_name as client_name, b.uploaded_by, b.source, b.accepted, b.rejected,
         b.finished_at, b.created_at"
    };
}

/// Where a batch's documents stand. Every accepted document is in exactly one of `pending`,
/// `approved`, `needs_review`, `stored`, `duplicates`, `failed` and `deleted`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct BatchCounts {
    /// Waiting for the pipeline or in it.
    pub pending: i64,
    /// Read by the pipeline: `approved` + `needs_review` + `stored`.
    pub processed: i64,
    pub approved: i64,
    pub needs_review: i64,
    /// Kept but not read (DOCX, XLSX, CSV).
    pub stored: i64,
    /// Content the firm already held: linked, not processed again.
    pub duplicates: i64,
    pub failed: i64,
    pub deleted: i64,
}

/// A batch with its documents' counts.
#[derive(Debug, Clone, Serialize)]
pub struct BatchProgress {
    #[serde(flatten)]
    pub batch: DocumentBatch,
    pub counts: BatchCounts,
}

pub struct NewBatch {
    pub id: DocumentBatchId,
    pub client_id: ClientId,
    pub uploaded_by: UserId,
    pub source: BatchSource,
    pub accepted: i32,
    pub rejected: i32,
}

/// Records a batch; its documents are inserted after it, in the same transaction.
pub async fn create(tx: &mut TenantTx, b: NewBatch) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "insert into document_batches (id, organization_id, client_id, uploaded_by, source, accepted, rejected)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(b.id)
    .bind(org)
    .bind(b.client_id)
    .bind(b.uploaded_by)
    .bind(b.source)
    .bind(b.accepted)
    .bind(b.rejected)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A batch of a client in `scope`, with its counts.
pub async fn get(tx: &mut TenantTx, id: DocumentBatchId, scope: &ClientScope) -> StoreResult<BatchProgress> {
    let org = tx.org_uuid();
    let batch: DocumentBatch = sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from document_batches b join clients c on c.organization_id = b.organization_id and c.id = b.client_id
          where b.organization_id = $1 and b.id = $2 and ($3::uuid[] is null or b.client_id = any($3))"
    ))
    .bind(org)
    .bind(id)
    .bind(scope.ids())
    .fetch_one(tx.conn())
    .await?;
    let counts = counts(tx, id).await?;
    Ok(BatchProgress { batch, counts })
}

#[derive(Serialize, Deserialize)]
struct BatchKey(DateTime<Utc>, DocumentBatchId);

/// Batches of clients in `scope` (of one client with `client`), newest first; with `unfinished`
/// only those whose documents are still being read. Each with its counts (a page holds at most a
/// few hundred batches, each counted from its documents by index).
pub async fn list(
    tx: &mut TenantTx,
    scope: &ClientScope,
    client: Option<ClientId>,
    unfinished: bool,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<BatchProgress>> {
    let org = tx.org_uuid();
    let after: Option<BatchKey> = after.map(cursor::decode).transpose()?;
    let (t, id) = after.map(|k| (Some(k.0), Some(k.1))).unwrap_or((None, None));
    let rows: Vec<DocumentBatch> = sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from document_batches b join clients c on c.organization_id = b.organization_id and c.id = b.client_id
          where b.organization_id = $1 and ($2::uuid[] is null or b.client_id = any($2))
            and ($3::uuid is null or b.client_id = $3) and (not $4 or b.finished_at is null)
            and ($5::timestamptz is null or (b.created_at, b.id) < ($5, $6))
          order by b.created_at desc, b.id desc limit $7"
    ))
    .bind(org)
    .bind(scope.ids())
    .bind(client)
    .bind(unfinished)
    .bind(t)
    .bind(id)
    .bind(limit as i64 + 1)
    .fetch_all(tx.conn())
    .await?;
    let page = Page::from_overfetch(rows, limit, |b| BatchKey(b.created_at, b.id));
    let mut items = Vec::with_capacity(page.items.len());
    for batch in page.items {
        let counts = counts(tx, batch.id).await?;
        items.push(BatchProgress { batch, counts });
    }
    Ok(Page { items, next_cursor: page.next_cursor })
}

/// Locks a batch's row until the transaction ends. The lock is its own statement on purpose:
/// under READ COMMITTED each later statement sees every commit of the transactions that held
/// the lock before, so a count taken after it is never stale.
pub async fn lock(tx: &mut TenantTx, id: DocumentBatchId) -> StoreResult<Option<DocumentBatch>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from document_batches b join clients c on c.organization_id = b.organization_id and c.id = b.client_id
          where b.organization_id = $1 and b.id = $2
          for update of b"
    ))
    .bind(org)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn counts(tx: &mut TenantTx, id: DocumentBatchId) -> StoreResult<BatchCounts> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select
             count(*) filter (where deleted_at is null and status in ('uploaded', 'processing')) as pending,
             count(*) filter (where deleted_at is null and status in ('approved', 'needs_review', 'stored'))
                 as processed,
             count(*) filter (where deleted_at is null and status = 'approved') as approved,
             count(*) filter (where deleted_at is null and status = 'needs_review') as needs_review,
             count(*) filter (where deleted_at is null and status = 'stored') as stored,
             count(*) filter (where deleted_at is null and status = 'duplicate') as duplicates,
             count(*) filter (where deleted_at is null and status = 'failed') as failed,
             count(*) filter (where deleted_at is not null) as deleted
         from documents where organization_id = $1 and batch_id = $2",
    )
    .bind(org)
    .bind(id)
    .fetch_one(tx.conn())
    .await?)
}

/// Marks a batch finished (once: a finished batch stays as it was). Returns when it finished.
pub async fn mark_finished(tx: &mut TenantTx, id: DocumentBatchId) -> StoreResult<DateTime<Utc>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_scalar(
        "update document_batches set finished_at = coalesce(finished_at, now())
         where organization_id = $1 and id = $2 returning finished_at",
    )
    .bind(org)
    .bind(id)
    .fetch_one(tx.conn())
    .await?)
}
