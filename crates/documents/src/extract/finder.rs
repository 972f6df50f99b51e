//! [`Finder`] finds a labelled value the way a reader does — right after the label on the same
//! line, or in the box under it — tolerating small OCR misreadings of the label. It reads the
//! value itself with the parsers in [`crate::values`].

use crate::fields::{ExtractedField, FieldSource, FieldValue};
use crate::layout::{Cell, Line, lines};
use crate::span::Span;
use crate::text::DocumentText;
use crate::values::{
    DateOrder, find_date, find_last4, find_tax_id, find_time, find_year, is_document_number, parse_money,
};

/// What a labelled value looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    Money,
    Date,
    Time,
    /// The rest of the cell (a name).
    Text,
    /// A document number: one token with at least one digit.
    Id,
    TaxId,
    /// The last four digits of an account number (`****1234`, `XXXX-XX-1234`).
    Last4,
    /// A two-letter state code.
    State,
    Year,
}

/// A value found in the text.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub value: FieldValue,
    pub span: Span,
    /// How sure the rule is, before reading confidence (same line > box below > fallback).
    pub quality: f32,
}

impl Found {
    /// The extracted field: rule quality times the reading confidence of the span.
    pub fn into_field(self, key: impl Into<String>, doc: &DocumentText) -> ExtractedField {
        ExtractedField {
            key: key.into(),
            confidence: (self.quality * doc.confidence_of(self.span)).clamp(0.0, 1.0),
            value: self.value,
            span: Some(self.span),
            source: FieldSource::Rules,
            region: doc.region_of(self.span),
        }
    }
}

/// Reads a value of `pattern` at the start of `text` (which begins at byte `offset`); numeric
/// dates in `order` when it is known.
pub fn read_value(
    text: &str,
    offset: usize,
    pattern: Pattern,
    order: Option<DateOrder>,
) -> Option<(FieldValue, Span)> {
    let trimmed_start = text.len() - text.trim_start().len();
    let t = text.trim();
    let at = |r: std::ops::Range<usize>| {
        Span::new(offset + trimmed_start + r.start, offset + trimmed_start + r.end)
    };
    match pattern {
        Pattern::Money => parse_money(t).map(|d| (FieldValue::Money(d), at(0..t.len()))),
        Pattern::Date => {
            let (d, r) = find_date(t, order)?;
            (r.start == 0).then(|| (FieldValue::Date(d.date), at(r)))
        }
        Pattern::Time => find_time(t).map(|(time, r)| (FieldValue::Time(time), at(r))),
        Pattern::Text => {
            let v = t.trim_matches(|c: char| c == ':' || c.is_whitespace());
            (v.chars().filter(|c| c.is_alphabetic()).count() >= 2).then(|| {
                let start = t.find(v).unwrap_or(0);
                (FieldValue::Text(v.to_string()), at(start..start + v.len()))
            })
        }
        Pattern::Id => {
            let token = t.split_whitespace().next()?;
            is_document_number(token).then(|| (FieldValue::Text(token.to_string()), at(0..token.len())))
        }
        Pattern::TaxId => {
            let r = find_tax_id(t)?;
            (r.start == 0).then(|| (FieldValue::Text(t[r.clone()].to_string()), at(r)))
        }
        Pattern::Last4 => {
            let token = t.split("  ").next()?.trim_end();
            let r = find_last4(token)?;
            let digits_before = token[..r.start].chars().filter(|c| c.is_ascii_digit()).count();
            // A whole visible account number is fine too; keep its last four.
            (digits_before <= 16).then(|| (FieldValue::Text(token[r.clone()].to_string()), at(r)))
        }
        Pattern::State => {
            let token = t.split_whitespace().next()?;
            (token.len() == 2 && token.chars().all(|c| c.is_ascii_uppercase()))
                .then(|| (FieldValue::Text(token.to_string()), at(0..2)))
        }
        Pattern::Year => {
            let r = find_year(t)?;
            (r.start == 0).then(|| (FieldValue::Text(t[r.clone()].to_string()), at(r)))
        }
    }
}

/// Levenshtein distance, for OCR-tolerant label matching.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = if ca == b[j] { prev } else { 1 + prev.min(row[j]).min(row[j + 1]) };
            prev = cur;
        }
    }
    row[b.len()]
}

fn normalize_token(s: &str) -> String {
    s.trim_matches(|c: char| c == ':' || c == ',' || c == '.').to_lowercase().replace('’', "'")
}

/// Words one letter apart that mean different things: never matched to each other.
const CONFUSABLE: &[&str] =
    &["employer's", "employee's", "employer", "employee", "payer's", "payee's", "payer", "payee"];

/// Whether a line token matches a label word: exactly (ignoring case and edge punctuation),
/// or with `fuzzy`, within a small edit distance (OCR misreads).
fn token_matches(label: &str, token: &str, fuzzy: bool) -> bool {
    let (l, t) = (normalize_token(label), normalize_token(token));
    if l == t {
        return true;
    }
    if !fuzzy || l.is_empty() || (CONFUSABLE.contains(&l.as_str()) && CONFUSABLE.contains(&t.as_str())) {
        return false;
    }
    let allowed = match l.chars().count() {
        0..=3 => 0,
        4..=8 => 1,
        _ => 2,
    };
    edit_distance(&l, &t) <= allowed
}

/// A whitespace-separated token of a line.
#[derive(Clone, Debug)]
struct Token {
    text: String,
    /// Byte range in the document.
    span: Span,
    /// Character columns on the line.
    columns: (usize, usize),
    /// Spaces before the token (2+ means a new cell).
    gap_before: usize,
}

fn tokens(doc: &DocumentText, line: &Line) -> Vec<Token> {
    let text = doc.slice(line.span);
    let mut out = Vec::new();
    let mut column = 0;
    let mut gap = 0;
    let mut current: Option<(usize, usize, String)> = None;
    for (byte, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some((start, col, t)) = current.take() {
                out.push(Token {
                    span: Span::new(line.span.start + start, line.span.start + byte),
                    columns: (col, column),
                    text: t,
                    gap_before: gap,
                });
                gap = 0;
            }
            gap += 1;
        } else {
            match &mut current {
                Some((_, _, t)) => t.push(c),
                None => current = Some((byte, column, c.to_string())),
            }
        }
        column += 1;
    }
    if let Some((start, col, t)) = current {
        out.push(Token {
            span: Span::new(line.span.start + start, line.span.end),
            columns: (col, column),
            text: t,
            gap_before: gap,
        });
    }
    out
}

/// Where a label occurs: its line, where it ends in the text, and its columns.
#[derive(Clone, Debug)]
struct LabelHit {
    line: usize,
    end: usize,
    columns: (usize, usize),
}

/// Whether the rest of a label's cell goes on with the words of a longer label: a lower-case
/// word (`Gesamtbetrag der Zuschläge`, `Date of delivery`; `in GBP` is a unit, not a label), an
/// exclusion (`Total Sales (Excluding GST)`, `Total HT`) or a tax (`Total VAT` is no total).
fn continues_label(rest: &str) -> bool {
    let words: Vec<String> = rest
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .collect();
    let lower_word = rest.split_whitespace().next().is_some_and(|w| {
        w.chars().count() >= 2 && w.chars().all(char::is_alphabetic) && w.starts_with(char::is_lowercase)
    });
    let exclusion = words.iter().any(|w| {
        w.starts_with("excl")
            || w.starts_with("exkl")
            || matches!(
                w.as_str(),
                "ohne"
                    | "hors"
                    | "before"
                    | "netto"
                    | "net"
                    | "ht"
                    | "tax"
                    | "vat"
                    | "tva"
                    | "btw"
                    | "mwst"
                    | "ust"
                    | "iva"
                    | "gst"
            )
    });
    (lower_word && !rest.trim_start().starts_with("in ")) || exclusion
}

/// A labelled value and where it was found.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The index of the label in the list asked for.
    pub label: usize,
    pub found: Found,
    /// Read in the box under the label rather than beside it.
    pub below: bool,
}

/// Finds labelled values in a document.
pub struct Finder<'a> {
    pub doc: &'a DocumentText,
    pub lines: Vec<Line>,
    line_tokens: Vec<Vec<Token>>,
    /// How numeric dates read on this document, when known.
    pub date_order: Option<DateOrder>,
}

impl<'a> Finder<'a> {
    pub fn new(doc: &'a DocumentText, date_order: Option<DateOrder>) -> Finder<'a> {
        let lines = lines(doc);
        let line_tokens = lines.iter().map(|l| tokens(doc, l)).collect();
        Finder { doc, lines, line_tokens, date_order }
    }

    /// Every value of every label (beside it, else in the box under it), in document order.
    pub fn candidates(&self, labels: &[&str], pattern: Pattern) -> Vec<Candidate> {
        let mut out: Vec<Candidate> = labels
            .iter()
            .enumerate()
            .flat_map(|(label, l)| self.hits(l).into_iter().map(move |h| (label, h)))
            .filter_map(|(label, hit)| match self.same_line(&hit, pattern) {
                Some(found) => Some(Candidate { label, found, below: false }),
                None => self.below(&hit, pattern).map(|found| Candidate { label, found, below: true }),
            })
            .collect();
        out.sort_by_key(|c| c.found.span.start);
        // A value reached from two labels (`Total` inside `Total TTC`) counts once, for the first.
        out.dedup_by(|b, a| a.found.span == b.found.span && a.found.value == b.found.value);
        out
    }

    /// Every occurrence of `label` (whole words): exact matches, or when there are none,
    /// OCR-tolerant ones. A label must start a phrase: the token before it in the same cell
    /// must not be a word of three or more letters, so "Total" does not match inside "Sub Total"
    /// or "Invoice Total" (box letters like "c" or a misread "e/f" are fine). It must end one
    /// too ([`continues_label`]), so "Gesamtbetrag" does not match "Gesamtbetrag der Zuschläge".
    fn hits(&self, label: &str) -> Vec<LabelHit> {
        let exact = self.hits_with(label, false);
        if exact.is_empty() { self.hits_with(label, true) } else { exact }
    }

    fn hits_with(&self, label: &str, fuzzy: bool) -> Vec<LabelHit> {
        let words: Vec<&str> = label.split_whitespace().collect();
        let mut out = Vec::new();
        for (li, toks) in self.line_tokens.iter().enumerate() {
            if toks.len() < words.len() {
                continue;
            }
            for start in 0..=toks.len() - words.len() {
                let window = &toks[start..start + words.len()];
                if !window.iter().zip(&words).all(|(t, w)| token_matches(w, &t.text, fuzzy)) {
                    continue;
                }
                // The label's words must be in one cell.
                if window.iter().skip(1).any(|t| t.gap_before >= 2) {
                    continue;
                }
                // A comma or colon ends the phrase before (`München, den 01.11.2024`).
                if start > 0 && toks[start].gap_before < 2 && !toks[start - 1].text.ends_with([',', ':']) {
                    let before = normalize_token(&toks[start - 1].text);
                    if before.chars().count() >= 3 && before.chars().all(|c| c.is_alphabetic() || c == '\'') {
                        continue;
                    }
                }
                let last = &window[window.len() - 1];
                out.push(LabelHit {
                    line: li,
                    end: last.span.end,
                    columns: (window[0].columns.0, last.columns.1),
                });
            }
        }
        out
    }

    /// The value right after a label on its line: in the rest of the label's cell (after `:`
    /// or `#`), else in the next cells up to the next label-like cell.
    fn same_line(&self, hit: &LabelHit, pattern: Pattern) -> Option<Found> {
        let line = &self.lines[hit.line];
        let rest = &self.doc.text[hit.end..line.span.end];
        let skipped = rest.len() - rest.trim_start_matches([':', '#', ' ', '.', '-']).len();
        let after = &rest[skipped..];
        let base = hit.end + skipped;
        if !matches!(pattern, Pattern::Text)
            && continues_label(&after[..after.find("  ").unwrap_or(after.len())])
        {
            return None;
        }
        // The remainder of the label's cell, if the value follows with single spaces.
        let cell_end = after.find("  ").unwrap_or(after.len());
        let mut candidates: Vec<(usize, &str)> = Vec::new();
        // French typography puts a space before the colon (`Date : 28/11/2022`).
        if cell_end > 0 && (skipped < 2 || rest.trim_start().starts_with([':', '#'])) {
            candidates.push((base, &after[..cell_end]));
        }
        let cells: Vec<&Cell> = line.cells.iter().filter(|c| c.span.start >= base).collect();
        for cell in cells.iter().take(3) {
            if cell.span.start == base && !candidates.is_empty() {
                continue;
            }
            candidates.push((cell.span.start, self.doc.slice(cell.span)));
        }
        for (i, (offset, text)) in candidates.iter().enumerate() {
            if let Some((value, span)) = read_value(text, *offset, pattern, self.date_order) {
                return Some(Found { value, span, quality: if i == 0 { 0.97 } else { 0.95 } });
            }
            // Stop at the next label (a cell of words) unless we look for words.
            let letters = text.chars().filter(|c| c.is_alphabetic()).count();
            if i > 0 && letters >= 3 && !matches!(pattern, Pattern::Text) {
                break;
            }
        }
        None
    }

    /// The value in the box under a label. The box spans from the start of the label's cell to
    /// the start of the next cell on the label's line (the next box's label); the value is the
    /// first cell inside it on the next three lines that reach into the box (text beside the
    /// box, like a paragraph left of a totals row, is not in it), looking at most eight lines
    /// down.
    fn below(&self, hit: &LabelHit, pattern: Pattern) -> Option<Found> {
        let cells = &self.lines[hit.line].cells;
        let own = cells
            .iter()
            .position(|c| c.columns.0 <= hit.columns.0 && hit.columns.0 < c.columns.1.max(c.columns.0 + 1));
        let start = own.map_or(hit.columns.0, |i| cells[i].columns.0).saturating_sub(2);
        let end =
            own.and_then(|i| cells.get(i + 1)).map_or(usize::MAX, |next| next.columns.0.saturating_sub(1));
        let mut seen = 0;
        for line in self.lines.iter().skip(hit.line + 1).filter(|l| !l.is_blank()).take(8) {
            if !line.cells.iter().any(|c| c.columns.0 < end && start < c.columns.1) {
                continue;
            }
            seen += 1;
            if seen > 3 {
                break;
            }
            for cell in &line.cells {
                let (cs, ce) = cell.columns;
                // A name starts under its label; an amount may sit anywhere in the box.
                let label_end = own.map_or(hit.columns.1, |i| cells[i].columns.1);
                if matches!(pattern, Pattern::Text) && cs > label_end {
                    continue;
                }
                if cs < end && start < ce {
                    let text = self.doc.slice(cell.span);
                    // The rest of a long caption (`or foreign postal code, and telephone no.`) is
                    // not the name under it.
                    if matches!(pattern, Pattern::Text) && text.starts_with(char::is_lowercase) {
                        continue;
                    }
                    if let Some((value, span)) = read_value(text, cell.span.start, pattern, self.date_order) {
                        return Some(Found { value, span, quality: 0.93 });
                    }
                    // A cell under the label that is another label ends the box.
                    if !matches!(pattern, Pattern::Text)
                        && text.chars().filter(|c| c.is_alphabetic()).count() >= 4
                    {
                        return None;
                    }
                }
            }
        }
        None
    }

    /// The value of the first label (in order of preference) found with a value on its line.
    pub fn on_line(&self, labels: &[&str], pattern: Pattern) -> Option<Found> {
        labels.iter().flat_map(|l| self.hits(l)).find_map(|h| self.same_line(&h, pattern))
    }

    /// Like [`Finder::on_line`], then the box under the label.
    pub fn on_line_or_below(&self, labels: &[&str], pattern: Pattern) -> Option<Found> {
        self.on_line(labels, pattern).or_else(|| self.below_label(labels, pattern))
    }

    /// The value in the box under the first label that has one.
    pub fn below_label(&self, labels: &[&str], pattern: Pattern) -> Option<Found> {
        labels.iter().flat_map(|l| self.hits(l)).find_map(|h| self.below(&h, pattern))
    }

    /// Whether a label occurs anywhere.
    pub fn has_label(&self, label: &str) -> bool {
        !self.hits(label).is_empty()
    }

    /// The line index of the first occurrence of a label.
    pub fn label_line(&self, label: &str) -> Option<usize> {
        self.hits(label).first().map(|h| h.line)
    }

    /// The text of a line.
    pub fn line_text(&self, index: usize) -> &str {
        self.lines.get(index).map_or("", |l| self.doc.slice(l.span))
    }

    /// The first cell of the first non-blank line: usually the issuer's name.
    pub fn first_cell(&self, skip: impl Fn(&str) -> bool) -> Option<Found> {
        self.lines.iter().flat_map(|l| l.cells.iter()).find(|c| !skip(&c.text)).and_then(|cell| {
            read_value(&cell.text, cell.span.start, Pattern::Text, None).map(|(value, span)| Found {
                value,
                span,
                quality: 0.9,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_values_beside_and_under_labels() {
        let text = "ACME SUPPLY CO\nInvoice #: INV-2024-001        Date: 03/07/2024\n\nSubtotal      100.00\nSub Total     999.99\nTotal         108.25\n\nb Employer identification number     a Employee's SSN\n  12-3456789                           123-45-6789\n";
        let doc = DocumentText { text: text.into(), ..Default::default() };
        let f = Finder::new(&doc, None);
        let v = |found: Option<Found>| found.map(|f| f.value.display());
        assert_eq!(v(f.on_line(&["invoice #"], Pattern::Id)), Some("INV-2024-001".into()));
        assert_eq!(v(f.on_line(&["date"], Pattern::Date)), Some("2024-03-07".into()));
        assert_eq!(v(f.on_line(&["total"], Pattern::Money)), Some("108.25".into()), "not the Sub Total line");
        assert_eq!(
            v(f.on_line_or_below(&["employer identification number"], Pattern::TaxId)),
            Some("12-3456789".into())
        );
        assert_eq!(v(f.on_line_or_below(&["employee's ssn"], Pattern::TaxId)), Some("123-45-6789".into()));
        // OCR misreads of a label still match.
        assert_eq!(v(f.on_line(&["lnvoice #"], Pattern::Id)), Some("INV-2024-001".into()));
        let span = f.on_line(&["total"], Pattern::Money).unwrap().span;
        assert_eq!(doc.slice(span), "108.25");
    }

    #[test]
    fn labels_in_other_typographies_and_longer_labels() {
        let text = "          Date : 28/11/2022\nGesamtbetrag der Zuschläge     0,00\nGesamtbetrag     571,04\nMünchen, den   01.11.2024\n                 TOTAL TTC\nparagraphe\n                  110,00\n";
        let doc = DocumentText { text: text.into(), ..Default::default() };
        let f = Finder::new(&doc, Some(DateOrder::DayFirst));
        let v = |found: Option<Found>| found.map(|f| f.value.display());
        assert_eq!(
            v(f.on_line(&["date"], Pattern::Date)),
            Some("2022-11-28".into()),
            "a space before the colon"
        );
        assert_eq!(
            v(f.on_line(&["gesamtbetrag"], Pattern::Money)),
            Some("571.04".into()),
            "not 'der Zuschläge'"
        );
        assert_eq!(
            v(f.on_line(&["den"], Pattern::Date)),
            Some("2024-11-01".into()),
            "a comma ends the phrase"
        );
        assert_eq!(
            v(f.on_line_or_below(&["total ttc"], Pattern::Money)),
            Some("110.00".into()),
            "text beside the box is not in it"
        );
    }

    #[test]
    fn a_name_under_a_caption_is_not_the_caption_s_last_line() {
        let text = "PAYER'S name, street address, city or town, state or province, country, ZIP\nor foreign postal code, and telephone no.\nACME SUPPLY CO\n";
        let doc = DocumentText { text: text.into(), ..Default::default() };
        let f = Finder::new(&doc, None);
        let name = f.below_label(&["payer's name, street address", "payer's name"], Pattern::Text);
        assert_eq!(name.map(|n| n.value.display()), Some("ACME SUPPLY CO".into()));
    }
}
