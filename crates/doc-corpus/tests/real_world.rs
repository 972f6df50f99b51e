//! The real-world set loads and every document goes through the pipeline. No accuracy threshold:
//! the figures are a baseline (BENCHMARKS.md), reported by `countinghouse bench documents-real`
//! with the share of documents auto-approved and how many of those were wrong.

use std::collections::BTreeSet;

use doc_corpus::real;

#[test]
fn the_real_world_set_loads_with_both_splits_and_four_languages() {
    let docs = real::load(&real::default_dir()).expect("the manifest loads");
    assert!(docs.len() >= 30, "{} documents", docs.len());
    for doc in &docs {
        assert!(doc.path.is_file(), "{} is missing", doc.path.display());
        assert!(!doc.truth.fields.is_empty(), "{} has no expected fields", doc.truth.file);
    }
    let languages: BTreeSet<_> = docs.iter().filter_map(|d| d.truth.language.clone()).collect();
    assert!(languages.len() >= 4, "{languages:?}");
    for split in ["dev", "held_out"] {
        let n = docs.iter().filter(|d| d.truth.split.as_deref() == Some(split)).count();
        assert!(n >= 8, "{split}: {n} documents");
    }
}

#[test]
fn every_real_world_document_is_processed() {
    let dir = real::default_dir();
    let loaded = real::load(&dir).expect("the manifest loads").len();
    // REAL_DEV_MISSES=1 also prints the dev split's wrong fields (never the held-out split's).
    let misses = std::env::var_os("REAL_DEV_MISSES").map(|_| "dev");
    let report = doc_corpus::bench::run_real(&dir, misses).expect("the evaluation runs");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let scored: usize = report.per_set.values().flat_map(|l| l.values()).map(|r| r.documents).sum();
    assert_eq!(scored, loaded);
    assert_eq!(report.per_set.keys().map(String::as_str).collect::<Vec<_>>(), ["dev", "held_out"]);
    // The auto-approved share counts processed documents, and its wrong ones are among them.
    for r in report.per_set.values().flat_map(|l| l.values()) {
        assert!(
            r.auto_approved + r.failed <= r.documents && r.auto_approved_wrong <= r.auto_approved,
            "{r:?}"
        );
    }
}

/// After one correction of a vendor's first document, its next two are read with what was
/// learnt. Prints the table (`--no-capture`); the figure itself is in BENCHMARKS.md.
#[test]
fn a_vendors_next_documents_are_read_with_what_one_correction_taught() {
    let report = doc_corpus::vendors::run(doc_corpus::bench::VENDOR_SEED, Some(&real::default_dir()))
        .expect("the evaluation runs");
    doc_corpus::vendors::print(&report, true);
    assert!(report.rows.iter().filter(|r| r.variant == "scan").count() >= 8, "{} rows", report.rows.len());
    for row in &report.rows {
        // Every vendor with something corrected is recognised on its next digital documents, as
        // itself (a scan's OCR may misread what recognises it).
        if row.corrected > 0 && row.variant == "digital" {
            assert!(row.matched.iter().all(Option::is_some), "{}: {:?}", row.vendor, row.matched);
        }
        assert!(!row.misses.iter().any(|m| m.contains("recognised as")), "{}: {:?}", row.vendor, row.misses);
        assert!(row.after.right >= row.before.right, "{}: memory made it worse", row.vendor);
    }
    assert!(report.after().right > report.before().right, "memory changed nothing");
}
