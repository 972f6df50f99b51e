//! The "extract fields" step: per document type, rules over the laid-out text and its tables,
//! merged with a provider's fields when a prebuilt model already read them.
//!
//! # Layout
//! - [`finder`]: the label → value [`finder::Finder`] (values themselves are read by
//!   [`crate::values`]).
//! - [`locale`]: the document's language, country, date order and currency.
//! - [`totals`], [`vendor`]: subtotal, tax and total chosen together; the issuer's name.
//! - one module per type: [`invoice`], [`receipt`], [`w2`], [`form1099`], [`bank`].

pub mod bank;
pub mod finder;
pub mod form1099;
pub mod invoice;
pub mod locale;
pub mod receipt;
pub mod totals;
pub mod vendor;
pub mod w2;

use crate::fields::{
    Ambiguity, DocType, ExtractedField, Extraction, FieldSource, FieldValue, ValueKind, spec_of,
};
use crate::layout::Table;
use crate::ocr::ProviderExtraction;
use crate::span::Span;
use crate::text::DocumentText;
use crate::values::{DateOrder, read_date};
use finder::{Finder, Found};
use locale::Locale;

/// Pushes a found value as field `key`.
pub(crate) fn push(out: &mut Vec<ExtractedField>, doc: &DocumentText, key: &str, found: Option<Found>) {
    if let Some(found) = found {
        out.push(found.into_field(key, doc));
    }
}

/// Extracts the fields of a document of type `doc_type`.
///
/// A provider's fields (from a prebuilt model for the same type) win over ours key by key; our
/// rules fill in what the provider did not return.
pub fn extract(
    doc: &DocumentText,
    tables: &[Table],
    doc_type: DocType,
    provider: Option<&ProviderExtraction>,
) -> Extraction {
    let locale = Locale::of(&doc.text);
    // Tax forms and statements are American: their dates read month first.
    let order = match doc_type {
        DocType::Invoice | DocType::Receipt | DocType::General => locale.date_order,
        _ => Some(DateOrder::MonthFirst),
    };
    let finder = Finder::new(doc, order);
    let mut fields = match doc_type {
        DocType::Invoice => invoice::extract(doc, &finder, tables, &locale),
        DocType::Receipt => receipt::extract(doc, &finder, &locale),
        DocType::W2 => w2::extract(doc, &finder),
        DocType::Form1099Nec => form1099::extract_nec(doc, &finder),
        DocType::Form1099Misc => form1099::extract_misc(doc, &finder),
        DocType::BankStatement => bank::extract(doc, &finder, tables),
        DocType::TaxReturn1040 => form1099::extract_tax_year_only(doc, &finder),
        DocType::General => Vec::new(),
    };
    if let Some(provider) = provider.filter(|p| p.doc_type == doc_type) {
        let from_provider: Vec<ExtractedField> = provider
            .fields
            .iter()
            .map(|pf| {
                let span = pf
                    .words
                    .iter()
                    .filter_map(|&(page, index)| doc.word_span(page, index))
                    .reduce(|a: Span, b| a.union(&b));
                ExtractedField {
                    key: pf.key.clone(),
                    value: pf.value.clone(),
                    confidence: pf.confidence,
                    region: span.and_then(|s| doc.region_of(s)),
                    span,
                    source: FieldSource::Provider { model: provider.model.clone() },
                }
            })
            .collect();
        // A provider's repeated group replaces ours whole (entries would not line up otherwise).
        let provider_groups: Vec<String> =
            from_provider.iter().filter_map(|f| f.key.split_once('[').map(|(g, _)| g.to_string())).collect();
        fields.retain(|f| {
            let group = f.key.split_once('[').map(|(g, _)| g);
            !from_provider.iter().any(|p| p.key == f.key)
                && !group.is_some_and(|g| provider_groups.iter().any(|p| p == g))
        });
        fields.extend(from_provider);
    }
    let ambiguous = if order.is_none() { ambiguous_dates(doc, doc_type, &fields) } else { Vec::new() };
    Extraction { doc_type, fields, language: locale.language, ambiguous }
}

/// The date fields whose printed text reads two ways (`03/07/2024` with no known order).
fn ambiguous_dates(doc: &DocumentText, doc_type: DocType, fields: &[ExtractedField]) -> Vec<Ambiguity> {
    fields
        .iter()
        .filter(|f| spec_of(doc_type, &f.key).is_some_and(|s| s.kind == ValueKind::Date))
        .filter_map(|f| {
            let printed = doc.slice(f.span?);
            let alternative = read_date(printed, None)?.alternative?;
            Some(Ambiguity {
                key: f.key.clone(),
                printed: printed.to_string(),
                alternative: FieldValue::Date(alternative),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invoice(text: &str) -> Extraction {
        let doc = DocumentText { text: text.into(), ..Default::default() };
        extract(&doc, &[], DocType::Invoice, None)
    }

    #[test]
    fn a_date_that_reads_both_ways_is_marked_unless_the_page_decides() {
        let unsure = invoice("Invoice #: 12\nInvoice Date: 03/07/2024\nTotal   10.00\n");
        let keys: Vec<&str> = unsure.ambiguous.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["invoice_date"]);
        assert_eq!(
            unsure.ambiguous[0].alternative,
            FieldValue::Date(chrono::NaiveDate::from_ymd_opt(2024, 7, 3).unwrap())
        );
        // A day over 12 elsewhere on the page settles it.
        let decided =
            invoice("Invoice #: 12\nInvoice Date: 03/07/2024\nDelivered: 25/06/2024\nTotal   10.00\n");
        assert!(decided.ambiguous.is_empty());
        assert_eq!(decided.date("invoice_date"), chrono::NaiveDate::from_ymd_opt(2024, 7, 3));
        // So does the language: German writes the day first.
        let german = invoice(
            "Rechnung Nr. 12 vom 03.07.2024\nRechnungsdatum: 03/07/2024\nZahlbar innerhalb von 30 Tagen, bitte überweisen Sie den Betrag auf unser Konto.\nGesamtbetrag   10,00 €\n",
        );
        assert!(german.ambiguous.is_empty());
        assert_eq!(german.language, Some(crate::language::Language::De));
        assert_eq!(german.date("invoice_date"), chrono::NaiveDate::from_ymd_opt(2024, 7, 3));
        assert_eq!(german.text("currency"), Some("EUR"));
        assert_eq!(german.money("total"), Some("10.00".parse().unwrap()));
    }
}
