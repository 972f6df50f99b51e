//! The document use cases the API calls: upload (files or a zip), lists and the review queue,
//! detail, signed download links, thumbnails, field corrections, approval and deletion. Each
//! checks the caller's permission and client scope; portal users reach only the clients they
//! were granted (uploads need the grant's `can_upload_documents`).
//!
//! An accepted file is written to the blob store (encrypted, fsynced, content-addressed) before its
//! row and its `documents.process` job are inserted, in one transaction; the caller answers 201
//! only after that commit. When that transaction fails, the files it wrote are deleted again, and
//! an upload that would take the organization past its storage quota is refused. Content the
//! client already has on file is linked (`duplicate_of`), not processed again; duplicates are
//! found per client, so no link (or id) ever crosses to another client.
//! Each upload request is one batch ([`crate::batches`]): its progress is readable, and its
//! uploader is notified once when its last document settles.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{BatchSource, ClientId, ClientScope, DocumentBatchId, DocumentId, Permission, VendorMemoryId};
use hmac::{Hmac, Mac};
use identity::{Caller, IdentityError};
use jobs::NewJob;
use serde::Serialize;
use sha2::Sha256;
use store::cursor::Page;
use store::document_batches::{self, BatchProgress, NewBatch};
use store::documents::{self as rows, Document, DocumentEvent, DocumentField, DocumentFilter, NewDocument};
use store::{AuditRecord, Db, StoreError, TenantTx};

use crate::blob::BlobError;
use crate::blobs::Blobs;
use crate::fields::{DocType, FieldValue, ValueKind, group_schema, is_sensitive, mask_tax_id, spec_of};
use crate::hash::ContentHash;
use crate::intake::{
    AcceptedUpload, UploadError, UploadLimits, UploadRejection, display_name, expand_batch, validate_upload,
};
use crate::jobs::{ProcessDocument, ProcessPayload};
use crate::thumbnail::{PREVIEW_SIDE, THUMBNAIL_SIDE, first_page_jpeg};
use crate::vendor_memories::VendorMemoryView;

#[derive(Debug, thiserror::Error)]
pub enum DocumentsError {
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The only file (or every file) of an upload was refused.
    #[error("{rejection}")]
    Rejected { rejection: UploadRejection, files: Vec<RejectedFile> },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("the download link is invalid or expired; ask for a new one")]
    BadLink,
    #[error("document tools unavailable: {0}")]
    Unavailable(String),
    #[error(
        "the organization stores {used} bytes of its {limit}-byte quota; this upload needs {adding} more"
    )]
    QuotaExceeded { used: u64, adding: u64, limit: u64 },
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Jobs(#[from] jobs::JobsError),
}

pub type DocumentsResult<T> = Result<T, DocumentsError>;

/// What a `replaces` id that does not resolve is reported as.
const REPLACED: &str = "document to replace";

trait OrNotFound<T> {
    fn or_not_found(self, what: &'static str) -> DocumentsResult<T>;
}

impl<T> OrNotFound<T> for Result<T, StoreError> {
    fn or_not_found(self, what: &'static str) -> DocumentsResult<T> {
        self.map_err(|e| match e {
            StoreError::NotFound => DocumentsError::NotFound(what),
            other => other.into(),
        })
    }
}

/// One file of an upload request.
pub struct UploadFile {
    pub name: Option<String>,
    pub bytes: Vec<u8>,
}

/// The files of an upload request and what it said of them.
pub struct UploadRequest {
    pub files: Vec<UploadFile>,
    /// Files the caller already refused (say, over the size limit while streaming); their
    /// results follow the others'.
    pub refused: Vec<RejectedFile>,
    /// A document type given at upload.
    pub category: Option<DocType>,
    /// The document this upload is a new version of.
    pub replaces: Option<DocumentId>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RejectedFile {
    pub file_name: Option<String>,
    pub rejection: UploadRejection,
}

/// What became of an upload request: its batch, and each file in request order.
#[derive(Debug, Clone, Serialize)]
pub struct Uploaded {
    pub batch_id: DocumentBatchId,
    pub files: Vec<FileOutcome>,
}

/// What became of one file of an upload.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FileOutcome {
    Accepted { document: Box<Document> },
    Rejected(RejectedFile),
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentDetail {
    pub document: Document,
    pub fields: Vec<DocumentField>,
    pub events: Vec<DocumentEvent>,
}

/// A short-lived link to a document's file.
#[derive(Debug, Clone, Serialize)]
pub struct SignedLink {
    /// Path and query, relative to the API's public URL.
    pub path: String,
    pub expires_at: DateTime<Utc>,
}

/// A file read through a signed link.
pub struct FileContent {
    pub bytes: Vec<u8>,
    pub mime_type: &'static str,
    /// A base name without control characters ([`display_name`]).
    pub file_name: String,
}

/// The bytes an organization's documents take in the blob store, and its quota.
#[derive(Debug, Clone, Serialize)]
pub struct StorageUsage {
    pub used_bytes: u64,
    pub limit_bytes: u64,
}

/// The storage quota of every organization unless configured otherwise (10 GiB).
pub const DEFAULT_STORAGE_QUOTA: u64 = 10 * 1024 * 1024 * 1024;

/// Where an upload's files go, and what the request said of them.
struct Target {
    client: ClientId,
    source: BatchSource,
    category: Option<DocType>,
    replaces: Option<DocumentId>,
}

/// The document service. Cheap to clone.
#[derive(Clone)]
pub struct Documents {
    db: Db,
    blobs: Blobs,
    limits: UploadLimits,
    storage_quota: u64,
    link_key: Arc<[u8]>,
    link_ttl: Duration,
}

impl Documents {
    /// `link_key` signs download links (any secret of 32 bytes or more, the same on every instance).
    pub fn new(db: Db, blobs: Blobs, limits: UploadLimits, link_key: &[u8]) -> Documents {
        Documents {
            db,
            blobs,
            limits,
            storage_quota: DEFAULT_STORAGE_QUOTA,
            link_key: link_key.into(),
            link_ttl: Duration::from_secs(300),
        }
    }

    /// The most bytes of distinct content each organization may store.
    pub fn with_storage_quota(mut self, bytes: u64) -> Documents {
        self.storage_quota = bytes;
        self
    }

    pub fn limits(&self) -> &UploadLimits {
        &self.limits
    }

    /// The blob store (the pipeline's workers read the same one).
    pub fn blobs(&self) -> &Blobs {
        &self.blobs
    }

    pub(crate) async fn tx(&self, caller: &Caller) -> DocumentsResult<TenantTx> {
        Ok(TenantTx::begin(
            &self.db,
            caller.organization_id,
            caller.actor(caller.meta.request_id.clone(), caller.meta.ip),
        )
        .await?)
    }

    /// The clients this caller may upload to.
    fn upload_scope(caller: &Caller) -> ClientScope {
        if caller.role.is_staff() {
            ClientScope::All
        } else {
            ClientScope::Only(
                caller.portal.iter().filter(|g| g.can_upload_documents).map(|g| g.client_id).collect(),
            )
        }
    }

    /// Whether this caller may upload to `client` (a live client within reach; otherwise
    /// `NotFound`): checked before an upload's body is read.
    pub async fn check_upload_target(&self, caller: &Caller, client: ClientId) -> DocumentsResult<()> {
        caller.require(Permission::DocumentsCreate)?;
        let mut tx = self.tx(caller).await?;
        store::clients::get(&mut tx, client, &Self::upload_scope(caller)).await.or_not_found("client")?;
        tx.commit().await?;
        Ok(())
    }

    /// Uploads files to a client. Each file is validated on its own; when none is accepted the
    /// request fails with the (first) rejection.
    pub async fn upload(
        &self,
        caller: &Caller,
        client: ClientId,
        request: UploadRequest,
    ) -> DocumentsResult<Uploaded> {
        let UploadRequest { files, refused, category, replaces } = request;
        caller.require(Permission::DocumentsCreate)?;
        if !Self::upload_scope(caller).allows(client) {
            return Err(DocumentsError::NotFound("client"));
        }
        if files.is_empty() && refused.is_empty() {
            return Err(DocumentsError::Invalid {
                field: "file".into(),
                message: "send at least one file".into(),
            });
        }
        if let Some(previous) = replaces {
            self.check_replaces(caller, client, previous).await?;
        }
        let mut checked = Vec::with_capacity(files.len());
        for f in files {
            let outcome = match validate_upload(&f.bytes, f.name.as_deref(), &self.limits).await {
                Ok(upload) => Ok((upload, f.bytes)),
                Err(UploadError::Rejected(r)) => Err(RejectedFile { file_name: f.name, rejection: r }),
                Err(UploadError::Unavailable(e)) => return Err(DocumentsError::Unavailable(e.to_string())),
            };
            checked.push(outcome);
        }
        checked.extend(refused.into_iter().map(Err));
        let target = Target { client, source: BatchSource::Files, category, replaces };
        self.accept(caller, target, checked).await
    }

    /// Whether `previous` is a live document of `client` this caller may upload to; anything else
    /// (unknown, deleted, another client's or another firm's) is `NotFound`, before anything is
    /// stored.
    async fn check_replaces(
        &self,
        caller: &Caller,
        client: ClientId,
        previous: DocumentId,
    ) -> DocumentsResult<()> {
        let mut tx = self.tx(caller).await?;
        let doc = rows::get(&mut tx, previous, &Self::upload_scope(caller)).await.or_not_found(REPLACED)?;
        tx.commit().await?;
        if doc.client_id != client {
            return Err(DocumentsError::NotFound(REPLACED));
        }
        Ok(())
    }

    /// Uploads the files of a zip archive, each with its own result.
    pub async fn upload_batch(
        &self,
        caller: &Caller,
        client: ClientId,
        zip: &[u8],
        category: Option<DocType>,
    ) -> DocumentsResult<Uploaded> {
        caller.require(Permission::DocumentsCreate)?;
        if !Self::upload_scope(caller).allows(client) {
            return Err(DocumentsError::NotFound("client"));
        }
        let entries = match expand_batch(zip, &self.limits).await {
            Ok(entries) => entries,
            Err(UploadError::Rejected(rejection)) => {
                return Err(DocumentsError::Rejected { rejection, files: Vec::new() });
            }
            Err(UploadError::Unavailable(e)) => return Err(DocumentsError::Unavailable(e.to_string())),
        };
        let checked = entries
            .into_iter()
            .map(|e| match e.outcome {
                Ok(file) => Ok((file.upload, file.bytes)),
                Err(rejection) => Err(RejectedFile { file_name: Some(e.name), rejection }),
            })
            .collect();
        let target = Target { client, source: BatchSource::Zip, category, replaces: None };
        self.accept(caller, target, checked).await
    }

    async fn accept(
        &self,
        caller: &Caller,
        target: Target,
        checked: Vec<Result<(AcceptedUpload, Vec<u8>), RejectedFile>>,
    ) -> DocumentsResult<Uploaded> {
        if checked.iter().all(Result::is_err) {
            let files: Vec<RejectedFile> = checked.into_iter().filter_map(Result::err).collect();
            let rejection = files[0].rejection.clone();
            return Err(DocumentsError::Rejected { rejection, files });
        }
        let org = caller.organization_id;
        let key = self.blobs.data_key(org).await?;
        let mut written = Vec::new();
        let result = self.record(caller, target, checked, &key, &mut written).await;
        // A refused or failed request leaves no file behind (the sweep catches what this misses).
        if result.is_err()
            && !written.is_empty()
            && let Err(e) = self.blobs.remove_unreferenced(org, &written).await
        {
            tracing::warn!(error = %e, "deleting the blobs of a failed upload; the sweep will");
        }
        result
    }

    /// Writes the accepted files (recording in `written` those this call created) and their rows,
    /// batch and jobs, in one transaction holding each content's lock ([`crate::blobs`]).
    async fn record(
        &self,
        caller: &Caller,
        target: Target,
        checked: Vec<Result<(AcceptedUpload, Vec<u8>), RejectedFile>>,
        key: &vault::DataKey,
        written: &mut Vec<ContentHash>,
    ) -> DocumentsResult<Uploaded> {
        let Target { client, source, category, replaces } = target;
        let org = caller.organization_id;
        let scope = Self::upload_scope(caller);
        let mut tx = self.tx(caller).await?;
        let mut contents: Vec<ContentHash> = checked.iter().flatten().map(|(u, _)| u.hash).collect();
        contents.sort();
        contents.dedup();
        for hash in &contents {
            store::blobs::lock_content(&mut tx, hash.as_bytes()).await?;
        }
        // Durable first: a row (and its job) never points at bytes that are not on disk.
        for (upload, bytes) in checked.iter().flatten() {
            let stored = self.blobs.put(org, key, bytes.clone()).await?;
            debug_assert_eq!(stored.hash, upload.hash);
            if stored.created {
                written.push(stored.hash);
            }
        }
        store::blobs::lock_usage(&mut tx).await?;
        let used_before = store::blobs::bytes_used(&mut tx).await?;
        let batch_id = DocumentBatchId::new();
        let accepted = checked.iter().filter(|c| c.is_ok()).count();
        document_batches::create(
            &mut tx,
            NewBatch {
                id: batch_id,
                client_id: client,
                uploaded_by: caller.user_id(),
                source,
                accepted: accepted as i32,
                rejected: (checked.len() - accepted) as i32,
            },
        )
        .await?;
        let mut outcomes = Vec::with_capacity(checked.len());
        for item in checked {
            let (upload, _) = match item {
                Ok(ok) => ok,
                Err(rejected) => {
                    outcomes.push(FileOutcome::Rejected(rejected));
                    continue;
                }
            };
            let hash = upload.hash.as_bytes();
            let duplicate_of = rows::find_by_content(&mut tx, client, hash).await?;
            let name = upload
                .file_name
                .as_deref()
                .and_then(display_name)
                .unwrap_or_else(|| format!("document.{}", upload.kind.as_str()));
            let document = rows::insert(
                &mut tx,
                NewDocument {
                    id: DocumentId::new(),
                    client_id: client,
                    file_name: &name,
                    kind: upload.kind,
                    content_sha256: hash,
                    size_bytes: upload.size as i64,
                    pages: upload.pages as i32,
                    category_hint: category,
                    uploaded_by: Some(caller.user_id()),
                    previous_version_id: replaces,
                    batch_id: Some(batch_id),
                },
                duplicate_of,
                &scope,
            )
            .await
            // The replaced document was checked before; it may have been deleted since.
            .or_not_found(if replaces.is_some() {
                "client or the document to replace"
            } else {
                "client"
            })?;
            tx.audit(AuditRecord::new("document.upload", "document", document.id).after(&document));
            if duplicate_of.is_none() {
                let job = NewJob::<ProcessDocument>::new(ProcessPayload {
                    organization_id: org,
                    document_id: document.id,
                })
                .organization(org)
                .unique_key(format!("documents.process:{}", document.id));
                jobs::enqueue(tx.conn(), job).await?;
            }
            outcomes.push(FileOutcome::Accepted { document: Box::new(document) });
        }
        let used = store::blobs::bytes_used(&mut tx).await?;
        if used > used_before && used as u64 > self.storage_quota {
            return Err(DocumentsError::QuotaExceeded {
                used: used_before as u64,
                adding: (used - used_before) as u64,
                limit: self.storage_quota,
            });
        }
        // A batch of duplicates has nothing left to process: it finishes here.
        crate::batches::settle(&mut tx, Some(batch_id)).await?;
        tx.commit().await?;
        Ok(Uploaded { batch_id, files: outcomes })
    }

    /// What the organization's documents take of its storage quota (staff with `documents:read`).
    pub async fn storage(&self, caller: &Caller) -> DocumentsResult<StorageUsage> {
        caller.require(Permission::DocumentsRead)?;
        if !caller.role.is_staff() {
            return Err(IdentityError::NotAllowed("the firm's storage is shown to its staff only").into());
        }
        let mut tx = self.tx(caller).await?;
        let used = store::blobs::bytes_used(&mut tx).await?;
        tx.commit().await?;
        Ok(StorageUsage { used_bytes: used as u64, limit_bytes: self.storage_quota })
    }

    /// An upload batch's progress (`documents:read`; portal users, their own clients' batches).
    pub async fn batch(&self, caller: &Caller, id: DocumentBatchId) -> DocumentsResult<BatchProgress> {
        caller.require(Permission::DocumentsRead)?;
        let mut tx = self.tx(caller).await?;
        let progress =
            document_batches::get(&mut tx, id, &caller.client_scope()).await.or_not_found("batch")?;
        tx.commit().await?;
        Ok(progress)
    }

    /// Upload batches in the caller's reach, newest first (one client's with `client`; with
    /// `unfinished` only those still being read).
    pub async fn batches(
        &self,
        caller: &Caller,
        client: Option<ClientId>,
        unfinished: bool,
        cursor: Option<&str>,
        limit: usize,
    ) -> DocumentsResult<Page<BatchProgress>> {
        caller.require(Permission::DocumentsRead)?;
        let mut tx = self.tx(caller).await?;
        let page = document_batches::list(&mut tx, &caller.client_scope(), client, unfinished, cursor, limit)
            .await?;
        tx.commit().await?;
        Ok(page)
    }

    /// Documents in the caller's reach, newest first.
    pub async fn list(
        &self,
        caller: &Caller,
        filter: &DocumentFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> DocumentsResult<Page<Document>> {
        self.page(caller, filter, false, cursor, limit).await
    }

    /// The firm's review queue: documents needing review, oldest first (staff with
    /// `documents:read`; review is the firm's business, never shown to its clients).
    pub async fn review_queue(
        &self,
        caller: &Caller,
        filter: &DocumentFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> DocumentsResult<Page<Document>> {
        if !caller.role.is_staff() {
            return Err(IdentityError::NotAllowed("the review queue is the firm's staff's").into());
        }
        let filter = DocumentFilter { needs_review: Some(true), ..filter.clone() };
        self.page(caller, &filter, true, cursor, limit).await
    }

    async fn page(
        &self,
        caller: &Caller,
        filter: &DocumentFilter,
        oldest_first: bool,
        cursor: Option<&str>,
        limit: usize,
    ) -> DocumentsResult<Page<Document>> {
        caller.require(Permission::DocumentsRead)?;
        let mut tx = self.tx(caller).await?;
        let mut page =
            rows::list(&mut tx, filter, &caller.client_scope(), oldest_first, cursor, limit).await?;
        tx.commit().await?;
        page.items = page.items.into_iter().map(|d| as_seen_by(caller, d)).collect();
        Ok(page)
    }

    pub async fn get(&self, caller: &Caller, id: DocumentId) -> DocumentsResult<DocumentDetail> {
        caller.require(Permission::DocumentsRead)?;
        let mut tx = self.tx(caller).await?;
        let document = rows::get(&mut tx, id, &caller.client_scope()).await.or_not_found("document")?;
        let fields = rows::fields(&mut tx, id).await?;
        let events = if caller.role.is_staff() { rows::events(&mut tx, id).await? } else { Vec::new() };
        tx.commit().await?;
        Ok(DocumentDetail { document: as_seen_by(caller, document), fields, events })
    }

    /// A link to the file valid for a few minutes (`documents:download`).
    pub async fn download_link(&self, caller: &Caller, id: DocumentId) -> DocumentsResult<SignedLink> {
        caller.require(Permission::DocumentsDownload)?;
        let mut tx = self.tx(caller).await?;
        rows::get(&mut tx, id, &caller.client_scope()).await.or_not_found("document")?;
        tx.commit().await?;
        let expires_at = Utc::now() + self.link_ttl;
        let expires = expires_at.timestamp();
        let org = caller.organization_id;
        let sig = hex::encode(self.sign(&format!("{org}:{id}:{expires}")));
        Ok(SignedLink {
            path: format!("/v1/document-files/{id}?org={org}&expires={expires}&sig={sig}"),
            expires_at,
        })
    }

    fn sign(&self, message: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.link_key).expect("HMAC takes keys of any length");
        mac.update(message.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The file behind a signed link; the link is the credential.
    pub async fn open_link(
        &self,
        org: domain::OrganizationId,
        id: DocumentId,
        expires: i64,
        sig: &str,
    ) -> DocumentsResult<FileContent> {
        let sig = hex::decode(sig).map_err(|_| DocumentsError::BadLink)?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.link_key).expect("HMAC takes keys of any length");
        mac.update(format!("{org}:{id}:{expires}").as_bytes());
        mac.verify_slice(&sig).map_err(|_| DocumentsError::BadLink)?;
        if expires < Utc::now().timestamp() {
            return Err(DocumentsError::BadLink);
        }
        let mut tx = TenantTx::begin(&self.db, org, store::Actor::system()).await?;
        let doc = rows::get(&mut tx, id, &ClientScope::All).await.or_not_found("document")?;
        tx.commit().await?;
        let bytes = self.read_blob(org, &doc).await?;
        let kind = doc.kind;
        // Names stored before they were cleaned at upload are cleaned here.
        let file_name = display_name(&doc.file_name).unwrap_or_else(|| format!("document.{}", kind.as_str()));
        Ok(FileContent { bytes, mime_type: kind.mime_type(), file_name })
    }

    async fn read_blob(&self, org: domain::OrganizationId, doc: &Document) -> DocumentsResult<Vec<u8>> {
        let hash =
            hex::encode(&doc.content_sha256).parse().map_err(|_| DocumentsError::NotFound("document"))?;
        Ok(self.blobs.get(org, &hash).await?)
    }

    /// A small JPEG of an image or of a PDF's first page.
    pub async fn thumbnail(&self, caller: &Caller, id: DocumentId) -> DocumentsResult<Vec<u8>> {
        self.first_page(caller, id, THUMBNAIL_SIDE).await
    }

    /// The first page large enough to read (the review screen shows it beside the fields).
    pub async fn preview(&self, caller: &Caller, id: DocumentId) -> DocumentsResult<Vec<u8>> {
        self.first_page(caller, id, PREVIEW_SIDE).await
    }

    async fn first_page(&self, caller: &Caller, id: DocumentId, side: u32) -> DocumentsResult<Vec<u8>> {
        caller.require(Permission::DocumentsRead)?;
        let mut tx = self.tx(caller).await?;
        let doc = rows::get(&mut tx, id, &caller.client_scope()).await.or_not_found("document")?;
        tx.commit().await?;
        let kind = doc.kind;
        if !kind.is_ocr_input() {
            return Err(DocumentsError::NotFound("thumbnail (only images and PDFs have one)"));
        }
        let bytes = self.read_blob(caller.organization_id, &doc).await?;
        first_page_jpeg(&bytes, kind, side).await.map_err(|e| DocumentsError::Unavailable(e.to_string()))
    }

    /// A reviewer corrects (or adds) one field; the value must suit the field's kind.
    pub async fn correct_field(
        &self,
        caller: &Caller,
        id: DocumentId,
        key: &str,
        value: &str,
    ) -> DocumentsResult<DocumentField> {
        caller.require(Permission::DocumentsUpdate)?;
        let mut tx = self.tx(caller).await?;
        let doc = rows::get(&mut tx, id, &caller.client_scope()).await.or_not_found("document")?;
        let doc_type = doc.doc_type.ok_or_else(|| DocumentsError::Invalid {
            field: "key".into(),
            message: "the document has not been classified yet".into(),
        })?;
        let kind = field_kind(doc_type, key).ok_or_else(|| DocumentsError::Invalid {
            field: "key".into(),
            message: format!("`{key}` is not a field of a {}", doc_type.as_str()),
        })?;
        let parsed = parse_value(kind, value).ok_or_else(|| DocumentsError::Invalid {
            field: "value".into(),
            message: format!("not a valid {kind:?}"),
        })?;
        let sensitive = is_sensitive(doc_type, key);
        let display = if sensitive { mask_tax_id(value) } else { parsed.display() };
        let json = serde_json::to_value(&parsed).map_err(|e| DocumentsError::Unavailable(e.to_string()))?;
        let change =
            rows::correct_field(&mut tx, id, key, &json, &display, sensitive, caller.user_id()).await?;
        tx.audit(
            AuditRecord::new("document.field.correct", "document", id)
                .before(&change.before)
                .after(&change.after),
        );
        // What the correction teaches about this vendor, learnt in the same transaction.
        crate::vendor_memories::learn(&mut tx, caller, id, doc_type).await?;
        tx.commit().await?;
        Ok(change.after)
    }

    pub async fn approve(&self, caller: &Caller, id: DocumentId) -> DocumentsResult<Document> {
        caller.require(Permission::DocumentsUpdate)?;
        let mut tx = self.tx(caller).await?;
        rows::get(&mut tx, id, &caller.client_scope()).await.or_not_found("document")?;
        let change = rows::approve(&mut tx, id, caller.user_id()).await?;
        tx.audit(
            AuditRecord::new("document.approve", "document", id).before(&change.before).after(&change.after),
        );
        tx.commit().await?;
        Ok(change.after)
    }

    /// Runs the pipeline again on a processed document (its fields are replaced; corrections
    /// too). A run already queued or running is not doubled.
    pub async fn reprocess(&self, caller: &Caller, id: DocumentId) -> DocumentsResult<Document> {
        caller.require(Permission::DocumentsUpdate)?;
        let mut tx = self.tx(caller).await?;
        rows::get(&mut tx, id, &caller.client_scope()).await.or_not_found("document")?;
        let change = rows::reset_for_reprocess(&mut tx, id).await?;
        tx.audit(
            AuditRecord::new("document.reprocess", "document", id)
                .before(&change.before)
                .after(&change.after),
        );
        let org = caller.organization_id;
        let job = NewJob::<ProcessDocument>::new(ProcessPayload { organization_id: org, document_id: id })
            .organization(org)
            .unique_key(format!("documents.process:{id}"));
        jobs::enqueue(tx.conn(), job).await?;
        tx.commit().await?;
        Ok(change.after)
    }

    /// The firm's vendor memories, newest first (staff with `documents:read`).
    pub async fn vendor_memories(
        &self,
        caller: &Caller,
        cursor: Option<&str>,
        limit: usize,
    ) -> DocumentsResult<Page<VendorMemoryView>> {
        caller.require(Permission::DocumentsRead)?;
        staff_only(caller)?;
        let mut tx = self.tx(caller).await?;
        let page = store::vendor_memories::page(&mut tx, cursor, limit).await?;
        tx.commit().await?;
        Ok(page.map(VendorMemoryView::of))
    }

    /// One vendor memory (staff with `documents:read`).
    pub async fn vendor_memory(
        &self,
        caller: &Caller,
        id: VendorMemoryId,
    ) -> DocumentsResult<VendorMemoryView> {
        caller.require(Permission::DocumentsRead)?;
        staff_only(caller)?;
        let mut tx = self.tx(caller).await?;
        let row = store::vendor_memories::get(&mut tx, id).await.map_err(memory_not_found)?;
        tx.commit().await?;
        Ok(VendorMemoryView::of(row))
    }

    /// Forgets a vendor memory (staff with `documents:update`): the vendor's next documents are
    /// read as if it had never been corrected. Audited with what was forgotten.
    pub async fn forget_vendor_memory(&self, caller: &Caller, id: VendorMemoryId) -> DocumentsResult<()> {
        caller.require(Permission::DocumentsUpdate)?;
        staff_only(caller)?;
        let mut tx = self.tx(caller).await?;
        let gone = store::vendor_memories::delete(&mut tx, id).await.map_err(memory_not_found)?;
        tx.audit(AuditRecord::new("vendor_memory.forget", "vendor_memory", id).before(&gone));
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete(&self, caller: &Caller, id: DocumentId) -> DocumentsResult<()> {
        caller.require(Permission::DocumentsDelete)?;
        let mut tx = self.tx(caller).await?;
        let document = rows::delete(&mut tx, id, &caller.client_scope()).await.or_not_found("document")?;
        tx.audit(AuditRecord::new("document.delete", "document", id).before(&document));
        // Deleting a document still waiting for the pipeline may leave its batch with nothing pending.
        crate::batches::settle(&mut tx, document.batch_id).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn staff_only(caller: &Caller) -> DocumentsResult<()> {
    if caller.role.is_staff() {
        Ok(())
    } else {
        Err(IdentityError::NotAllowed("vendor memories are the firm's staff's").into())
    }
}

fn memory_not_found(e: StoreError) -> DocumentsError {
    match e {
        StoreError::NotFound => DocumentsError::NotFound("vendor memory"),
        other => other.into(),
    }
}

/// The kind of a field key of `doc_type`, including group members (`line_items.0.amount`).
fn field_kind(doc_type: DocType, key: &str) -> Option<ValueKind> {
    if let Some(spec) = spec_of(doc_type, key) {
        return Some(spec.kind);
    }
    let (group, specs) = group_schema(doc_type)?;
    let rest = key.strip_prefix(group)?.strip_prefix('.')?;
    let (index, field) = rest.split_once('.')?;
    index.parse::<usize>().ok()?;
    specs.iter().find(|s| s.key == field).map(|s| s.kind)
}

fn parse_value(kind: ValueKind, raw: &str) -> Option<FieldValue> {
    let raw = raw.trim();
    match kind {
        ValueKind::Money => crate::values::parse_money(raw).map(FieldValue::Money),
        ValueKind::Date => crate::values::parse_date(raw).map(FieldValue::Date),
        _ => (!raw.is_empty() && raw.len() <= 500).then(|| FieldValue::Text(raw.to_owned())),
    }
}

/// A document as the caller may see it: a client (portal) user never sees the firm's internal
/// review data — why it was flagged, the pipeline's timings and errors, the review events.
fn as_seen_by(caller: &Caller, mut document: Document) -> Document {
    if !caller.role.is_staff() {
        document.review_reasons = serde_json::Value::Array(Vec::new());
        document.step_timings = serde_json::Value::Object(serde_json::Map::new());
        document.error = None;
    }
    document
}
