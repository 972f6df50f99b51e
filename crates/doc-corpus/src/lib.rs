//! A corpus we own: sample invoices, receipts, W-2s, 1099-NEC/MISC forms and bank statements
//! with known field values, in several layouts, as digital PDFs (real text layer) and as
//! scan-like images, each with a ground-truth JSON ([`documents::eval::GroundTruth`]) beside it.
//!
//! Deterministic: the same [`CorpusSpec`] (seed included) writes the same bytes. Every document
//! draws its values from its own random stream (seed, type, layout, index), so adding types or
//! documents does not change the others. Tools: `pdf-writer` for PDFs, poppler's `pdftoppm` to
//! rasterise scans, the `image` crate to degrade and encode them — all offline.
//!
//! # Layout
//! - [`values`]: plausible names, addresses, amounts, dates, tax ids.
//! - [`render`]: pages, fonts, PDF writing.
//! - `templates`: one module per document type, several layouts each.
//! - [`scan`]: rasterise and degrade.
//! - [`bench`]: the accuracy and throughput benchmark over a generated corpus, and the scoring of
//!   the real-world set.
//! - [`real`]: the real-world set (`real/manifest.toml`: invoices we did not generate).
//! - [`vendors`]: the vendor memory evaluation (three documents per vendor layout; one
//!   correction of the first, the next two scored).

pub mod bench;
pub mod real;
pub mod render;
pub mod scan;
mod templates;
pub mod values;
pub mod vendors;

use std::path::{Path, PathBuf};

use documents::eval::{GroundTruth, LabeledDocument, Variant};
use documents::fields::DocType;
use rand::SeedableRng;

pub use scan::ScanFormat;
pub use templates::{Drawn, layouts};

/// Draws one document of `doc_type` in `layout` from the random stream `seed`: its pages (what
/// was printed where) and the values printed. `None` for a type or layout we do not draw.
pub fn draw(doc_type: DocType, layout: usize, seed: u64) -> Option<Drawn> {
    templates::draw(doc_type, layout, &mut values::Rand::seed_from_u64(seed))
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct CorpusSpec {
    pub seed: u64,
    /// Documents per type and layout.
    pub per_layout: usize,
    pub types: Vec<DocType>,
    pub digital: bool,
    pub scans: bool,
    /// Scan formats, used in turn.
    pub scan_formats: Vec<ScanFormat>,
}

impl CorpusSpec {
    /// Every type we generate.
    pub const TYPES: [DocType; 6] = [
        DocType::Invoice,
        DocType::Receipt,
        DocType::W2,
        DocType::Form1099Nec,
        DocType::Form1099Misc,
        DocType::BankStatement,
    ];

    /// One document per type and layout, digital and scanned: seconds to make, for tests.
    pub fn small(seed: u64) -> CorpusSpec {
        CorpusSpec {
            seed,
            per_layout: 1,
            types: CorpusSpec::TYPES.to_vec(),
            digital: true,
            scans: true,
            scan_formats: vec![ScanFormat::Jpeg, ScanFormat::Png, ScanFormat::Pdf, ScanFormat::Tiff],
        }
    }

    /// `per_layout` documents per type and layout, for benchmarks.
    pub fn benchmark(seed: u64, per_layout: usize) -> CorpusSpec {
        CorpusSpec { per_layout, ..CorpusSpec::small(seed) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("writing {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Scan(#[from] scan::ScanError),
    #[error("truth JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// One document to make.
struct Job {
    doc_type: DocType,
    layout: usize,
    index: usize,
    /// Position in the whole corpus (picks the scan format).
    ordinal: usize,
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), CorpusError> {
    std::fs::write(path, bytes).map_err(|source| CorpusError::Io { path: path.to_path_buf(), source })
}

fn make(dir: &Path, spec: &CorpusSpec, job: &Job) -> Result<Vec<LabeledDocument>, CorpusError> {
    let type_index = CorpusSpec::TYPES.iter().position(|t| *t == job.doc_type).unwrap_or(0) as u64;
    let stream = spec
        .seed
        .wrapping_mul(1_000_003)
        .wrapping_add(type_index * 1_000_000 + job.layout as u64 * 10_000 + job.index as u64);
    let mut rng = values::Rand::seed_from_u64(stream);
    let Some(drawn) = templates::draw(job.doc_type, job.layout, &mut rng) else { return Ok(Vec::new()) };
    let pdf = render::write_pdf(&drawn.pages);
    let stem = format!("{}-{}-{:03}", job.doc_type, drawn.layout, job.index);
    let mut out = Vec::new();
    let mut emit =
        |file: String, bytes: &[u8], variant: Variant, layout: String| -> Result<(), CorpusError> {
            let path = dir.join(&file);
            write(&path, bytes)?;
            let truth = GroundTruth {
                doc_type: job.doc_type,
                variant,
                layout,
                file: file.clone(),
                pages: drawn.pages.len() as u32,
                fields: drawn.fields.clone(),
                language: None,
                split: None,
            };
            write(&dir.join(format!("{file}.truth.json")), &serde_json::to_vec_pretty(&truth)?)?;
            out.push(LabeledDocument { path, truth });
            Ok(())
        };
    if spec.digital {
        emit(format!("{stem}.pdf"), &pdf, Variant::Digital, drawn.layout.clone())?;
    }
    if spec.scans && !spec.scan_formats.is_empty() {
        let format = spec.scan_formats[job.ordinal % spec.scan_formats.len()];
        let degradation = scan::Degradation::random(&mut rng);
        let bytes = scan::scan(&pdf, format, degradation, &mut rng)?;
        let layout = format!("{}/{}dpi", drawn.layout, degradation.dpi);
        emit(format!("{stem}-scan.{}", format.extension()), &bytes, Variant::Scan, layout)?;
    }
    Ok(out)
}

/// Writes the corpus into `dir` (created if missing) and returns its documents, in a stable
/// order. Uses every core.
pub fn generate(dir: &Path, spec: &CorpusSpec) -> Result<Vec<LabeledDocument>, CorpusError> {
    std::fs::create_dir_all(dir).map_err(|source| CorpusError::Io { path: dir.to_path_buf(), source })?;
    let mut jobs = Vec::new();
    for &doc_type in &spec.types {
        for layout in 0..layouts(doc_type) {
            for index in 0..spec.per_layout {
                jobs.push(Job { doc_type, layout, index, ordinal: jobs.len() });
            }
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(jobs.len().max(1));
    let chunks: Vec<Vec<&Job>> =
        (0..threads).map(|t| jobs.iter().skip(t).step_by(threads).collect()).collect();
    type Made = Result<Vec<(usize, Vec<LabeledDocument>)>, CorpusError>;
    let results: Vec<Made> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk.iter().map(|job| make(dir, spec, job).map(|docs| (job.ordinal, docs))).collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Ok(Vec::new()))).collect()
    });
    let mut all: Vec<(usize, Vec<LabeledDocument>)> = Vec::new();
    for r in results {
        all.extend(r?);
    }
    all.sort_by_key(|(ordinal, _)| *ordinal);
    Ok(all.into_iter().flat_map(|(_, docs)| docs).collect())
}
