//! What every extractor uses: value parsers (money, dates, times, tax ids) and [`Finder`], which
//! finds a labelled value the way a reader does — right after the label on the same line, or
//! in the box under it — tolerating small OCR misreadings of the label.

use std::sync::LazyLock;

use chrono::{NaiveDate, NaiveTime};
use regex::Regex;
use rust_decimal::Decimal;

use crate::fields::{ExtractedField, FieldSource, FieldValue};
use crate::layout::{Cell, Line, lines};
use crate::text::{DocumentText, Span};

#[expect(clippy::unwrap_used, reason = "the patterns are literals, checked by the tests")]
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap()
}

static MONEY: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^\(?\s*(-)?\s*[$S]?\s*(-)?\s*((?:\d{1,3}(?:,\d{3})+)|\d+)\.(\d{2})\s*(-|CR)?\s*\)?$")
});
static MONEY_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| re(r"\(?-?\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)\.\d{2}\)?"));
static DATE_TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}-\d{1,2}-\d{4}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s*\d{4}|\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s+\d{4})\b",
    )
});
static SHORT_DATE: LazyLock<Regex> = LazyLock::new(|| re(r"^(\d{1,2})/(\d{1,2})$"));
static TIME_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?m\.?)?"));
static TAX_ID_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:\b\d{2}-\d{7}\b|\b\d{3}-\d{2}-\d{4}\b|[X*]{3}-[X*]{2}-\d{4}\b|[X*]{5}\d{4}\b)"));
static ID_TOKEN: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Za-z0-9][A-Za-z0-9\-/.]*[A-Za-z0-9]$|^\d$"));
static YEAR_TOKEN: LazyLock<Regex> = LazyLock::new(|| re(r"\b(19[89]\d|20\d{2})\b"));
static LAST4: LazyLock<Regex> = LazyLock::new(|| re(r"(\d{4})\b\s*$"));

/// Parses an amount: `1,234.56`, `$12.00`, `(45.00)` and `-3.10` (negative), `12.00-`, `12.00 CR`.
pub fn parse_money(s: &str) -> Option<Decimal> {
    let s = s.trim().trim_start_matches("USD").trim();
    let c = MONEY.captures(s)?;
    let whole = c.get(3)?.as_str().replace(',', "");
    let cents = c.get(4)?.as_str();
    let mut value: Decimal = format!("{whole}.{cents}").parse().ok()?;
    let negative = c.get(1).is_some()
        || c.get(2).is_some()
        || c.get(5).is_some()
        || (s.starts_with('(') && s.ends_with(')'));
    if negative {
        value = -value;
    }
    Some(value)
}

/// Parses a quantity (`2`, `1.5`, `10.00`).
pub fn parse_number(s: &str) -> Option<Decimal> {
    let s = s.trim().replace(',', "");
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    s.parse::<Decimal>().ok().map(|d| d.normalize())
}

const DATE_FORMATS: &[&str] = &[
    "%m/%d/%Y",
    "%m/%d/%y",
    "%Y-%m-%d",
    "%m-%d-%Y",
    "%B %d, %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%b %d %Y",
    "%d %B %Y",
    "%d %b %Y",
];

/// Parses a full date in the formats invoices and statements use.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let cleaned = s
        .trim()
        .trim_end_matches(['.', ',', ';', ':'])
        .replace('.', "")
        .replace("Sept ", "Sep ")
        .replace(',', ", ");
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    DATE_FORMATS.iter().find_map(|f| NaiveDate::parse_from_str(&cleaned, f).ok())
}

/// Parses `MM/DD` with the year taken from `year`.
pub fn parse_short_date(s: &str, year: i32) -> Option<NaiveDate> {
    let c = SHORT_DATE.captures(s.trim())?;
    NaiveDate::from_ymd_opt(year, c[1].parse().ok()?, c[2].parse().ok()?)
}

/// The first date in `s`, with its byte range.
pub fn find_date(s: &str) -> Option<(NaiveDate, std::ops::Range<usize>)> {
    DATE_TOKEN.find_iter(s).find_map(|m| parse_date(m.as_str()).map(|d| (d, m.range())))
}

/// All dates in `s`, in order.
pub fn find_dates(s: &str) -> Vec<(NaiveDate, std::ops::Range<usize>)> {
    DATE_TOKEN.find_iter(s).filter_map(|m| parse_date(m.as_str()).map(|d| (d, m.range()))).collect()
}

/// The first time of day in `s` (`14:05`, `2:05 PM`, `14:05:09`).
pub fn find_time(s: &str) -> Option<(NaiveTime, std::ops::Range<usize>)> {
    TIME_TOKEN.captures_iter(s).find_map(|c| {
        let mut hour: u32 = c[1].parse().ok()?;
        let minute: u32 = c[2].parse().ok()?;
        if let Some(ampm) = c.get(4) {
            let pm = ampm.as_str().to_ascii_lowercase().starts_with('p');
            if hour == 12 {
                hour = 0;
            }
            if pm {
                hour += 12;
            }
        }
        let second = c.get(3).and_then(|s| s.as_str().parse().ok()).unwrap_or(0);
        NaiveTime::from_hms_opt(hour, minute, second).map(|t| (t, c.get(0).map_or(0..0, |m| m.range())))
    })
}

/// The first EIN- or SSN-shaped token (masked SSNs like `XXX-XX-1234` included).
pub fn find_tax_id(s: &str) -> Option<std::ops::Range<usize>> {
    TAX_ID_TOKEN.find(s).map(|m| m.range())
}

/// The first money token in `s`.
pub fn find_money(s: &str) -> Option<(Decimal, std::ops::Range<usize>)> {
    MONEY_TOKEN.find_iter(s).find_map(|m| parse_money(m.as_str()).map(|d| (d, m.range())))
}

pub fn find_year(s: &str) -> Option<std::ops::Range<usize>> {
    YEAR_TOKEN.find(s).map(|m| m.range())
}

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
        }
    }
}

/// Reads a value of `pattern` at the start of `text` (which begins at byte `offset`).
pub fn read_value(text: &str, offset: usize, pattern: Pattern) -> Option<(FieldValue, Span)> {
    let trimmed_start = text.len() - text.trim_start().len();
    let t = text.trim();
    let at = |r: std::ops::Range<usize>| {
        Span::new(offset + trimmed_start + r.start, offset + trimmed_start + r.end)
    };
    match pattern {
        Pattern::Money => parse_money(t).map(|d| (FieldValue::Money(d), at(0..t.len()))),
        Pattern::Date => {
            let (d, r) = find_date(t)?;
            (r.start == 0).then(|| (FieldValue::Date(d), at(r)))
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
            (ID_TOKEN.is_match(token) && token.chars().any(|c| c.is_ascii_digit()))
                .then(|| (FieldValue::Text(token.to_string()), at(0..token.len())))
        }
        Pattern::TaxId => {
            let r = find_tax_id(t)?;
            (r.start == 0).then(|| (FieldValue::Text(t[r.clone()].to_string()), at(r)))
        }
        Pattern::Last4 => {
            let token = t.split("  ").next()?.trim_end();
            let c = LAST4.captures(token)?;
            let m = c.get(1)?;
            let digits_before = token[..m.start()].chars().filter(|c| c.is_ascii_digit()).count();
            // A whole visible account number is fine too; keep its last four.
            (digits_before <= 16).then(|| (FieldValue::Text(m.as_str().to_string()), at(m.range())))
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

/// Finds labelled values in a document.
pub struct Finder<'a> {
    pub doc: &'a DocumentText,
    pub lines: Vec<Line>,
    line_tokens: Vec<Vec<Token>>,
}

impl<'a> Finder<'a> {
    pub fn new(doc: &'a DocumentText) -> Finder<'a> {
        let lines = lines(doc);
        let line_tokens = lines.iter().map(|l| tokens(doc, l)).collect();
        Finder { doc, lines, line_tokens }
    }

    /// Every occurrence of `label` (whole words): exact matches, or when there are none,
    /// OCR-tolerant ones. A label must start a phrase: the token before it in the same cell
    /// must not be a word of three or more letters, so "Total" does not match inside "Sub Total"
    /// or "Invoice Total" (box letters like "c" or a misread "e/f" are fine).
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
                if start > 0 && toks[start].gap_before < 2 {
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
        // The remainder of the label's cell, if the value follows with single spaces.
        let cell_end = after.find("  ").unwrap_or(after.len());
        let mut candidates: Vec<(usize, &str)> = Vec::new();
        if cell_end > 0 && (skipped < 2 || rest.starts_with(':') || rest.trim_start().starts_with('#')) {
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
            if let Some((value, span)) = read_value(text, *offset, pattern) {
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
    /// first cell inside it on the next three non-blank lines.
    fn below(&self, hit: &LabelHit, pattern: Pattern) -> Option<Found> {
        let cells = &self.lines[hit.line].cells;
        let own = cells
            .iter()
            .position(|c| c.columns.0 <= hit.columns.0 && hit.columns.0 < c.columns.1.max(c.columns.0 + 1));
        let start = own.map_or(hit.columns.0, |i| cells[i].columns.0).saturating_sub(2);
        let end =
            own.and_then(|i| cells.get(i + 1)).map_or(usize::MAX, |next| next.columns.0.saturating_sub(1));
        let mut seen = 0;
        for line in self.lines.iter().skip(hit.line + 1) {
            if line.is_blank() {
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
                    if let Some((value, span)) = read_value(text, cell.span.start, pattern) {
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
            read_value(&cell.text, cell.span.start, Pattern::Text).map(|(value, span)| Found {
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
    fn parses_money_forms() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(parse_money("$1,234.56"), Some(d("1234.56")));
        assert_eq!(parse_money("(45.00)"), Some(d("-45.00")));
        assert_eq!(parse_money("-3.10"), Some(d("-3.10")));
        assert_eq!(parse_money("12.00 CR"), Some(d("-12.00")));
        assert_eq!(parse_money("$ 7.05"), Some(d("7.05")));
        assert_eq!(parse_money("1,23.45"), None);
        assert_eq!(parse_money("8.25%"), None);
        assert_eq!(parse_money("12"), None);
    }

    #[test]
    fn parses_dates_and_times() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(parse_date("03/07/2024"), Some(d(2024, 3, 7)));
        assert_eq!(parse_date("2024-03-07"), Some(d(2024, 3, 7)));
        assert_eq!(parse_date("March 7, 2024"), Some(d(2024, 3, 7)));
        assert_eq!(parse_date("Sept. 7, 2024"), Some(d(2024, 9, 7)));
        assert_eq!(parse_date("7 Mar 2024"), Some(d(2024, 3, 7)));
        assert_eq!(parse_short_date("12/31", 2023), Some(d(2023, 12, 31)));
        assert_eq!(find_dates("Statement Period: 01/01/2024 - 01/31/2024").len(), 2);
        assert_eq!(find_time("Time: 2:05 PM").map(|t| t.0), NaiveTime::from_hms_opt(14, 5, 0));
        assert_eq!(find_time("13:59:07").map(|t| t.0), NaiveTime::from_hms_opt(13, 59, 7));
    }

    #[test]
    fn finds_values_beside_and_under_labels() {
        let text = "ACME SUPPLY CO\nInvoice #: INV-2024-001        Date: 03/07/2024\n\nSubtotal      100.00\nSub Total     999.99\nTotal         108.25\n\nb Employer identification number     a Employee's SSN\n  12-3456789                           123-45-6789\n";
        let doc = DocumentText { text: text.into(), ..Default::default() };
        let f = Finder::new(&doc);
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
}
