//! OCR words laid out as text, the way `pdftotext -layout` lays out a text layer, so that OCR'd
//! and text-layer pages look alike to every later step: words are grouped into visual rows
//! (after removing page skew, measured from the engine's own lines), and placed at the
//! character column of their left edge, so columns line up across rows and stay separated by
//! two or more spaces.

use crate::ocr::{OcrPage, OcrWord};
use crate::span::Span;

/// A page of OCR words rendered as text; `word_spans[i]` is where word `i` landed (None for
/// words with no visible text).
pub struct RenderedPage {
    pub text: String,
    pub word_spans: Vec<Option<Span>>,
}

fn median(values: &mut [f32]) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f32::total_cmp);
    Some(values[values.len() / 2])
}

/// Skew as a slope (dy/dx), the median over the engine's lines of a least-squares fit of word
/// centres; 0 when no line has two words.
fn skew_slope(page: &OcrPage) -> f32 {
    let mut lines: std::collections::BTreeMap<u32, Vec<(f32, f32)>> = Default::default();
    for w in &page.words {
        if let Some(line) = w.line {
            lines.entry(line).or_default().push((w.bbox.center_x(), w.bbox.center_y()));
        }
    }
    let mut slopes: Vec<f32> = lines
        .values()
        .filter(|pts| pts.len() >= 2)
        .filter_map(|pts| {
            let n = pts.len() as f32;
            let mx = pts.iter().map(|p| p.0).sum::<f32>() / n;
            let my = pts.iter().map(|p| p.1).sum::<f32>() / n;
            let sxx: f32 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
            let sxy: f32 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
            (sxx > 0.0).then(|| sxy / sxx)
        })
        .filter(|s| s.abs() < 0.1)
        .collect();
    median(&mut slopes).unwrap_or(0.0)
}

/// Lays out one OCR page as text lines.
pub fn render_page(page: &OcrPage) -> RenderedPage {
    let mut word_spans = vec![None; page.words.len()];
    let visible: Vec<usize> =
        (0..page.words.len()).filter(|&i| !page.words[i].text.trim().is_empty()).collect();
    if visible.is_empty() {
        return RenderedPage { text: String::new(), word_spans };
    }
    let slope = skew_slope(page);
    let level = |i: usize| {
        let b = page.words[i].bbox;
        b.center_y() - slope * b.center_x()
    };
    let mut heights: Vec<f32> = visible.iter().map(|&i| page.words[i].bbox.height()).collect();
    let word_height = median(&mut heights).unwrap_or(10.0).max(1.0);
    let mut widths: Vec<f32> = visible
        .iter()
        .map(|&i| &page.words[i])
        .filter(|w| w.text.chars().count() >= 2)
        .map(|w| w.bbox.width() / w.text.chars().count() as f32)
        .collect();
    let char_width = median(&mut widths).unwrap_or(word_height * 0.5).max(0.5);

    // Rows: words sorted by de-skewed height, a new row when the next word sits lower than
    // half a word height below the row's mean.
    let mut order = visible.clone();
    order.sort_by(|&a, &b| level(a).total_cmp(&level(b)));
    let mut rows: Vec<(f32, Vec<usize>)> = Vec::new();
    for i in order {
        match rows.last_mut() {
            Some((mean, members)) if (level(i) - *mean).abs() <= word_height * 0.5 => {
                members.push(i);
                *mean += (level(i) - *mean) / members.len() as f32;
            }
            _ => rows.push((level(i), vec![i])),
        }
    }

    let mut text = String::new();
    let mut previous_level: Option<f32> = None;
    for (row_level, mut members) in rows {
        members.sort_by(|&a, &b| page.words[a].bbox.x0.total_cmp(&page.words[b].bbox.x0));
        if let Some(prev) = previous_level {
            text.push('\n');
            // A wide vertical gap becomes one blank line, as pdftotext does.
            if row_level - prev > word_height * 2.6 {
                text.push('\n');
            }
        }
        previous_level = Some(row_level);
        let mut column = 0usize;
        let mut previous: Option<usize> = None;
        for i in members {
            let word = &page.words[i];
            let target = (word.bbox.x0 / char_width).round().max(0.0) as usize;
            // Words are one space apart when the gap is under ~1.6 characters of *their* size
            // (small labels and large values share a page, so the page median would not do).
            let own_width = |w: &OcrWord| {
                let n = w.text.chars().count();
                if n >= 2 { w.bbox.width() / n as f32 } else { char_width }
            };
            let spaces = match previous.map(|p| &page.words[p]) {
                None => target,
                Some(prev) if word.bbox.x0 - prev.bbox.x1 < 0.8 * (own_width(prev) + own_width(word)) => 1,
                Some(_) => target.saturating_sub(column).max(2),
            };
            text.extend(std::iter::repeat_n(' ', spaces));
            column += spaces;
            let start = text.len();
            let clean = word.text.trim();
            text.push_str(clean);
            column += clean.chars().count();
            word_spans[i] = Some(Span::new(start, text.len()));
            previous = Some(i);
        }
    }
    RenderedPage { text, word_spans }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocr::BBox;

    fn word(text: &str, x0: f32, y0: f32, line: u32) -> OcrWord {
        let w = text.len() as f32 * 10.0;
        OcrWord {
            text: text.into(),
            bbox: BBox { x0, y0, x1: x0 + w, y1: y0 + 20.0 },
            confidence: 0.9,
            line: Some(line),
        }
    }

    #[test]
    fn renders_rows_and_columns_through_skew() {
        // Two columns; the page is skewed down to the right by 0.02 (≈ 1.1°).
        let skew = |x: f32| x * 0.02;
        let page = OcrPage {
            number: 1,
            width: 1000.0,
            height: 1000.0,
            words: vec![
                word("Description", 100.0, 100.0 + skew(100.0), 1),
                word("Amount", 600.0, 100.0 + skew(600.0), 1),
                word("Widgets", 100.0, 140.0 + skew(100.0), 2),
                word("12.50", 620.0, 140.0 + skew(620.0), 2),
            ],
        };
        let rendered = render_page(&page);
        let lines: Vec<&str> = rendered.text.lines().collect();
        assert_eq!(lines.len(), 2, "{:?}", rendered.text);
        assert!(lines[0].trim_start().starts_with("Description") && lines[0].ends_with("Amount"));
        assert!(lines[1].trim_start().starts_with("Widgets") && lines[1].ends_with("12.50"));
        assert_eq!(
            &rendered.text[rendered.word_spans[3].unwrap().start..rendered.word_spans[3].unwrap().end],
            "12.50"
        );
    }
}
