//! Vendor memory (no I/O): what a firm learnt from a person's corrections of one vendor's
//! document, and how the next documents of that vendor are read with it.
//!
//! A [`VendorMemory`] is learnt from a document's text (the laid-out text every step sees) and
//! its fields after review ([`learn`]): where each corrected value sits — after which label on its
//! line ([`Anchor::Beside`]), under which label ([`Anchor::Below`]), or, with no label, at which
//! line and column of its page ([`Anchor::At`]) — how the vendor's numeric dates read (day or
//! month first, from a corrected date), its name as the reviewer wrote it and its currency. It
//! also keeps what recognises the vendor: a validated tax id (EU VAT shape or an EIN), the
//! normalised name, and a layout fingerprint (the words of the first page's header and their
//! columns).
//!
//! After the normal extraction, [`identify`] picks the memory a document belongs to (tax id
//! printed on it, else its vendor's name, else a layout close enough), and [`apply`] re-reads the
//! learnt fields at their learnt places, re-reads numeric dates in the learnt order, and sets the
//! name and currency; every field it sets has [`FieldSource::VendorMemory`].

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::fields::{
    DocType, ExtractedField, Extraction, FieldSource, FieldValue, ValueKind, schema, spec_of,
};
use crate::span::Span;
use crate::text::DocumentText;
use crate::values::{DateOrder, parse_money, parse_number, read_date};

/// How a vendor's documents are recognised, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    TaxId,
    Name,
    Layout,
}

impl MatchedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::TaxId => "tax_id",
            MatchedBy::Name => "name",
            MatchedBy::Layout => "layout",
        }
    }
}

/// Where a learnt field's value sits on the vendor's documents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "snake_case")]
pub enum Anchor {
    /// After these label words on the same line (`nth` of the lines whose words before a value are
    /// exactly these, from the top).
    Beside { label: Vec<String>, nth: usize },
    /// Under these label words: `lines` non-empty lines down, starting `column` characters right
    /// of the label's first character (negative: left of it).
    Below { label: Vec<String>, lines: usize, column: i32 },
    /// No label: the `line`-th non-empty line of page `page` (from the bottom when negative), at
    /// character `column`.
    At { page: u32, line: i32, column: usize },
}

/// One corrected field and where it sits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRule {
    pub key: String,
    pub anchor: Anchor,
    /// How many words the value had (text values are read with as many).
    pub words: usize,
}

/// What a firm learnt of one vendor.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VendorMemory {
    /// The vendor's tax id, validated, as uppercase letters and digits (`DE123456789`, `123456789`).
    pub tax_id: Option<String>,
    /// The vendor's name as the reviewer wrote it (or as extracted and left standing).
    pub vendor_name: Option<String>,
    pub currency: Option<String>,
    pub date_order: Option<DateOrder>,
    /// The layout fingerprint: `word@column/8` of the first page's header words.
    pub fingerprint: Vec<String>,
    pub fields: Vec<FieldRule>,
}

impl VendorMemory {
    /// The strongest key the memory is stored under: its tax id, else its normalised name, else a
    /// hash of its layout fingerprint. None when it has nothing to be recognised by.
    pub fn key(&self) -> Option<(MatchedBy, String)> {
        if let Some(t) = &self.tax_id {
            return Some((MatchedBy::TaxId, t.clone()));
        }
        if let Some(n) = self.vendor_name.as_deref().map(normalize_name).filter(|n| n.len() >= 3) {
            return Some((MatchedBy::Name, n));
        }
        (self.fingerprint.len() >= MIN_FINGERPRINT)
            .then(|| (MatchedBy::Layout, fingerprint_hash(&self.fingerprint)))
    }

    /// Whether there is anything to apply.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
            && self.vendor_name.is_none()
            && self.currency.is_none()
            && self.date_order.is_none()
    }

    /// This memory with `newer`'s lessons on top (a field learnt again replaces the old rule).
    pub fn merged(&self, newer: &VendorMemory) -> VendorMemory {
        let mut fields: Vec<FieldRule> =
            self.fields.iter().filter(|r| !newer.fields.iter().any(|n| n.key == r.key)).cloned().collect();
        fields.extend(newer.fields.iter().cloned());
        fields.sort_by(|a, b| a.key.cmp(&b.key));
        VendorMemory {
            tax_id: newer.tax_id.clone().or_else(|| self.tax_id.clone()),
            vendor_name: newer.vendor_name.clone().or_else(|| self.vendor_name.clone()),
            currency: newer.currency.clone().or_else(|| self.currency.clone()),
            date_order: newer.date_order.or(self.date_order),
            fingerprint: if newer.fingerprint.is_empty() {
                self.fingerprint.clone()
            } else {
                newer.fingerprint.clone()
            },
            fields,
        }
    }
}

/// Fewer header words than this make no fingerprint.
const MIN_FINGERPRINT: usize = 4;
/// How alike two fingerprints must be (shared words over all words) to be one vendor's layout.
pub const LAYOUT_SIMILARITY: f32 = 0.6;
/// How many non-empty lines of the first page make its header.
const HEADER_LINES: usize = 15;
/// The longest label kept.
const MAX_LABEL: usize = 4;

/// A name as compared: letters and digits in upper case, words joined by one space.
pub fn normalize_name(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_alphanumeric() { c.to_ascii_uppercase() } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A tax id as kept: a VAT id (two letters, then 8–12 letters and digits, six digits or more) or
/// an EIN the IRS could have issued, in upper-case letters and digits; None otherwise.
pub fn validated_tax_id(raw: &str) -> Option<String> {
    let compact: String =
        raw.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_uppercase();
    let vat = compact.len() >= 10
        && compact.len() <= 14
        && compact[..2].chars().all(|c| c.is_ascii_uppercase())
        && compact.chars().filter(char::is_ascii_digit).count() >= 6;
    if vat {
        return Some(compact);
    }
    domain::tax_id::TaxId::parse(raw, Some(domain::tax_id::TaxIdKind::Ein))
        .ok()
        .filter(|t| t.kind() == domain::tax_id::TaxIdKind::Ein)
        .map(|t| t.digits().to_string())
}

fn fingerprint_hash(tokens: &[String]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for t in tokens {
        h.update(t.as_bytes());
        h.update(b"\n");
    }
    hex::encode(&h.finalize()[..12])
}

/// A word of a line: its text, byte range in the document and first character's column.
#[derive(Clone, Debug)]
struct Token<'a> {
    text: &'a str,
    start: usize,
    end: usize,
    column: usize,
}

/// A non-empty line of a page.
#[derive(Clone, Debug)]
struct TextLine<'a> {
    page: u32,
    /// Index among its page's non-empty lines.
    index: usize,
    tokens: Vec<Token<'a>>,
}

/// The non-empty lines of the text, page by page (pages are separated by form feeds).
fn text_lines(text: &str) -> Vec<TextLine<'_>> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (p, page) in text.split('\x0c').enumerate() {
        let mut index = 0;
        for line in page.split('\n') {
            let mut tokens = Vec::new();
            let mut start: Option<(usize, usize)> = None;
            for (column, (i, c)) in line.char_indices().enumerate() {
                if c.is_whitespace() {
                    if let Some((s, col)) = start.take() {
                        tokens.push(Token {
                            text: &line[s..i],
                            start: offset + s,
                            end: offset + i,
                            column: col,
                        });
                    }
                } else if start.is_none() {
                    start = Some((i, column));
                }
            }
            if let Some((s, col)) = start {
                tokens.push(Token {
                    text: &line[s..],
                    start: offset + s,
                    end: offset + line.len(),
                    column: col,
                });
            }
            if !tokens.is_empty() {
                out.push(TextLine { page: p as u32 + 1, index, tokens });
                index += 1;
            }
            offset += line.len() + 1;
        }
        // `split('\n')` counted one newline too many for the page's last line; the form feed
        // takes its place.
    }
    out
}

fn has_letter(t: &str) -> bool {
    t.chars().any(char::is_alphabetic)
}

/// A word a label may have: letters and no digits (a value such as `FA000123` is no label).
fn is_label_word(t: &str) -> bool {
    has_letter(t) && !t.chars().any(|c| c.is_ascii_digit()) && crate::values::currency_of(t).is_none()
}

fn is_punctuation(t: &str) -> bool {
    t.chars().all(|c| !c.is_alphanumeric())
}

fn label_word(t: &str) -> String {
    t.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()
}

fn width(t: &Token<'_>) -> usize {
    t.text.chars().count()
}

/// Whether tokens `i - 1` and `i` of a line are in one cell (one space apart, not a column gap).
fn joined_to_previous(tokens: &[Token<'_>], i: usize) -> bool {
    i > 0 && tokens[i].column < tokens[i - 1].column + width(&tokens[i - 1]) + 2
}

/// The label right before token `at` of a line: punctuation-only tokens skipped, then the words
/// with letters of the cell before (at most [`MAX_LABEL`], the last ones).
fn label_before(tokens: &[Token<'_>], at: usize) -> Vec<String> {
    let mut i = at;
    while i > 0 && is_punctuation(tokens[i - 1].text) {
        i -= 1;
    }
    let mut words = Vec::new();
    while i > 0 && is_label_word(tokens[i - 1].text) && words.len() < MAX_LABEL {
        words.push(label_word(tokens[i - 1].text));
        i -= 1;
        if !joined_to_previous(tokens, i) {
            break;
        }
    }
    words.reverse();
    words
}

/// The cell (tokens one space apart) holding token `i`: its first and last token.
fn cell_of(tokens: &[Token<'_>], i: usize) -> (usize, usize) {
    let mut first = i;
    while joined_to_previous(tokens, first) {
        first -= 1;
    }
    let mut last = i;
    while last + 1 < tokens.len() && joined_to_previous(tokens, last + 1) {
        last += 1;
    }
    (first, last)
}

/// The first page's header words with their columns (see [`VendorMemory::fingerprint`]).
pub fn fingerprint(text: &str) -> Vec<String> {
    let set: BTreeSet<String> = text_lines(text)
        .iter()
        .filter(|l| l.page == 1)
        .take(HEADER_LINES)
        .flat_map(|l| l.tokens.iter())
        .filter(|t| {
            t.text.chars().filter(|c| c.is_alphabetic()).count() >= 2
                && !t.text.chars().any(|c| c.is_ascii_digit())
        })
        .map(|t| format!("{}@{}", label_word(t.text), t.column / 8))
        .collect();
    set.into_iter().collect()
}

/// Shared words over all words of two fingerprints (0–1).
pub fn similarity(a: &[String], b: &[String]) -> f32 {
    let (a, b): (BTreeSet<&String>, BTreeSet<&String>) = (a.iter().collect(), b.iter().collect());
    let union = a.union(&b).count();
    if union == 0 { 0.0 } else { a.intersection(&b).count() as f32 / union as f32 }
}

/// The kind of value a key holds (`currency` is text on every type).
fn kind_of(doc_type: DocType, key: &str) -> ValueKind {
    spec_of(doc_type, key).map_or(ValueKind::Text, |s| s.kind)
}

/// The key naming the document's issuer for a type.
pub fn name_key(doc_type: DocType) -> Option<&'static str> {
    match doc_type {
        DocType::Invoice => Some("vendor_name"),
        DocType::Receipt => Some("merchant_name"),
        DocType::Form1099Nec | DocType::Form1099Misc => Some("payer_name"),
        DocType::W2 => Some("employer_name"),
        _ => None,
    }
}

/// Reads a value of `kind` from the words `words` (joined by single spaces): dates in `order`
/// when given, else in either order when `expect` decides.
fn read_words(kind: ValueKind, words: &str, order: Option<DateOrder>) -> Option<FieldValue> {
    let w = words.trim_matches(|c: char| c == ':' || c == ';');
    match kind {
        ValueKind::Money => {
            parse_money(w).or_else(|| parse_money(&without_space_groups(w))).map(FieldValue::Money)
        }
        ValueKind::Number => parse_number(w).or_else(|| parse_money(w)).map(FieldValue::Number),
        ValueKind::Date => read_date(w, order).map(|r| FieldValue::Date(r.date)),
        ValueKind::Time => crate::values::find_time(w)
            .filter(|(_, r)| r.start == 0 && r.end == w.len())
            .map(|(t, _)| FieldValue::Time(t)),
        ValueKind::Text | ValueKind::TaxId => {
            let v = w.trim_start_matches('#').trim_end_matches([',', '.']);
            (!v.is_empty()).then(|| FieldValue::Text(v.to_string()))
        }
    }
}

/// An amount with its thousands grouped by spaces (`1 234,56 EUR`) written without them.
fn without_space_groups(w: &str) -> String {
    static GROUP: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        #[expect(clippy::unwrap_used, reason = "a literal pattern, checked by the tests")]
        regex::Regex::new(r"(\d) (\d{3})\b").unwrap()
    });
    let mut out = w.to_string();
    while GROUP.is_match(&out) {
        out = GROUP.replace_all(&out, "$1$2").into_owned();
    }
    out
}

/// The longest window a value of `kind` may take, in words.
fn max_words(kind: ValueKind) -> usize {
    match kind {
        ValueKind::Money | ValueKind::Number => 3,
        ValueKind::Date => 4,
        ValueKind::Time => 2,
        ValueKind::Text | ValueKind::TaxId => 8,
    }
}

fn joined(tokens: &[Token<'_>]) -> String {
    tokens.iter().map(|t| t.text).collect::<Vec<_>>().join(" ")
}

/// Where a value was found while learning: its line, first token and word count, and the date
/// order that read it when only one did.
struct Occurrence {
    line: usize,
    at: usize,
    words: usize,
    order: Option<DateOrder>,
}

/// Every place in the text where `value` is printed.
fn occurrences(lines: &[TextLine<'_>], kind: ValueKind, value: &FieldValue) -> Vec<Occurrence> {
    let mut out = Vec::new();
    for (li, line) in lines.iter().enumerate() {
        let mut at = 0;
        while at < line.tokens.len() {
            let mut taken = 1;
            for n in 1..=max_words(kind).min(line.tokens.len() - at) {
                let words = joined(&line.tokens[at..at + n]);
                let hit = |order| read_words(kind, &words, order).is_some_and(|v| v.matches(value));
                let found = if kind == ValueKind::Date {
                    match (hit(Some(DateOrder::DayFirst)), hit(Some(DateOrder::MonthFirst))) {
                        // Read the same either way: a day over 12 still says which comes first.
                        (true, true) => Some(crate::values::date_order_evidence(&words)),
                        (true, false) => Some(Some(DateOrder::DayFirst)),
                        (false, true) => Some(Some(DateOrder::MonthFirst)),
                        (false, false) => None,
                    }
                } else {
                    hit(None).then_some(None)
                };
                if let Some(order) = found {
                    out.push(Occurrence { line: li, at, words: n, order });
                    taken = n;
                    break;
                }
            }
            // A value's own words start no other occurrence (`GBP 12.00` is not also `12.00`).
            at += taken;
        }
    }
    out
}

/// Where an occurrence sits: after a label on its line, else under a label above, else by position.
fn anchor_of(lines: &[TextLine<'_>], o: &Occurrence) -> Anchor {
    let line = &lines[o.line];
    let label = label_before(&line.tokens, o.at);
    if !label.is_empty() {
        let nth = lines[..o.line]
            .iter()
            .filter(|l| {
                (0..l.tokens.len())
                    .any(|i| label_before(&l.tokens, i) == label && !is_punctuation(l.tokens[i].text))
            })
            .count();
        return Anchor::Beside { label, nth };
    }
    let value_col = line.tokens[o.at].column;
    let last = &line.tokens[o.at + o.words - 1];
    let value_end = last.column + width(last);
    for up in 1..=3 {
        let Some(above) = o.line.checked_sub(up).map(|i| &lines[i]).filter(|l| l.page == line.page) else {
            break;
        };
        let over =
            above.tokens.iter().position(|t| t.column < value_end + 1 && t.column + width(t) + 1 > value_col);
        let Some(over) = over else { continue };
        let (first, last) = cell_of(&above.tokens, over);
        let cell = &above.tokens[first..=last];
        if cell.iter().all(|t| is_label_word(t.text) || is_punctuation(t.text)) {
            let label: Vec<String> = cell
                .iter()
                .filter(|t| is_label_word(t.text))
                .take(MAX_LABEL)
                .map(|t| label_word(t.text))
                .collect();
            return Anchor::Below { label, lines: up, column: value_col as i32 - cell[0].column as i32 };
        }
        break;
    }
    let on_page = lines.iter().filter(|l| l.page == line.page).count();
    let line_no =
        if line.index * 2 < on_page { line.index as i32 } else { line.index as i32 - on_page as i32 };
    Anchor::At { page: line.page, line: line_no, column: value_col }
}

/// Learns from a reviewed document: `text` is its laid-out text, `fields` its fields as they stand
/// after review, `corrected` the keys a person corrected. Line items are not learnt.
pub fn learn(
    doc_type: DocType,
    text: &str,
    fields: &[(String, FieldValue)],
    corrected: &[String],
) -> VendorMemory {
    let lines = text_lines(text);
    let value = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let mut memory = VendorMemory {
        tax_id: value("vendor_tax_id").and_then(FieldValue::as_text).and_then(validated_tax_id),
        vendor_name: name_key(doc_type).and_then(value).and_then(FieldValue::as_text).map(str::to_string),
        currency: value("currency").and_then(FieldValue::as_text).map(str::to_string),
        date_order: None,
        fingerprint: fingerprint(text),
        fields: Vec::new(),
    };
    for key in corrected {
        if key.contains('[')
            || key.contains('.')
            || Some(key.as_str()) == name_key(doc_type)
            || key == "currency"
        {
            continue;
        }
        let Some(v) = value(key) else { continue };
        let kind = kind_of(doc_type, key);
        let found = occurrences(&lines, kind, v);
        if kind == ValueKind::Date
            && let Some(order) = found.iter().find_map(|o| o.order)
        {
            memory.date_order.get_or_insert(order);
        }
        // A labelled place beats a bare one.
        // Amounts: the last labelled one (totals are printed under the lines that add up to them).
        let rank = |a: &Anchor| match a {
            Anchor::Beside { .. } => 0,
            Anchor::Below { .. } => 1,
            Anchor::At { .. } => 2,
        };
        let anchors = found.iter().map(|o| (anchor_of(&lines, o), o.words));
        let best = if kind == ValueKind::Money {
            anchors.rev().min_by_key(|(a, _)| rank(a))
        } else {
            anchors.min_by_key(|(a, _)| rank(a))
        };
        if let Some((anchor, words)) = best {
            memory.fields.push(FieldRule { key: key.clone(), anchor, words });
        }
    }
    // The reviewed document's other dates say how the vendor writes them too (a person saw them).
    if memory.date_order.is_none() {
        memory.date_order = fields
            .iter()
            .filter(|(k, _)| !k.contains('[') && kind_of(doc_type, k) == ValueKind::Date)
            .flat_map(|(_, v)| occurrences(&lines, ValueKind::Date, v))
            .find_map(|o| o.order);
    }
    memory.fields.sort_by(|a, b| a.key.cmp(&b.key));
    memory
}

/// Which of `memories` (with their ids) a document belongs to, and by what: a tax id printed on
/// it, else the vendor name (as extracted, or printed in the first page's header and not as the
/// customer), else a layout as alike as [`LAYOUT_SIMILARITY`].
pub fn identify<'m, Id: Copy>(
    memories: &'m [(Id, VendorMemory)],
    text: &str,
    extraction: &Extraction,
) -> Option<(Id, &'m VendorMemory, MatchedBy)> {
    let lines = text_lines(text);
    // A tax id is printed as one to five words (`DE 811 569 869`, `93-1234567`).
    let printed = |id: &str| {
        lines.iter().any(|l| {
            (0..l.tokens.len()).any(|i| {
                let mut joined = String::new();
                for t in l.tokens[i..].iter().take(5) {
                    joined.extend(
                        t.text.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()),
                    );
                    if joined == id {
                        return true;
                    }
                    if joined.len() >= id.len() {
                        return false;
                    }
                }
                false
            })
        })
    };
    if let Some((id, m)) = memories.iter().find(|(_, m)| m.tax_id.as_deref().is_some_and(printed)) {
        return Some((*id, m, MatchedBy::TaxId));
    }
    let extracted = name_key(extraction.doc_type).and_then(|k| extraction.text(k)).map(normalize_name);
    let customer = extraction.text("customer_name").map(normalize_name);
    let header: Vec<String> = lines
        .iter()
        .filter(|l| l.page == 1)
        .take(HEADER_LINES)
        .map(|l| format!(" {} ", normalize_name(&joined(&l.tokens))))
        .collect();
    let by_name = memories.iter().find(|(_, m)| {
        let Some(name) = m.vendor_name.as_deref().map(normalize_name).filter(|n| n.len() >= 4) else {
            return false;
        };
        if customer.as_deref() == Some(name.as_str()) {
            return false;
        }
        extracted.as_deref() == Some(name.as_str()) || header.iter().any(|l| l.contains(&format!(" {name} ")))
    });
    if let Some((id, m)) = by_name {
        return Some((*id, m, MatchedBy::Name));
    }
    let print = fingerprint(text);
    memories
        .iter()
        .filter(|(_, m)| m.fingerprint.len() >= MIN_FINGERPRINT)
        .map(|(id, m)| (id, m, similarity(&m.fingerprint, &print)))
        .filter(|(_, _, s)| *s >= LAYOUT_SIMILARITY)
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .map(|(id, m, _)| (*id, m, MatchedBy::Layout))
}

/// Confidence of a value read at a learnt place (before the reading confidence of its words).
const LEARNT_QUALITY: f32 = 0.97;

/// Finds a learnt field's value in a document: the value and the span it was read from.
fn find(
    lines: &[TextLine<'_>],
    rule: &FieldRule,
    kind: ValueKind,
    order: Option<DateOrder>,
) -> Option<(FieldValue, Span)> {
    let read_at = |line: &TextLine<'_>, at: usize| -> Option<(FieldValue, Span)> {
        let tokens = &line.tokens[at..];
        let span = |n: usize| Span::new(tokens[0].start, tokens[n - 1].end);
        if matches!(kind, ValueKind::Text | ValueKind::TaxId) {
            let n = rule.words.min(tokens.len());
            return (n > 0)
                .then(|| read_words(kind, &joined(&tokens[..n]), order).map(|v| (v, span(n))))
                .flatten();
        }
        (1..=max_words(kind).min(tokens.len()))
            .find_map(|n| read_words(kind, &joined(&tokens[..n]), order).map(|v| (v, span(n))))
    };
    match &rule.anchor {
        Anchor::Beside { label, nth } => {
            let places: Vec<(usize, usize)> = lines
                .iter()
                .enumerate()
                .flat_map(|(li, l)| {
                    (0..l.tokens.len())
                        .filter(move |&i| {
                            !is_punctuation(l.tokens[i].text) && label_before(&l.tokens, i) == *label
                        })
                        .map(move |i| (li, i))
                })
                .collect();
            // One value per line: the first after the label.
            let mut per_line: Vec<(usize, usize)> = Vec::new();
            for (li, i) in places {
                if per_line.last().is_none_or(|(l, _)| *l != li) {
                    per_line.push((li, i));
                }
            }
            let ordered = per_line.get(*nth).into_iter().chain(per_line.iter().rev());
            ordered.into_iter().find_map(|&(li, i)| read_at(&lines[li], i))
        }
        Anchor::Below { label, lines: down, column } => lines.iter().enumerate().find_map(|(li, l)| {
            let start = (0..l.tokens.len()).find(|&i| {
                l.tokens.len() >= i + label.len()
                    && label.iter().enumerate().all(|(k, w)| label_word(l.tokens[i + k].text) == *w)
            })?;
            let target = lines.get(li + down).filter(|t| t.page == l.page)?;
            let col = (l.tokens[start].column as i32 + column).max(0) as usize;
            let at = target.tokens.iter().position(|t| t.column + 2 >= col && t.column <= col + 2)?;
            read_at(target, at)
        }),
        Anchor::At { page, line, column } => {
            let on_page: Vec<&TextLine<'_>> = lines.iter().filter(|l| l.page == *page).collect();
            let index = if *line >= 0 {
                *line as usize
            } else {
                on_page.len().checked_sub(line.unsigned_abs() as usize)?
            };
            let target = on_page.get(index)?;
            let at = target
                .tokens
                .iter()
                .position(|t| t.column <= *column + 2 && t.column + t.text.chars().count() > *column)?;
            read_at(target, at)
        }
    }
}

/// Applies a memory to a document's extraction; returns the keys it set. `name_checked`: whether
/// the vendor's name may be set (the match was by tax id or name, or the name is printed).
pub fn apply(memory: &VendorMemory, doc: &DocumentText, extraction: &mut Extraction) -> Vec<String> {
    let lines = text_lines(&doc.text);
    let doc_type = extraction.doc_type;
    let mut set: Vec<String> = Vec::new();
    let field = |key: &str, value: FieldValue, span: Option<Span>| ExtractedField {
        key: key.to_string(),
        confidence: span.map_or(LEARNT_QUALITY, |s| LEARNT_QUALITY * doc.confidence_of(s)),
        region: span.and_then(|s| doc.region_of(s)),
        value,
        span,
        source: FieldSource::VendorMemory,
    };
    let put = |extraction: &mut Extraction, f: ExtractedField, set: &mut Vec<String>| {
        set.push(f.key.clone());
        extraction.ambiguous.retain(|a| a.key != f.key);
        match extraction.fields.iter_mut().find(|e| e.key == f.key) {
            Some(e) => *e = f,
            None => extraction.fields.push(f),
        }
    };
    // Numeric dates in the vendor's order.
    if let Some(order) = memory.date_order {
        let dates: Vec<(String, Span)> = extraction
            .fields
            .iter()
            .filter(|f| kind_of(doc_type, &f.key) == ValueKind::Date)
            .filter_map(|f| Some((f.key.clone(), f.span?)))
            .collect();
        for (key, span) in dates {
            let Some(reading) = read_date(doc.slice(span), Some(order)) else { continue };
            let current = extraction.get(&key).map(|f| f.value.clone());
            if current.as_ref() != Some(&FieldValue::Date(reading.date))
                || extraction.ambiguous.iter().any(|a| a.key == key)
            {
                put(extraction, field(&key, FieldValue::Date(reading.date), Some(span)), &mut set);
            }
        }
    }
    for rule in &memory.fields {
        let kind = kind_of(doc_type, &rule.key);
        if let Some((value, span)) = find(&lines, rule, kind, memory.date_order) {
            put(extraction, field(&rule.key, value, Some(span)), &mut set);
        }
    }
    if let (Some(key), Some(name)) = (name_key(doc_type), memory.vendor_name.as_deref()) {
        let right = extraction.text(key).is_some_and(|t| normalize_name(t) == normalize_name(name));
        if !right && schema(doc_type).iter().any(|s| s.key == key) {
            let span = doc.text.find(name).map(|i| Span::new(i, i + name.len()));
            put(extraction, field(key, FieldValue::Text(name.to_string()), span), &mut set);
        }
    }
    if let Some(currency) = memory.currency.as_deref()
        && matches!(doc_type, DocType::Invoice | DocType::Receipt)
        && extraction.text("currency") != Some(currency)
    {
        put(extraction, field("currency", FieldValue::Text(currency.to_string()), None), &mut set);
    }
    set.sort();
    set.dedup();
    set
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn doc(number: &str, date: &str, total: &str, customer: &str) -> String {
        format!(
            "ACME TOOLING LTD                                   Rechnung\n\
             12 Harbour Road, Leeds                 Beleg-Nr.   {number}\n\
             VAT GB123456789                        Dated       {date}\n\
             \n\
             Billed to: {customer}\n\
             \n\
             Widget                      2        10.00\n\
             Bolt                        1         5.00\n\
             \n\
                                   Sum payable  {total}\n"
        )
    }

    fn text(s: &str) -> DocumentText {
        DocumentText { text: s.to_string(), ..Default::default() }
    }

    fn extraction(fields: &[(&str, FieldValue)]) -> Extraction {
        Extraction {
            doc_type: DocType::Invoice,
            fields: fields
                .iter()
                .map(|(k, v)| ExtractedField {
                    key: (*k).into(),
                    value: v.clone(),
                    confidence: 0.5,
                    span: None,
                    source: FieldSource::Rules,
                    region: None,
                })
                .collect(),
            language: None,
            ambiguous: Vec::new(),
        }
    }

    fn t(s: &str) -> FieldValue {
        FieldValue::Text(s.into())
    }
    fn m(s: &str) -> FieldValue {
        FieldValue::Money(s.parse().unwrap())
    }
    fn d(y: i32, mo: u32, da: u32) -> FieldValue {
        FieldValue::Date(NaiveDate::from_ymd_opt(y, mo, da).unwrap())
    }

    fn learnt() -> VendorMemory {
        let first = doc("B-1001", "05/03/2025", "GBP 1,234.50", "Northwind Traders");
        let fields = vec![
            ("invoice_number".to_string(), t("B-1001")),
            ("invoice_date".to_string(), d(2025, 3, 5)),
            ("total".to_string(), m("1234.50")),
            ("vendor_name".to_string(), t("Acme Tooling Ltd")),
            ("currency".to_string(), t("GBP")),
        ];
        let corrected: Vec<String> =
            ["invoice_number", "invoice_date", "total", "vendor_name", "currency"].map(String::from).to_vec();
        learn(DocType::Invoice, &first, &fields, &corrected)
    }

    #[test]
    fn learns_labels_the_date_order_name_and_currency() {
        let memory = learnt();
        assert_eq!(memory.date_order, Some(DateOrder::DayFirst));
        assert_eq!(memory.vendor_name.as_deref(), Some("Acme Tooling Ltd"));
        assert_eq!(memory.currency.as_deref(), Some("GBP"));
        let anchor = |key: &str| memory.fields.iter().find(|r| r.key == key).map(|r| r.anchor.clone());
        assert_eq!(anchor("invoice_number"), Some(Anchor::Beside { label: vec!["beleg-nr".into()], nth: 0 }));
        assert_eq!(
            anchor("total"),
            Some(Anchor::Beside { label: vec!["sum".into(), "payable".into()], nth: 0 })
        );
        assert_eq!(memory.key(), Some((MatchedBy::Name, "ACME TOOLING LTD".into())));
    }

    #[test]
    fn applies_what_was_learnt_to_the_next_document() {
        let memory = learnt();
        let next = text(&doc("B-1077", "11/04/2025", "GBP 88.00", "Contoso plc"));
        let mut e =
            extraction(&[("total", m("10.00")), ("vendor_name", t("Rechnung")), ("currency", t("USD"))]);
        let memories = vec![(7, memory)];
        let (id, memory, by) = identify(&memories, &next.text, &e).expect("recognised");
        assert_eq!((id, by), (7, MatchedBy::Name));
        let set = apply(memory, &next, &mut e);
        assert_eq!(e.get("invoice_number").map(|f| &f.value), Some(&t("B-1077")));
        assert_eq!(e.get("invoice_date").map(|f| &f.value), Some(&d(2025, 4, 11)));
        assert_eq!(e.get("total").map(|f| &f.value), Some(&m("88.00")));
        assert_eq!(e.text("vendor_name"), Some("Acme Tooling Ltd"));
        assert_eq!(e.text("currency"), Some("GBP"));
        assert!(set.contains(&"total".to_string()));
        assert!(e.fields.iter().all(|f| f.source == FieldSource::VendorMemory));
        let total = e.get("total").unwrap();
        assert_eq!(next.slice(total.span.unwrap()), "GBP 88.00");
    }

    #[test]
    fn recognises_by_tax_id_before_name_and_by_layout_last() {
        let mut by_tax = learnt();
        by_tax.tax_id = validated_tax_id("GB 123 456 789");
        by_tax.vendor_name = Some("Someone Else".into());
        let other = VendorMemory { vendor_name: Some("Acme Tooling Ltd".into()), ..Default::default() };
        let memories = vec![(1, other), (2, by_tax)];
        let next = doc("B-2", "01/02/2025", "1.00", "X");
        let e = extraction(&[]);
        assert_eq!(identify(&memories, &next, &e).map(|(id, _, by)| (id, by)), Some((2, MatchedBy::TaxId)));

        // Same layout, the name not printed: the layout decides.
        let mut layout_only = learnt();
        layout_only.vendor_name = Some("Not Printed Anywhere".into());
        let memories = vec![(3, layout_only)];
        let next = doc("B-3", "01/02/2025", "1.00", "Someone New");
        assert_eq!(identify(&memories, &next, &e).map(|(id, _, by)| (id, by)), Some((3, MatchedBy::Layout)));

        // Another vendor's page is not recognised.
        let stranger = "Globex Corporation\nInvoice 77\nDate 2025-01-02\nTotal  $10.00\n";
        assert!(identify(&memories, stranger, &e).is_none());
    }

    #[test]
    fn the_customer_named_like_a_vendor_is_not_that_vendor() {
        let memory = VendorMemory { vendor_name: Some("Northwind Traders".into()), ..Default::default() };
        let page = "Globex Corporation\nNorthwind Traders\nTotal 10.00\n";
        let e = extraction(&[("customer_name", t("Northwind Traders"))]);
        assert!(identify(&[(1, memory)], page, &e).is_none());
    }

    #[test]
    fn validates_tax_ids() {
        assert_eq!(validated_tax_id("DE 123 456 789").as_deref(), Some("DE123456789"));
        assert_eq!(validated_tax_id("12-3456789").as_deref(), Some("123456789"));
        assert_eq!(validated_tax_id("00-3456789"), None);
        assert_eq!(validated_tax_id("INVOICE"), None);
    }

    #[test]
    fn values_under_a_label_and_without_one_are_found_again() {
        let first = "Shop\nInvoice no      Date\nX-17            2025-02-01\n\n\n   Thank you\n   $ 12.00\n";
        let fields = vec![("invoice_number".to_string(), t("X-17")), ("total".to_string(), m("12.00"))];
        let memory =
            learn(DocType::Invoice, first, &fields, &["invoice_number".to_string(), "total".to_string()]);
        let anchor = |key: &str| memory.fields.iter().find(|r| r.key == key).map(|r| r.anchor.clone());
        assert!(matches!(anchor("invoice_number"), Some(Anchor::Below { lines: 1, .. })), "{memory:?}");
        let next =
            text("Shop\nInvoice no      Date\nY-99            2025-03-01\n\n\n   Thank you\n   $ 7.50\n");
        let mut e = extraction(&[]);
        apply(&memory, &next, &mut e);
        assert_eq!(e.text("invoice_number"), Some("Y-99"));
        assert_eq!(e.money("total"), Some("7.50".parse().unwrap()));
    }

    #[test]
    fn amounts_grouped_by_spaces_and_labels_that_are_values_are_handled() {
        let first =
            "Atelier\nPiece       Emise le\nFA000123    05/03/2025\n\nNet a payer      1 234,56 EUR\n";
        let fields = vec![("invoice_date".to_string(), d(2025, 3, 5)), ("total".to_string(), m("1234.56"))];
        let memory =
            learn(DocType::Invoice, first, &fields, &["invoice_date".to_string(), "total".to_string()]);
        let anchor = |key: &str| memory.fields.iter().find(|r| r.key == key).map(|r| r.anchor.clone());
        // The invoice number left of the date is a value, not the date's label.
        assert!(
            matches!(anchor("invoice_date"), Some(Anchor::Below { ref label, .. }) if label == &["emise", "le"]),
            "{memory:?}"
        );
        assert_eq!(memory.date_order, Some(DateOrder::DayFirst));
        let next =
            text("Atelier\nPiece       Emise le\nFA000999    09/11/2025\n\nNet a payer      12 007,10 EUR\n");
        let mut e = extraction(&[]);
        apply(&memory, &next, &mut e);
        assert_eq!(e.get("invoice_date").map(|f| &f.value), Some(&d(2025, 11, 9)));
        assert_eq!(e.money("total"), Some("12007.10".parse().unwrap()));
    }

    #[test]
    fn merging_keeps_old_rules_and_takes_new_ones() {
        let old = learnt();
        let newer = VendorMemory {
            fields: vec![FieldRule {
                key: "total".into(),
                anchor: Anchor::At { page: 1, line: -1, column: 3 },
                words: 1,
            }],
            ..Default::default()
        };
        let merged = old.merged(&newer);
        assert_eq!(merged.fields.len(), old.fields.len());
        assert_eq!(
            merged.fields.iter().find(|r| r.key == "total").map(|r| &r.anchor),
            Some(&newer.fields[0].anchor)
        );
        assert_eq!(merged.vendor_name, old.vendor_name);
    }
}
