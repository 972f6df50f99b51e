//! A document's text as every later step sees it: one string, pages separated by form feeds,
//! laid out like `pdftotext -layout` (a visual line per line, columns as runs of two or more
//! spaces), whether it came from the PDF's text layer or from OCR. Field spans are byte offsets
//! into this string; OCR word confidences are kept by span, so a field's confidence is the
//! confidence of the words it was read from.

use serde::{Deserialize, Serialize};

use crate::detect::{Detection, PageSource};
use crate::ocr::{OcrOutput, OcrPage};
use crate::render::render_page;
use crate::span::Span;

/// Where a page's text came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum TextOrigin {
    TextLayer,
    Ocr { engine: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PageText {
    /// 1-based page number.
    pub number: u32,
    pub span: Span,
    pub origin: TextOrigin,
    /// Mean word confidence (0–1); 1 for a text layer.
    pub confidence: f32,
}

/// One recognised word's place in the text and the engine's confidence in it (0–1).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct WordConfidence {
    pub span: Span,
    pub confidence: f32,
    /// The word's page and index in that [`OcrPage`]'s words (to place provider fields).
    pub page: u32,
    pub index: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DocumentText {
    pub text: String,
    pub pages: Vec<PageText>,
    /// OCR'd words in text order (text-layer pages have none: their confidence is 1).
    pub ocr_words: Vec<WordConfidence>,
}

impl DocumentText {
    /// Joins each page's text from the text layer or OCR, as the detection planned.
    ///
    /// `text_layer` holds every page's `pdftotext` output (or is empty when no page uses it);
    /// `ocr` holds the pages that were recognised.
    pub fn assemble(detection: &Detection, text_layer: &[String], ocr: Option<&OcrOutput>) -> DocumentText {
        let mut doc = DocumentText::default();
        for plan in &detection.pages {
            if !doc.text.is_empty() {
                doc.text.push('\u{c}');
            }
            let start = doc.text.len();
            let ocr_page = ocr.and_then(|o| o.pages.iter().find(|p| p.number == plan.number));
            match (plan.source, ocr_page) {
                (PageSource::Ocr, Some(page)) => {
                    doc.push_ocr_page(page, start, ocr.map(|o| o.engine.name.as_str()))
                }
                _ => {
                    let text = text_layer.get(plan.number as usize - 1).map(String::as_str).unwrap_or("");
                    doc.text.push_str(text.trim_end());
                    doc.pages.push(PageText {
                        number: plan.number,
                        span: Span::new(start, doc.text.len()),
                        origin: TextOrigin::TextLayer,
                        confidence: 1.0,
                    });
                }
            }
        }
        doc
    }

    fn push_ocr_page(&mut self, page: &OcrPage, start: usize, engine: Option<&str>) {
        let rendered = render_page(page);
        self.text.push_str(&rendered.text);
        let mut sum = 0.0;
        for (index, (word, span)) in page.words.iter().zip(&rendered.word_spans).enumerate() {
            if let Some(span) = span {
                self.ocr_words.push(WordConfidence {
                    span: span.shifted(start),
                    confidence: word.confidence,
                    page: page.number,
                    index: index as u32,
                });
                sum += word.confidence;
            }
        }
        let n = rendered.word_spans.iter().flatten().count();
        self.pages.push(PageText {
            number: page.number,
            span: Span::new(start, self.text.len()),
            origin: TextOrigin::Ocr { engine: engine.unwrap_or("ocr").to_string() },
            confidence: if n == 0 { 0.0 } else { sum / n as f32 },
        });
        self.ocr_words.sort_by_key(|w| w.span.start);
    }

    /// The text of a span.
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    /// Confidence of the text in `span`: the lowest confidence of the OCR words it touches, or 1
    /// on a text-layer page.
    pub fn confidence_of(&self, span: Span) -> f32 {
        let first = self.ocr_words.partition_point(|w| w.span.end <= span.start);
        self.ocr_words[first..]
            .iter()
            .take_while(|w| w.span.start < span.end)
            .filter(|w| w.span.overlaps(&span))
            .map(|w| w.confidence)
            .fold(None, |acc: Option<f32>, c| Some(acc.map_or(c, |a| a.min(c))))
            .unwrap_or_else(|| {
                if self.page_of(span.start).is_some_and(|p| p.origin != TextOrigin::TextLayer) {
                    0.5
                } else {
                    1.0
                }
            })
    }

    /// The span of an OCR word, by its page and index in the engine's output.
    pub fn word_span(&self, page: u32, index: u32) -> Option<Span> {
        self.ocr_words.iter().find(|w| w.page == page && w.index == index).map(|w| w.span)
    }

    pub fn page_of(&self, offset: usize) -> Option<&PageText> {
        self.pages.iter().find(|p| p.span.start <= offset && offset <= p.span.end)
    }

    /// Mean confidence over all pages, weighted by page length.
    pub fn mean_confidence(&self) -> f32 {
        let total: usize = self.pages.iter().map(|p| p.span.len()).sum();
        if total == 0 {
            return 0.0;
        }
        self.pages.iter().map(|p| p.confidence * p.span.len() as f32).sum::<f32>() / total as f32
    }
}
