//! The documents benchmark (`countinghouse bench documents`, and the `documents_bench` example):
//! generates a corpus, runs the evaluation with local OCR `runs` times, and prints each run's
//! throughput and the report of the run with the median scan throughput.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use documents::blob::BlobStore;
use documents::eval::{EvalOptions, EvalReport, Variant, evaluate};
use documents::intake::UploadLimits;
use documents::ocr::OcrEngine;
use documents::ocr::tesseract::{TesseractEngine, TesseractPool};
use documents::validate::Thresholds;

use crate::{CorpusSpec, generate};

/// The evaluation settings of both benchmarks: `cores` documents in flight, each upload stored
/// encrypted under `store_dir` first.
fn eval_options(cores: usize, store_dir: &Path) -> EvalOptions {
    EvalOptions {
        concurrency: cores,
        thresholds: Thresholds::default(),
        limits: UploadLimits::default(),
        today: chrono::Utc::now().date_naive(),
        store: Some((BlobStore::new(store_dir), domain::OrganizationId::new(), vault::DataKey::generate())),
    }
}

/// Scores the real-world set (`crate::real`, read from `dir`) once with local OCR, per split,
/// language and field, then the vendor memory evaluation ([`crate::vendors`]); builds its own
/// runtime like [`run`].
pub fn run_real(dir: &Path, misses: Option<&str>) -> BenchResult<EvalReport> {
    let docs = crate::real::load(dir)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(cores).enable_all().build()?;
    let engine: Arc<dyn OcrEngine> = Arc::new(TesseractEngine::new(Arc::new(TesseractPool::new(cores))));
    let store_dir = tempfile::tempdir()?;
    let report = runtime.block_on(evaluate(&docs, engine, &eval_options(cores, store_dir.path())));
    println!("\n## Real-world documents ({} documents, {cores} cores)\n", docs.len());
    print!("{}", report.sets_markdown());
    for (file, error) in &report.errors {
        println!("error: {file}: {error}");
    }
    // Misses of one split only: the held-out split's are never printed for tuning.
    if let Some(split) = misses {
        let files: Vec<&str> = docs
            .iter()
            .filter(|d| d.truth.split.as_deref() == Some(split))
            .map(|d| d.truth.file.as_str())
            .collect();
        for miss in report.misses.iter().filter(|m| files.contains(&m.file.as_str())) {
            println!("miss: {} {}: expected {:?}, got {:?}", miss.file, miss.key, miss.expected, miss.got);
        }
    }
    drop(runtime);
    // After one correction, the vendor's next documents (see `crate::vendors`).
    let vendors = crate::vendors::run(VENDOR_SEED, Some(dir))?;
    crate::vendors::print(&vendors, misses.is_some());
    Ok(report)
}

/// The seed of the vendor memory evaluation's documents in `bench documents-real`.
pub const VENDOR_SEED: u64 = 16;

pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// What to run.
pub struct BenchOptions {
    pub spec: CorpusSpec,
    /// Where the corpus is written (a temporary directory when unset).
    pub dir: Option<PathBuf>,
    pub runs: usize,
    /// Wrong fields to print.
    pub misses: usize,
    /// Only write the corpus (kept in `dir`).
    pub generate_only: bool,
}

/// Runs the benchmark, printing progress and the Markdown report to stdout. Builds its own
/// runtime: call it from a plain thread, not from inside an async runtime.
pub fn run(options: BenchOptions) -> BenchResult<()> {
    let temp = tempfile::tempdir()?;
    let dir = options.dir.clone().unwrap_or_else(|| temp.path().to_path_buf());
    let started = std::time::Instant::now();
    let docs = generate(&dir, &options.spec)?;
    println!(
        "generated {} documents in {} in {:.1} s",
        docs.len(),
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    if options.generate_only {
        // Kept for the caller to look at.
        std::mem::forget(temp);
        return Ok(());
    }

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(cores).enable_all().build()?;
    let engine: Arc<dyn OcrEngine> = Arc::new(TesseractEngine::new(Arc::new(TesseractPool::new(cores))));
    let store_dir = tempfile::tempdir()?;
    let eval = eval_options(cores, store_dir.path());
    let mut reports: Vec<EvalReport> = Vec::new();
    for run in 0..options.runs.max(1) {
        let report = runtime.block_on(evaluate(&docs, Arc::clone(&engine), &eval));
        for (variant, t) in &report.throughput {
            println!(
                "run {}: {variant:?}: {:.2} docs/s, {:.0} pages/h, outside recognition {:.1}%, outside the OCR step {:.1}%",
                run + 1,
                t.documents_per_second,
                t.pages_per_hour,
                t.overhead_ratio().unwrap_or(0.0) * 100.0,
                t.outside_ocr_step_ratio().unwrap_or(0.0) * 100.0
            );
        }
        reports.push(report);
    }
    // The median run by scan throughput (digital throughput when there are no scans).
    let key = |r: &EvalReport| {
        r.throughput
            .get(&Variant::Scan)
            .or_else(|| r.throughput.get(&Variant::Digital))
            .map_or(0.0, |t| t.documents_per_second)
    };
    reports.sort_by(|a, b| key(a).total_cmp(&key(b)));
    let median = &reports[reports.len() / 2];
    println!("\n## Documents benchmark (median of {} runs, {cores} cores)\n", reports.len());
    print!("{}", median.to_markdown());
    for (variant, t) in &median.throughput {
        let per_run: Vec<f64> = reports
            .iter()
            .filter_map(|r| r.throughput.get(variant))
            .map(|t| t.documents_per_second)
            .collect();
        println!("{variant:?} documents/s per run: {per_run:.2?}; median run p50 {:.0} ms", t.latency_p50_ms);
    }
    for (file, error) in &median.errors {
        println!("error: {file}: {error}");
    }
    for miss in median.misses.iter().take(options.misses) {
        println!("miss: {} {}: expected {:?}, got {:?}", miss.file, miss.key, miss.expected, miss.got);
    }
    Ok(())
}
