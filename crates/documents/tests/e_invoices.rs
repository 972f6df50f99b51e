//! E-invoices are read from their XML, exactly: every PDF of the real-world set's `dev` split
//! (never `held_out`) that carries an invoice XML gives every field its manifest expects, with
//! source `e_invoice`, no page recognised, and — its totals consistent — approved without review.

use std::sync::Arc;

use chrono::NaiveDate;
use documents::fields::{FieldSource, FieldValue};
use documents::intake::{UploadLimits, validate_upload};
use documents::ocr::tesseract::{TesseractEngine, TesseractPool};
use documents::pipeline::{Processed, process};
use documents::validate::Thresholds;
use documents::{DocType, FileKind};

async fn read(bytes: &[u8], engine: &TesseractEngine) -> Processed {
    let upload = validate_upload(bytes, None, &UploadLimits::default()).await.expect("accepted");
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("a date");
    process(engine, bytes, &upload, None, &Thresholds::default(), today).await.expect("processed")
}

#[tokio::test]
async fn every_dev_e_invoice_is_read_exactly_from_its_xml() {
    let engine = TesseractEngine::new(Arc::new(TesseractPool::new(1)));
    let docs = doc_corpus::real::load(&doc_corpus::real::default_dir()).expect("the manifest loads");
    let dev: Vec<_> = docs.iter().filter(|d| d.truth.split.as_deref() == Some("dev")).collect();
    let mut e_invoices = 0;
    for doc in dev {
        let bytes = std::fs::read(&doc.path).expect("the file is there");
        let processed = read(&bytes, &engine).await;
        let Some(invoice) = &processed.e_invoice else { continue };
        e_invoices += 1;
        let file = &doc.truth.file;
        assert!(processed.ocr.is_none(), "{file}: an e-invoice needs no OCR");
        assert_eq!(processed.classification.doc_type, DocType::Invoice, "{file}");
        for (key, expected) in &doc.truth.fields {
            let got = processed.extraction.get(key).unwrap_or_else(|| panic!("{file}: no {key}"));
            assert!(got.value.matches(expected), "{file}: {key} is {:?}, expected {expected:?}", got.value);
            assert_eq!(got.confidence, 1.0, "{file}: {key}");
        }
        for field in &processed.extraction.fields {
            assert_eq!(field.source, FieldSource::EInvoice { format: invoice.format_name() }, "{file}");
        }
        assert!(!processed.review.needs_review(), "{file}: {:?}", processed.review.reasons);
    }
    // The dev split holds 12 Factur-X/ZUGFeRD/XRechnung PDFs, and Odoo's AzureInterior.pdf
    // carries a UBL invoice (`UBL-Invoice-2.1.xml`); its manifest values are invoice2data's.
    assert_eq!(e_invoices, 13);
}

#[tokio::test]
async fn a_zugferd_pdf_gives_lines_and_places_its_values_on_the_page() {
    let engine = TesseractEngine::new(Arc::new(TesseractPool::new(1)));
    let path =
        doc_corpus::real::default_dir().join("files/mustang_MustangGnuaccountingBeispielRE-20170509_505.pdf");
    let processed = read(&std::fs::read(path).expect("the file is there"), &engine).await;
    let e = &processed.extraction;
    assert_eq!(
        processed.e_invoice.as_ref().map(|i| i.format_name()).as_deref(),
        Some("ZUGFeRD 1.0 BASIC (CII)")
    );
    assert_eq!(e.text("vendor_tax_id"), Some("DE136695976"));
    assert_eq!(e.text("customer_name"), Some("Theodor Est"));
    assert_eq!(e.date("due_date"), NaiveDate::from_ymd_opt(2017, 5, 30));
    assert_eq!(e.group_len("line_items"), 3);
    assert_eq!(e.text("line_items[1].description"), Some("Luftballon: Bunt, ca. 500ml"));
    assert_eq!(e.get("line_items[1].quantity").map(|f| &f.value), Some(&FieldValue::Number(400.into())));
    assert_eq!(e.money("line_items[1].unit_price"), Some("0.79".parse().expect("a decimal")));
    // The invoice number is printed on the page: its box is drawn where it was found.
    let number = e.get("invoice_number").expect("a number");
    assert_eq!(number.span.map(|s| processed.text.slice(s)), Some("RE-20170509/505"));
    assert!(number.region.is_some_and(|r| r.page == 1 && r.is_valid()), "{:?}", number.region);
}

#[tokio::test]
async fn a_pdf_without_xml_is_read_from_its_text_as_before() {
    let engine = TesseractEngine::new(Arc::new(TesseractPool::new(1)));
    let path = doc_corpus::real::default_dir().join("files/i2d_AmazonWebServices.pdf");
    let bytes = std::fs::read(path).expect("the file is there");
    let upload = validate_upload(&bytes, None, &UploadLimits::default()).await.expect("accepted");
    assert_eq!(upload.kind, FileKind::Pdf);
    let processed = read(&bytes, &engine).await;
    assert!(processed.e_invoice.is_none());
    assert!(processed.extraction.fields.iter().all(|f| !matches!(f.source, FieldSource::EInvoice { .. })));
}
