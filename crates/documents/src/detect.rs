//! The "detect type" step: what the file is and, page by page, whether its text can be read
//! from a PDF text layer or must be recognised. Decided per page, so a PDF that mixes typed
//! pages and scanned pages OCRs only the scans.

use serde::{Deserialize, Serialize};

use crate::kind::FileKind;
use crate::poppler::{self, PopplerError};

/// A page whose text layer has fewer non-blank characters than this is treated as a scan
/// (scanners put a few characters of header or page number on otherwise image-only pages).
pub const MIN_TEXT_LAYER_CHARS: usize = 40;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageSource {
    TextLayer,
    Ocr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PagePlan {
    /// 1-based.
    pub number: u32,
    /// Non-blank characters in the text layer (0 for images).
    pub text_chars: u32,
    pub source: PageSource,
}

/// Whether the pipeline goes on after storing the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Processing {
    /// PDFs, images and e-invoice XML: text, classification, fields.
    Extract,
    /// DOCX, XLSX, CSV: kept and searchable by name, not OCR'd.
    StoreOnly,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    pub kind: FileKind,
    pub processing: Processing,
    pub pages: Vec<PagePlan>,
}

impl Detection {
    /// Pages that need OCR.
    pub fn ocr_pages(&self) -> Vec<u32> {
        self.pages.iter().filter(|p| p.source == PageSource::Ocr).map(|p| p.number).collect()
    }

    /// Whether any page is read from the PDF's text layer.
    pub fn uses_text_layer(&self) -> bool {
        self.pages.iter().any(|p| p.source == PageSource::TextLayer)
    }
}

/// Detects the plan for an accepted upload (`pages` as validation counted them).
pub async fn detect(bytes: &[u8], kind: FileKind, pages: u32) -> Result<Detection, PopplerError> {
    let plan = |number, text_chars, source| PagePlan { number, text_chars, source };
    let (processing, pages) = match kind {
        FileKind::Pdf => {
            let text = poppler::pdf_text_pages(bytes).await?;
            let pages = (1..=pages.max(1))
                .map(|n| {
                    let chars = text
                        .get(n as usize - 1)
                        .map_or(0, |t| t.chars().filter(|c| !c.is_whitespace()).count());
                    let source =
                        if chars >= MIN_TEXT_LAYER_CHARS { PageSource::TextLayer } else { PageSource::Ocr };
                    plan(n, chars as u32, source)
                })
                .collect();
            (Processing::Extract, pages)
        }
        FileKind::Png | FileKind::Jpeg | FileKind::Tiff => {
            (Processing::Extract, (1..=pages.max(1)).map(|n| plan(n, 0, PageSource::Ocr)).collect())
        }
        // Its fields come from the XML itself (the e-invoice step); it has no page to read.
        FileKind::Xml => (Processing::Extract, Vec::new()),
        FileKind::Docx | FileKind::Xlsx | FileKind::Csv => (Processing::StoreOnly, Vec::new()),
    };
    Ok(Detection { kind, processing, pages })
}
