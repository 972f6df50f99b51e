//! A document's conventions, read once before its fields: its language, its country (from VAT
//! ids, US addresses and country names), which way its numeric dates read, and its currency.
//! Every rule then reads values the same way for the whole page.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::extract::finder::{Finder, Found, Pattern};
use crate::fields::{ExtractedField, FieldSource, FieldValue};
use crate::language::{self, Language};
use crate::span::Span;
use crate::text::DocumentText;
use crate::values::{DateOrder, currency_of, date_order_evidence, money_currency};

#[expect(clippy::unwrap_used, reason = "the patterns are literals, checked by the tests")]
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap()
}

/// Country signals, strongest first: VAT and GST ids name the issuer's country (they are
/// printed next to it), a US "City, ST 12345" address, then country names.
static COUNTRY_SIGNALS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    vec![
        (re(r"\bDE ?\d{9}\b"), "DE"),
        (re(r"\bFR ?[0-9A-Z]{2} ?\d{3} ?\d{3} ?\d{3}\b"), "FR"),
        (re(r"\bNL ?\d{9}B\d{2}\b"), "NL"),
        (re(r"\bES ?[A-Z0-9]\d{7}[A-Z0-9]\b"), "ES"),
        (re(r"\bGB ?\d{9}\b"), "GB"),
        (re(r"\b\d{2}[A-Z]{5}\d{4}[A-Z][A-Z0-9]Z[A-Z0-9]\b"), "IN"),
        (
            re(
                r"\b[A-Z][A-Za-z .]+, (?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY) \d{5}(?:-\d{4})?\b",
            ),
            "US",
        ),
        (re(r"(?i)\b(?:deutschland|germany)\b"), "DE"),
        (re(r"(?i)\bfrance\b"), "FR"),
        (re(r"(?i)\b(?:nederland|netherlands)\b"), "NL"),
        (re(r"(?i)\b(?:españa|spain)\b"), "ES"),
        (re(r"(?i)\b(?:united states|usa)\b"), "US"),
        (re(r"(?i)\b(?:united kingdom)\b"), "GB"),
        (re(r"(?i)\bindia\b"), "IN"),
    ]
});

/// A currency marker anywhere in the text: a symbol, a code, or a local abbreviation before a
/// number (`Rs 1939`, `RM7.70`).
static CURRENCY_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"[$€£₹]|\b(?:USD|EUR|GBP|CHF|CAD|AUD|NZD|JPY|INR|MYR|SGD|HKD|SEK|NOK|DKK|PLN|CZK)\b|\b(?:Rs\.?|RM) ?\d",
    )
});

/// A document's conventions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Locale {
    pub language: Option<Language>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<&'static str>,
    pub date_order: Option<DateOrder>,
}

impl Locale {
    /// The conventions of a text. Numeric dates read the way the page's own unambiguous dates
    /// do (a `31/12` anywhere settles every `05/06`); else as the language writes them (every
    /// language we read but English puts the day first); else as the country does (the US
    /// month first, everyone else day first); else the order stays unknown.
    pub fn of(text: &str) -> Locale {
        let language = language::detect(text);
        let country = country(text);
        let date_order = date_order_evidence(text)
            .or_else(|| language.filter(|l| *l != Language::En).map(|_| DateOrder::DayFirst))
            .or_else(|| country.map(|c| if c == "US" { DateOrder::MonthFirst } else { DateOrder::DayFirst }));
        Locale { language, country, date_order }
    }
}

/// The country of the strongest signal found.
fn country(text: &str) -> Option<&'static str> {
    COUNTRY_SIGNALS.iter().find(|(pattern, _)| pattern.is_match(text)).map(|(_, country)| *country)
}

fn country_currency(country: &str) -> Option<&'static str> {
    Some(match country {
        "DE" | "FR" | "NL" | "ES" | "AT" | "BE" | "IT" | "IE" | "LU" | "FI" | "PT" => "EUR",
        "US" => "USD",
        "GB" => "GBP",
        "IN" => "INR",
        _ => return None,
    })
}

const CURRENCY_LABELS: &[&str] = &["currency", "währung", "devise", "valuta", "moneda", "divisa"];

/// The document's currency (ISO 4217): a labelled currency (`Währung: GBP`), else the marker
/// printed with the total, else the marker printed most, else the country's currency.
pub fn currency(
    doc: &DocumentText,
    f: &Finder<'_>,
    locale: &Locale,
    total: Option<&Found>,
) -> Option<ExtractedField> {
    let field = |found: Found| Some(found.into_field("currency", doc));
    if let Some(labelled) = f.on_line_or_below(CURRENCY_LABELS, Pattern::Text) {
        let text = doc.slice(labelled.span);
        let code =
            text.split(|c: char| !c.is_alphabetic()).find_map(|w| currency_of(w).map(|code| (w, code)));
        if let Some((word, code)) = code {
            let at = labelled.span.start + text.find(word).unwrap_or(0);
            let span = Span::new(at, at + word.len());
            return field(Found { value: FieldValue::Text(code.into()), span, quality: 0.97 });
        }
    }
    if let Some(total) = total
        && let Some(code) = money_currency(doc.slice(total.span))
    {
        return field(Found { value: FieldValue::Text(code.into()), span: total.span, quality: 0.95 });
    }
    let mut counts: BTreeMap<&'static str, (usize, Span)> = BTreeMap::new();
    for m in CURRENCY_MARKER.find_iter(&doc.text) {
        let marker = m.as_str().trim_end_matches(|c: char| c.is_ascii_digit() || c == ' ');
        if let Some(code) = currency_of(marker) {
            let entry = counts.entry(code).or_insert((0, Span::new(m.start(), m.start() + marker.len())));
            entry.0 += 1;
        }
    }
    if let Some((code, (_, span))) = counts.into_iter().max_by_key(|(_, (n, _))| *n) {
        return field(Found { value: FieldValue::Text(code.into()), span, quality: 0.9 });
    }
    let code = locale.country.and_then(country_currency)?;
    Some(ExtractedField {
        key: "currency".into(),
        value: FieldValue::Text(code.into()),
        confidence: 0.8,
        span: None,
        source: FieldSource::Rules,
        region: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> DocumentText {
        DocumentText { text: text.into(), ..Default::default() }
    }

    #[test]
    fn the_page_then_the_language_then_the_country_decide_the_date_order() {
        let german = "Rechnung Nr. 7 vom 05.06.2018. Zahlbar innerhalb 30 Tagen netto bis zum 04.07.2018.";
        assert_eq!(Locale::of(german).date_order, Some(DateOrder::DayFirst));
        assert_eq!(Locale::of(german).language, Some(Language::De));
        let us = "Invoice 12 dated 03/07/2024\nBill to: Globex, 12 Main St, Springfield, IL 62701";
        assert_eq!(Locale::of(us).country, Some("US"));
        assert_eq!(Locale::of(us).date_order, Some(DateOrder::MonthFirst));
        let page = "Invoice dated 03/07/2024, delivered 25/06/2024, Springfield, IL 62701";
        assert_eq!(Locale::of(page).date_order, Some(DateOrder::DayFirst), "the page's own dates win");
        assert_eq!(Locale::of("Invoice 12 dated 03/07/2024, thank you for your order").date_order, None);
    }

    #[test]
    fn currency_from_a_label_the_total_the_markers_or_the_country() {
        let read = |text: &str| {
            let d = doc(text);
            let locale = Locale::of(text);
            let f = Finder::new(&d, locale.date_order);
            currency(&d, &f, &locale, None).map(|c| c.value.display())
        };
        assert_eq!(
            read("Währung: GBP\nSteuerbetrag in EUR 183,14\nBruttosumme 1.021,91").as_deref(),
            Some("GBP")
        );
        assert_eq!(read("DEVISE : EURO (EUR)\nTOTAL 104,90").as_deref(), Some("EUR"));
        assert_eq!(read("Room Charges   Rs 1939\nGrand Total   Rs 1939").as_deref(), Some("INR"));
        assert_eq!(read("Subtotal  € 593,36\nTotaal  € 717,97").as_deref(), Some("EUR"));
        assert_eq!(read("Total  4.11\nUSt-IdNr. DE136695976").as_deref(), Some("EUR"));
        assert_eq!(read("Total  4.11").as_deref(), None);
    }
}
