//! The "e-invoice" step: an upload that is, or carries, a structured e-invoice is read from its
//! XML, exactly — a bare CII/UBL file, or the XML a Factur-X/ZUGFeRD/XRechnung PDF embeds (found
//! with `pdfdetach`). Every field then comes from the XML (confidence 1, source
//! [`FieldSource::EInvoice`]); the PDF's text is used only to place the values on the page image
//! when they are printed there as written.
//!
//! An embedded XML that does not read as an invoice is logged and ignored: the PDF is still an
//! invoice on paper, and the text rules read it as they read any other.

use einvoice::Invoice;
use rust_decimal::Decimal;

use crate::classify::Classification;
use crate::detect::Detection;
use crate::fields::{DocType, ExtractedField, Extraction, FieldSource, FieldValue, group_key};
use crate::kind::FileKind;
use crate::poppler::{self, PopplerError};
use crate::span::Span;
use crate::text::DocumentText;

/// The e-invoice in an accepted upload, if it is or carries one.
pub async fn read(bytes: &[u8], detection: &Detection) -> Result<Option<Invoice>, PopplerError> {
    match detection.kind {
        // Intake parsed it already: an XML upload is an e-invoice.
        FileKind::Xml => Ok(parse_logged(bytes, "the uploaded XML")),
        FileKind::Pdf => embedded(bytes).await,
        _ => Ok(None),
    }
}

/// The invoice XML attached to a PDF: the file the standards name (`factur-x.xml` …) first, then
/// any other XML attachment that reads as an invoice.
async fn embedded(pdf: &[u8]) -> Result<Option<Invoice>, PopplerError> {
    if !may_embed_files(pdf) {
        return Ok(None);
    }
    let files = match poppler::pdf_embedded_files(pdf).await {
        Ok(files) => files,
        // A broken attachment tree does not make the PDF unreadable.
        Err(e @ (PopplerError::Corrupt(_) | PopplerError::BadOutput { .. })) => {
            tracing::warn!(error = %e, "could not list the PDF's embedded files");
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let mut candidates: Vec<&(u32, String)> =
        files.iter().filter(|(_, name)| name.to_ascii_lowercase().ends_with(".xml")).collect();
    candidates.sort_by_key(|(_, name)| !einvoice::is_invoice_file_name(name));
    for (number, name) in candidates {
        let xml = match poppler::pdf_embedded_file(pdf, *number).await {
            Ok(xml) => xml,
            Err(e @ (PopplerError::Corrupt(_) | PopplerError::OutputTooLarge { .. })) => {
                tracing::warn!(error = %e, file = %name, "could not extract an embedded file");
                continue;
            }
            Err(e) => return Err(e),
        };
        if let Some(invoice) = parse_logged(&xml, name) {
            return Ok(Some(invoice));
        }
    }
    Ok(None)
}

/// Whether a PDF can hold an embedded file, read from its bytes without a child process (which
/// cost every PDF of the digital path about a tenth of its throughput). An embedded file needs a
/// file specification with an `/EF` entry; outside object streams every dictionary key is
/// plain text in the file, and a PDF with object streams (`/ObjStm`) is always asked. So this
/// never says no to a PDF that has one; a name spelt with `#` escapes (`/E#46`, legal, never seen
/// from a producer) is the exception, and is asked too.
fn may_embed_files(pdf: &[u8]) -> bool {
    let has = |needle: &[u8]| pdf.windows(needle.len()).any(|w| w == needle);
    has(b"/EF") || has(b"/ObjStm") || has(b"/E#")
}

fn parse_logged(xml: &[u8], what: &str) -> Option<Invoice> {
    einvoice::parse(xml)
        .map_err(|e| tracing::warn!(error = %e, file = %what, "not a readable e-invoice"))
        .ok()
}

/// An e-invoice is an invoice, certainly.
pub fn classification(invoice: &Invoice) -> Classification {
    Classification {
        doc_type: DocType::Invoice,
        confidence: 1.0,
        cues: vec![format!("{} e-invoice XML", invoice.format_name())],
    }
}

/// The invoice's fields. Document-level allowances and charges become lines of their own
/// (an allowance negative), as a bookkeeper enters them, so the lines add up to the net total.
pub fn extraction(invoice: &Invoice, text: &DocumentText) -> Extraction {
    let source = FieldSource::EInvoice { format: invoice.format_name() };
    let mut fields = Fields { text, source, fields: Vec::new() };
    let (seller, buyer, totals) = (&invoice.seller, &invoice.buyer, &invoice.totals);
    fields.push("invoice_number", Some(FieldValue::Text(invoice.number.clone())));
    fields.push("invoice_date", Some(FieldValue::Date(invoice.issue_date)));
    fields.push("due_date", invoice.due_date.map(FieldValue::Date));
    fields.push("vendor_name", seller.name.clone().map(FieldValue::Text));
    fields.push("vendor_tax_id", seller.vat_id.clone().or(seller.tax_number.clone()).map(FieldValue::Text));
    fields.push("customer_name", buyer.name.clone().map(FieldValue::Text));
    fields.push("currency", Some(FieldValue::Text(invoice.currency.clone())));
    fields.push("subtotal", totals.net.map(money));
    fields.push("tax", totals.tax.map(money));
    fields.push("total", Some(money(totals.grand_total)));
    fields.push("amount_due", totals.due_payable.map(money));
    let adjustments = invoice.allowances_charges.iter().map(|a| {
        let (label, amount) = if a.is_charge { ("Charge", a.amount) } else { ("Allowance", -a.amount) };
        let description = a.reason.as_ref().map_or_else(|| label.to_string(), |r| format!("{label}: {r}"));
        (description, None, None, amount)
    });
    let lines = invoice
        .lines
        .iter()
        .map(|l| {
            (l.description.clone(), l.quantity, unit_price(l.unit_price, l.price_base_quantity), l.amount)
        })
        .chain(adjustments);
    for (i, (description, quantity, price, amount)) in lines.enumerate() {
        let key = |field: &str| group_key("line_items", i, field);
        fields.push(&key("description"), Some(FieldValue::Text(description)));
        fields.push(&key("quantity"), quantity.map(|q| FieldValue::Number(q.normalize())));
        fields.push(&key("unit_price"), price.map(money));
        fields.push(&key("amount"), Some(money(amount)));
    }
    // Nothing in the XML is ambiguous; its language is not what decides how it reads.
    Extraction { doc_type: DocType::Invoice, fields: fields.fields, language: None, ambiguous: Vec::new() }
}

/// The price of one unit: EN 16931 prices may be per a base quantity (10.00 per 100 pieces).
fn unit_price(price: Option<Decimal>, base: Option<Decimal>) -> Option<Decimal> {
    let price = price?;
    Some(match base {
        Some(base) if !base.is_zero() && base != Decimal::ONE => price / base,
        _ => price,
    })
}

/// Money as written, without the trailing zeros of four-place prices but with at least cents.
fn money(d: Decimal) -> FieldValue {
    let mut d = d.normalize();
    if d.scale() < 2 {
        d.rescale(2);
    }
    FieldValue::Money(d)
}

struct Fields<'a> {
    text: &'a DocumentText,
    source: FieldSource,
    fields: Vec<ExtractedField>,
}

impl Fields<'_> {
    fn push(&mut self, key: &str, value: Option<FieldValue>) {
        let Some(value) = value else { return };
        let span = printed_at(self.text, &value);
        self.fields.push(ExtractedField {
            key: key.to_string(),
            region: span.and_then(|s| self.text.region_of(s)),
            span,
            value,
            confidence: 1.0,
            source: self.source.clone(),
        });
    }
}

/// Where the page's text shows the value as written (texts exactly; amounts with a decimal point
/// or comma, with or without thousands separators), as a whole token; the first such place.
/// Dates are printed in too many ways to find safely.
fn printed_at(text: &DocumentText, value: &FieldValue) -> Option<Span> {
    let candidates = match value {
        FieldValue::Text(t) if t.chars().count() >= 3 => vec![t.clone()],
        FieldValue::Money(d) => amount_spellings(*d),
        _ => return None,
    };
    let hay = &text.text;
    candidates.iter().find_map(|needle| {
        hay.match_indices(needle.as_str()).find_map(|(at, _)| {
            let end = at + needle.len();
            let token_char = |c: char| c.is_alphanumeric() || c == '.' || c == ',';
            let before = hay[..at].chars().next_back().is_none_or(|c| !token_char(c));
            let after = hay[end..].chars().next().is_none_or(|c| !c.is_alphanumeric());
            let after_punct = hay[end..].chars().next().is_none_or(|c| c != ',' && c != '.')
                || hay[end..].chars().nth(1).is_none_or(|c| !c.is_ascii_digit());
            (before && after && after_punct).then(|| Span::new(at, end))
        })
    })
}

/// `1021.91` as `1021.91`, `1021,91`, `1,021.91`, `1.021,91` (and the space-grouped `1 021,91`).
fn amount_spellings(d: Decimal) -> Vec<String> {
    let plain = format!("{:.2}", d.abs());
    let (int, frac) = plain.split_once('.').unwrap_or((&plain, "00"));
    let grouped = |sep: &str| {
        let digits: Vec<char> = int.chars().collect();
        let mut out = String::new();
        for (i, c) in digits.iter().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(sep);
            }
            out.push(*c);
        }
        out
    };
    let mut spellings = vec![format!("{int}.{frac}"), format!("{int},{frac}")];
    if int.len() > 3 {
        spellings.push(format!("{}.{frac}", grouped(",")));
        spellings.push(format!("{},{frac}", grouped(".")));
        spellings.push(format!("{},{frac}", grouped(" ")));
    }
    spellings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_pdf_that_could_carry_a_file_is_asked_for_one() {
        let plain = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>";
        assert!(!may_embed_files(plain));
        let attached = b"%PDF-1.7\n5 0 obj << /Type /Filespec /F (factur-x.xml) /EF << /F 6 0 R >> >> endobj";
        assert!(may_embed_files(attached));
        // Its dictionaries may be compressed in an object stream: ask.
        assert!(may_embed_files(b"%PDF-1.5\n7 0 obj << /Type /ObjStm /N 12 /First 80 >> stream"));
        assert!(may_embed_files(b"<< /E#46 << /F 6 0 R >> >>"));
    }

    #[test]
    fn amounts_are_found_however_they_are_grouped() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(amount_spellings(d("4.9")), ["4.90", "4,90"]);
        assert!(amount_spellings(d("1021.91")).contains(&"1.021,91".to_string()));
        let text =
            DocumentText { text: "Netto 1.021,91 EUR\nSumme 21,91 und 121,910".into(), ..Default::default() };
        let found = printed_at(&text, &money(d("1021.91"))).unwrap();
        assert_eq!(text.slice(found), "1.021,91");
        // "21,91" inside "1.021,91" is no match; the whole token further on is.
        let found = printed_at(&text, &money(d("21.91"))).unwrap();
        assert_eq!(found.start, text.text.find("Summe").unwrap() + 6);
        assert_eq!(printed_at(&text, &money(d("121.91"))), None, "121,910 is another number");
    }

    #[test]
    fn prices_per_base_quantity_become_unit_prices() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(unit_price(Some(d("10.00")), Some(d("100"))), Some(d("0.1")));
        assert_eq!(unit_price(Some(d("9.90")), Some(d("1"))), Some(d("9.90")));
        assert_eq!(money(d("120.0000")), FieldValue::Money(d("120.00")));
        assert_eq!(money(d("0.7900")), FieldValue::Money(d("0.79")));
    }
}
