//! Documents: uploads and their per-file results, upload batches with their progress, documents
//! with their extracted fields and events, and signed download links.

use chrono::{DateTime, Utc};
use domain::{
    BatchSource, ClientId, DocType, DocumentBatchId, DocumentEventKind, DocumentId, DocumentStatus,
    FieldOrigin, FileKind, OrganizationId, UserId, VendorMemoryId,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// An uploaded document and where the pipeline stands with it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DocumentResponse {
    pub id: DocumentId,
    pub client_id: ClientId,
    pub file_name: String,
    /// The file kind detected from the content.
    pub kind: FileKind,
    /// SHA-256 of the content, lowercase hex.
    pub content_sha256: String,
    pub size_bytes: i64,
    pub pages: i32,
    pub status: DocumentStatus,
    /// The document type given at upload.
    pub category_hint: Option<DocType>,
    pub doc_type: Option<DocType>,
    pub type_confidence: Option<f32>,
    pub document_confidence: Option<f32>,
    pub needs_review: bool,
    /// Why it needs review: `code`, `field` (if one) and `message` each.
    #[schema(value_type = Vec<Object>)]
    pub review_reasons: Value,
    /// Milliseconds per pipeline step and what ran (`detect_ms`, `ocr_ms`, `engine`, …).
    #[schema(value_type = Object)]
    pub step_timings: Value,
    pub error: Option<String>,
    pub previous_version_id: Option<DocumentId>,
    pub version: i32,
    /// The document holding the same content, when this one is a duplicate.
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

/// A field extracted from a document (or corrected by a reviewer).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DocumentFieldResponse {
    pub key: String,
    /// The typed value (money as a decimal string, dates as ISO dates, …).
    pub value: Option<Value>,
    /// The value as shown (masked when sensitive).
    pub display: String,
    pub masked: bool,
    pub confidence: f32,
    /// Where in the extracted text it was read.
    pub span_start: Option<i32>,
    pub span_end: Option<i32>,
    /// Where on the page it was read; none when no box is known (a text-layer PDF processed
    /// before boxes were kept, a field a reviewer added). Kept when the value is corrected.
    pub region: Option<FieldRegion>,
    /// Where the value came from: `e_invoice` (the structured e-invoice's XML, exact),
    /// `text_layer` (the PDF's text), `ocr` (a page image recognised), `provider` (a provider's
    /// prebuilt model), `reviewer` (added in review) or `vendor_memory` (re-read where a correction
    /// of the same vendor's earlier document showed it sits); none for fields read before sources were
    /// kept. Kept when the value is corrected (`corrected_by` says it was).
    pub source: Option<FieldOrigin>,
    pub corrected_by: Option<UserId>,
    pub corrected_at: Option<DateTime<Utc>>,
}

/// A box on a page: the page (1-based) and the box in fractions of the page's width and height
/// (0–1, from the top-left corner), so it fits the page rendered at any size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldRegion {
    #[schema(minimum = 1)]
    pub page: u32,
    #[schema(minimum = 0, maximum = 1)]
    pub x: f32,
    #[schema(minimum = 0, maximum = 1)]
    pub y: f32,
    #[schema(minimum = 0, maximum = 1)]
    pub width: f32,
    #[schema(minimum = 0, maximum = 1)]
    pub height: f32,
}

/// Something that happened to a document (`uploaded`, `processed`, `field_corrected`, …).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DocumentEventResponse {
    pub event: DocumentEventKind,
    #[schema(value_type = Object)]
    pub detail: Value,
    pub created_at: DateTime<Utc>,
}

/// A document with its fields and events.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DocumentDetailResponse {
    pub document: DocumentResponse,
    pub fields: Vec<DocumentFieldResponse>,
    pub events: Vec<DocumentEventResponse>,
}

/// What became of an upload request: its batch, and each file in request order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UploadResponse {
    pub batch_id: DocumentBatchId,
    pub files: Vec<FileOutcome>,
}

/// What became of one file of an upload.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FileOutcome {
    /// Stored, and queued for the pipeline (or linked as a duplicate).
    Accepted { document: Box<DocumentResponse> },
    /// Refused; nothing stored.
    Rejected { file_name: Option<String>, rejection: FileRejection },
}

/// Why a file was refused, by `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum FileRejection {
    Empty,
    TooLarge { size: u64, limit: u64 },
    UnsupportedType { detail: String },
    MismatchedExtension { extension: String, detected: String },
    Encrypted { what: String },
    Corrupt { kind: String, detail: String },
    TooManyPages { pages: u32, limit: u32 },
    PageTooLarge { page: u32, width_pt: u32, height_pt: u32, limit_pt: u32 },
    BadImageDimensions { width: u32, height: u32, detail: String },
    ZipBomb { detail: String },
    TooManyEntries { entries: usize, limit: usize },
    NestedArchive,
    UnsafeEntryName { name: String },
    NotABatch,
}

/// An upload batch (one upload request) with its documents counted by status.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BatchResponse {
    pub id: DocumentBatchId,
    pub client_id: ClientId,
    pub client_name: String,
    pub uploaded_by: Option<UserId>,
    pub source: BatchSource,
    /// Files that became documents (duplicates included).
    pub accepted: i32,
    /// Files refused at upload (no document).
    pub rejected: i32,
    /// When none of its documents was pending any more.
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub counts: BatchCounts,
}

/// Where a batch's documents stand. Every accepted document is in exactly one of `pending`,
/// `approved`, `needs_review`, `stored`, `duplicates`, `failed` and `deleted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

/// A short-lived signed link to a document's original file.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DownloadLinkResponse {
    /// Open without credentials until `expires_at`.
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

// The upload forms are schemas only: the handlers read the parts as they stream in, so files
// over the size limit are refused without being held.

/// The multipart form of an upload.
#[derive(ToSchema)]
pub struct UploadForm {
    /// The files, one part each.
    #[schema(value_type = Vec<String>, format = Binary)]
    pub file: Vec<Vec<u8>>,
    /// A document type hint: w2, 1099_nec, 1099_misc, invoice, receipt, bank_statement,
    /// tax_return_1040, general.
    pub category: Option<String>,
    /// The id of the live document of this client that this upload is a new version of.
    pub replaces: Option<DocumentId>,
}

/// The multipart form of a zip upload.
#[derive(ToSchema)]
pub struct BatchUploadForm {
    /// The zip archive.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// A document type hint for every entry (see the upload form).
    pub category: Option<String>,
}

/// The bytes the organization's documents take in the blob store (duplicates once), and its quota.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StorageUsage {
    pub used_bytes: u64,
    pub limit_bytes: u64,
}

/// Filters of document lists and of the review queue.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DocumentListParams {
    pub client_id: Option<ClientId>,
    /// Document type: w2, 1099_nec, 1099_misc, invoice, receipt, bank_statement, tax_return_1040, general.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub doc_type: Option<String>,
    /// The document's year: its tax year (W-2, 1099, 1040), else the year of its statement period's
    /// end, invoice date or receipt date, else the year it was uploaded (UTC).
    pub year: Option<i32>,
    /// uploaded, processing, needs_review, approved, stored, duplicate, failed.
    pub status: Option<String>,
    pub needs_review: Option<bool>,
    /// Full text over file names, extracted text and fields.
    pub q: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Filters of the batch list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BatchListParams {
    pub client_id: Option<ClientId>,
    /// Only batches whose documents are still being read.
    #[serde(default)]
    pub unfinished: bool,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A reviewer's value for one field.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldCorrection {
    /// The value as text (money `1234.56`, dates `2025-01-31`).
    pub value: String,
}

/// The query of a signed download link (the link is the credential).
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LinkParams {
    pub org: OrganizationId,
    pub expires: i64,
    pub sig: String,
}

/// How a vendor's documents are recognised by a memory: `tax_id` (its validated VAT id or EIN,
/// printed on the document), `name` (its normalised name) or `layout` (the words of its page
/// header and where they sit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VendorKeyKind {
    TaxId,
    Name,
    Layout,
}

/// Which of day and month a vendor's numeric dates print first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DateOrderResponse {
    DayFirst,
    MonthFirst,
}

/// Where a learnt field sits on the vendor's documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LearntPlacement {
    /// After `label` on the same line.
    BesideLabel,
    /// Under `label`.
    BelowLabel,
    /// With no label, at a line and column of the page.
    Position,
}

/// One field a correction taught: its key and where it sits.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LearntFieldResponse {
    pub key: String,
    pub placement: LearntPlacement,
    /// The label's words (none for a position).
    pub label: Option<String>,
}

/// What the firm learnt of one vendor from a person's corrections, applied to the vendor's next
/// documents (their fields then have source `vendor_memory`). Forgetting it (DELETE) stops that.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VendorMemoryResponse {
    pub id: VendorMemoryId,
    pub key_kind: VendorKeyKind,
    /// The tax id, normalised name or layout hash it is stored under.
    pub key_value: String,
    /// The vendor's name as the reviewer wrote it.
    pub vendor_name: Option<String>,
    pub doc_type: DocType,
    /// ISO 4217.
    pub currency: Option<String>,
    pub date_order: Option<DateOrderResponse>,
    pub fields: Vec<LearntFieldResponse>,
    /// The document last learnt from (none once it is deleted).
    pub learned_from: Option<DocumentId>,
    /// Corrections learnt.
    pub corrections: i32,
    /// Documents read with it.
    pub times_applied: i32,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
