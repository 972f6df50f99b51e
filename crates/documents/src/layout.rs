//! Layout: OCR words laid out as text lines, lines split into cells, and tables found among
//! them (invoice line items, bank statement transactions).
//!
//! Rendering follows `pdftotext -layout`, so that OCR'd and text-layer pages look alike to the
//! extractors: words are grouped into visual rows (after removing page skew, measured from the
//! engine's own lines), and placed at the character column of their left edge, so columns line
//! up across rows and stay separated by two or more spaces.

use serde::{Deserialize, Serialize};

use crate::ocr::OcrPage;
use crate::text::{DocumentText, Span};

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
            let own_width = |w: &crate::ocr::OcrWord| {
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

/// A run of text on a line, separated from its neighbours by two or more spaces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub text: String,
    pub span: Span,
    /// Character columns `[start, end)` on the line.
    pub columns: (usize, usize),
}

/// One text line and its cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub span: Span,
    pub cells: Vec<Cell>,
}

impl Line {
    pub fn is_blank(&self) -> bool {
        self.cells.is_empty()
    }
}

/// Splits the document into lines and cells (form feeds end lines too).
pub fn lines(doc: &DocumentText) -> Vec<Line> {
    let mut out = Vec::new();
    let mut start = 0;
    for piece in doc.text.split(['\n', '\u{c}']) {
        out.push(Line { span: Span::new(start, start + piece.len()), cells: cells_of(piece, start) });
        start += piece.len() + 1;
    }
    out
}

fn cells_of(line: &str, offset: usize) -> Vec<Cell> {
    let mut cells = Vec::new();
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].1.is_whitespace() {
            i += 1;
            continue;
        }
        let begin = i;
        let mut end = i;
        while end < chars.len() {
            if chars[end].1.is_whitespace() {
                let run = chars[end..].iter().take_while(|c| c.1.is_whitespace()).count();
                if run >= 2 || end + run == chars.len() {
                    break;
                }
                end += run;
            } else {
                end += 1;
            }
        }
        let byte_start = chars[begin].0;
        let byte_end = chars.get(end).map_or(line.len(), |c| c.0);
        cells.push(Cell {
            text: line[byte_start..byte_end].to_string(),
            span: Span::new(offset + byte_start, offset + byte_end),
            columns: (begin, end),
        });
        i = end;
    }
    cells
}

/// What a table column holds, from its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnRole {
    Date,
    Description,
    Quantity,
    UnitPrice,
    Amount,
    Debit,
    Credit,
    Balance,
    Other,
}

fn column_role(header: &str) -> ColumnRole {
    let h = header.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| h.contains(w));
    if has(&["date", "posted"]) {
        ColumnRole::Date
    } else if has(&["description", "item", "service", "details", "product", "particulars", "memo"]) {
        ColumnRole::Description
    } else if has(&["qty", "quantity", "hours", "units", "hrs"]) {
        ColumnRole::Quantity
    } else if has(&["unit price", "price", "rate", "unit cost", "each"]) {
        ColumnRole::UnitPrice
    } else if has(&["withdrawal", "debit", "payments", "charges"]) {
        ColumnRole::Debit
    } else if has(&["deposit", "credit"]) {
        ColumnRole::Credit
    } else if has(&["balance"]) {
        ColumnRole::Balance
    } else if has(&["amount", "total", "line total", "ext"]) {
        ColumnRole::Amount
    } else {
        ColumnRole::Other
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub header: Cell,
    pub role: ColumnRole,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRow {
    pub span: Span,
    /// One entry per column.
    pub cells: Vec<Option<Cell>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<TableRow>,
}

impl Table {
    pub fn column(&self, role: ColumnRole) -> Option<usize> {
        self.columns.iter().position(|c| c.role == role)
    }
}

/// Whether a cell reads as an amount of money (`1,234.56`, `$12.00`, `(45.00)`, `-3.10`).
pub fn is_money_cell(text: &str) -> bool {
    crate::extract::common::parse_money(text.trim()).is_some()
}

fn is_header(line: &Line) -> bool {
    let roles: Vec<ColumnRole> = line.cells.iter().map(|c| column_role(&c.text)).collect();
    let known = roles.iter().filter(|r| **r != ColumnRole::Other).count();
    let has_money_role = roles.iter().any(|r| {
        matches!(
            r,
            ColumnRole::Amount
                | ColumnRole::Debit
                | ColumnRole::Credit
                | ColumnRole::Balance
                | ColumnRole::UnitPrice
        )
    });
    line.cells.len() >= 2
        && known >= 2
        && has_money_role
        && !line.cells.iter().any(|c| is_money_cell(&c.text))
        && line.cells.iter().all(|c| c.text.len() <= 40)
}

fn ends_table(line: &Line) -> bool {
    let first = line.cells.first().map(|c| c.text.to_ascii_lowercase()).unwrap_or_default();
    [
        "subtotal",
        "sub-total",
        "sub total",
        "total",
        "balance due",
        "amount due",
        "ending balance",
        "closing balance",
    ]
    .iter()
    .any(|w| first.starts_with(w))
}

/// Assigns a cell to the column whose header overlaps it most, else the nearest one.
fn column_for(cell: &Cell, columns: &[Column]) -> usize {
    let (s, e) = (cell.columns.0 as i64, cell.columns.1 as i64);
    let mut best = (i64::MIN, 0usize);
    for (idx, col) in columns.iter().enumerate() {
        let (hs, he) = (col.header.columns.0 as i64, col.header.columns.1 as i64);
        let overlap = e.min(he) - s.max(hs);
        // Positive overlap wins; otherwise the smallest gap (a negative overlap).
        if overlap > best.0 {
            best = (overlap, idx);
        }
    }
    best.1
}

/// Finds tables: a header line naming at least two known columns (one holding money), then
/// the rows below it that carry an amount, until a total line or two lines without amounts.
pub fn detect_tables(doc: &DocumentText) -> Vec<Table> {
    let all = lines(doc);
    let mut tables = Vec::new();
    let mut i = 0;
    while i < all.len() {
        if !is_header(&all[i]) {
            i += 1;
            continue;
        }
        let columns: Vec<Column> =
            all[i].cells.iter().map(|c| Column { header: c.clone(), role: column_role(&c.text) }).collect();
        let mut rows: Vec<TableRow> = Vec::new();
        let mut misses = 0;
        let mut j = i + 1;
        while j < all.len() && misses < 2 {
            let line = &all[j];
            if line.is_blank() {
                j += 1;
                continue;
            }
            if ends_table(line) || is_header(line) {
                break;
            }
            if line.cells.len() >= 2 && line.cells.iter().any(|c| is_money_cell(&c.text)) {
                let mut cells: Vec<Option<Cell>> = vec![None; columns.len()];
                for cell in &line.cells {
                    let k = column_for(cell, &columns);
                    cells[k] = Some(match cells[k].take() {
                        None => cell.clone(),
                        Some(prev) => Cell {
                            text: format!("{} {}", prev.text, cell.text),
                            span: prev.span.union(&cell.span),
                            columns: (prev.columns.0, cell.columns.1),
                        },
                    });
                }
                rows.push(TableRow { span: line.span, cells });
                misses = 0;
            } else {
                misses += 1;
            }
            j += 1;
        }
        if !rows.is_empty() {
            tables.push(Table { columns, rows });
        }
        i = j.max(i + 1);
    }
    tables
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocr::{BBox, OcrWord};

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

    #[test]
    fn finds_a_line_item_table() {
        let text = "ACME\n\nDescription            Qty    Unit Price      Amount\nBlue widgets            2        10.00         20.00\nRed gadget, large       1       5.50           5.50\n\nSubtotal                                       25.50\n";
        let doc = DocumentText { text: text.into(), ..Default::default() };
        let tables = detect_tables(&doc);
        assert_eq!(tables.len(), 1);
        let t = &tables[0];
        let roles: Vec<ColumnRole> = t.columns.iter().map(|c| c.role).collect();
        assert_eq!(
            roles,
            vec![ColumnRole::Description, ColumnRole::Quantity, ColumnRole::UnitPrice, ColumnRole::Amount]
        );
        assert_eq!(t.rows.len(), 2);
        let cell = |r: usize, c: usize| t.rows[r].cells[c].as_ref().map(|c| c.text.as_str());
        assert_eq!(cell(1, 0), Some("Red gadget, large"));
        assert_eq!(cell(1, 2), Some("5.50"));
        assert_eq!(cell(0, 3), Some("20.00"));
    }
}
