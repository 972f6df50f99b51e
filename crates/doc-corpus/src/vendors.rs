//! The vendor memory evaluation: "after one correction, that vendor's next documents".
//!
//! The real-world set has almost no vendor with two different documents (its pairs are one
//! invoice as PDF and as a scan, or e-invoices read exactly from their XML; Coolblue's two
//! invoices are the one real repeat, scored on its own row). So each vendor here is a fixed
//! layout drawn three times with different values (number, date, customer, lines, amounts): a
//! fixed company, address, tax id, language, currency, date and amount style, labels and
//! placement, modelled on the kinds of layouts in the real set and NOT on our own templates
//! (labels such as "Beleg-Nr.", "Our ref", "Net a payer", values under a row of labels,
//! day-first dates written with slashes, `1 234,56 EUR`, `Rs 1,939`).
//!
//! Per vendor: document 1 goes through the pipeline, a person's review is simulated (every
//! expected field the pipeline got wrong or missed is corrected to the expected value), the
//! memory is learnt from it ([`documents::vendor_memory::learn`]); documents 2 and 3 go through
//! the pipeline, are recognised among ALL vendors' memories ([`documents::vendor_memory::identify`])
//! and the memory is applied. Fields of documents 2 and 3 are scored without and with memory.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use documents::fields::{DocType, ExtractedField, Extraction, FieldValue};
use documents::intake::{UploadLimits, validate_upload};
use documents::ocr::OcrEngine;
use documents::ocr::tesseract::{TesseractEngine, TesseractPool};
use documents::pipeline::process;
use documents::text::DocumentText;
use documents::validate::Thresholds;
use documents::vendor_memory::{self, MatchedBy, VendorMemory};
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;

use crate::render::{Font, Page, write_pdf};
use crate::values::{self, Rand};

/// What [`run`] fails with (the benchmark's own error type, without importing it).
pub type VendorResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// How a vendor prints the invoice number and date.
#[derive(Clone, Copy, Debug)]
enum Header {
    /// `Label:  value` pairs in a block on the right.
    BesideRight,
    /// A row of labels with the values under them.
    Row,
    /// `Label value` lines on the left, under the address.
    BesideLeft,
}

#[derive(Clone, Copy, Debug)]
enum Dates {
    /// 05.03.2025
    Dotted,
    /// 05/03/2025
    DaySlash,
    /// 05-03-2025
    DayDash,
    /// 03/05/2025
    MonthSlash,
}

#[derive(Clone, Copy, Debug)]
enum Amounts {
    /// 1.234,56 EUR
    DotCommaCode,
    /// 1 234,56 EUR
    SpaceCommaCode,
    /// EUR 1.234,56
    CodeDotComma,
    /// GBP 1,234.56
    CodeCommaDot,
    /// $1,234.56
    Dollar,
    /// CHF 1'234.50
    Swiss,
    /// Rs 1,939 (whole rupees)
    Rupees,
}

/// One vendor: who it is and how its invoices look.
struct Vendor {
    name: &'static str,
    /// What the header prints as the name (a logo's capitals, say), when not the name.
    printed_name: Option<&'static str>,
    address: [&'static str; 2],
    tax_line: &'static str,
    language: &'static str,
    currency: &'static str,
    title: &'static str,
    number_label: &'static str,
    date_label: &'static str,
    customer_label: &'static str,
    tax_label: &'static str,
    total_label: &'static str,
    header: Header,
    dates: Dates,
    amounts: Amounts,
    font: (Font, Font),
    tax_rate: (i64, u32),
    number: fn(&mut Rand) -> String,
}

const VENDORS: &[Vendor] = &[
    Vendor {
        name: "Brauhaus Kessler GmbH",
        printed_name: Some("KESSLER"),
        address: ["Hopfenweg 12", "80331 Muenchen"],
        tax_line: "USt-IdNr. DE 811 569 869",
        language: "de",
        currency: "EUR",
        title: "Beleg",
        number_label: "Beleg-Nr.:",
        date_label: "Datum:",
        customer_label: "Kunde:",
        tax_label: "zzgl. 19 % MwSt.",
        total_label: "Zu zahlen",
        header: Header::BesideRight,
        dates: Dates::Dotted,
        amounts: Amounts::DotCommaCode,
        font: (Font::Helvetica, Font::HelveticaBold),
        tax_rate: (19, 2),
        number: |r| format!("{}/{:05}", r.random_range(24..26), r.random_range(1..99999)),
    },
    Vendor {
        name: "Atelier Moreau SARL",
        printed_name: None,
        address: ["14 rue des Tanneurs", "69002 Lyon"],
        tax_line: "TVA intracom. FR 40 303 265 045",
        language: "fr",
        currency: "EUR",
        title: "FACTURE",
        number_label: "Piece",
        date_label: "Emise le",
        customer_label: "Adresse de facturation",
        tax_label: "TVA 20 %",
        total_label: "Net a payer",
        header: Header::Row,
        dates: Dates::DaySlash,
        amounts: Amounts::SpaceCommaCode,
        font: (Font::Times, Font::TimesBold),
        tax_rate: (20, 2),
        number: |r| format!("FA{:06}", r.random_range(1..999999)),
    },
    Vendor {
        name: "Van Dijk Installatietechniek B.V.",
        printed_name: None,
        address: ["Kanaalstraat 8", "3531 CJ Utrecht"],
        tax_line: "BTW NL 8019.12.345.B01",
        language: "nl",
        currency: "EUR",
        title: "Nota",
        number_label: "Notanr.",
        date_label: "Datum nota",
        customer_label: "Aan:",
        tax_label: "BTW 21%",
        total_label: "Te voldoen",
        header: Header::BesideLeft,
        dates: Dates::DayDash,
        amounts: Amounts::CodeDotComma,
        font: (Font::Helvetica, Font::HelveticaBold),
        tax_rate: (21, 2),
        number: |r| format!("{}", r.random_range(20250000..20259999)),
    },
    Vendor {
        name: "Suministros Ortega S.L.",
        printed_name: None,
        address: ["Calle Mayor 27", "28013 Madrid"],
        tax_line: "CIF ES B12345674",
        language: "es",
        currency: "EUR",
        title: "Factura simplificada",
        number_label: "Serie/Num.",
        date_label: "Expedida",
        customer_label: "Cliente",
        tax_label: "IVA 21%",
        total_label: "Importe a abonar",
        header: Header::Row,
        dates: Dates::DaySlash,
        amounts: Amounts::DotCommaCode,
        font: (Font::Courier, Font::CourierBold),
        tax_rate: (21, 2),
        number: |r| format!("A-{}/{:04}", r.random_range(2024..2026), r.random_range(1..9999)),
    },
    Vendor {
        name: "Harbour Marine Supplies Ltd",
        printed_name: None,
        address: ["Unit 4, Quay Street", "Falmouth TR11 3HH"],
        tax_line: "VAT Reg No GB 980 7807 42",
        language: "en",
        currency: "GBP",
        title: "Sales Invoice",
        number_label: "Our ref",
        date_label: "Tax point",
        customer_label: "Deliver to",
        tax_label: "VAT @ 20%",
        total_label: "Balance outstanding",
        header: Header::BesideRight,
        dates: Dates::DaySlash,
        amounts: Amounts::CodeCommaDot,
        font: (Font::Times, Font::TimesBold),
        tax_rate: (20, 2),
        number: |r| format!("HMS{}", r.random_range(10000..99999)),
    },
    Vendor {
        name: "Pinecrest Landscaping LLC",
        printed_name: Some("PINECREST"),
        address: ["2210 Alder Road", "Bend, OR 97701"],
        tax_line: "EIN 93-1234567",
        language: "en",
        currency: "USD",
        title: "Work Order",
        number_label: "Ticket",
        date_label: "Serviced",
        customer_label: "Customer",
        tax_label: "Materials tax",
        total_label: "Please remit",
        header: Header::BesideLeft,
        dates: Dates::MonthSlash,
        amounts: Amounts::Dollar,
        font: (Font::Helvetica, Font::HelveticaBold),
        tax_rate: (0, 0),
        number: |r| format!("T{}", r.random_range(1000..9999)),
    },
    Vendor {
        name: "Nordlicht Software AG",
        printed_name: None,
        address: ["Seestrasse 101", "8002 Zuerich"],
        tax_line: "MWST CHE-123.456.788",
        language: "de",
        currency: "CHF",
        title: "Honorarnote",
        number_label: "Referenz",
        date_label: "Zuerich, den",
        customer_label: "Empfaenger",
        tax_label: "MWST 8.1%",
        total_label: "Betrag",
        header: Header::Row,
        dates: Dates::Dotted,
        amounts: Amounts::Swiss,
        font: (Font::Helvetica, Font::HelveticaBold),
        tax_rate: (81, 3),
        number: |r| format!("NL-{}", r.random_range(100000..999999)),
    },
    Vendor {
        name: "Sakura Textiles Pvt Ltd",
        printed_name: None,
        address: ["14 Linking Road, Bandra", "Mumbai 400050"],
        tax_line: "GSTIN 27AAPFU0939F1ZV",
        language: "en",
        currency: "INR",
        title: "Bill of Supply",
        number_label: "Bill No",
        date_label: "Dated",
        customer_label: "Buyer",
        tax_label: "GST 18%",
        total_label: "Grand Amount",
        header: Header::BesideRight,
        dates: Dates::DayDash,
        amounts: Amounts::Rupees,
        font: (Font::Courier, Font::CourierBold),
        tax_rate: (18, 2),
        number: |r| format!("SKT/{}", r.random_range(100..999)),
    },
];

fn group(whole: &str, sep: char) -> String {
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

fn fmt_amount(d: Decimal, style: Amounts) -> String {
    let s = format!("{:.2}", d);
    let (whole, cents) = s.split_once('.').unwrap_or((&s, "00"));
    match style {
        Amounts::DotCommaCode => format!("{},{cents} EUR", group(whole, '.')),
        Amounts::SpaceCommaCode => format!("{},{cents} EUR", group(whole, ' ')),
        Amounts::CodeDotComma => format!("EUR {},{cents}", group(whole, '.')),
        Amounts::CodeCommaDot => format!("GBP {}.{cents}", group(whole, ',')),
        Amounts::Dollar => format!("${}.{cents}", group(whole, ',')),
        Amounts::Swiss => format!("CHF {}.{cents}", group(whole, '\'')),
        Amounts::Rupees => format!("Rs {}", group(whole, ',')),
    }
}

fn fmt_day(d: NaiveDate, style: Dates) -> String {
    match style {
        Dates::Dotted => d.format("%d.%m.%Y").to_string(),
        Dates::DaySlash => d.format("%d/%m/%Y").to_string(),
        Dates::DayDash => d.format("%d-%m-%Y").to_string(),
        Dates::MonthSlash => d.format("%m/%d/%Y").to_string(),
    }
}

/// One drawn document of a vendor and its expected fields.
struct Drawn {
    pdf: Vec<u8>,
    fields: BTreeMap<String, FieldValue>,
}

fn draw(v: &Vendor, rng: &mut Rand) -> Drawn {
    let (f, b) = v.font;
    let number = (v.number)(rng);
    // Days up to the 12th as often as not: those are the ones a wrong order misreads.
    let issued = NaiveDate::from_ymd_opt(2025, rng.random_range(1..=12), rng.random_range(1..=24))
        .unwrap_or(NaiveDate::MIN);
    let customer = values::company(rng);
    let address = values::address(rng);
    let whole = matches!(v.amounts, Amounts::Rupees);
    let lines: Vec<(String, Decimal)> = (0..rng.random_range(1..=5))
        .map(|_| {
            let amount = values::money(rng, 20, 900);
            (values::product(rng).to_string(), if whole { amount.round() } else { amount })
        })
        .collect();
    let subtotal: Decimal = lines.iter().map(|(_, a)| *a).sum();
    let tax = (subtotal * Decimal::new(v.tax_rate.0, v.tax_rate.1)).round_dp(if whole { 0 } else { 2 });
    let total = subtotal + tax;

    let mut fields = BTreeMap::new();
    fields.insert("invoice_number".to_string(), FieldValue::Text(number.clone()));
    fields.insert("invoice_date".to_string(), FieldValue::Date(issued));
    fields.insert("vendor_name".to_string(), FieldValue::Text(v.name.to_string()));
    fields.insert("total".to_string(), FieldValue::Money(total));
    fields.insert("currency".to_string(), FieldValue::Text(v.currency.to_string()));
    if !tax.is_zero() {
        fields.insert("tax".to_string(), FieldValue::Money(tax));
    }

    let mut p = Page::new(595.0, 842.0);
    p.text(50.0, 70.0, 20.0, b, v.printed_name.unwrap_or(v.name));
    let mut y = 88.0;
    if v.printed_name.is_some() {
        p.text(50.0, y, 9.0, f, v.name);
        y += 13.0;
    }
    for line in v.address {
        p.text(50.0, y, 9.0, f, line);
        y += 13.0;
    }
    p.text(50.0, y, 9.0, f, v.tax_line);
    let date = fmt_day(issued, v.dates);
    match v.header {
        Header::BesideRight => {
            p.text(360.0, 70.0, 14.0, b, v.title);
            p.text(360.0, 92.0, 10.0, f, v.number_label);
            p.text(450.0, 92.0, 10.0, f, &number);
            p.text(360.0, 106.0, 10.0, f, v.date_label);
            p.text(450.0, 106.0, 10.0, f, &date);
        }
        Header::Row => {
            p.text(360.0, 70.0, 14.0, b, v.title);
            p.rect(50.0, 150.0, 495.0, 36.0);
            p.text(60.0, 164.0, 9.0, b, v.number_label);
            p.text(230.0, 164.0, 9.0, b, v.date_label);
            p.text(400.0, 164.0, 9.0, b, "Page");
            p.text(60.0, 180.0, 10.0, f, &number);
            p.text(230.0, 180.0, 10.0, f, &date);
            p.text(400.0, 180.0, 10.0, f, "1/1");
        }
        Header::BesideLeft => {
            p.text(360.0, 70.0, 14.0, b, v.title);
            p.text(50.0, 150.0, 10.0, f, format!("{} {}", v.number_label, number));
            p.text(50.0, 164.0, 10.0, f, format!("{} {}", v.date_label, date));
        }
    }
    p.text(330.0, 210.0, 9.0, b, v.customer_label);
    p.text(330.0, 223.0, 10.0, f, &customer);
    p.text(330.0, 236.0, 10.0, f, &address.street);
    p.text(330.0, 249.0, 10.0, f, &address.city_line);
    let mut y = 290.0;
    p.hline(50.0, 545.0, y - 12.0);
    for (description, amount) in &lines {
        p.text(50.0, y, 10.0, f, description);
        p.text_right(545.0, y, 10.0, f, fmt_amount(*amount, v.amounts));
        y += 15.0;
    }
    p.hline(50.0, 545.0, y - 8.0);
    y += 12.0;
    if !tax.is_zero() {
        p.text(330.0, y, 10.0, f, v.tax_label);
        p.text_right(545.0, y, 10.0, f, fmt_amount(tax, v.amounts));
        y += 16.0;
    }
    p.text(330.0, y, 11.0, b, v.total_label);
    p.text_right(545.0, y, 11.0, b, fmt_amount(total, v.amounts));
    Drawn { pdf: write_pdf(&[p]), fields }
}

/// How many vendors [`vendor_document`] draws.
pub fn vendor_count() -> usize {
    VENDORS.len()
}

/// Document `n` of vendor `vendor` (below [`vendor_count`]) as a digital PDF, with its name and
/// expected fields; the same arguments draw the same document.
pub fn vendor_document(
    vendor: usize,
    n: u64,
    seed: u64,
) -> Option<(String, Vec<u8>, BTreeMap<String, FieldValue>)> {
    let v = VENDORS.get(vendor)?;
    let mut rng = Rand::seed_from_u64(seed.wrapping_mul(7919).wrapping_add(vendor as u64 * 100 + n));
    let drawn = draw(v, &mut rng);
    Some((v.name.to_string(), drawn.pdf, drawn.fields))
}

/// Right fields out of expected fields.
#[derive(Clone, Copy, Debug, Default)]
pub struct Score {
    pub right: usize,
    pub expected: usize,
}

impl Score {
    fn add(&mut self, other: Score) {
        self.right += other.right;
        self.expected += other.expected;
    }

    fn cell(self) -> String {
        if self.expected == 0 {
            return "–".into();
        }
        format!("{}/{} ({:.1}%)", self.right, self.expected, self.right as f64 * 100.0 / self.expected as f64)
    }

    pub fn ratio(self) -> f64 {
        if self.expected == 0 { 0.0 } else { self.right as f64 / self.expected as f64 }
    }
}

/// One vendor's row.
#[derive(Clone, Debug)]
pub struct VendorRow {
    pub vendor: String,
    pub language: String,
    /// `digital` (a PDF's text layer) or `scan` (the same page rasterised, degraded and OCR'd).
    pub variant: &'static str,
    /// Fields corrected on document 1.
    pub corrected: usize,
    pub first: Score,
    /// Documents 2 and 3 without memory, and with it.
    pub before: Score,
    pub after: Score,
    /// How documents 2 and 3 were recognised (None: not recognised).
    pub matched: Vec<Option<MatchedBy>>,
    /// Fields of documents 2 and 3 still wrong with memory: `doc key: expected, got`.
    pub misses: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct VendorReport {
    pub rows: Vec<VendorRow>,
}

impl VendorReport {
    pub fn before(&self) -> Score {
        let mut s = Score::default();
        self.rows.iter().for_each(|r| s.add(r.before));
        s
    }

    pub fn after(&self) -> Score {
        let mut s = Score::default();
        self.rows.iter().for_each(|r| s.add(r.after));
        s
    }

    /// Documents 2–3 of one variant without and with memory.
    pub fn variant(&self, variant: &str) -> (Score, Score) {
        let (mut before, mut after) = (Score::default(), Score::default());
        for r in self.rows.iter().filter(|r| r.variant == variant) {
            before.add(r.before);
            after.add(r.after);
        }
        (before, after)
    }

    pub fn to_markdown(&self) -> String {
        let mut out = String::from(
            "| vendor | language | variant | corrected on doc 1 | doc 1 as read | docs 2–3 without memory | docs 2–3 with memory | recognised by |\n|---|---|---|---|---|---|---|---|\n",
        );
        for r in &self.rows {
            let matched: Vec<&str> =
                r.matched.iter().map(|m| m.map_or("not recognised", MatchedBy::as_str)).collect();
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
                r.vendor,
                r.language,
                r.variant,
                r.corrected,
                r.first.cell(),
                r.before.cell(),
                r.after.cell(),
                matched.join(", ")
            ));
        }
        for variant in ["digital", "scan"] {
            let (before, after) = self.variant(variant);
            if before.expected > 0 {
                out.push_str(&format!(
                    "| **all {variant}** | | | {} | | {} | **{}** | |\n",
                    self.rows.iter().filter(|r| r.variant == variant).map(|r| r.corrected).sum::<usize>(),
                    before.cell(),
                    after.cell()
                ));
            }
        }
        out
    }
}

fn score(
    extraction: &Extraction,
    expected: &BTreeMap<String, FieldValue>,
    misses: &mut Vec<String>,
    doc: &str,
) -> Score {
    let mut s = Score { expected: expected.len(), right: 0 };
    for (key, value) in expected {
        let got = extraction.get(key).map(|f| &f.value);
        if got.is_some_and(|g| g.matches(value)) {
            s.right += 1;
        } else {
            misses.push(format!(
                "{doc} {key}: expected {}, got {}",
                value.display(),
                got.map_or("nothing".into(), FieldValue::display)
            ));
        }
    }
    s
}

/// A person's review of document 1, simulated: every expected field read wrong or missed is
/// corrected. Returns the fields as they then stand and the keys corrected.
fn review(
    extraction: &Extraction,
    expected: &BTreeMap<String, FieldValue>,
) -> (Vec<(String, FieldValue)>, Vec<String>) {
    let mut fields: Vec<(String, FieldValue)> =
        extraction.fields.iter().map(|f: &ExtractedField| (f.key.clone(), f.value.clone())).collect();
    let mut corrected = Vec::new();
    for (key, value) in expected {
        if extraction.get(key).is_some_and(|f| f.value.matches(value)) {
            continue;
        }
        fields.retain(|(k, _)| k != key);
        fields.push((key.clone(), value.clone()));
        corrected.push(key.clone());
    }
    (fields, corrected)
}

async fn read(
    engine: &dyn OcrEngine,
    bytes: &[u8],
    name: &str,
) -> Result<(DocumentText, Extraction), String> {
    let upload =
        validate_upload(bytes, Some(name), &UploadLimits::default()).await.map_err(|e| e.to_string())?;
    let today = chrono::Utc::now().date_naive();
    // Uploaded as invoices (the category a firm gives its clients' bills), as in the API test.
    let hint = Some(DocType::Invoice);
    let p = process(engine, bytes, &upload, hint, &Thresholds::default(), today)
        .await
        .map_err(|e| e.to_string())?;
    Ok((p.text, p.extraction))
}

/// A vendor's documents as read, with their expected fields.
struct Series {
    vendor: String,
    language: String,
    variant: &'static str,
    docs: Vec<(DocumentText, Extraction, BTreeMap<String, FieldValue>)>,
}

fn evaluate(series: Vec<Series>) -> VendorReport {
    // Learn every vendor's memory from its document 1 first: documents 2 and 3 are then
    // recognised among all of them, as in a firm with many vendors.
    let mut memories: Vec<(usize, VendorMemory)> = Vec::new();
    let mut rows = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let (text, extraction, expected) = &s.docs[0];
        let mut misses = Vec::new();
        let first = score(extraction, expected, &mut misses, "doc 1");
        let (fields, corrected) = review(extraction, expected);
        if !corrected.is_empty() {
            memories.push((i, vendor_memory::learn(extraction.doc_type, &text.text, &fields, &corrected)));
        }
        rows.push(VendorRow {
            vendor: s.vendor.clone(),
            language: s.language.clone(),
            variant: s.variant,
            corrected: corrected.len(),
            first,
            before: Score::default(),
            after: Score::default(),
            matched: Vec::new(),
            misses: Vec::new(),
        });
    }
    for (i, s) in series.iter().enumerate() {
        let row = &mut rows[i];
        for (n, (text, extraction, expected)) in s.docs.iter().enumerate().skip(1) {
            let doc = format!("doc {}", n + 1);
            row.before.add(score(extraction, expected, &mut Vec::new(), &doc));
            let mut with = extraction.clone();
            let matched =
                vendor_memory::identify(&memories, &text.text, &with).map(|(id, m, by)| (id, m.clone(), by));
            if let Some((id, memory, _)) = &matched {
                if *id != i {
                    row.misses.push(format!("{doc}: recognised as vendor {}", series[*id].vendor));
                }
                vendor_memory::apply(memory, text, &mut with);
            }
            row.matched.push(matched.map(|(_, _, by)| by));
            row.after.add(score(&with, expected, &mut row.misses, &doc));
        }
    }
    VendorReport { rows }
}

/// Draws three documents per vendor (digital PDFs), reads them, and scores documents 2 and 3
/// after one correction of document 1; `real_dir` adds the real set's one repeat vendor
/// (Coolblue's two invoices: one correction of the first, the second scored). Builds its own
/// runtime.
pub fn run(seed: u64, real_dir: Option<&Path>) -> VendorResult<VendorReport> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(cores).enable_all().build()?;
    let engine: Arc<dyn OcrEngine> = Arc::new(TesseractEngine::new(Arc::new(TesseractPool::new(cores))));
    let mut series = Vec::new();
    let mut scans = Vec::new();
    for (v, vendor) in VENDORS.iter().enumerate() {
        let (mut docs, mut scanned) = (Vec::new(), Vec::new());
        for n in 0..3u64 {
            let Some((_, pdf, fields)) = vendor_document(v, n, seed) else { continue };
            let (text, extraction) =
                runtime.block_on(read(engine.as_ref(), &pdf, &format!("vendor-{v}-{n}.pdf")))?;
            docs.push((text, extraction, fields.clone()));
            // The same page as a scan: rasterised, skewed, blurred, noisy, read by OCR.
            let mut rng = Rand::seed_from_u64(seed.wrapping_add(v as u64 * 100 + n + 50));
            let degradation = crate::scan::Degradation::random(&mut rng);
            let png = crate::scan::scan(&pdf, crate::ScanFormat::Png, degradation, &mut rng)?;
            let (text, extraction) =
                runtime.block_on(read(engine.as_ref(), &png, &format!("vendor-{v}-{n}.png")))?;
            scanned.push((text, extraction, fields));
        }
        let (name, language) = (vendor.name.to_string(), vendor.language.to_string());
        series.push(Series { vendor: name.clone(), language: language.clone(), variant: "digital", docs });
        scans.push(Series { vendor: name, language, variant: "scan", docs: scanned });
    }
    if let Some(dir) = real_dir {
        let real = crate::real::load(dir)?;
        let mut docs = Vec::new();
        for file in ["i2d_coolblue1.pdf", "i2d_coolblue2.pdf"] {
            let Some(doc) = real.iter().find(|d| d.truth.file == file) else { continue };
            let bytes = std::fs::read(&doc.path)?;
            let (text, extraction) = runtime.block_on(read(engine.as_ref(), &bytes, file))?;
            let mut expected = doc.truth.fields.clone();
            expected.retain(|k, _| !k.contains('['));
            docs.push((text, extraction, expected));
        }
        if docs.len() == 2 {
            series.push(Series {
                vendor: "Coolblue B.V. (real set)".into(),
                language: "nl".into(),
                variant: "digital",
                docs,
            });
        }
    }
    // Scans and digital documents apart: each set's memories learnt from its own first documents.
    let mut report = evaluate(series);
    report.rows.extend(evaluate(scans).rows);
    Ok(report)
}

/// Prints the evaluation as `bench documents-real` shows it.
pub fn print(report: &VendorReport, misses: bool) {
    println!("\n## Vendor memory: after one correction, that vendor's next documents\n");
    print!("{}", report.to_markdown());
    if misses {
        for r in &report.rows {
            for m in &r.misses {
                println!("miss: {}: {m}", r.vendor);
            }
        }
    }
}
