//! Documents, their extracted fields and their events (migrations/0030_documents.sql). The
//! pipeline's results arrive here in one transaction per document ([`save_results`]); review
//! corrections and approval are audited.

use chrono::{DateTime, Utc};
use domain::{
    ClientId, ClientScope, DocType, DocumentBatchId, DocumentEventKind, DocumentId, DocumentStatus,
    FieldOrigin, FileKind, Region, UserId,
};
use serde::{Deserialize, Serialize};

use crate::cursor::{self, Page};
use crate::{Change, StoreError, StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Document {
    pub id: DocumentId,
    pub client_id: ClientId,
    pub file_name: String,
    pub kind: FileKind,
    #[serde(with = "hex_bytes")]
    pub content_sha256: Vec<u8>,
    pub size_bytes: i64,
    pub pages: i32,
    pub status: DocumentStatus,
    pub category_hint: Option<DocType>,
    pub doc_type: Option<DocType>,
    pub type_confidence: Option<f32>,
    pub document_confidence: Option<f32>,
    pub needs_review: bool,
    pub review_reasons: serde_json::Value,
    pub step_timings: serde_json::Value,
    pub error: Option<String>,
    pub previous_version_id: Option<DocumentId>,
    pub version: i32,
    pub duplicate_of: Option<DocumentId>,
    /// The upload request it came in (none for documents older than batches).
    pub batch_id: Option<DocumentBatchId>,
    pub uploaded_by: Option<UserId>,
    pub approved_by: Option<UserId>,
    pub approved_at: Option<DateTime<Utc>>,
    pub processed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

mod hex_bytes {
    pub fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }
}

macro_rules! columns {
    () => {
        "id, client_id, file_name, kind, content_sha256, size_bytes, pages, status, category_hint, doc_type,
         type_confidence, document_confidence, needs_review, review_reasons, step_timings, error,
         previous_version_id, version, duplicate_of, batch_id, uploaded_by, approved_by, approved_at,
         processed_at, created_at, updated_at"
    };
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct DocumentField {
    pub key: String,
    pub value: Option<serde_json::Value>,
    pub display: String,
    pub masked: bool,
    pub confidence: f32,
    pub span_start: Option<i32>,
    pub span_end: Option<i32>,
    /// Where on the page the value was read (migrations/0067_document_field_regions.sql).
    #[sqlx(json(nullable))]
    pub region: Option<Region>,
    /// Where the value came from (migrations/0096_e_invoices.sql); none for fields saved before
    /// sources were kept.
    pub source: Option<FieldOrigin>,
    pub corrected_by: Option<UserId>,
    pub corrected_at: Option<DateTime<Utc>>,
}

pub struct NewDocument<'a> {
    pub id: DocumentId,
    pub client_id: ClientId,
    pub file_name: &'a str,
    pub kind: FileKind,
    pub content_sha256: &'a [u8],
    pub size_bytes: i64,
    pub pages: i32,
    pub category_hint: Option<DocType>,
    pub uploaded_by: Option<UserId>,
    /// The live document (of this client) this one is a new version of.
    pub previous_version_id: Option<DocumentId>,
    pub batch_id: Option<DocumentBatchId>,
}

/// The first live, non-duplicate document of this client holding the same content. Per client:
/// a link to another client's document would show its id to this client's portal users and
/// leave this client's upload unprocessed for them.
pub async fn find_by_content(
    tx: &mut TenantTx,
    client: ClientId,
    sha256: &[u8],
) -> StoreResult<Option<DocumentId>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_scalar(
        "select id from documents where organization_id = $1 and client_id = $3 and content_sha256 = $2
           and deleted_at is null and duplicate_of is null order by created_at, id limit 1",
    )
    .bind(org)
    .bind(sha256)
    .bind(client)
    .fetch_optional(tx.conn())
    .await?)
}

/// Inserts a document of a live client in `scope` (else `NotFound`, also when the previous
/// version is not a live document of that client); `duplicate_of` makes it a duplicate, which the
/// pipeline never processes.
pub async fn insert(
    tx: &mut TenantTx,
    d: NewDocument<'_>,
    duplicate_of: Option<DocumentId>,
    scope: &ClientScope,
) -> StoreResult<Document> {
    let org = tx.org_uuid();
    let status = if duplicate_of.is_some() { DocumentStatus::Duplicate } else { DocumentStatus::Uploaded };
    let doc: Option<Document> = sqlx::query_as(concat!(
        "insert into documents (id, organization_id, client_id, file_name, kind, content_sha256, size_bytes,
             pages, status, category_hint, uploaded_by, duplicate_of, previous_version_id, version, batch_id)
         select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
                coalesce((select version + 1 from documents where organization_id = $2 and id = $13
                            and client_id = $3 and deleted_at is null), 1), $15
         where exists (select 1 from clients where organization_id = $2 and id = $3 and deleted_at is null
                         and ($14::uuid[] is null or id = any($14)))
           and ($13::uuid is null or exists (select 1 from documents where organization_id = $2 and id = $13
                                               and client_id = $3 and deleted_at is null))
         returning ",
        columns!()
    ))
    .bind(d.id)
    .bind(org)
    .bind(d.client_id)
    .bind(d.file_name)
    .bind(d.kind)
    .bind(d.content_sha256)
    .bind(d.size_bytes)
    .bind(d.pages)
    .bind(status)
    .bind(d.category_hint)
    .bind(d.uploaded_by)
    .bind(duplicate_of)
    .bind(d.previous_version_id)
    .bind(scope.ids())
    .bind(d.batch_id)
    .fetch_optional(tx.conn())
    .await?;
    let doc = doc.ok_or(StoreError::NotFound)?;
    add_event(tx, doc.id, DocumentEventKind::Uploaded, serde_json::json!({ "status": doc.status })).await?;
    Ok(doc)
}

/// A live document of a client in `scope`.
pub async fn get(tx: &mut TenantTx, id: DocumentId, scope: &ClientScope) -> StoreResult<Document> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from documents where organization_id = $1 and id = $2 and deleted_at is null
           and ($3::uuid[] is null or client_id = any($3))"
    ))
    .bind(org)
    .bind(id)
    .bind(scope.ids())
    .fetch_one(tx.conn())
    .await?)
}

#[derive(Debug, Clone, Default)]
pub struct DocumentFilter {
    pub client_id: Option<ClientId>,
    /// A status's text, as the caller gave it: one that is no [`DocumentStatus`] matches nothing.
    pub status: Option<String>,
    pub doc_type: Option<DocType>,
    pub needs_review: Option<bool>,
    /// The document's year: its tax year, else the year of its statement period's end, invoice
    /// date or receipt date (as extracted or corrected), else the year it was uploaded (UTC).
    pub year: Option<i32>,
    /// Full text over file names and extracted text.
    pub q: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct DocumentKey(DateTime<Utc>, DocumentId);

/// Documents newest first; with `oldest_first` (the review queue) oldest first.
pub async fn list(
    tx: &mut TenantTx,
    filter: &DocumentFilter,
    scope: &ClientScope,
    oldest_first: bool,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<Document>> {
    let org = tx.org_uuid();
    let after: Option<DocumentKey> = after.map(cursor::decode).transpose()?;
    let (t, id) = after.map(|k| (Some(k.0), Some(k.1))).unwrap_or((None, None));
    macro_rules! listing {
        ($order:literal) => {
            concat!(
                "select ",
                columns!(),
                " from documents where organization_id = $1 and deleted_at is null
                   and ($2::uuid[] is null or client_id = any($2)) and ($3::uuid is null or client_id = $3)
                   and ($4::text is null or status = $4) and ($5::text is null or doc_type = $5)
                   and ($6::boolean is null or needs_review = $6)
                   and ($7::text is null or search @@ websearch_to_tsquery('simple', $7))
                   and ($11::int is null or coalesce(
                         (select substring(f.value->>'value' from '(?:19|20)\\d{2}')::int
                            from document_fields f
                           where f.organization_id = documents.organization_id and f.document_id = documents.id
                             and f.key in ('tax_year', 'period_end', 'invoice_date', 'date')
                             and f.value->>'value' ~ '(?:19|20)\\d{2}'
                           order by array_position(array['tax_year', 'period_end', 'invoice_date', 'date'], f.key)
                           limit 1),
                         extract(year from created_at at time zone 'UTC')::int) = $11) ",
                $order
            )
        };
    }
    let sql = if oldest_first {
        listing!(
            "and ($8::timestamptz is null or (created_at, id) > ($8, $9)) order by created_at, id limit $10"
        )
    } else {
        listing!(
            "and ($8::timestamptz is null or (created_at, id) < ($8, $9)) order by created_at desc, id desc limit $10"
        )
    };
    let rows: Vec<Document> = sqlx::query_as(sql)
        .bind(org)
        .bind(scope.ids())
        .bind(filter.client_id)
        .bind(filter.status.as_deref())
        .bind(filter.doc_type)
        .bind(filter.needs_review)
        .bind(filter.q.as_deref())
        .bind(t)
        .bind(id)
        .bind(limit as i64 + 1)
        .bind(filter.year)
        .fetch_all(tx.conn())
        .await?;
    Ok(Page::from_overfetch(rows, limit, |d| DocumentKey(d.created_at, d.id)))
}

pub async fn fields(tx: &mut TenantTx, id: DocumentId) -> StoreResult<Vec<DocumentField>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select key, value, display, masked, confidence, span_start, span_end, region, source, corrected_by, corrected_at
         from document_fields where organization_id = $1 and document_id = $2 order by key",
    )
    .bind(org)
    .bind(id)
    .fetch_all(tx.conn())
    .await?)
}

/// Marks a document as being processed (the pipeline started on it), unless it was deleted or
/// is already finished. Returns whether it should be processed.
pub async fn start_processing(tx: &mut TenantTx, id: DocumentId) -> StoreResult<bool> {
    let org = tx.org_uuid();
    let started = sqlx::query_scalar::<_, DocumentId>(
        "update documents set status = 'processing'
         where organization_id = $1 and id = $2 and deleted_at is null and status in ('uploaded', 'processing')
         returning id",
    )
    .bind(org)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(started.is_some())
}

/// Everything the pipeline found, saved at once.
pub struct Results<'a> {
    /// `needs_review`, `approved` (auto-approved) or `stored` (not OCR input).
    pub status: DocumentStatus,
    pub doc_type: Option<DocType>,
    pub type_confidence: Option<f32>,
    pub document_confidence: Option<f32>,
    pub needs_review: bool,
    pub review_reasons: serde_json::Value,
    pub step_timings: serde_json::Value,
    pub extracted_text: Option<&'a str>,
    pub fields: Vec<DocumentField>,
}

pub async fn save_results(tx: &mut TenantTx, id: DocumentId, r: Results<'_>) -> StoreResult<Document> {
    let org = tx.org_uuid();
    sqlx::query("delete from document_fields where organization_id = $1 and document_id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    if !r.fields.is_empty() {
        let mut b = sqlx::QueryBuilder::new(
            "insert into document_fields (organization_id, document_id, key, value, display, masked, confidence,
                 span_start, span_end, region, source) ",
        );
        b.push_values(&r.fields, |mut row, f| {
            row.push_bind(org)
                .push_bind(id)
                .push_bind(&f.key)
                .push_bind(&f.value)
                .push_bind(&f.display)
                .push_bind(f.masked)
                .push_bind(f.confidence.clamp(0.0, 1.0))
                .push_bind(f.span_start)
                .push_bind(f.span_end)
                .push_bind(f.region.map(sqlx::types::Json))
                .push_bind(f.source);
        });
        b.build().execute(tx.conn()).await?;
    }
    let doc: Document = sqlx::query_as(concat!(
        "update documents set status = $3, doc_type = $4, type_confidence = $5, document_confidence = $6,
             needs_review = $7, review_reasons = $8, step_timings = $9, extracted_text = $10, error = null,
             processed_at = now()
         where organization_id = $1 and id = $2 returning ",
        columns!()
    ))
    .bind(org)
    .bind(id)
    .bind(r.status)
    .bind(r.doc_type)
    .bind(r.type_confidence.map(|c| c.clamp(0.0, 1.0)))
    .bind(r.document_confidence.map(|c| c.clamp(0.0, 1.0)))
    .bind(r.needs_review)
    .bind(&r.review_reasons)
    .bind(&r.step_timings)
    .bind(r.extracted_text)
    .fetch_one(tx.conn())
    .await?;
    add_event(
        tx,
        id,
        DocumentEventKind::Processed,
        serde_json::json!({ "status": doc.status, "doc_type": doc.doc_type, "needs_review": doc.needs_review }),
    )
    .await?;
    Ok(doc)
}

/// Puts a processed (or failed) document back to `uploaded` for another pipeline run; a
/// document still on its first run, or a duplicate, is refused (`Conflict`). Returns it before and
/// after.
pub async fn reset_for_reprocess(tx: &mut TenantTx, id: DocumentId) -> StoreResult<Change<Document>> {
    let org = tx.org_uuid();
    let before = get(tx, id, &ClientScope::All).await?;
    let doc: Option<Document> = sqlx::query_as(concat!(
        "update documents set status = 'uploaded', needs_review = false, error = null, approved_by = null,
             approved_at = null
         where organization_id = $1 and id = $2 and deleted_at is null
           and status in ('needs_review', 'approved', 'failed', 'stored')
         returning ",
        columns!()
    ))
    .bind(org)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let doc = doc.ok_or_else(|| StoreError::Conflict("document_not_processed".into()))?;
    add_event(tx, id, DocumentEventKind::ReprocessRequested, serde_json::json!({ "status": before.status }))
        .await?;
    Ok(Change { before, after: doc })
}

/// The pipeline gave up on a document (a fatal error, or out of attempts). Returns the batch of
/// the document (none when it was deleted meanwhile, or came before batches).
pub async fn mark_failed(
    tx: &mut TenantTx,
    id: DocumentId,
    error: &str,
) -> StoreResult<Option<DocumentBatchId>> {
    Ok(fail(tx, id, error, false).await?.flatten())
}

/// Marks a document failed only if the pipeline never finished it (still `uploaded` or
/// `processing`): for a job that died without its handler's last attempt. `None` when the document
/// had finished (or is gone) and nothing changed; else its batch.
pub async fn fail_unfinished(
    tx: &mut TenantTx,
    id: DocumentId,
    error: &str,
) -> StoreResult<Option<Option<DocumentBatchId>>> {
    fail(tx, id, error, true).await
}

async fn fail(
    tx: &mut TenantTx,
    id: DocumentId,
    error: &str,
    only_unfinished: bool,
) -> StoreResult<Option<Option<DocumentBatchId>>> {
    let org = tx.org_uuid();
    let error: String = error.chars().take(2000).collect();
    let batch: Option<Option<DocumentBatchId>> = sqlx::query_scalar(
        "update documents set status = 'failed', error = $3, needs_review = true
         where organization_id = $1 and id = $2 and deleted_at is null
           and (not $4 or status in ('uploaded', 'processing'))
         returning batch_id",
    )
    .bind(org)
    .bind(id)
    .bind(&error)
    .bind(only_unfinished)
    .fetch_optional(tx.conn())
    .await?;
    if batch.is_some() || !only_unfinished {
        add_event(tx, id, DocumentEventKind::Failed, serde_json::json!({ "error": error })).await?;
    }
    Ok(batch)
}

/// A reviewer's correction of one field: it then counts as certain. Returns the field before (if
/// it was there) and after.
pub async fn correct_field(
    tx: &mut TenantTx,
    id: DocumentId,
    key: &str,
    value: &serde_json::Value,
    display: &str,
    masked: bool,
    by: UserId,
) -> StoreResult<Change<DocumentField, Option<DocumentField>>> {
    let org = tx.org_uuid();
    let before: Option<DocumentField> = sqlx::query_as(
        "select key, value, display, masked, confidence, span_start, span_end, region, source, corrected_by, corrected_at
         from document_fields where organization_id = $1 and document_id = $2 and key = $3",
    )
    .bind(org)
    .bind(id)
    .bind(key)
    .fetch_optional(tx.conn())
    .await?;
    let stored_value = (!masked).then_some(value);
    let field: DocumentField = sqlx::query_as(
        "insert into document_fields (organization_id, document_id, key, value, display, masked, confidence,
             source, corrected_by, corrected_at)
         values ($1, $2, $3, $4, $5, $6, 1, 'reviewer', $7, now())
         on conflict (document_id, key) do update set value = excluded.value, display = excluded.display,
             masked = excluded.masked, confidence = 1, corrected_by = excluded.corrected_by,
             corrected_at = excluded.corrected_at
         returning key, value, display, masked, confidence, span_start, span_end, region, source, corrected_by, corrected_at",
    )
    .bind(org)
    .bind(id)
    .bind(key)
    .bind(stored_value)
    .bind(display)
    .bind(masked)
    .bind(by)
    .fetch_one(tx.conn())
    .await?;
    add_event(tx, id, DocumentEventKind::FieldCorrected, serde_json::json!({ "key": key })).await?;
    Ok(Change { before, after: field })
}

/// Approves a processed document (clears its review flag); returns it before and after.
pub async fn approve(tx: &mut TenantTx, id: DocumentId, by: UserId) -> StoreResult<Change<Document>> {
    let org = tx.org_uuid();
    let before = get(tx, id, &ClientScope::All).await?;
    let doc: Option<Document> = sqlx::query_as(concat!(
        "update documents set status = 'approved', needs_review = false, approved_by = $3, approved_at = now()
         where organization_id = $1 and id = $2 and deleted_at is null and status in ('needs_review', 'approved')
         returning ",
        columns!()
    ))
    .bind(org)
    .bind(id)
    .bind(by)
    .fetch_optional(tx.conn())
    .await?;
    let doc = doc.ok_or_else(|| StoreError::Conflict("document_not_reviewable".into()))?;
    add_event(tx, id, DocumentEventKind::Approved, serde_json::json!({ "by": by })).await?;
    Ok(Change { before, after: doc })
}

/// Soft-deletes a document (its blob stays: other documents may share the content); returns it
/// as it was.
pub async fn delete(tx: &mut TenantTx, id: DocumentId, scope: &ClientScope) -> StoreResult<Document> {
    let before = get(tx, id, scope).await?;
    let org = tx.org_uuid();
    sqlx::query("update documents set deleted_at = now() where organization_id = $1 and id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    add_event(tx, id, DocumentEventKind::Deleted, serde_json::json!({})).await?;
    Ok(before)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DocumentEvent {
    pub event: DocumentEventKind,
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

pub async fn add_event(
    tx: &mut TenantTx,
    id: DocumentId,
    event: DocumentEventKind,
    detail: serde_json::Value,
) -> StoreResult<()> {
    insert_event(tx, Some(id), None, event, detail).await
}

/// An event of a whole batch (`batch_finished`), in the documents' event stream.
pub async fn add_batch_event(
    tx: &mut TenantTx,
    batch: DocumentBatchId,
    event: DocumentEventKind,
    detail: serde_json::Value,
) -> StoreResult<()> {
    insert_event(tx, None, Some(batch), event, detail).await
}

async fn insert_event(
    tx: &mut TenantTx,
    document: Option<DocumentId>,
    batch: Option<DocumentBatchId>,
    event: DocumentEventKind,
    detail: serde_json::Value,
) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "insert into document_events (organization_id, document_id, batch_id, event, detail)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(org)
    .bind(document)
    .bind(batch)
    .bind(event)
    .bind(detail)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn events(tx: &mut TenantTx, id: DocumentId) -> StoreResult<Vec<DocumentEvent>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select event, detail, created_at from document_events
         where organization_id = $1 and document_id = $2 order by id",
    )
    .bind(org)
    .bind(id)
    .fetch_all(tx.conn())
    .await?)
}

/// The document's text as the pipeline laid it out (what field spans point into); None before it
/// was read.
pub async fn extracted_text(tx: &mut TenantTx, id: DocumentId) -> StoreResult<Option<String>> {
    let org = tx.org_uuid();
    let text: Option<Option<String>> = sqlx::query_scalar(
        "select extracted_text from documents where organization_id = $1 and id = $2 and deleted_at is null",
    )
    .bind(org)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    text.ok_or(StoreError::NotFound)
}
