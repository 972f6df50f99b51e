//! Document types, extracted fields and the field schema of each type.
//!
//! Fields are a flat list keyed by name (`total`, `box1_wages`, `line_items[2].amount`), each
//! with its value, confidence and the text span it was read from: flat keys make review
//! corrections, evaluation and storage (JSON) the same for every type, and [`schema`] says
//! which keys a type has and which are required.

use chrono::{NaiveDate, NaiveTime};
use domain::Region;
use domain::tax_id::{TaxId, TaxIdKind, masked};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::language::Language;
use crate::span::Span;

pub use domain::DocType;

/// A field's value. Money is a `Decimal` with two places, never a float.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum FieldValue {
    Text(String),
    Money(Decimal),
    Number(Decimal),
    Date(NaiveDate),
    Time(NaiveTime),
}

impl FieldValue {
    /// Whether two values mean the same: equal amounts and dates, and texts equal up to case,
    /// spacing and punctuation (what a reviewer would accept as "right").
    pub fn matches(&self, other: &FieldValue) -> bool {
        match (self, other) {
            (FieldValue::Text(a), FieldValue::Text(b)) => normalize_text(a) == normalize_text(b),
            (FieldValue::Money(a) | FieldValue::Number(a), FieldValue::Money(b) | FieldValue::Number(b)) => {
                a == b
            }
            (FieldValue::Time(a), FieldValue::Time(b)) => {
                a.format("%H:%M").to_string() == b.format("%H:%M").to_string()
            }
            (a, b) => a == b,
        }
    }

    pub fn as_money(&self) -> Option<Decimal> {
        match self {
            FieldValue::Money(d) | FieldValue::Number(d) => Some(*d),
            _ => None,
        }
    }

    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            FieldValue::Date(d) => Some(*d),
            _ => None,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            FieldValue::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The value as a person reads it.
    pub fn display(&self) -> String {
        match self {
            FieldValue::Text(t) => t.clone(),
            FieldValue::Money(d) | FieldValue::Number(d) => d.to_string(),
            FieldValue::Date(d) => d.to_string(),
            FieldValue::Time(t) => t.format("%H:%M").to_string(),
        }
    }
}

fn normalize_text(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

/// Who produced a field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum FieldSource {
    /// Our rules over the document text.
    Rules,
    /// A provider's prebuilt model.
    Provider { model: String },
    /// A structured e-invoice's XML (exact): `format` names it ("Factur-X/ZUGFeRD EN 16931 (CII)").
    EInvoice { format: String },
    /// Re-read where a person's correction of the same vendor's earlier document showed it sits
    /// (the firm's vendor memory).
    VendorMemory,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExtractedField {
    pub key: String,
    pub value: FieldValue,
    /// 0–1: how sure we are the value is right (reading confidence × rule confidence).
    pub confidence: f32,
    /// Where in the document's text (`DocumentText::text`) the value was read.
    pub span: Option<Span>,
    pub source: FieldSource,
    /// Where on the page the value was read (the box of the words of `span`).
    #[serde(default)]
    pub region: Option<Region>,
}

/// The fields of one document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Extraction {
    pub doc_type: DocType,
    pub fields: Vec<ExtractedField>,
    /// The language the document is written in, when it was recognised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// Fields whose printed value reads two ways with nothing on the page to decide (a numeric
    /// date whose day and month could swap): review must settle them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ambiguous: Vec<Ambiguity>,
}

/// A field read one way that could as well read another.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ambiguity {
    pub key: String,
    /// The value as printed.
    pub printed: String,
    /// The other reading.
    pub alternative: FieldValue,
}

impl Extraction {
    pub fn get(&self, key: &str) -> Option<&ExtractedField> {
        self.fields.iter().find(|f| f.key == key)
    }

    pub fn money(&self, key: &str) -> Option<Decimal> {
        self.get(key).and_then(|f| f.value.as_money())
    }

    pub fn date(&self, key: &str) -> Option<NaiveDate> {
        self.get(key).and_then(|f| f.value.as_date())
    }

    pub fn text(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(|f| f.value.as_text())
    }

    /// How many entries a repeated group (`line_items`, `transactions`) has.
    pub fn group_len(&self, group: &str) -> usize {
        let prefix = format!("{group}[");
        self.fields
            .iter()
            .filter_map(|f| f.key.strip_prefix(&prefix))
            .filter_map(|rest| rest.split(']').next()?.parse::<usize>().ok())
            .map(|i| i + 1)
            .max()
            .unwrap_or(0)
    }
}

/// The key of field `field` of entry `index` of a repeated group.
pub fn group_key(group: &str, index: usize, field: &str) -> String {
    format!("{group}[{index}].{field}")
}

/// The kind of value a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    Text,
    Money,
    Number,
    Date,
    Time,
    /// An EIN or SSN (kept as text, validated by shape, masked for display).
    TaxId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    pub key: &'static str,
    pub kind: ValueKind,
    pub required: bool,
}

const fn f(key: &'static str, kind: ValueKind, required: bool) -> FieldSpec {
    FieldSpec { key, kind, required }
}

use ValueKind::{Date, Money, Number, TaxId as Tin, Text, Time};

const INVOICE: &[FieldSpec] = &[
    f("invoice_number", Text, true),
    f("invoice_date", Date, true),
    f("due_date", Date, false),
    f("vendor_name", Text, true),
    // The seller's VAT id (or tax number): on e-invoices. Not a person's: shown unmasked.
    f("vendor_tax_id", Text, false),
    f("customer_name", Text, true),
    f("subtotal", Money, false),
    f("tax", Money, false),
    f("total", Money, true),
    f("amount_due", Money, false),
    f("currency", Text, false),
];
const LINE_ITEM: &[FieldSpec] = &[
    f("description", Text, true),
    f("quantity", Number, false),
    f("unit_price", Money, false),
    f("amount", Money, true),
];
const RECEIPT: &[FieldSpec] = &[
    f("merchant_name", Text, true),
    f("date", Date, true),
    f("time", Time, false),
    f("subtotal", Money, false),
    f("tax", Money, false),
    f("tip", Money, false),
    f("total", Money, true),
    f("currency", Text, false),
];
const W2: &[FieldSpec] = &[
    f("tax_year", Text, true),
    f("employer_name", Text, true),
    f("employer_ein", Tin, true),
    f("employee_name", Text, true),
    f("employee_ssn", Tin, true),
    f("box1_wages", Money, true),
    f("box2_federal_tax", Money, true),
    f("box3_ss_wages", Money, true),
    f("box4_ss_tax", Money, true),
    f("box5_medicare_wages", Money, true),
    f("box6_medicare_tax", Money, true),
    f("state", Text, false),
    f("state_wages", Money, false),
    f("state_tax", Money, false),
];
const NEC: &[FieldSpec] = &[
    f("tax_year", Text, true),
    f("payer_name", Text, true),
    f("payer_tin", Tin, true),
    f("recipient_name", Text, true),
    f("recipient_tin", Tin, true),
    f("box1_nonemployee_comp", Money, true),
    f("box4_federal_tax", Money, false),
];
const MISC: &[FieldSpec] = &[
    f("tax_year", Text, true),
    f("payer_name", Text, true),
    f("payer_tin", Tin, true),
    f("recipient_name", Text, true),
    f("recipient_tin", Tin, true),
    f("box1_rents", Money, false),
    f("box2_royalties", Money, false),
    f("box3_other_income", Money, false),
    f("box4_federal_tax", Money, false),
];
const BANK: &[FieldSpec] = &[
    f("account_last4", Text, true),
    f("period_start", Date, true),
    f("period_end", Date, true),
    f("opening_balance", Money, true),
    f("closing_balance", Money, true),
];
const TRANSACTION: &[FieldSpec] =
    &[f("date", Date, true), f("description", Text, true), f("amount", Money, true)];
const RETURN_1040: &[FieldSpec] = &[f("tax_year", Text, false)];

/// The single-valued fields of a type.
pub fn schema(doc_type: DocType) -> &'static [FieldSpec] {
    match doc_type {
        DocType::Invoice => INVOICE,
        DocType::Receipt => RECEIPT,
        DocType::W2 => W2,
        DocType::Form1099Nec => NEC,
        DocType::Form1099Misc => MISC,
        DocType::BankStatement => BANK,
        DocType::TaxReturn1040 => RETURN_1040,
        DocType::General => &[],
    }
}

/// The repeated group of a type, if any: its name and the fields of one entry.
pub fn group_schema(doc_type: DocType) -> Option<(&'static str, &'static [FieldSpec])> {
    match doc_type {
        DocType::Invoice => Some(("line_items", LINE_ITEM)),
        DocType::BankStatement => Some(("transactions", TRANSACTION)),
        _ => None,
    }
}

/// The spec of any key of a type, including group entries (`line_items[3].amount`).
pub fn spec_of(doc_type: DocType, key: &str) -> Option<FieldSpec> {
    if let Some(spec) = schema(doc_type).iter().find(|s| s.key == key) {
        return Some(*spec);
    }
    let (group, fields) = group_schema(doc_type)?;
    let rest = key.strip_prefix(group)?.strip_prefix('[')?;
    let field = rest.split_once("].")?.1;
    fields.iter().find(|s| s.key == field).copied()
}

/// Keys holding a person's SSN or a TIN that may be one: masked unless the viewer may see them.
pub fn is_sensitive(doc_type: DocType, key: &str) -> bool {
    spec_of(doc_type, key).is_some_and(|s| s.kind == ValueKind::TaxId) && key != "employer_ein"
}

/// Masks a tax id for display: `***-**-6789` for an SSN, `**-***6789` for an EIN, and the
/// last four digits for anything else that has them.
pub fn mask_tax_id(raw: &str) -> String {
    if let Ok(id) = TaxId::parse(raw, None) {
        return masked(id.kind(), id.last4());
    }
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if raw.matches('-').count() == 2 && digits.len() >= 4 {
        masked(TaxIdKind::Ssn, &digits[digits.len() - 4..])
    } else if digits.len() >= 4 {
        format!("****{}", &digits[digits.len() - 4..])
    } else {
        "****".to_string()
    }
}

/// A copy of the extraction with sensitive values masked (for viewers without the permission).
pub fn masked_for_display(extraction: &Extraction) -> Extraction {
    let mut out = extraction.clone();
    for field in &mut out.fields {
        if is_sensitive(out.doc_type, &field.key)
            && let FieldValue::Text(t) = &field.value
        {
            field.value = FieldValue::Text(mask_tax_id(t));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_like_a_reviewer_would() {
        let t = |s: &str| FieldValue::Text(s.into());
        assert!(t("ACME Corp.").matches(&t("acme  corp")));
        assert!(!t("ACME Corp").matches(&t("ACME Co")));
        let m = |s: &str| FieldValue::Money(s.parse().unwrap());
        assert!(m("10.50").matches(&m("10.5")));
        assert!(!m("10.50").matches(&m("10.51")));
    }

    #[test]
    fn masks_tax_ids_and_sensitive_fields_only() {
        assert_eq!(mask_tax_id("123-45-6789"), "***-**-6789");
        assert_eq!(mask_tax_id("12-3456789"), "**-***6789");
        assert_eq!(mask_tax_id("XXX-XX-4321"), "***-**-4321");
        assert!(is_sensitive(DocType::W2, "employee_ssn"));
        assert!(!is_sensitive(DocType::W2, "employer_ein"));
        assert!(is_sensitive(DocType::Form1099Nec, "recipient_tin"));
        assert!(!is_sensitive(DocType::Invoice, "total"));
        let e = Extraction {
            doc_type: DocType::W2,
            language: None,
            ambiguous: Vec::new(),
            fields: vec![ExtractedField {
                key: "employee_ssn".into(),
                value: FieldValue::Text("123-45-6789".into()),
                confidence: 0.9,
                span: None,
                region: None,
                source: FieldSource::Rules,
            }],
        };
        assert_eq!(masked_for_display(&e).text("employee_ssn"), Some("***-**-6789"));
    }

    #[test]
    fn group_keys_resolve_to_their_specs() {
        assert_eq!(group_key("line_items", 2, "amount"), "line_items[2].amount");
        assert_eq!(spec_of(DocType::Invoice, "line_items[2].amount").map(|s| s.kind), Some(ValueKind::Money));
        assert_eq!(spec_of(DocType::Invoice, "nope"), None);
    }
}
