//! What a document is and where it stands: its file kind (from its bytes), its type (what it
//! says it is: a W-2, an invoice …), its status in the pipeline and the events of its history. The texts are the values of
//! the `documents` table's checks (migrations/0030_documents.sql) and of the API.

use std::fmt;
use std::str::FromStr;

use crate::firm::text_enum;

text_enum!(
    /// Where the pipeline stands with a document: `uploaded` → `processing` → `needs_review` |
    /// `approved`; `stored` (kept, not read: DOCX, XLSX, CSV); `duplicate` (content the client
    /// already has, not processed again); `failed` (the pipeline gave up).
    DocumentStatus {
        Uploaded = "uploaded",
        Processing = "processing",
        NeedsReview = "needs_review",
        Approved = "approved",
        Stored = "stored",
        Duplicate = "duplicate",
        Failed = "failed",
    }
);

text_enum!(
    /// The file types we accept, decided from the bytes (never the name).
    FileKind { Pdf = "pdf", Png = "png", Jpeg = "jpeg", Tiff = "tiff", Docx = "docx", Xlsx = "xlsx", Csv = "csv" }
);

impl FileKind {
    pub fn mime_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Tiff => "image/tiff",
            FileKind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Csv => "text/csv",
        }
    }

    /// Images and PDFs go through text extraction; Office files and CSV are stored only.
    pub fn is_ocr_input(self) -> bool {
        matches!(self, FileKind::Pdf | FileKind::Png | FileKind::Jpeg | FileKind::Tiff)
    }

    pub fn is_image(self) -> bool {
        matches!(self, FileKind::Png | FileKind::Jpeg | FileKind::Tiff)
    }

    /// The kind a file name's extension claims, if it names one of ours.
    pub fn from_extension(ext: &str) -> Option<FileKind> {
        Some(match ext.to_ascii_lowercase().as_str() {
            "pdf" => FileKind::Pdf,
            "png" => FileKind::Png,
            "jpg" | "jpeg" | "jpe" => FileKind::Jpeg,
            "tif" | "tiff" => FileKind::Tiff,
            "docx" => FileKind::Docx,
            "xlsx" => FileKind::Xlsx,
            "csv" => FileKind::Csv,
            _ => return None,
        })
    }
}

text_enum!(
    /// What a document is (given at upload as a hint, or found by the pipeline).
    DocType {
        W2 = "w2",
        Form1099Nec = "1099_nec",
        Form1099Misc = "1099_misc",
        Invoice = "invoice",
        Receipt = "receipt",
        BankStatement = "bank_statement",
        TaxReturn1040 = "tax_return_1040",
        General = "general",
    }
);

text_enum!(
    /// What happened to a document, in its event stream (`batch_finished`: to its upload batch).
    DocumentEventKind {
        Uploaded = "uploaded",
        Processed = "processed",
        ReprocessRequested = "reprocess_requested",
        Failed = "failed",
        FieldCorrected = "field_corrected",
        Approved = "approved",
        Deleted = "deleted",
        BatchFinished = "batch_finished",
    }
);

impl DocType {
    /// The type named exactly by its text, as the API takes it (unlike [`FromStr`], which also
    /// forgives case, spaces and hyphens).
    pub fn parse(s: &str) -> Option<DocType> {
        DocType::ALL.iter().copied().find(|t| t.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_types_use_the_api_names() {
        assert_eq!(serde_json::to_string(&DocType::Form1099Nec).unwrap(), "\"1099_nec\"");
        assert_eq!(serde_json::to_string(&DocType::TaxReturn1040).unwrap(), "\"tax_return_1040\"");
        for &t in DocType::ALL {
            assert_eq!(DocType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::from_str::<DocType>(&format!("\"{t}\"")).unwrap(), t);
        }
        assert_eq!(DocType::parse("W2"), None, "the API takes the exact text");
    }

    #[test]
    fn statuses_and_kinds_use_their_texts() {
        for &s in DocumentStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(DocumentStatus::NeedsReview.as_str(), "needs_review");
        for &k in FileKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }

    #[test]
    fn extensions_map_to_kinds() {
        assert_eq!(FileKind::from_extension("JPG"), Some(FileKind::Jpeg));
        assert_eq!(FileKind::from_extension("tif"), Some(FileKind::Tiff));
        assert_eq!(FileKind::from_extension("exe"), None);
    }
}
