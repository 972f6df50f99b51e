//! The "validate" step and the auto-approval decision.
//!
//! A document is approved without a human when its type is known, every required field is
//! present, every field's confidence is at least [`Thresholds::field`] (0.7, the reference's
//! value), the document's confidence is at least [`Thresholds::document`] (0.8), and every rule
//! passes: arithmetic (subtotal + tax (+ tip) = total within a cent, line items and
//! transactions add up), W-2 box relations, sane dates and tax-id shapes. Anything else goes to
//! review with every reason listed.

use chrono::{Datelike, NaiveDate};
use domain::tax_id::{TaxId, TaxIdKind};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::classify::Classification;
use crate::fields::{DocType, Extraction, ValueKind, group_schema, schema, spec_of};

/// Confidence thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub field: f32,
    pub document: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { field: 0.7, document: 0.8 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    UnknownType,
    MissingField,
    LowFieldConfidence,
    LowDocumentConfidence,
    ArithmeticMismatch,
    BoxRelation,
    ImplausibleDate,
    BadTaxId,
    /// A value that reads two ways with nothing on the page to decide (a numeric date whose day
    /// and month could swap).
    AmbiguousValue,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewReason {
    pub code: ReasonCode,
    /// The field concerned, if one.
    pub field: Option<String>,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    AutoApproved,
    NeedsReview,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub status: ReviewStatus,
    /// min(classification confidence, mean field confidence).
    pub document_confidence: f32,
    pub reasons: Vec<ReviewReason>,
}

impl Review {
    pub fn needs_review(&self) -> bool {
        self.status == ReviewStatus::NeedsReview
    }
}

/// One cent: the arithmetic tolerance.
fn cent() -> Decimal {
    Decimal::new(1, 2)
}

/// Social security wage base by tax year (box 3 never exceeds it).
fn ss_wage_base(year: i32) -> Option<Decimal> {
    let base = match year {
        2018 => 128_400,
        2019 => 132_900,
        2020 => 137_700,
        2021 => 142_800,
        2022 => 147_000,
        2023 => 160_200,
        2024 => 168_600,
        2025 => 176_100,
        2026 => 184_500,
        _ => return None,
    };
    Some(Decimal::from(base))
}

struct Checker<'a> {
    e: &'a Extraction,
    reasons: Vec<ReviewReason>,
}

impl Checker<'_> {
    fn reason(&mut self, code: ReasonCode, field: Option<&str>, message: String) {
        self.reasons.push(ReviewReason { code, field: field.map(str::to_string), message });
    }

    /// `parts` sum to `total` within a cent (missing parts after the first count as zero;
    /// skipped when the total or the first part, the subtotal, is missing: a tax alone says
    /// nothing about the total).
    fn sums(&mut self, parts: &[&str], total: &str) {
        let Some(t) = self.e.money(total) else { return };
        let values: Vec<Option<Decimal>> = parts.iter().map(|p| self.e.money(p)).collect();
        if values.first().is_none_or(Option::is_none) {
            return;
        }
        let sum: Decimal = values.iter().flatten().sum();
        if (sum - t).abs() > cent() {
            self.reason(
                ReasonCode::ArithmeticMismatch,
                Some(total),
                format!("{} = {sum}, but {total} is {t}", parts.join(" + ")),
            );
        }
    }

    fn group_sum(&mut self, group: &str, field: &str, expected: Decimal, against: &str) {
        let n = self.e.group_len(group);
        if n == 0 {
            return;
        }
        let sum: Decimal =
            (0..n).filter_map(|i| self.e.money(&crate::fields::group_key(group, i, field))).sum();
        if (sum - expected).abs() > cent() {
            self.reason(
                ReasonCode::ArithmeticMismatch,
                Some(group),
                format!("the {group} add up to {sum}, not {against} ({expected})"),
            );
        }
    }

    fn date_sane(&mut self, key: &str, today: NaiveDate) {
        let Some(d) = self.e.date(key) else { return };
        let earliest = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(NaiveDate::MIN);
        if d < earliest || d > today + chrono::Duration::days(366) {
            self.reason(ReasonCode::ImplausibleDate, Some(key), format!("{key} {d} is not a plausible date"));
        }
    }

    fn tax_id(&mut self, key: &str, kind: Option<TaxIdKind>, masked_ok: bool) {
        let Some(raw) = self.e.text(key) else { return };
        let masked = masked_ok
            && (raw.starts_with("XXX-XX-") || raw.starts_with("***-**-") || raw.starts_with("*****"));
        let valid = TaxId::parse(raw, None).is_ok_and(|id| kind.is_none_or(|k| id.kind() == k));
        if !masked && !valid {
            let what = match kind {
                Some(TaxIdKind::Ein) => "an EIN (12-3456789)",
                Some(TaxIdKind::Ssn) => "an SSN (123-45-6789)",
                None => "a TIN",
            };
            self.reason(ReasonCode::BadTaxId, Some(key), format!("{key} is not {what}"));
        }
    }
}

/// Validates an extraction and decides whether it needs review. `today` bounds dates.
pub fn validate(
    extraction: &Extraction,
    classification: &Classification,
    thresholds: &Thresholds,
    today: NaiveDate,
) -> Review {
    let e = extraction;
    let mut c = Checker { e, reasons: Vec::new() };
    if e.doc_type == DocType::General {
        c.reason(ReasonCode::UnknownType, None, "the document type was not recognised".into());
    }
    for spec in schema(e.doc_type).iter().filter(|s| s.required) {
        if e.get(spec.key).is_none() {
            c.reason(ReasonCode::MissingField, Some(spec.key), format!("{} was not found", spec.key));
        }
    }
    if let Some((group, fields)) = group_schema(e.doc_type) {
        for i in 0..e.group_len(group) {
            for spec in fields.iter().filter(|s| s.required) {
                let key = crate::fields::group_key(group, i, spec.key);
                if e.get(&key).is_none() {
                    c.reason(ReasonCode::MissingField, Some(&key), format!("{key} was not found"));
                }
            }
        }
    }
    for field in &e.fields {
        if field.confidence < thresholds.field {
            c.reason(
                ReasonCode::LowFieldConfidence,
                Some(&field.key),
                format!(
                    "{} read with confidence {:.2} (< {:.2})",
                    field.key, field.confidence, thresholds.field
                ),
            );
        }
        if spec_of(e.doc_type, &field.key).is_some_and(|s| s.kind == ValueKind::Date) {
            c.date_sane(&field.key, today);
        }
    }
    match e.doc_type {
        DocType::Invoice => {
            c.sums(&["subtotal", "tax"], "total");
            let base = match (e.money("subtotal"), e.money("total")) {
                (Some(subtotal), _) => Some((subtotal, "the subtotal")),
                (None, Some(total)) if e.money("tax").is_none() => Some((total, "the total")),
                _ => None,
            };
            if let Some((expected, name)) = base {
                c.group_sum("line_items", "amount", expected, name);
            }
            if let (Some(issued), Some(due)) = (e.date("invoice_date"), e.date("due_date"))
                && due < issued
            {
                c.reason(
                    ReasonCode::ImplausibleDate,
                    Some("due_date"),
                    format!("due {due} before issued {issued}"),
                );
            }
        }
        DocType::Receipt => c.sums(&["subtotal", "tax", "tip"], "total"),
        DocType::W2 => w2_relations(&mut c),
        DocType::Form1099Nec | DocType::Form1099Misc => {
            c.tax_id("payer_tin", None, false);
            c.tax_id("recipient_tin", None, true);
            let income = ["box1_nonemployee_comp", "box1_rents", "box2_royalties", "box3_other_income"]
                .iter()
                .filter_map(|k| e.money(k))
                .sum::<Decimal>();
            if let Some(withheld) = e.money("box4_federal_tax")
                && withheld > income
            {
                c.reason(
                    ReasonCode::BoxRelation,
                    Some("box4_federal_tax"),
                    "more tax withheld than income paid".into(),
                );
            }
            tax_year_sane(&mut c, today);
        }
        DocType::BankStatement => {
            if let (Some(open), Some(close)) = (e.money("opening_balance"), e.money("closing_balance")) {
                c.group_sum("transactions", "amount", close - open, "closing − opening balance");
            }
            if let (Some(start), Some(end)) = (e.date("period_start"), e.date("period_end")) {
                if end < start {
                    c.reason(
                        ReasonCode::ImplausibleDate,
                        Some("period_end"),
                        "the period ends before it starts".into(),
                    );
                }
                for i in 0..e.group_len("transactions") {
                    let key = crate::fields::group_key("transactions", i, "date");
                    if let Some(d) = e.date(&key)
                        && (d < start || d > end)
                    {
                        c.reason(
                            ReasonCode::ImplausibleDate,
                            Some(&key),
                            format!("{d} is outside the statement period"),
                        );
                    }
                }
            }
            if e.text("account_last4")
                .is_some_and(|l| l.len() != 4 || !l.chars().all(|ch| ch.is_ascii_digit()))
            {
                c.reason(
                    ReasonCode::BadTaxId,
                    Some("account_last4"),
                    "the account's last four are not four digits".into(),
                );
            }
        }
        DocType::TaxReturn1040 | DocType::General => {}
    }
    if matches!(e.doc_type, DocType::W2) {
        tax_year_sane(&mut c, today);
    }
    for a in &e.ambiguous {
        c.reason(
            ReasonCode::AmbiguousValue,
            Some(&a.key),
            format!(
                "{} \"{}\" reads as {} or {}: nothing on the page says which",
                a.key,
                a.printed,
                e.get(&a.key).map_or_else(String::new, |f| f.value.display()),
                a.alternative.display()
            ),
        );
    }

    // A document without fields is as sure as its classification (an unknown type already
    // says why it needs review).
    let document_confidence = if e.fields.is_empty() {
        classification.confidence
    } else {
        let mean_field = e.fields.iter().map(|f| f.confidence).sum::<f32>() / e.fields.len() as f32;
        classification.confidence.min(mean_field)
    };
    if document_confidence < thresholds.document && e.doc_type != DocType::General {
        c.reasons.push(ReviewReason {
            code: ReasonCode::LowDocumentConfidence,
            field: None,
            message: format!("document confidence {document_confidence:.2} (< {:.2})", thresholds.document),
        });
    }
    let status = if c.reasons.is_empty() { ReviewStatus::AutoApproved } else { ReviewStatus::NeedsReview };
    Review { status, document_confidence, reasons: c.reasons }
}

fn tax_year_sane(c: &mut Checker<'_>, today: NaiveDate) {
    if let Some(year) = c.e.text("tax_year").and_then(|y| y.parse::<i32>().ok())
        && !(2000..=today.year() + 1).contains(&year)
    {
        c.reason(ReasonCode::ImplausibleDate, Some("tax_year"), format!("tax year {year} is implausible"));
    }
}

/// W-2 box relations: box 2 below box 1; box 3 within the wage base and not above box 5;
/// box 4 = 6.2% of box 3 and box 6 = 1.45% of box 5 (plus 0.9% over $200,000), within a dollar
/// or half a percent.
fn w2_relations(c: &mut Checker<'_>) {
    let e = c.e;
    c.tax_id("employer_ein", Some(TaxIdKind::Ein), false);
    c.tax_id("employee_ssn", Some(TaxIdKind::Ssn), true);
    let m = |k| e.money(k);
    if let (Some(wages), Some(fed)) = (m("box1_wages"), m("box2_federal_tax"))
        && fed > wages
    {
        c.reason(
            ReasonCode::BoxRelation,
            Some("box2_federal_tax"),
            format!("box 2 ({fed}) exceeds box 1 ({wages})"),
        );
    }
    let year = e.text("tax_year").and_then(|y| y.parse::<i32>().ok());
    if let (Some(ss), Some(base)) = (m("box3_ss_wages"), year.and_then(ss_wage_base))
        && ss > base + cent()
    {
        c.reason(
            ReasonCode::BoxRelation,
            Some("box3_ss_wages"),
            format!("box 3 ({ss}) exceeds the {base} wage base"),
        );
    }
    if let (Some(ss), Some(medicare)) = (m("box3_ss_wages"), m("box5_medicare_wages"))
        && ss > medicare + cent()
    {
        c.reason(
            ReasonCode::BoxRelation,
            Some("box5_medicare_wages"),
            format!("box 3 ({ss}) exceeds box 5 ({medicare})"),
        );
    }
    let near = |actual: Decimal, expected: Decimal| {
        let tolerance = Decimal::ONE.max(expected.abs() * Decimal::new(5, 3));
        (actual - expected).abs() <= tolerance
    };
    if let (Some(ss), Some(tax)) = (m("box3_ss_wages"), m("box4_ss_tax")) {
        let expected = (ss * Decimal::new(62, 3)).round_dp(2);
        if !near(tax, expected) {
            c.reason(
                ReasonCode::BoxRelation,
                Some("box4_ss_tax"),
                format!("box 4 ({tax}) is not 6.2% of box 3 ({expected})"),
            );
        }
    }
    if let (Some(medicare), Some(tax)) = (m("box5_medicare_wages"), m("box6_medicare_tax")) {
        let over = (medicare - Decimal::from(200_000)).max(Decimal::ZERO);
        let expected = (medicare * Decimal::new(145, 4) + over * Decimal::new(9, 3)).round_dp(2);
        if !near(tax, expected) {
            c.reason(
                ReasonCode::BoxRelation,
                Some("box6_medicare_tax"),
                format!("box 6 ({tax}) is not 1.45% of box 5 ({expected})"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{ExtractedField, FieldSource, FieldValue};

    fn field(key: &str, value: FieldValue) -> ExtractedField {
        ExtractedField {
            key: key.into(),
            value,
            confidence: 0.95,
            span: None,
            source: FieldSource::Rules,
            region: None,
        }
    }
    fn money(key: &str, v: &str) -> ExtractedField {
        field(key, FieldValue::Money(v.parse().unwrap()))
    }
    fn text(key: &str, v: &str) -> ExtractedField {
        field(key, FieldValue::Text(v.into()))
    }
    fn classified(doc_type: DocType) -> Classification {
        Classification { doc_type, confidence: 0.95, cues: vec![] }
    }
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, 1).unwrap()
    }

    fn w2(box4: &str) -> Extraction {
        Extraction {
            doc_type: DocType::W2,
            language: None,
            ambiguous: Vec::new(),
            fields: vec![
                text("tax_year", "2024"),
                text("employer_name", "ACME INC"),
                text("employer_ein", "12-3456789"),
                text("employee_name", "JANE DOE"),
                text("employee_ssn", "123-45-6789"),
                money("box1_wages", "50000.00"),
                money("box2_federal_tax", "6000.00"),
                money("box3_ss_wages", "52000.00"),
                money("box4_ss_tax", box4),
                money("box5_medicare_wages", "52000.00"),
                money("box6_medicare_tax", "754.00"),
            ],
        }
    }

    #[test]
    fn a_consistent_w2_is_auto_approved() {
        let review = validate(&w2("3224.00"), &classified(DocType::W2), &Thresholds::default(), today());
        assert_eq!(review.status, ReviewStatus::AutoApproved, "{:?}", review.reasons);
    }

    #[test]
    fn w2_box_relations_and_shapes_send_it_to_review() {
        let mut e = w2("3100.00");
        e.fields.retain(|f| f.key != "employee_name");
        e.fields.push(text("employee_ssn", "000-12-3456"));
        e.fields.retain(|f| !(f.key == "employee_ssn" && f.value == FieldValue::Text("123-45-6789".into())));
        let review = validate(&e, &classified(DocType::W2), &Thresholds::default(), today());
        let codes: Vec<(ReasonCode, Option<&str>)> =
            review.reasons.iter().map(|r| (r.code, r.field.as_deref())).collect();
        assert!(codes.contains(&(ReasonCode::BoxRelation, Some("box4_ss_tax"))), "{codes:?}");
        assert!(codes.contains(&(ReasonCode::MissingField, Some("employee_name"))));
        assert!(codes.contains(&(ReasonCode::BadTaxId, Some("employee_ssn"))));
        assert!(review.needs_review());
    }

    #[test]
    fn invoice_arithmetic_and_confidence() {
        let mut e = Extraction {
            doc_type: DocType::Invoice,
            language: None,
            ambiguous: Vec::new(),
            fields: vec![
                text("invoice_number", "INV-1"),
                field("invoice_date", FieldValue::Date(NaiveDate::from_ymd_opt(2025, 1, 5).unwrap())),
                text("vendor_name", "ACME"),
                text("customer_name", "Globex"),
                money("subtotal", "100.00"),
                money("tax", "8.25"),
                money("total", "108.25"),
                text("line_items[0].description", "Widgets"),
                money("line_items[0].amount", "100.00"),
            ],
        };
        let ok = validate(&e, &classified(DocType::Invoice), &Thresholds::default(), today());
        assert_eq!(ok.status, ReviewStatus::AutoApproved, "{:?}", ok.reasons);
        e.fields.iter_mut().find(|f| f.key == "total").unwrap().value =
            FieldValue::Money("108.27".parse().unwrap());
        e.fields.iter_mut().find(|f| f.key == "vendor_name").unwrap().confidence = 0.5;
        let bad = validate(&e, &classified(DocType::Invoice), &Thresholds::default(), today());
        let codes: Vec<ReasonCode> = bad.reasons.iter().map(|r| r.code).collect();
        assert!(
            codes.contains(&ReasonCode::ArithmeticMismatch)
                && codes.contains(&ReasonCode::LowFieldConfidence),
            "{codes:?}"
        );
        let unsure = Classification { doc_type: DocType::Invoice, confidence: 0.6, cues: vec![] };
        let low = validate(&e, &unsure, &Thresholds::default(), today());
        assert!(low.reasons.iter().any(|r| r.code == ReasonCode::LowDocumentConfidence));
    }

    #[test]
    fn unknown_types_always_need_review() {
        let e = Extraction { doc_type: DocType::General, fields: vec![], language: None, ambiguous: vec![] };
        let general = Classification { doc_type: DocType::General, confidence: 0.5, cues: vec![] };
        let review = validate(&e, &general, &Thresholds::default(), today());
        let reasons: Vec<&str> = review.reasons.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(reasons, ["the document type was not recognised"], "no 'document confidence 0.00'");
        assert_eq!(review.document_confidence, 0.5);
    }

    fn invoice(fields: Vec<ExtractedField>) -> Extraction {
        let mut all = vec![
            text("invoice_number", "INV-1"),
            field("invoice_date", FieldValue::Date(NaiveDate::from_ymd_opt(2024, 3, 7).unwrap())),
            text("vendor_name", "ACME"),
            text("customer_name", "Globex"),
        ];
        all.extend(fields);
        Extraction { doc_type: DocType::Invoice, fields: all, language: None, ambiguous: vec![] }
    }

    #[test]
    fn a_tax_without_a_subtotal_checks_nothing() {
        let e = invoice(vec![money("tax", "0.00"), money("total", "4.11")]);
        let review = validate(&e, &classified(DocType::Invoice), &Thresholds::default(), today());
        assert_eq!(review.status, ReviewStatus::AutoApproved, "{:?}", review.reasons);
    }

    #[test]
    fn line_items_are_checked_against_the_total_when_there_is_no_subtotal() {
        let e = invoice(vec![
            money("total", "127.50"),
            text("line_items[0].description", "Service A"),
            money("line_items[0].amount", "120.00"),
        ]);
        let review = validate(&e, &classified(DocType::Invoice), &Thresholds::default(), today());
        let messages: Vec<&str> = review.reasons.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(messages, ["the line_items add up to 120.00, not the total (127.50)"]);
    }

    #[test]
    fn an_ambiguous_date_goes_to_review() {
        let mut e = invoice(vec![money("total", "10.00")]);
        e.ambiguous.push(crate::fields::Ambiguity {
            key: "invoice_date".into(),
            printed: "03/07/2024".into(),
            alternative: FieldValue::Date(NaiveDate::from_ymd_opt(2024, 7, 3).unwrap()),
        });
        let review = validate(&e, &classified(DocType::Invoice), &Thresholds::default(), today());
        assert_eq!(review.status, ReviewStatus::NeedsReview);
        let reason = &review.reasons[0];
        assert_eq!(
            (reason.code, reason.field.as_deref()),
            (ReasonCode::AmbiguousValue, Some("invoice_date"))
        );
        assert_eq!(
            reason.message,
            "invoice_date \"03/07/2024\" reads as 2024-03-07 or 2024-07-03: nothing on the page says which"
        );
    }
}
