//! Documents, their fields, events and upload batches, and upload results, to their API shapes.

use api_types::documents::{
    BatchCounts, BatchResponse, DocumentDetailResponse, DocumentEventResponse, DocumentFieldResponse,
    DocumentResponse, FileOutcome, FileRejection, UploadResponse,
};
use documents::UploadRejection;
use documents::service::{self, DocumentDetail, RejectedFile, Uploaded};
use store::document_batches::{self, BatchProgress};
use store::documents::{Document, DocumentEvent, DocumentField};

use super::IntoApi;

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

impl_into_api!(DocumentField => DocumentFieldResponse {
    key, value, display, masked, confidence, span_start, span_end, corrected_by, corrected_at
});
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
