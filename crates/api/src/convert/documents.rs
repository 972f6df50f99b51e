//! Documents, their fields, events and upload batches, and upload results, to their API shapes.

use api_types::documents::{
    BatchCounts, BatchResponse, DateOrderResponse, DocumentDetailResponse, DocumentEventResponse,
    DocumentFieldResponse, DocumentListParams, DocumentResponse, FieldRegion, FileOutcome, FileRejection,
    LearntFieldResponse, LearntPlacement, UploadResponse, VendorKeyKind, VendorMemoryResponse,
};
use documents::UploadRejection;
use documents::service::{self, DocumentDetail, RejectedFile, Uploaded};
use documents::values::DateOrder;
use documents::vendor_memories::VendorMemoryView;
use documents::vendor_memory::Anchor;
use domain::{DocType, Region};
use store::document_batches::{self, BatchProgress};
use store::documents::{Document, DocumentEvent, DocumentField, DocumentFilter};

use super::IntoApi;
use crate::error::{ApiError, ApiResult};

/// The store's filter from a list's query; an unknown document type is the caller's mistake.
pub(crate) fn document_filter(q: &DocumentListParams) -> ApiResult<DocumentFilter> {
    let doc_type = q
        .doc_type
        .as_deref()
        .map(|t| {
            DocType::parse(t).ok_or_else(|| ApiError::field("type", format!("`{t}` is not a document type")))
        })
        .transpose()?;
    Ok(DocumentFilter {
        client_id: q.client_id,
        status: q.status.clone(),
        doc_type,
        needs_review: q.needs_review,
        year: q.year,
        q: q.q.clone().filter(|q| !q.trim().is_empty()),
    })
}

impl IntoApi<DocumentResponse> for Document {
    fn into_api(self) -> DocumentResponse {
        let d = self;
        DocumentResponse {
            id: d.id,
            client_id: d.client_id,
            file_name: d.file_name,
            kind: d.kind,
            content_sha256: hex::encode(d.content_sha256),
            size_bytes: d.size_bytes,
            pages: d.pages,
            status: d.status,
            category_hint: d.category_hint,
            doc_type: d.doc_type,
            type_confidence: d.type_confidence,
            document_confidence: d.document_confidence,
            needs_review: d.needs_review,
            review_reasons: d.review_reasons,
            step_timings: d.step_timings,
            error: d.error,
            previous_version_id: d.previous_version_id,
            version: d.version,
            duplicate_of: d.duplicate_of,
            batch_id: d.batch_id,
            uploaded_by: d.uploaded_by,
            approved_by: d.approved_by,
            approved_at: d.approved_at,
            processed_at: d.processed_at,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

impl IntoApi<DocumentFieldResponse> for DocumentField {
    fn into_api(self) -> DocumentFieldResponse {
        let f = self;
        DocumentFieldResponse {
            key: f.key,
            value: f.value,
            display: f.display,
            masked: f.masked,
            confidence: f.confidence,
            span_start: f.span_start,
            span_end: f.span_end,
            region: f.region.map(IntoApi::into_api),
            source: f.source,
            corrected_by: f.corrected_by,
            corrected_at: f.corrected_at,
        }
    }
}
impl_into_api!(Region => FieldRegion { page, x, y, width, height });
impl_into_api!(DocumentEvent => DocumentEventResponse { event, detail, created_at });

impl IntoApi<DocumentDetailResponse> for DocumentDetail {
    fn into_api(self) -> DocumentDetailResponse {
        DocumentDetailResponse {
            document: self.document.into_api(),
            fields: self.fields.into_api(),
            events: self.events.into_api(),
        }
    }
}

impl IntoApi<UploadResponse> for Uploaded {
    fn into_api(self) -> UploadResponse {
        UploadResponse { batch_id: self.batch_id, files: self.files.into_api() }
    }
}

impl IntoApi<FileOutcome> for service::FileOutcome {
    fn into_api(self) -> FileOutcome {
        match self {
            service::FileOutcome::Accepted { document } => {
                FileOutcome::Accepted { document: Box::new((*document).into_api()) }
            }
            service::FileOutcome::Rejected(RejectedFile { file_name, rejection }) => {
                FileOutcome::Rejected { file_name, rejection: rejection.into_api() }
            }
        }
    }
}

impl IntoApi<FileRejection> for UploadRejection {
    fn into_api(self) -> FileRejection {
        use UploadRejection as R;
        match self {
            R::Empty => FileRejection::Empty,
            R::TooLarge { size, limit } => FileRejection::TooLarge { size, limit },
            R::UnsupportedType { detail } => FileRejection::UnsupportedType { detail },
            R::MismatchedExtension { extension, detected } => {
                FileRejection::MismatchedExtension { extension, detected }
            }
            R::Encrypted { what } => FileRejection::Encrypted { what },
            R::Corrupt { kind, detail } => FileRejection::Corrupt { kind, detail },
            R::TooManyPages { pages, limit } => FileRejection::TooManyPages { pages, limit },
            R::PageTooLarge { page, width_pt, height_pt, limit_pt } => {
                FileRejection::PageTooLarge { page, width_pt, height_pt, limit_pt }
            }
            R::BadImageDimensions { width, height, detail } => {
                FileRejection::BadImageDimensions { width, height, detail }
            }
            R::ZipBomb { detail } => FileRejection::ZipBomb { detail },
            R::TooManyEntries { entries, limit } => FileRejection::TooManyEntries { entries, limit },
            R::NestedArchive => FileRejection::NestedArchive,
            R::UnsafeEntryName { name } => FileRejection::UnsafeEntryName { name },
            R::NotABatch => FileRejection::NotABatch,
        }
    }
}

impl IntoApi<BatchResponse> for BatchProgress {
    fn into_api(self) -> BatchResponse {
        let BatchProgress { batch: b, counts } = self;
        BatchResponse {
            id: b.id,
            client_id: b.client_id,
            client_name: b.client_name,
            uploaded_by: b.uploaded_by,
            source: b.source,
            accepted: b.accepted,
            rejected: b.rejected,
            finished_at: b.finished_at,
            created_at: b.created_at,
            counts: counts.into_api(),
        }
    }
}

impl_into_api!(document_batches::BatchCounts => BatchCounts {
    pending, processed, approved, needs_review, stored, duplicates, failed, deleted
});

impl IntoApi<VendorMemoryResponse> for VendorMemoryView {
    fn into_api(self) -> VendorMemoryResponse {
        let VendorMemoryView { row, memory } = self;
        let key_kind = match row.key_kind.as_str() {
            "tax_id" => VendorKeyKind::TaxId,
            "name" => VendorKeyKind::Name,
            _ => VendorKeyKind::Layout,
        };
        let fields = memory
            .fields
            .iter()
            .map(|rule| {
                let (placement, label) = match &rule.anchor {
                    Anchor::Beside { label, .. } => (LearntPlacement::BesideLabel, Some(label.join(" "))),
                    Anchor::Below { label, .. } => (LearntPlacement::BelowLabel, Some(label.join(" "))),
                    Anchor::At { .. } => (LearntPlacement::Position, None),
                };
                LearntFieldResponse { key: rule.key.clone(), placement, label }
            })
            .collect();
        VendorMemoryResponse {
            id: row.id,
            key_kind,
            key_value: row.key_value,
            vendor_name: row.vendor_name,
            doc_type: row.doc_type,
            currency: memory.currency,
            date_order: memory.date_order.map(|o| match o {
                DateOrder::DayFirst => DateOrderResponse::DayFirst,
                DateOrder::MonthFirst => DateOrderResponse::MonthFirst,
            }),
            fields,
            learned_from: row.learned_from,
            corrections: row.corrections,
            times_applied: row.times_applied,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use domain::{
        BatchSource, ClientId, DocumentBatchId, DocumentEventKind, DocumentId, DocumentStatus, FileKind,
        UserId,
    };
    use serde::Serialize;
    use serde_json::json;
    use store::document_batches::DocumentBatch;

    use super::*;

    /// The API shape serializes byte for byte as the store or service value did when it was the
    /// answer itself, so clients see no change.
    fn same_json<T: Serialize + Clone + IntoApi<U>, U: Serialize>(value: T) {
        let api = value.clone().into_api();
        assert_eq!(serde_json::to_string(&api).unwrap(), serde_json::to_string(&value).unwrap());
    }

    fn document(batch: DocumentBatchId) -> Document {
        let now = Utc::now();
        Document {
            id: DocumentId::new(),
            client_id: ClientId::new(),
            file_name: "w2.pdf".into(),
            kind: FileKind::Pdf,
            content_sha256: vec![0xab, 0x01, 0xff],
            size_bytes: 1234,
            pages: 2,
            status: DocumentStatus::NeedsReview,
            category_hint: Some(DocType::W2),
            doc_type: Some(DocType::Form1099Nec),
            type_confidence: Some(0.93),
            document_confidence: None,
            needs_review: true,
            review_reasons: json!([{"code": "low_confidence", "field": "wages", "message": "check"}]),
            step_timings: json!({"detect_ms": 3, "engine": null}),
            error: None,
            previous_version_id: Some(DocumentId::new()),
            version: 2,
            duplicate_of: None,
            batch_id: Some(batch),
            uploaded_by: Some(UserId::new()),
            approved_by: None,
            approved_at: None,
            processed_at: Some(now),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn documents_serialize_as_before() {
        let batch = DocumentBatchId::new();
        same_json(document(batch));
        let field = DocumentField {
            key: "wages".into(),
            value: Some(json!("52000.00")),
            display: "$52,000.00".into(),
            masked: false,
            confidence: 0.71,
            span_start: Some(10),
            span_end: None,
            region: Some(Region { page: 1, x: 0.25, y: 0.5, width: 0.125, height: 0.0625 }),
            source: Some(domain::FieldOrigin::EInvoice),
            corrected_by: None,
            corrected_at: Some(Utc::now()),
        };
        let event = DocumentEvent {
            event: DocumentEventKind::Uploaded,
            detail: json!({"status": "uploaded"}),
            created_at: Utc::now(),
        };
        same_json(DocumentDetail { document: document(batch), fields: vec![field], events: vec![event] });
    }

    #[test]
    fn upload_results_serialize_as_before() {
        let batch = DocumentBatchId::new();
        let rejections = [
            UploadRejection::Empty,
            UploadRejection::TooLarge { size: 9, limit: 8 },
            UploadRejection::UnsupportedType { detail: "exe".into() },
            UploadRejection::MismatchedExtension { extension: "pdf".into(), detected: "png".into() },
            UploadRejection::Encrypted { what: "PDF".into() },
            UploadRejection::Corrupt { kind: "pdf".into(), detail: "no xref".into() },
            UploadRejection::TooManyPages { pages: 300, limit: 200 },
            UploadRejection::PageTooLarge { page: 1, width_pt: 9000, height_pt: 10, limit_pt: 3600 },
            UploadRejection::BadImageDimensions { width: 1, height: 2, detail: "too small".into() },
            UploadRejection::ZipBomb { detail: "ratio".into() },
            UploadRejection::TooManyEntries { entries: 501, limit: 500 },
            UploadRejection::NestedArchive,
            UploadRejection::UnsafeEntryName { name: "../x".into() },
            UploadRejection::NotABatch,
        ];
        let mut files = vec![service::FileOutcome::Accepted { document: Box::new(document(batch)) }];
        files.extend(rejections.into_iter().enumerate().map(|(i, rejection)| {
            let file_name = (i % 2 == 0).then(|| format!("file{i}.pdf"));
            service::FileOutcome::Rejected(RejectedFile { file_name, rejection })
        }));
        same_json(Uploaded { batch_id: batch, files });
    }

    #[test]
    fn batches_serialize_as_before() {
        let batch = DocumentBatch {
            id: DocumentBatchId::new(),
            client_id: ClientId::new(),
            client_name: "Birch LLC".into(),
            uploaded_by: None,
            source: BatchSource::Zip,
            accepted: 3,
            rejected: 1,
            finished_at: Some(Utc::now()),
            created_at: Utc::now(),
        };
        let counts = document_batches::BatchCounts {
            pending: 1,
            processed: 2,
            approved: 1,
            needs_review: 1,
            ..Default::default()
        };
        same_json(BatchProgress { batch, counts });
    }
}
