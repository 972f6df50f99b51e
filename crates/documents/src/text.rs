//! A document's text as every later step sees it: one string, pages separated by form feeds,
//! laid out like `pdftotext -layout` (a visual line per line, columns as runs of two or more
//! spaces), whether it came from the PDF's text layer or from OCR. Field spans are byte offsets
//! into this string; OCR word confidences are kept by span, so a field's confidence is the
//! confidence of the words it was read from. Word boxes are kept by span too (OCR words carry
//! theirs; text-layer words are matched to `pdftotext -bbox-layout`'s in reading order), so a
//! field's [`Region`] on its page is the box of the words it was read from.

use domain::Region;
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

/// A word's place in the text and its box on its page.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct WordBox {
    pub span: Span,
    pub region: Region,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DocumentText {
    pub text: String,
    pub pages: Vec<PageText>,
    /// OCR'd words in text order (text-layer pages have none: their confidence is 1).
    pub ocr_words: Vec<WordConfidence>,
    /// Every word whose box is known (OCR'd, or matched in the text layer), in text order.
    #[serde(default)]
    pub word_boxes: Vec<WordBox>,
}

/// The largest token × word table [`align`] fills (a page of 4,000 words); a denser page
/// keeps the boxes of its rows in the same order only.
const MAX_ALIGN_CELLS: usize = 16_000_000;

/// Pairs each token with a word of the same text (an index into `words`), or none. First the
/// longest common subsequence (the two orders agree almost everywhere); then each token left
/// over takes the unused word of its text nearest to where its neighbours' words are (a row
/// that the two orders put on different lines, such as a larger heading beside smaller text).
fn align(tokens: &[&str], words: &[&str]) -> Vec<Option<usize>> {
    let (n, m) = (tokens.len(), words.len());
    let mut out: Vec<Option<usize>> = vec![None; n];
    let mut used = vec![false; m];
    if n * m <= MAX_ALIGN_CELLS {
        // lcs[i][j]: the longest common subsequence of tokens[i..] and words[j..].
        let width = m + 1;
        let mut lcs = vec![0u32; (n + 1) * width];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * width + j] = if tokens[i] == words[j] {
                    lcs[(i + 1) * width + j + 1] + 1
                } else {
                    lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n && j < m {
            if tokens[i] == words[j] && lcs[i * width + j] == lcs[(i + 1) * width + j + 1] + 1 {
                out[i] = Some(j);
                used[j] = true;
                i += 1;
                j += 1;
            } else if lcs[(i + 1) * width + j] >= lcs[i * width + j + 1] {
                i += 1;
            } else {
                j += 1;
            }
        }
    }
    for i in 0..n {
        if out[i].is_some() {
            continue;
        }
        // Where the word should be: after the word of the nearest matched token before.
        let expected = out[..i].iter().rev().flatten().next().map_or(0, |&k| k + 1) as i64;
        let best = (0..m)
            .filter(|&k| !used[k] && words[k] == tokens[i])
            .min_by_key(|&k| (k as i64 - expected).abs());
        if let Some(k) = best {
            out[i] = Some(k);
            used[k] = true;
        }
    }
    out
}

/// A page's words in reading order: rows top to bottom (a word joins the row when its centre
/// is within half a word height of the row's), each row left to right; indices into `words`.
fn reading_order(page: &OcrPage) -> Vec<usize> {
    let words = &page.words;
    let mut heights: Vec<f32> = words.iter().map(|w| w.bbox.height()).collect();
    heights.sort_by(f32::total_cmp);
    let half = heights.get(heights.len() / 2).copied().unwrap_or(10.0).max(1.0) * 0.5;
    let mut order: Vec<usize> = (0..words.len()).collect();
    order.sort_by(|&a, &b| words[a].bbox.center_y().total_cmp(&words[b].bbox.center_y()));
    let mut rows: Vec<(f32, Vec<usize>)> = Vec::new();
    for i in order {
        let y = words[i].bbox.center_y();
        match rows.last_mut() {
            Some((mean, members)) if (y - *mean).abs() <= half => {
                members.push(i);
                *mean += (y - *mean) / members.len() as f32;
            }
            _ => rows.push((y, vec![i])),
        }
    }
    rows.into_iter()
        .flat_map(|(_, mut members)| {
            members.sort_by(|&a, &b| words[a].bbox.x0.total_cmp(&words[b].bbox.x0));
            members
        })
        .collect()
}

impl DocumentText {
    /// Joins each page's text from the text layer or OCR, as the detection planned.
    ///
    /// `text_layer` holds every page's `pdftotext` output (or is empty when no page uses it);
    /// `ocr` holds the pages that were recognised.
    /// `text_layer_words` holds every page's words with boxes (`pdftotext -bbox-layout`), or is
    /// empty (the text-layer pages then have no word boxes).
    pub fn assemble(
        detection: &Detection,
        text_layer: &[String],
        text_layer_words: &[OcrPage],
        ocr: Option<&OcrOutput>,
    ) -> DocumentText {
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
                    if let Some(words) = text_layer_words.get(plan.number as usize - 1) {
                        doc.place_text_layer_words(plan.number, start, words);
                    }
                }
            }
        }
        doc.word_boxes.sort_by_key(|w| w.span.start);
        doc
    }

    /// Matches the text-layer tokens of the page starting at `start` with `pdftotext
    /// -bbox-layout`'s words (the same words with the same text; the layout text lists them row
    /// by row, [`reading_order`] nearly so) and keeps each matched token's box.
    fn place_text_layer_words(&mut self, number: u32, start: usize, page: &OcrPage) {
        let order = reading_order(page);
        let words: Vec<&str> = order.iter().map(|&i| page.words[i].text.as_str()).collect();
        let text = &self.text[start..];
        let mut tokens: Vec<(Span, &str)> = Vec::new();
        let mut at = 0;
        for piece in text.split(char::is_whitespace) {
            if !piece.is_empty() {
                tokens.push((Span::new(start + at, start + at + piece.len()), piece));
            }
            at += piece.len() + text[at + piece.len()..].chars().next().map_or(0, char::len_utf8);
        }
        let texts: Vec<&str> = tokens.iter().map(|t| t.1).collect();
        for (&(span, _), matched) in tokens.iter().zip(align(&texts, &words)) {
            let Some(k) = matched else { continue };
            let b = page.words[order[k]].bbox;
            if let Some(region) = Region::of_box(number, (b.x0, b.y0, b.x1, b.y1), page.width, page.height) {
                self.word_boxes.push(WordBox { span, region });
            }
        }
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
                let b = word.bbox;
                if let Some(region) =
                    Region::of_box(page.number, (b.x0, b.y0, b.x1, b.y1), page.width, page.height)
                {
                    self.word_boxes.push(WordBox { span: span.shifted(start), region });
                }
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

    /// Where on its page the text of `span` is: the union of the boxes of the words it covers
    /// (narrowed in proportion when it covers part of a word), on the page of its first word.
    /// None when no word there has a box.
    pub fn region_of(&self, span: Span) -> Option<Region> {
        let first = self.word_boxes.partition_point(|w| w.span.end <= span.start);
        self.word_boxes[first..]
            .iter()
            .take_while(|w| w.span.start < span.end)
            .filter(|w| w.span.overlaps(&span) && !w.span.is_empty())
            .map(|w| {
                let len = w.span.len() as f32;
                let from = (span.start.max(w.span.start) - w.span.start) as f32 / len;
                let to = (span.end.min(w.span.end) - w.span.start) as f32 / len;
                let r = w.region;
                Region { x: r.x + r.width * from, width: r.width * (to - from), ..r }
            })
            .fold(None, |acc: Option<Region>, r| Some(acc.map_or(r, |a| a.union(&r).unwrap_or(a))))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{PagePlan, Processing};
    use crate::kind::FileKind;
    use crate::ocr::{BBox, EngineId, OcrTimings, OcrWord};

    fn word(text: &str, x0: f32, y0: f32, x1: f32, y1: f32) -> OcrWord {
        OcrWord { text: text.into(), bbox: BBox { x0, y0, x1, y1 }, confidence: 0.9, line: None }
    }

    fn detection(sources: &[PageSource]) -> Detection {
        Detection {
            kind: FileKind::Pdf,
            processing: Processing::Extract,
            pages: sources
                .iter()
                .enumerate()
                .map(|(i, &source)| PagePlan { number: i as u32 + 1, text_chars: 10, source })
                .collect(),
        }
    }

    fn close(r: Region, (x, y, w, h): (f32, f32, f32, f32)) -> bool {
        (r.x - x).abs() < 1e-4
            && (r.y - y).abs() < 1e-4
            && (r.width - w).abs() < 1e-4
            && (r.height - h).abs() < 1e-4
    }

    #[test]
    fn ocr_words_place_a_span_on_its_page() {
        // A 1000 × 2000 px page: "Total" at (100, 400), "$12.50" at (600, 400).
        let page = OcrPage {
            number: 1,
            width: 1000.0,
            height: 2000.0,
            words: vec![
                word("Total", 100.0, 400.0, 200.0, 420.0),
                word("$12.50", 600.0, 400.0, 720.0, 420.0),
            ],
        };
        let ocr = OcrOutput {
            engine: EngineId { name: "test".into(), version: "1".into() },
            pages: vec![page],
            provider: None,
            timings: OcrTimings::default(),
        };
        let doc = DocumentText::assemble(&detection(&[PageSource::Ocr]), &[], &[], Some(&ocr));
        let at = doc.text.find("$12.50").unwrap();
        let r = doc.region_of(Span::new(at, at + 6)).unwrap();
        assert_eq!(r.page, 1);
        assert!(close(r, (0.6, 0.2, 0.12, 0.01)), "{r:?}");
        // Part of a word: the box narrows in proportion ("12.50" is 5 of its 6 characters).
        let r = doc.region_of(Span::new(at + 1, at + 6)).unwrap();
        assert!(close(r, (0.62, 0.2, 0.1, 0.01)), "{r:?}");
        // Two words: their union.
        let r = doc.region_of(Span::new(doc.text.find("Total").unwrap(), at + 6)).unwrap();
        assert!(close(r, (0.1, 0.2, 0.62, 0.01)), "{r:?}");
        assert_eq!(doc.region_of(Span::new(0, 0)), None);
    }

    #[test]
    fn text_layer_tokens_take_the_boxes_of_their_words() {
        // Page 2 is from the text layer; its words come in pdftotext's block order (the right
        // column first) and "Total" appears twice.
        let layer = [String::new(), "Invoice #: 7      Total\n  Subtotal  5.00\nTotal   9.00\n".to_string()];
        let page = OcrPage {
            number: 2,
            width: 500.0,
            height: 1000.0,
            words: vec![
                word("Total", 300.0, 100.0, 340.0, 110.0),
                word("Invoice", 50.0, 100.0, 100.0, 110.0),
                word("#:", 105.0, 100.0, 115.0, 110.0),
                word("7", 120.0, 100.0, 125.0, 110.0),
                word("Subtotal", 60.0, 120.0, 120.0, 130.0),
                word("5.00", 150.0, 120.0, 180.0, 130.0),
                word("Total", 50.0, 140.0, 90.0, 150.0),
                word("9.00", 150.0, 140.0, 180.0, 150.0),
            ],
        };
        let pages = [OcrPage { number: 1, width: 500.0, height: 1000.0, words: vec![] }, page];
        let doc = DocumentText::assemble(
            &detection(&[PageSource::TextLayer, PageSource::TextLayer]),
            &layer,
            &pages,
            None,
        );
        assert_eq!(doc.word_boxes.len(), 8, "every token found its word");
        let at = doc.text.find("9.00").unwrap();
        let r = doc.region_of(Span::new(at, at + 4)).unwrap();
        assert_eq!(r.page, 2);
        assert!(close(r, (0.3, 0.14, 0.06, 0.01)), "{r:?}");
        let second_total = doc.text.rfind("Total").unwrap();
        let r = doc.region_of(Span::new(second_total, second_total + 5)).unwrap();
        assert!(close(r, (0.1, 0.14, 0.08, 0.01)), "the second Total is the lower one: {r:?}");
        let first_total = doc.text.find("Total").unwrap();
        let r = doc.region_of(Span::new(first_total, first_total + 5)).unwrap();
        assert!(close(r, (0.6, 0.1, 0.08, 0.01)), "{r:?}");
        // The text-layer page's confidence is unchanged.
        assert_eq!(doc.confidence_of(Span::new(at, at + 4)), 1.0);
    }
}
