//! Each extracted field's region sits on the value the corpus printed: the generator knows where
//! it drew every string ([`doc_corpus::render::Page::text_boxes`]), so a field's box is checked
//! against the box of the text it was read from — on the text layer of the digital PDFs
//! (`pdftotext -bbox-layout`) and on Tesseract's words for a scan.

use std::sync::Arc;

use chrono::NaiveDate;
use doc_corpus::CorpusSpec;
use doc_corpus::render::Page;
use doc_corpus::scan::{Degradation, ScanFormat};
use documents::fields::DocType;
use documents::intake::{UploadLimits, validate_upload};
use documents::ocr::tesseract::{TesseractEngine, TesseractPool};
use documents::pipeline::{Processed, process};
use documents::validate::Thresholds;
use domain::Region;

/// How far (in fractions of the page) a box may be off: a letter page's 612 pt × 0.006 ≈ 4 pt.
const SLACK: f32 = 0.006;

async fn read(bytes: &[u8], engine: &TesseractEngine) -> Processed {
    let upload = validate_upload(bytes, None, &UploadLimits::default()).await.expect("accepted");
    let today = NaiveDate::from_ymd_opt(2026, 1, 15).expect("a date");
    process(engine, bytes, &upload, None, &Thresholds::default(), today).await.expect("processed")
}

/// The drawn boxes of `text` on `page`, in fractions of the page.
fn drawn(page: &Page, text: &str) -> Vec<(f32, f32, f32, f32)> {
    page.text_boxes(text)
        .into_iter()
        .map(|(x0, y0, x1, y1)| (x0 / page.width, y0 / page.height, x1 / page.width, y1 / page.height))
        .collect()
}

/// Whether the region and a drawn box hold each other's centre (with slack): the same place,
/// about the same size.
fn same_place(r: &Region, (x0, y0, x1, y1): (f32, f32, f32, f32)) -> bool {
    let inside = |(cx, cy): (f32, f32), (a0, b0, a1, b1): (f32, f32, f32, f32)| {
        a0 - SLACK <= cx && cx <= a1 + SLACK && b0 - SLACK <= cy && cy <= b1 + SLACK
    };
    let region = (r.x, r.y, r.x + r.width, r.y + r.height);
    inside((r.x + r.width / 2.0, r.y + r.height / 2.0), (x0, y0, x1, y1))
        && inside(((x0 + x1) / 2.0, (y0 + y1) / 2.0), region)
}

/// Checks every field of a processed document against what was drawn; returns (fields with a
/// region, of which checked against a drawn string, failures).
fn check(label: &str, processed: &Processed, pages: &[Page]) -> (usize, usize, Vec<String>) {
    let (mut with_region, mut checked, mut failures) = (0, 0, Vec::new());
    for f in &processed.extraction.fields {
        let (Some(span), Some(region)) = (f.span, f.region) else { continue };
        with_region += 1;
        assert!(region.is_valid(), "{label} {}: {region:?}", f.key);
        let text = processed.text.slice(span).trim();
        let Some(page) = pages.get(region.page as usize - 1) else {
            failures.push(format!("{label} {}: page {} was not drawn", f.key, region.page));
            continue;
        };
        let boxes = drawn(page, text);
        if boxes.is_empty() {
            // Read differently from how it was printed (an OCR misreading): nothing to compare.
            continue;
        }
        checked += 1;
        if !boxes.iter().any(|b| same_place(&region, *b)) {
            failures.push(format!("{label} {} {text:?}: {region:?} is not on {boxes:?}", f.key));
        }
    }
    (with_region, checked, failures)
}

fn engine() -> TesseractEngine {
    TesseractEngine::new(Arc::new(TesseractPool::new(1)))
}

#[tokio::test]
async fn text_layer_fields_are_boxed_where_the_corpus_printed_them() {
    let engine = engine();
    let mut failures = Vec::new();
    let mut total = 0;
    for &doc_type in &CorpusSpec::TYPES {
        for layout in 0..doc_corpus::layouts(doc_type) {
            let drawn_doc = doc_corpus::draw(doc_type, layout, 7).expect("a layout we draw");
            let pdf = doc_corpus::render::write_pdf(&drawn_doc.pages);
            let processed = read(&pdf, &engine).await;
            let label = format!("{doc_type}/{}", drawn_doc.layout);
            let with_span = processed.extraction.fields.iter().filter(|f| f.span.is_some()).count();
            let (with_region, checked, bad) = check(&label, &processed, &drawn_doc.pages);
            // The text layer is exact: every field read from it has a box, on what was printed.
            assert_eq!(with_region, with_span, "{label}: every field with a span has a region");
            assert!(checked * 10 >= with_region * 9, "{label}: {checked} of {with_region} compared");
            eprintln!("{label}: {checked} of {with_region} fields compared");
            total += checked;
            failures.extend(bad);
        }
    }
    assert!(failures.is_empty(), "{} of {total} fields misplaced:\n{}", failures.len(), failures.join("\n"));
    assert!(total >= 60, "only {total} fields compared");
}

#[tokio::test]
async fn ocr_fields_are_boxed_where_the_corpus_printed_them() {
    let engine = engine();
    let mut failures = Vec::new();
    let mut total = 0;
    for doc_type in [DocType::Invoice, DocType::W2, DocType::Receipt] {
        let drawn_doc = doc_corpus::draw(doc_type, 0, 11).expect("a layout we draw");
        let pdf = doc_corpus::render::write_pdf(&drawn_doc.pages);
        // A clean, straight scan: the page in pixels, read by Tesseract.
        let d = Degradation { dpi: 200, degrees: 0.0, blur: 0.3, noise: 2.0, jpeg_quality: 90 };
        let mut rng = rand::SeedableRng::seed_from_u64(1);
        let png = doc_corpus::scan::scan(&pdf, ScanFormat::Png, d, &mut rng).expect("scan");
        let processed = read(&png, &engine).await;
        assert!(processed.ocr.is_some(), "{doc_type}: read by OCR");
        let label = format!("{doc_type}/{} scan", drawn_doc.layout);
        let (with_region, checked, bad) = check(&label, &processed, &drawn_doc.pages);
        assert!(
            with_region >= 3 && checked * 2 >= with_region,
            "{label}: {checked} of {with_region} compared"
        );
        eprintln!("{label}: {checked} of {with_region} fields compared");
        total += checked;
        failures.extend(bad);
    }
    assert!(failures.is_empty(), "{} of {total} fields misplaced:\n{}", failures.len(), failures.join("\n"));
}
