//! Accuracy and throughput on a labelled corpus (what `countinghouse bench documents` reports).
//!
//! Each corpus file has a ground-truth JSON beside it ([`GroundTruth`], written by the
//! `doc-corpus` generator). Every document goes through the whole path an upload takes —
//! validation, durable storage (when a store is given), and [`crate::pipeline::process`] — with
//! `concurrency` documents in flight. Per document type and variant (digital PDF or scan) we
//! count fields: a predicted field is right when its value [`FieldValue::matches`] the truth;
//! precision = right / predicted, recall = right / expected ("fields right"). A document of the
//! wrong type scores all its expected fields as missed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use domain::ids::OrganizationId;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::blob::BlobStore;
use crate::fields::{DocType, FieldValue};
use crate::intake::{UploadLimits, validate_upload};
use crate::ocr::OcrEngine;
use crate::pipeline::{Processed, process};
use crate::validate::Thresholds;

/// How a corpus document was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// A PDF with a real text layer.
    Digital,
    /// A degraded raster (image file or image-only PDF): needs OCR.
    Scan,
}

/// The truth about one corpus document, stored as `<file>.truth.json` beside it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    pub doc_type: DocType,
    pub variant: Variant,
    /// The template it was rendered with (reports break accuracy down by it).
    pub layout: String,
    /// The document's file name, relative to the truth file's directory.
    pub file: String,
    pub pages: u32,
    pub fields: BTreeMap<String, FieldValue>,
    /// The document's language (ISO 639-1) and its split (`dev`, `held_out`), for sets scored per
    /// split and language (the real-world set); none for the generated corpus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
}

#[derive(Clone, Debug)]
pub struct LabeledDocument {
    pub path: PathBuf,
    pub truth: GroundTruth,
}

/// Reads every `*.truth.json` in `dir` (sorted by name).
pub fn load_corpus(dir: &Path) -> std::io::Result<Vec<LabeledDocument>> {
    let mut docs = Vec::new();
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if !path.to_string_lossy().ends_with(".truth.json") {
            continue;
        }
        let truth: GroundTruth = serde_json::from_slice(&std::fs::read(&path)?).map_err(|e| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))
        })?;
        docs.push(LabeledDocument { path: dir.join(&truth.file), truth });
    }
    Ok(docs)
}

/// Field counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldCounts {
    pub expected: usize,
    pub predicted: usize,
    pub correct: usize,
}

impl FieldCounts {
    pub fn precision(&self) -> f64 {
        if self.predicted == 0 { 1.0 } else { self.correct as f64 / self.predicted as f64 }
    }
    pub fn recall(&self) -> f64 {
        if self.expected == 0 { 1.0 } else { self.correct as f64 / self.expected as f64 }
    }
    fn add(&mut self, other: FieldCounts) {
        self.expected += other.expected;
        self.predicted += other.predicted;
        self.correct += other.correct;
    }
}

/// Results for one document type and variant.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TypeReport {
    pub documents: usize,
    pub classified_right: usize,
    pub needs_review: usize,
    pub failed: usize,
    pub fields: FieldCounts,
}

/// A field the pipeline got wrong (for reading what to fix).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldMiss {
    pub file: String,
    pub key: String,
    pub expected: Option<FieldValue>,
    pub got: Option<FieldValue>,
}

/// Throughput of one variant's run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    pub documents: usize,
    pub pages: u64,
    pub wall_seconds: f64,
    pub documents_per_second: f64,
    pub pages_per_hour: f64,
    /// Upload-to-fields latency of one document under this load, milliseconds.
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    /// Σ time in OCR recognition proper.
    pub recognize_ms: f64,
    /// Σ time outside recognition proper (validation, storage, detection, text layer,
    /// rasterising/decoding, layout, classification, extraction, validation).
    pub outside_recognize_ms: f64,
    /// Σ time pages waited for a free engine (queueing under load; not overhead).
    pub engine_wait_ms: f64,
    /// Σ time preparing pages for the engine (decode or rasterise, deskew, rule removal); part of
    /// `outside_recognize_ms`.
    pub prepare_ms: f64,
}

impl Throughput {
    /// Time outside recognition as a share of recognition time (the "overhead").
    pub fn overhead_ratio(&self) -> Option<f64> {
        (self.recognize_ms > 0.0).then(|| self.outside_recognize_ms / self.recognize_ms)
    }

    /// Time outside the whole OCR step (preparing pages and recognising them: the issue's "rasterize
    /// + OCR" node) as a share of that step: detection, the text layer and analysis.
    pub fn outside_ocr_step_ratio(&self) -> Option<f64> {
        let ocr = self.recognize_ms + self.prepare_ms;
        (self.recognize_ms > 0.0).then(|| (self.outside_recognize_ms - self.prepare_ms) / ocr)
    }
}

/// Results for one split and language of a set scored that way: documents typed right, and each
/// field's counts under its column name ([`field_column`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SetReport {
    pub documents: usize,
    pub classified_right: usize,
    pub failed: usize,
    pub fields: BTreeMap<String, FieldCounts>,
    /// Documents the review step approved without a person.
    #[serde(default)]
    pub auto_approved: usize,
    /// Of those, the ones a person would have had to fix: the type wrong, or a field the truth
    /// names wrong or missing.
    #[serde(default)]
    pub auto_approved_wrong: usize,
}

/// The columns of the per-split table, in order.
pub const SET_COLUMNS: [&str; 6] = ["total", "date", "number", "vendor", "currency", "tax"];

/// The column a field key is reported under: the same meaning has different keys per type (an
/// invoice's `invoice_date`, a receipt's `date`). `None` for fields not in the table.
pub fn field_column(key: &str) -> Option<&'static str> {
    Some(match key {
        "total" => "total",
        "invoice_date" | "date" => "date",
        "invoice_number" => "number",
        "vendor_name" | "merchant_name" | "payer_name" | "employer_name" => "vendor",
        "currency" => "currency",
        "tax" => "tax",
        _ => return None,
    })
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub engine: String,
    pub per_type: BTreeMap<Variant, BTreeMap<DocType, TypeReport>>,
    /// Split → language → results, for documents whose truth names both.
    #[serde(default)]
    pub per_set: BTreeMap<String, BTreeMap<String, SetReport>>,
    pub throughput: BTreeMap<Variant, Throughput>,
    pub misses: Vec<FieldMiss>,
    pub errors: Vec<(String, String)>,
}

impl EvalReport {
    /// All fields of one variant.
    pub fn fields(&self, variant: Variant) -> FieldCounts {
        let mut total = FieldCounts::default();
        for report in self.per_type.get(&variant).into_iter().flat_map(|m| m.values()) {
            total.add(report.fields);
        }
        total
    }

    /// A Markdown table per variant (for BENCHMARKS.md).
    pub fn to_markdown(&self) -> String {
        let mut out = format!("Engine: {}\n\n", self.engine);
        for (variant, types) in &self.per_type {
            out.push_str(&format!(
                "### {variant:?}\n\n| type | docs | classified right | fields expected | precision | recall (fields right) | needs review |\n|---|---:|---:|---:|---:|---:|---:|\n"
            ));
            for (t, r) in types {
                out.push_str(&format!(
                    "| {t} | {} | {} | {} | {:.1}% | {:.1}% | {} |\n",
                    r.documents,
                    r.classified_right,
                    r.fields.expected,
                    r.fields.precision() * 100.0,
                    r.fields.recall() * 100.0,
                    r.needs_review
                ));
            }
            let all = self.fields(*variant);
            out.push_str(&format!(
                "| **all** | | | {} | {:.1}% | {:.1}% | |\n\n",
                all.expected,
                all.precision() * 100.0,
                all.recall() * 100.0
            ));
            if let Some(t) = self.throughput.get(variant) {
                out.push_str(&format!(
                    "{} documents ({} pages) in {:.2} s: {:.1} documents/s, {:.0} pages/hour; latency p50 {:.0} ms, p99 {:.0} ms; time outside OCR recognition {}; outside the whole OCR step (preparing pages + recognition) {}; recognition {:.1} s, waiting for an engine {:.1} s (summed over documents)\n\n",
                    t.documents,
                    t.pages,
                    t.wall_seconds,
                    t.documents_per_second,
                    t.pages_per_hour,
                    t.latency_p50_ms,
                    t.latency_p99_ms,
                    t.overhead_ratio().map_or("n/a (no OCR)".into(), |r| format!("{:.1}% of recognition time", r * 100.0)),
                    t.outside_ocr_step_ratio().map_or("n/a".into(), |r| format!("{:.1}% of it", r * 100.0)),
                    t.recognize_ms / 1000.0,
                    t.engine_wait_ms / 1000.0,
                ));
            }
        }
        out
    }
}

impl EvalReport {
    /// A Markdown table per split (rows: languages, then all), cells `right/expected` per column;
    /// "type" counts documents. Empty when no document names a split.
    pub fn sets_markdown(&self) -> String {
        let mut out = String::new();
        for (split, languages) in &self.per_set {
            out.push_str(&format!("### {split}\n\n| language | docs | type |"));
            for column in SET_COLUMNS {
                out.push_str(&format!(" {column} |"));
            }
            out.push_str(" auto-approved | of those, wrong |");
            out.push_str("\n|---|---:|---:|");
            out.push_str(&"---:|".repeat(SET_COLUMNS.len() + 2));
            out.push('\n');
            let mut all = SetReport::default();
            for (language, r) in languages {
                out.push_str(&set_row(language, r));
                all.documents += r.documents;
                all.classified_right += r.classified_right;
                all.failed += r.failed;
                all.auto_approved += r.auto_approved;
                all.auto_approved_wrong += r.auto_approved_wrong;
                for (column, counts) in &r.fields {
                    all.fields.entry(column.clone()).or_default().add(*counts);
                }
            }
            out.push_str(&set_row("**all**", &all));
            out.push('\n');
        }
        out
    }
}

fn set_row(label: &str, r: &SetReport) -> String {
    let cell = |right: usize, of: usize| {
        if of == 0 {
            "–".to_string()
        } else {
            format!("{right}/{of} ({:.0}%)", right as f64 * 100.0 / of as f64)
        }
    };
    let mut row = format!("| {label} | {} | {} |", r.documents, cell(r.classified_right, r.documents));
    for column in SET_COLUMNS {
        let c = r.fields.get(column).copied().unwrap_or_default();
        row.push_str(&format!(" {} |", cell(c.correct, c.expected)));
    }
    row.push_str(&format!(
        " {} | {} |",
        cell(r.auto_approved, r.documents),
        cell(r.auto_approved_wrong, r.auto_approved)
    ));
    row.push('\n');
    row
}

/// How to run an evaluation.
#[derive(Clone)]
pub struct EvalOptions {
    /// Documents in flight at once (the number of cores).
    pub concurrency: usize,
    pub thresholds: Thresholds,
    pub limits: UploadLimits,
    /// "Today" for date sanity checks.
    pub today: NaiveDate,
    /// Store each upload durably and encrypted first (as an upload would), when given.
    pub store: Option<(BlobStore, OrganizationId, vault::DataKey)>,
}

struct Outcome {
    truth: GroundTruth,
    name: String,
    result: Result<Processed, String>,
    latency_ms: f64,
}

async fn run_one(doc: &LabeledDocument, engine: &dyn OcrEngine, options: &EvalOptions) -> Outcome {
    let name = doc.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let started = Instant::now();
    let result = async {
        let bytes = tokio::fs::read(&doc.path).await.map_err(|e| e.to_string())?;
        let before_pipeline = Instant::now();
        let upload =
            validate_upload(&bytes, Some(&name), &options.limits).await.map_err(|e| e.to_string())?;
        if let Some((store, org, key)) = &options.store {
            let (store, org, key, data) = (store.clone(), *org, key.clone(), bytes.clone());
            tokio::task::spawn_blocking(move || store.put(org, &key, &data))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
        }
        let intake_ms = before_pipeline.elapsed().as_secs_f64() * 1000.0;
        let mut processed = process(engine, &bytes, &upload, None, &options.thresholds, options.today)
            .await
            .map_err(|e| e.to_string())?;
        // Count upload validation and storage as time outside recognition.
        processed.timings.detect_ms += intake_ms;
        Ok::<_, String>(processed)
    }
    .await;
    Outcome { truth: doc.truth.clone(), name, result, latency_ms: started.elapsed().as_secs_f64() * 1000.0 }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Evaluates the engine and pipeline on `docs`, one variant after the other (so each variant's
/// throughput is measured alone).
pub async fn evaluate(
    docs: &[LabeledDocument],
    engine: Arc<dyn OcrEngine>,
    options: &EvalOptions,
) -> EvalReport {
    let mut report =
        EvalReport { engine: format!("{} {}", engine.id().name, engine.id().version), ..Default::default() };
    for variant in [Variant::Digital, Variant::Scan] {
        let subset: Vec<&LabeledDocument> = docs.iter().filter(|d| d.truth.variant == variant).collect();
        if subset.is_empty() {
            continue;
        }
        let started = Instant::now();
        let outcomes: Vec<Outcome> = futures::stream::iter(subset.iter().map(|d| {
            let engine = Arc::clone(&engine);
            async move { run_one(d, engine.as_ref(), options).await }
        }))
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
        let wall_seconds = started.elapsed().as_secs_f64();
        let mut latencies: Vec<f64> = outcomes.iter().map(|o| o.latency_ms).collect();
        latencies.sort_by(f64::total_cmp);
        let pages: u64 = subset.iter().map(|d| u64::from(d.truth.pages)).sum();
        let mut throughput = Throughput {
            documents: subset.len(),
            pages,
            wall_seconds,
            documents_per_second: subset.len() as f64 / wall_seconds,
            pages_per_hour: pages as f64 / wall_seconds * 3600.0,
            latency_p50_ms: percentile(&latencies, 50.0),
            latency_p99_ms: percentile(&latencies, 99.0),
            ..Default::default()
        };
        let types = report.per_type.entry(variant).or_default();
        for outcome in outcomes {
            let entry = types.entry(outcome.truth.doc_type).or_default();
            entry.documents += 1;
            let expected = outcome.truth.fields.len();
            let mut set = match (&outcome.truth.split, &outcome.truth.language) {
                (Some(split), Some(language)) => {
                    let set =
                        report.per_set.entry(split.clone()).or_default().entry(language.clone()).or_default();
                    set.documents += 1;
                    for column in outcome.truth.fields.keys().filter_map(|k| field_column(k)) {
                        set.fields.entry(column.to_string()).or_default().expected += 1;
                    }
                    Some(set)
                }
                _ => None,
            };
            let processed = match outcome.result {
                Ok(p) => p,
                Err(e) => {
                    if let Some(set) = set.as_deref_mut() {
                        set.failed += 1;
                    }
                    entry.failed += 1;
                    entry.fields.expected += expected;
                    report.errors.push((outcome.name, e));
                    continue;
                }
            };
            throughput.recognize_ms += processed.timings.ocr_recognize_ms;
            throughput.outside_recognize_ms += processed.timings.outside_recognition_ms();
            throughput.engine_wait_ms += processed.timings.engine_wait_ms();
            throughput.prepare_ms += processed.timings.ocr_prepare_ms;
            if processed.review.needs_review() {
                entry.needs_review += 1;
            }
            let right_type = processed.classification.doc_type == outcome.truth.doc_type;
            entry.classified_right += usize::from(right_type);
            let mut counts = FieldCounts { expected, ..Default::default() };
            let predicted = if right_type { processed.extraction.fields.as_slice() } else { &[] };
            counts.predicted = predicted.len();
            if let Some(set) = set.as_deref_mut() {
                set.classified_right += usize::from(right_type);
                if !processed.review.needs_review() {
                    set.auto_approved += 1;
                    let all_right = right_type
                        && outcome.truth.fields.iter().all(|(key, value)| {
                            predicted.iter().any(|f| &f.key == key && value.matches(&f.value))
                        });
                    set.auto_approved_wrong += usize::from(!all_right);
                }
            }
            for field in predicted {
                let truth = outcome.truth.fields.get(&field.key);
                let right = truth.is_some_and(|t| t.matches(&field.value));
                if let (Some(set), Some(column)) = (set.as_deref_mut(), field_column(&field.key)) {
                    let column = set.fields.entry(column.to_string()).or_default();
                    column.predicted += 1;
                    column.correct += usize::from(right);
                }
                if right {
                    counts.correct += 1;
                } else {
                    report.misses.push(FieldMiss {
                        file: outcome.name.clone(),
                        key: field.key.clone(),
                        expected: truth.cloned(),
                        got: Some(field.value.clone()),
                    });
                }
            }
            for (key, value) in &outcome.truth.fields {
                if !predicted.iter().any(|f| &f.key == key) {
                    report.misses.push(FieldMiss {
                        file: outcome.name.clone(),
                        key: key.clone(),
                        expected: Some(value.clone()),
                        got: None,
                    });
                }
            }
            entry.fields.add(counts);
        }
        report.throughput.insert(variant, throughput);
    }
    report
}
