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
    /// The file types we accept, decided from the bytes (never the name). `xml` is a structured
    /// e-invoice (CII or UBL) sent as it is; other XML is refused.
    FileKind {
        Pdf = "pdf",
        Png = "png",
        Jpeg = "jpeg",
        Tiff = "tiff",
        Docx = "docx",
        Xlsx = "xlsx",
        Csv = "csv",
        Xml = "xml",
    }
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
            FileKind::Xml => "application/xml",
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
            "xml" => FileKind::Xml,
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

text_enum!(
    /// Where a field's value came from, shown beside it in review: the e-invoice's XML (exact),
    /// the PDF's text layer, OCR of a page image, a provider's prebuilt model, a reviewer who
    /// added it, or the firm's memory of the vendor (where an earlier correction showed it sits).
    FieldOrigin {
        EInvoice = "e_invoice",
        TextLayer = "text_layer",
        Ocr = "ocr",
        Provider = "provider",
        Reviewer = "reviewer",
        VendorMemory = "vendor_memory",
    }
);

impl DocType {
    /// The type named exactly by its text, as the API takes it (unlike [`FromStr`], which also
    /// forgives case, spaces and hyphens).
    pub fn parse(s: &str) -> Option<DocType> {
        DocType::ALL.iter().copied().find(|t| t.as_str() == s)
    }
}

/// Where on a page a field's value was read: the page (1-based) and a box in fractions of the
/// page's width and height (0–1, top-left origin), so it maps onto the page rendered at any size.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Region {
    pub page: u32,
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl Region {
    /// The box `[x0, x1] × [y0, y1]` of a page `page_width` × `page_height` (any unit), clamped
    /// to the page; None for a page without size or a box that is empty once clamped.
    pub fn of_box(
        page: u32,
        (x0, y0, x1, y1): (f32, f32, f32, f32),
        page_width: f32,
        page_height: f32,
    ) -> Option<Region> {
        if !(page_width > 0.0 && page_height > 0.0) {
            return None;
        }
        let fx = |v: f32| (v / page_width).clamp(0.0, 1.0);
        let fy = |v: f32| (v / page_height).clamp(0.0, 1.0);
        let (left, right) = (fx(x0.min(x1)), fx(x0.max(x1)));
        let (top, bottom) = (fy(y0.min(y1)), fy(y0.max(y1)));
        (right > left && bottom > top).then_some(Region {
            page,
            x: left,
            y: top,
            width: right - left,
            height: bottom - top,
        })
    }

    /// The smallest region holding both (None when they are on different pages).
    pub fn union(&self, other: &Region) -> Option<Region> {
        if self.page != other.page {
            return None;
        }
        let (x0, y0) = (self.x.min(other.x), self.y.min(other.y));
        let x1 = (self.x + self.width).max(other.x + other.width);
        let y1 = (self.y + self.height).max(other.y + other.height);
        Some(Region { page: self.page, x: x0, y: y0, width: x1 - x0, height: y1 - y0 })
    }

    /// Whether every coordinate lies on the page (what a stored region must satisfy).
    pub fn is_valid(&self) -> bool {
        let unit = |v: f32| (0.0..=1.0).contains(&v);
        self.page >= 1
            && unit(self.x)
            && unit(self.y)
            && self.width > 0.0
            && self.height > 0.0
            && self.x + self.width <= 1.0 + 1e-4
            && self.y + self.height <= 1.0 + 1e-4
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

    #[test]
    fn regions_are_page_fractions() {
        let r = Region::of_box(2, (61.2, 79.2, 122.4, 158.4), 612.0, 792.0).unwrap();
        assert_eq!(r.page, 2);
        assert!((r.x - 0.1).abs() < 1e-6 && (r.y - 0.1).abs() < 1e-6, "{r:?}");
        assert!((r.width - 0.1).abs() < 1e-6 && (r.height - 0.1).abs() < 1e-6, "{r:?}");
        assert!(r.is_valid());
        // Clamped to the page; nothing for an empty box or a page of no size.
        let edge = Region::of_box(1, (600.0, 780.0, 700.0, 900.0), 612.0, 792.0).unwrap();
        assert!(edge.is_valid() && (edge.x + edge.width - 1.0).abs() < 1e-6);
        assert_eq!(Region::of_box(1, (10.0, 10.0, 10.0, 20.0), 612.0, 792.0), None);
        assert_eq!(Region::of_box(1, (10.0, 10.0, 20.0, 20.0), 0.0, 792.0), None);
        let u = r.union(&Region { page: 2, x: 0.5, y: 0.05, width: 0.1, height: 0.1 }).unwrap();
        assert!((u.x - 0.1).abs() < 1e-6 && (u.y - 0.05).abs() < 1e-6 && (u.width - 0.5).abs() < 1e-6);
        assert_eq!(r.union(&Region { page: 1, ..r }), None);
    }
}
