//! From an `analyzeResult` to our shapes: pages of positioned words (for layout) and, when a
//! prebuilt model recognised the document, its fields under our keys.
//!
//! Field positions are carried as the words they cover (matched by span offsets within the
//! same response, so the offset unit — code points or text elements — does not matter).

use chrono::{NaiveDate, NaiveTime};

use super::model::{AnalyzeResult, AnalyzedDocument, DocumentField, Span};
use crate::fields::{DocType, FieldValue, group_key};
use crate::ocr::{BBox, OcrPage, OcrWord, ProviderExtraction, ProviderField};

/// The words of every page, with the service's lines as line ids.
pub fn pages(result: &AnalyzeResult) -> Vec<OcrPage> {
    result
        .pages
        .iter()
        .map(|page| {
            let line_starts: Vec<(usize, usize, u32)> = page
                .lines
                .iter()
                .enumerate()
                .flat_map(|(i, l)| l.spans.iter().map(move |s| (s.offset, s.offset + s.length, i as u32)))
                .collect();
            let words = page
                .words
                .iter()
                .filter_map(|w| {
                    let (x0, y0, x1, y1) = w.bounds()?;
                    let line = line_starts
                        .iter()
                        .find(|(s, e, _)| w.span.offset >= *s && w.span.offset < *e)
                        .map(|l| l.2);
                    Some(OcrWord {
                        text: w.content.clone(),
                        bbox: BBox { x0: x0 as f32, y0: y0 as f32, x1: x1 as f32, y1: y1 as f32 },
                        confidence: w.confidence.unwrap_or(1.0) as f32,
                        line,
                    })
                })
                .collect();
            OcrPage {
                number: page.page_number,
                width: page.width.unwrap_or(0.0) as f32,
                height: page.height.unwrap_or(0.0) as f32,
                words,
            }
        })
        .collect()
}

/// Our type for a service `docType`.
pub fn doc_type_of(doc_type: &str) -> Option<DocType> {
    let lower = doc_type.to_ascii_lowercase();
    Some(match lower.as_str() {
        "invoice" => DocType::Invoice,
        t if t == "receipt" || t.starts_with("receipt.") => DocType::Receipt,
        "tax.us.w2" => DocType::W2,
        "tax.us.1099nec" => DocType::Form1099Nec,
        "tax.us.1099misc" => DocType::Form1099Misc,
        t if t.starts_with("tax.us.1040") => DocType::TaxReturn1040,
        _ => return None,
    })
}

/// Locates fields among the words: (page, index) of every word inside a field's spans.
struct WordIndex {
    words: Vec<(Span, u32, u32)>,
}

impl WordIndex {
    fn new(result: &AnalyzeResult) -> WordIndex {
        // Indices count only words with geometry, as `pages()` keeps them.
        let mut words = Vec::new();
        for page in &result.pages {
            let located = page.words.iter().filter(|w| w.bounds().is_some());
            words.extend(located.enumerate().map(|(i, w)| (w.span, page.page_number, i as u32)));
        }
        words.sort_by_key(|w| w.0.offset);
        WordIndex { words }
    }

    fn covering(&self, spans: &[Span]) -> Vec<(u32, u32)> {
        spans
            .iter()
            .flat_map(|s| {
                let first = self.words.partition_point(|w| w.0.offset < s.offset);
                self.words[first..].iter().take_while(move |w| s.contains(&w.0)).map(|w| (w.1, w.2))
            })
            .collect()
    }
}

struct Mapper<'a> {
    index: &'a WordIndex,
    fields: Vec<ProviderField>,
}

impl Mapper<'_> {
    fn push(
        &mut self,
        key: String,
        field: Option<&DocumentField>,
        value: impl FnOnce(&DocumentField) -> Option<FieldValue>,
    ) {
        let Some(field) = field else { return };
        let Some(value) = value(field) else { return };
        self.fields.push(ProviderField {
            key,
            value,
            confidence: field.confidence.unwrap_or(0.0) as f32,
            words: self.index.covering(&field.spans),
        });
    }

    fn text(&mut self, key: &str, field: Option<&DocumentField>) {
        self.push(key.to_string(), field, |f| f.text().map(|t| FieldValue::Text(t.trim().to_string())));
    }

    fn money(&mut self, key: &str, field: Option<&DocumentField>) {
        self.push(key.to_string(), field, |f| f.amount().map(FieldValue::Money));
    }

    fn date(&mut self, key: &str, field: Option<&DocumentField>) {
        self.push(key.to_string(), field, |f| {
            f.value_date
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .map(FieldValue::Date)
        });
    }

    fn time(&mut self, key: &str, field: Option<&DocumentField>) {
        self.push(key.to_string(), field, |f| {
            let t = f.value_time.as_deref()?;
            NaiveTime::parse_from_str(t, "%H:%M:%S")
                .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
                .ok()
                .map(FieldValue::Time)
        });
    }
}

/// The fields of the first recognised document, under our keys.
pub fn provider_extraction(result: &AnalyzeResult) -> Option<ProviderExtraction> {
    let document = result.documents.first()?;
    let doc_type = doc_type_of(&document.doc_type)?;
    let index = WordIndex::new(result);
    let mut m = Mapper { index: &index, fields: Vec::new() };
    map_fields(doc_type, document, &mut m);
    Some(ProviderExtraction {
        doc_type,
        model: result.model_id.clone(),
        confidence: document.confidence.unwrap_or(0.0) as f32,
        fields: m.fields,
    })
}

fn map_fields(doc_type: DocType, d: &AnalyzedDocument, m: &mut Mapper<'_>) {
    let f = |name: &str| d.fields.get(name);
    let tax_year = |m: &mut Mapper<'_>| m.text("tax_year", f("TaxYear"));
    match doc_type {
        DocType::Invoice => {
            m.text("invoice_number", f("InvoiceId"));
            m.date("invoice_date", f("InvoiceDate"));
            m.date("due_date", f("DueDate"));
            m.text("vendor_name", f("VendorName"));
            m.text("customer_name", f("CustomerName"));
            m.money("subtotal", f("SubTotal"));
            m.money("tax", f("TotalTax"));
            m.money("total", f("InvoiceTotal"));
            m.money("amount_due", f("AmountDue"));
            for (i, item) in f("Items").map(DocumentField::array).unwrap_or(&[]).iter().enumerate() {
                let part = |name: &str| item.object(name);
                m.text(&group_key("line_items", i, "description"), part("Description"));
                m.push(group_key("line_items", i, "quantity"), part("Quantity"), |q| {
                    q.number().map(FieldValue::Number)
                });
                m.money(&group_key("line_items", i, "unit_price"), part("UnitPrice"));
                m.money(&group_key("line_items", i, "amount"), part("Amount"));
            }
        }
        DocType::Receipt => {
            m.text("merchant_name", f("MerchantName"));
            m.date("date", f("TransactionDate"));
            m.time("time", f("TransactionTime"));
            m.money("subtotal", f("Subtotal"));
            m.money("tax", f("TotalTax"));
            m.money("tip", f("Tip"));
            m.money("total", f("Total"));
        }
        DocType::W2 => {
            tax_year(m);
            let employer = f("Employer");
            let employee = f("Employee");
            m.text("employer_name", employer.and_then(|e| e.object("Name")));
            m.text("employer_ein", employer.and_then(|e| e.object("IdNumber")));
            m.text("employee_name", employee.and_then(|e| e.object("Name")));
            m.text("employee_ssn", employee.and_then(|e| e.object("SocialSecurityNumber")));
            m.money("box1_wages", f("WagesTipsAndOtherCompensation"));
            m.money("box2_federal_tax", f("FederalIncomeTaxWithheld"));
            m.money("box3_ss_wages", f("SocialSecurityWages"));
            m.money("box4_ss_tax", f("SocialSecurityTaxWithheld"));
            m.money("box5_medicare_wages", f("MedicareWagesAndTips"));
            m.money("box6_medicare_tax", f("MedicareTaxWithheld"));
            let state = f("StateTaxInfos").and_then(|s| s.array().first());
            m.text("state", state.and_then(|s| s.object("State")));
            m.money("state_wages", state.and_then(|s| s.object("StateWagesTipsEtc")));
            m.money("state_tax", state.and_then(|s| s.object("StateIncomeTax")));
        }
        DocType::Form1099Nec | DocType::Form1099Misc => {
            tax_year(m);
            let payer = f("Payer");
            let recipient = f("Recipient");
            m.text("payer_name", payer.and_then(|p| p.object("Name")));
            m.text("payer_tin", payer.and_then(|p| p.object("TIN")));
            m.text("recipient_name", recipient.and_then(|r| r.object("Name")));
            m.text("recipient_tin", recipient.and_then(|r| r.object("TIN")));
            if doc_type == DocType::Form1099Nec {
                m.money("box1_nonemployee_comp", f("Box1"));
            } else {
                m.money("box1_rents", f("Box1"));
                m.money("box2_royalties", f("Box2"));
                m.money("box3_other_income", f("Box3"));
            }
            m.money("box4_federal_tax", f("Box4"));
        }
        DocType::TaxReturn1040 => tax_year(m),
        DocType::BankStatement | DocType::General => {}
    }
}
