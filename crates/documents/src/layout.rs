//! Layout: the document's text split into lines and cells (runs separated by two or more
//! spaces), and the tables found among them (invoice line items, bank statement
//! transactions). Both kinds of page look alike here: OCR'd pages were rendered like
//! `pdftotext -layout` by [`crate::render`].

use serde::{Deserialize, Serialize};

use crate::span::Span;
use crate::text::DocumentText;
use crate::values::parse_money;

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
    parse_money(text.trim()).is_some()
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
