//! The documents benchmark ([`doc_corpus::bench`], also `countinghouse bench documents`) with
//! its options, and two tools for looking at one file.
//!
//! Run with `cargo run --release -p doc-corpus --example documents_bench -- [options]`:
//! `--per-layout N` (documents per type and layout, default 10), `--runs N` (default 3),
//! `--dir PATH` (default a temporary directory), `--seed N`, `--scan-formats jpeg,png,tiff,pdf`,
//! `--only digital|scan`, `--generate-only`, `--misses N` (print N wrong fields),
//! `--dump FILE` (process one file and print its text, tables, type, fields and review),
//! `--preprocess IMAGE --out PNG` (write the page as OCR sees it).

use std::sync::Arc;

use doc_corpus::bench::BenchOptions;
use doc_corpus::{CorpusSpec, ScanFormat};
use documents::intake::UploadLimits;
use documents::ocr::tesseract::{TesseractEngine, TesseractPool, ensure_single_threaded_openmp};
use documents::validate::Thresholds;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    ensure_single_threaded_openmp()?;
    if let Some(file) = arg("--dump") {
        return dump(&file);
    }
    if let (Some(file), Some(out)) = (arg("--preprocess"), arg("--out")) {
        let bytes = std::fs::read(file)?;
        let t = std::time::Instant::now();
        let mut page = image::load_from_memory(&bytes)?.into_luma8();
        let decoded = t.elapsed();
        let skew = documents::ocr::preprocess::estimate_skew(&page);
        let estimated = t.elapsed();
        documents::ocr::preprocess::remove_rules(&mut page, skew);
        let cleaned = t.elapsed();
        page.save(&out)?;
        println!(
            "skew {skew:.2} degrees; decode {decoded:?}, skew {estimated:?}, rules {cleaned:?} (cumulative)"
        );
        return Ok(());
    }
    let per_layout: usize = arg("--per-layout").map_or(Ok(10), |v| v.parse())?;
    let runs: usize = arg("--runs").map_or(Ok(3), |v| v.parse())?;
    let seed: u64 = arg("--seed").map_or(Ok(2026), |v| v.parse())?;
    let misses: usize = arg("--misses").map_or(Ok(0), |v| v.parse())?;
    let dir = arg("--dir").map(std::path::PathBuf::from);
    let mut spec = CorpusSpec::benchmark(seed, per_layout);
    if let Some(formats) = arg("--scan-formats") {
        spec.scan_formats = formats
            .split(',')
            .map(|f| match f {
                "jpeg" | "jpg" => Ok(ScanFormat::Jpeg),
                "png" => Ok(ScanFormat::Png),
                "tiff" | "tif" => Ok(ScanFormat::Tiff),
                "pdf" => Ok(ScanFormat::Pdf),
                other => Err(format!("unknown scan format {other}")),
            })
            .collect::<Result<_, _>>()?;
    }
    match arg("--only").as_deref() {
        Some("digital") => spec.scans = false,
        Some("scan") => spec.digital = false,
        _ => {}
    }
    doc_corpus::bench::run(BenchOptions {
        spec,
        dir,
        runs,
        misses,
        generate_only: std::env::args().any(|a| a == "--generate-only"),
    })
    .map_err(|e| e as Box<dyn std::error::Error>)
}

/// Processes one file and prints what every step produced.
fn dump(file: &str) -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let engine = TesseractEngine::new(Arc::new(TesseractPool::new(1)));
    let bytes = std::fs::read(file)?;
    let name = std::path::Path::new(file).file_name().map(|n| n.to_string_lossy().into_owned());
    let processed = runtime.block_on(async {
        let upload =
            documents::intake::validate_upload(&bytes, name.as_deref(), &UploadLimits::default()).await?;
        let today = chrono::Utc::now().date_naive();
        Ok::<_, Box<dyn std::error::Error>>(
            documents::pipeline::process(&engine, &bytes, &upload, None, &Thresholds::default(), today)
                .await?,
        )
    })?;
    println!("{}\n----", processed.text.text);
    for table in &processed.tables {
        println!("table {:?}", table.columns.iter().map(|c| c.role).collect::<Vec<_>>());
        for row in &table.rows {
            println!(
                "  {:?}",
                row.cells.iter().map(|c| c.as_ref().map(|c| c.text.as_str())).collect::<Vec<_>>()
            );
        }
    }
    println!("{:?}", processed.classification);
    for f in &processed.extraction.fields {
        println!(
            "{:<32} {:<30} {:.2} {:?}",
            f.key,
            f.value.display(),
            f.confidence,
            f.span.map(|s| processed.text.slice(s))
        );
    }
    println!("{:?} {:.2}", processed.review.status, processed.review.document_confidence);
    for r in &processed.review.reasons {
        println!("  {:?} {:?} {}", r.code, r.field, r.message);
    }
    println!("{:?}", processed.timings);
    Ok(())
}
