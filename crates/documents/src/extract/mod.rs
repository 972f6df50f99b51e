//! The "extract fields" step: per document type, rules over the laid-out text and its tables,
//! merged with a provider's fields when a prebuilt model already read them.
//!
//! # Layout
//! - [`finder`]: the label → value [`finder::Finder`] (values themselves are read by
//!   [`crate::values`]).
//! - one module per type: [`invoice`], [`receipt`], [`w2`], [`form1099`], [`bank`].

pub mod bank;
pub mod finder;
pub mod form1099;
pub mod invoice;
pub mod receipt;
pub mod w2;

use crate::fields::{DocType, ExtractedField, Extraction, FieldSource};
use crate::layout::Table;
use crate::ocr::ProviderExtraction;
use crate::span::Span;
use crate::text::DocumentText;
use finder::{Finder, Found};

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
    let finder = Finder::new(doc);
    let mut fields = match doc_type {
        DocType::Invoice => invoice::extract(doc, &finder, tables),
        DocType::Receipt => receipt::extract(doc, &finder),
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
    Extraction { doc_type, fields }
}
