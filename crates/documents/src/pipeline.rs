//! The pipeline's steps, one function each, so that each can run as a checkpointed job step:
//! every input and output is serialisable, and a step given the same inputs gives the same
//! output (re-running a step after a crash is harmless).
//!
//! ```text
//! store ─▶ detect ─▶ e-invoice XML? ─▶ { text layer and its word boxes (pages with one) ∥ OCR (the others) }
//!        ─▶ assemble text ─▶ { layout ∥ classify } ─▶ extract fields ─▶ review (validate + auto-approval)
//! ```
//! When the upload is or carries an e-invoice ([`crate::e_invoice`]), nothing is recognised:
//! the type and every field come from its XML, and the text layer only places them on the page.
//! Storing ([`crate::blob::BlobStore::put`]) and validation ([`crate::intake`]) happen at
//! upload. [`process`] runs every step in order in one call (for benchmarks, the evaluation and
//! tests); it is the reference the job steps must match.

use std::time::Instant;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use einvoice::Invoice;

use crate::classify::Classification;
use crate::detect::{Detection, Processing};
use crate::fields::{DocType, Extraction};
use crate::intake::AcceptedUpload;
use crate::layout::Table;
use crate::ocr::{OcrEngine, OcrError, OcrOutput, OcrPage, OcrRequest};
use crate::poppler::{self, PopplerError};
use crate::text::DocumentText;
use crate::validate::{Review, Thresholds};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Pdf(#[from] PopplerError),
    #[error(transparent)]
    Ocr(#[from] OcrError),
}

impl PipelineError {
    /// Whether retrying the step later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            PipelineError::Pdf(e) => matches!(e, PopplerError::Timeout { .. } | PopplerError::Spawn { .. }),
            PipelineError::Ocr(e) => e.is_transient(),
        }
    }
}

/// Step "detect type".
pub async fn detect(bytes: &[u8], upload: &AcceptedUpload) -> Result<Detection, PipelineError> {
    Ok(crate::detect::detect(bytes, upload.kind, upload.pages).await?)
}

/// Step "e-invoice": the invoice XML the upload is or carries, if any.
pub async fn read_e_invoice(bytes: &[u8], detection: &Detection) -> Result<Option<Invoice>, PipelineError> {
    Ok(crate::e_invoice::read(bytes, detection).await?)
}

/// Step "text layer": every page's `pdftotext -layout` text when some page uses the text layer;
/// empty otherwise.
pub async fn extract_text_layer(bytes: &[u8], detection: &Detection) -> Result<Vec<String>, PipelineError> {
    if !detection.uses_text_layer() {
        return Ok(Vec::new());
    }
    Ok(poppler::pdf_text_pages(bytes).await?)
}

/// Step "text layer words": every page's text-layer words with their boxes (`pdftotext
/// -bbox-layout`) when some page uses the text layer; empty otherwise. They place the fields
/// read from the text layer on the page.
pub async fn extract_text_layer_words(
    bytes: &[u8],
    detection: &Detection,
) -> Result<Vec<OcrPage>, PipelineError> {
    if !detection.uses_text_layer() {
        return Ok(Vec::new());
    }
    Ok(poppler::pdf_text_words(bytes).await?)
}

/// Step "OCR": recognises the pages without a usable text layer (None when there are none, or
/// when the document is an e-invoice: its XML says everything). `hint` is a document type known
/// before reading (a category given at upload).
pub async fn recognize(
    engine: &dyn OcrEngine,
    bytes: &[u8],
    detection: &Detection,
    hint: Option<DocType>,
    e_invoice: Option<&Invoice>,
) -> Result<Option<OcrOutput>, PipelineError> {
    let pages = detection.ocr_pages();
    if pages.is_empty() || detection.processing == Processing::StoreOnly || e_invoice.is_some() {
        return Ok(None);
    }
    let request = OcrRequest { bytes, kind: detection.kind, pages: &pages, hint };
    Ok(Some(engine.recognize(request).await?))
}

/// Step "assemble text": the document's text from the text layer and OCR, with its words' boxes.
pub fn assemble_text(
    detection: &Detection,
    text_layer: &[String],
    text_layer_words: &[OcrPage],
    ocr: Option<&OcrOutput>,
) -> DocumentText {
    DocumentText::assemble(detection, text_layer, text_layer_words, ocr)
}

/// Step "layout": tables found in the text.
pub fn detect_layout(text: &DocumentText) -> Vec<Table> {
    crate::layout::detect_tables(text)
}

/// Step "classify". An e-invoice is an invoice. A category given at upload is trusted unless the
/// text clearly says otherwise; a provider's prebuilt model that recognised the document is
/// trusted likewise.
pub fn classify(
    text: &DocumentText,
    ocr: Option<&OcrOutput>,
    hint: Option<DocType>,
    e_invoice: Option<&Invoice>,
) -> Classification {
    if let Some(invoice) = e_invoice {
        return crate::e_invoice::classification(invoice);
    }
    let from_text = crate::classify::classify(text);
    let provider = ocr.and_then(|o| o.provider.as_ref());
    if let Some(p) = provider
        && p.confidence >= from_text.confidence
    {
        return Classification {
            doc_type: p.doc_type,
            confidence: p.confidence,
            cues: vec![format!("recognised by {}", p.model)],
        };
    }
    match hint {
        Some(hint) if hint != from_text.doc_type && from_text.confidence < 0.8 => {
            Classification { doc_type: hint, confidence: 0.9, cues: vec!["category given at upload".into()] }
        }
        _ => from_text,
    }
}

/// Step "extract fields": an e-invoice's from its XML, any other document's from its text.
pub fn extract_fields(
    text: &DocumentText,
    tables: &[Table],
    classification: &Classification,
    ocr: Option<&OcrOutput>,
    e_invoice: Option<&Invoice>,
) -> Extraction {
    if let Some(invoice) = e_invoice {
        return crate::e_invoice::extraction(invoice, text);
    }
    crate::extract::extract(text, tables, classification.doc_type, ocr.and_then(|o| o.provider.as_ref()))
}

/// Step "validate": rules and the auto-approval decision.
pub fn review(
    extraction: &Extraction,
    classification: &Classification,
    thresholds: &Thresholds,
    today: NaiveDate,
) -> Review {
    crate::validate::validate(extraction, classification, thresholds, today)
}

/// Wall time of each step, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepTimings {
    pub detect_ms: f64,
    /// Looking for and reading an e-invoice's XML.
    pub e_invoice_ms: f64,
    pub text_layer_ms: f64,
    /// The whole OCR step (includes the engine's own time below).
    pub ocr_ms: f64,
    /// Inside the engine: rasterising/decoding pages.
    pub ocr_prepare_ms: f64,
    /// Inside the engine: recognition proper.
    pub ocr_recognize_ms: f64,
    pub analyse_ms: f64,
}

impl StepTimings {
    /// Time the pipeline works outside recognition proper: detection, the text layer, preparing
    /// pages (decode or rasterise, deskew, rule removal) and analysis. Waiting for a free engine
    /// (`ocr_ms` minus preparing and recognising) is not counted: under load it grows with the
    /// queue of pages, not with anything the pipeline does, and it is already in the throughput.
    pub fn outside_recognition_ms(&self) -> f64 {
        self.detect_ms + self.e_invoice_ms + self.text_layer_ms + self.ocr_prepare_ms + self.analyse_ms
    }

    /// Time pages waited for a free OCR engine (or preparing slot).
    pub fn engine_wait_ms(&self) -> f64 {
        (self.ocr_ms - self.ocr_prepare_ms - self.ocr_recognize_ms).max(0.0)
    }
}

/// Everything the pipeline produced for one document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Processed {
    pub detection: Detection,
    pub e_invoice: Option<Invoice>,
    pub text: DocumentText,
    pub ocr: Option<OcrOutput>,
    pub tables: Vec<Table>,
    pub classification: Classification,
    pub extraction: Extraction,
    pub review: Review,
    pub timings: StepTimings,
}

/// Runs every step after upload for one accepted file.
pub async fn process(
    engine: &dyn OcrEngine,
    bytes: &[u8],
    upload: &AcceptedUpload,
    hint: Option<DocType>,
    thresholds: &Thresholds,
    today: NaiveDate,
) -> Result<Processed, PipelineError> {
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    let mut timings = StepTimings::default();
    let t = Instant::now();
    let detection = detect(bytes, upload).await?;
    timings.detect_ms = ms(t);
    let t = Instant::now();
    let e_invoice = read_e_invoice(bytes, &detection).await?;
    timings.e_invoice_ms = ms(t);
    // Text layer and OCR are independent: run them together.
    let (text_layer, ocr) = tokio::join!(
        async {
            let t = Instant::now();
            let r = tokio::try_join!(
                extract_text_layer(bytes, &detection),
                extract_text_layer_words(bytes, &detection)
            );
            (r, ms(t))
        },
        async {
            let t = Instant::now();
            let r = recognize(engine, bytes, &detection, hint, e_invoice.as_ref()).await;
            (r, ms(t))
        }
    );
    let (text_layer, text_layer_ms) = text_layer;
    let (ocr, ocr_ms) = ocr;
    let ((text_layer, text_layer_words), ocr) = (text_layer?, ocr?);
    timings.text_layer_ms = text_layer_ms;
    timings.ocr_ms = ocr_ms;
    if let Some(o) = &ocr {
        timings.ocr_prepare_ms = o.timings.prepare_ms;
        timings.ocr_recognize_ms = o.timings.recognize_ms;
    }
    let t = Instant::now();
    let text = assemble_text(&detection, &text_layer, &text_layer_words, ocr.as_ref());
    let tables = detect_layout(&text);
    let classification = classify(&text, ocr.as_ref(), hint, e_invoice.as_ref());
    let extraction = extract_fields(&text, &tables, &classification, ocr.as_ref(), e_invoice.as_ref());
    let review = review(&extraction, &classification, thresholds, today);
    timings.analyse_ms = ms(t);
    Ok(Processed { detection, e_invoice, text, ocr, tables, classification, extraction, review, timings })
}
