//! The pipeline as a durable job: `documents.process`, one per uploaded document, enqueued in the
//! upload's transaction by the upload use case (the `service` module, one layer up: it enqueues
//! [`ProcessDocument`], nothing here calls back). Every step is checkpointed in
//! `job_checkpoints` ([`jobs::JobContext::step`]), so a worker that stops or dies mid-document
//! is followed by one that resumes at the first unfinished step:
//!
//! ```text
//! start ─▶ detect ─▶ e-invoice ─▶ { text layer ∥ OCR page 1 ∥ OCR page 2 … } ─▶ { layout ∥ classify }
//!       ─▶ extract ─▶ vendor memory ─▶ validate ─▶ save (fields, status, text for search, event) + complete
//! ```
//! Local engines are called page by page (pages run in parallel, each its own checkpoint); a
//! provider is called once for the whole document. The last step writes the results, the
//! `processed` event, the batch's end when this was its last pending document
//! ([`crate::batches::settle`]) and the job's completion in one transaction: exactly once.

use std::sync::Arc;

use chrono::Utc;
use domain::{DocumentId, DocumentStatus, FieldOrigin, OrganizationId, VendorMemoryId};
use einvoice::Invoice;
use futures::future::try_join_all;
use jobs::scheduler::Schedule;
use jobs::{Job, JobContext, JobError, Registry};
use serde::{Deserialize, Serialize};
use store::documents::{self as rows, DocumentField, Results};
use store::{Actor, Db, TenantTx};

use crate::blobs::Blobs;
use crate::classify::Classification;
use crate::detect::{Detection, Processing};
use crate::fields::{DocType, ExtractedField, Extraction, FieldSource, is_sensitive, masked_for_display};
use crate::hash::ContentHash;
use crate::intake::AcceptedUpload;
use crate::layout::Table;
use crate::ocr::{OcrEngine, OcrOutput, OcrPage, OcrTimings};
use crate::pipeline::{self, PipelineError};
use crate::text::{DocumentText, PageText, TextOrigin};
use crate::validate::{Review, Thresholds};
use crate::vendor_memories::Recalled;

/// What the pipeline needs from the process: storage, the blobs and an OCR engine.
#[derive(Clone)]
pub struct PipelineDeps {
    pub db: Db,
    pub blobs: Blobs,
    pub engine: Arc<dyn OcrEngine>,
    pub thresholds: Thresholds,
    /// Call the engine page by page (local engines); false sends the document once (a provider).
    pub per_page: bool,
}

impl PipelineDeps {
    /// The embedded default: Tesseract in process, one engine per core, pages in parallel.
    pub fn local(db: Db, blobs: Blobs) -> PipelineDeps {
        let pool = Arc::new(crate::ocr::tesseract::TesseractPool::per_core());
        PipelineDeps {
            db,
            blobs,
            engine: Arc::new(crate::ocr::tesseract::TesseractEngine::new(pool)),
            thresholds: Thresholds::default(),
            per_page: true,
        }
    }
}

/// Registers the document jobs with a worker's registry.
pub fn register(registry: &mut Registry, deps: PipelineDeps) {
    registry.register(SweepAbandoned { db: deps.db.clone() });
    registry.register(SweepBlobs { blobs: deps.blobs.clone() });
    registry.register(ProcessDocument { deps });
}

/// The recurring jobs of the pipeline, for the scheduler.
pub fn schedules() -> Result<Vec<Schedule>, jobs::JobsError> {
    Ok(vec![
        Schedule::new::<SweepAbandoned>("documents-sweep-abandoned", "* * * * *", SweepPayload {})?,
        Schedule::new::<SweepBlobs>("documents-sweep-blobs", "17 * * * *", SweepPayload {})?,
    ])
}

/// How old an unreferenced blob must be before the sweep deletes it: far longer than any upload
/// takes (uploads in flight are also protected by their content locks, see [`crate::blobs`]).
pub const BLOB_SWEEP_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Every hour: deletes blobs no live document holds (refused or failed uploads the request could
/// not clean up, deleted documents), leftover temporary files, and encrypts legacy plaintext
/// blobs ([`Blobs::sweep`]). `countinghouse blobs sweep` runs the same on demand.
pub struct SweepBlobs {
    blobs: Blobs,
}

impl Job for SweepBlobs {
    const KIND: &'static str = "documents.sweep_blobs";
    const QUEUE: &'static str = QUEUE;
    const MAX_ATTEMPTS: i32 = 3;
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);
    type Payload = SweepPayload;

    async fn run(&self, _ctx: JobContext, _payload: SweepPayload) -> Result<(), JobError> {
        let report = self.blobs.sweep(BLOB_SWEEP_GRACE).await.map_err(JobError::retry)?;
        tracing::info!(?report, "blob sweep");
        Ok(())
    }
}

/// Fails the documents whose pipeline job died without its handler's last attempt, every minute.
///
/// A job's handler marks its document failed when its last attempt fails. But a worker killed
/// during the last attempt (say, by a page that crashes the OCR engine every time) never gets
/// there: the job queue's rescue dead-letters the job, and the document would stay `processing`
/// and its batch unfinished for ever. This finds those documents from the dead jobs (the 500 newest
/// each run) and fails them with the job's last error, settling their batches; a document that did
/// finish is left alone, so running it again changes nothing.
pub struct SweepAbandoned {
    db: Db,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SweepPayload {}

impl Job for SweepAbandoned {
    const KIND: &'static str = "documents.sweep_abandoned";
    const QUEUE: &'static str = QUEUE;
    const MAX_ATTEMPTS: i32 = 3;
    type Payload = SweepPayload;

    async fn run(&self, _ctx: JobContext, _payload: SweepPayload) -> Result<(), JobError> {
        sweep_abandoned(&self.db).await.map(|_| ())
    }
}

/// One sweep (see [`SweepAbandoned`]); returns how many documents it failed.
pub async fn sweep_abandoned(db: &Db) -> Result<usize, JobError> {
    let filter = jobs::admin::JobFilter {
        kind: Some(ProcessDocument::KIND.to_owned()),
        state: Some(jobs::JobState::Dead),
        limit: Some(500),
        ..Default::default()
    };
    let dead = jobs::admin::list_jobs(db.pool(), &filter).await.map_err(JobError::retry)?;
    let mut failed = 0;
    for job in dead {
        let Ok(p) = serde_json::from_value::<ProcessPayload>(job.payload) else { continue };
        let error = job.last_error.unwrap_or_else(|| "the pipeline job died".to_owned());
        let mut tx =
            TenantTx::begin(db, p.organization_id, Actor::system()).await.map_err(JobError::retry)?;
        if let Some(batch) =
            rows::fail_unfinished(&mut tx, p.document_id, &error).await.map_err(JobError::retry)?
        {
            crate::batches::settle(&mut tx, batch).await.map_err(JobError::retry)?;
            failed += 1;
        }
        tx.commit().await.map_err(JobError::retry)?;
    }
    Ok(failed)
}

/// The queue the pipeline runs on (its workers' concurrency bounds OCR per process).
pub const QUEUE: &str = "documents";

pub struct ProcessDocument {
    deps: PipelineDeps,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProcessPayload {
    pub organization_id: OrganizationId,
    pub document_id: DocumentId,
}

/// What the pipeline reads of the document row.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Start {
    process: bool,
    upload: Option<AcceptedUpload>,
    hint: Option<DocType>,
}

/// Wall times of the steps run in this attempt or saved by earlier ones.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct Timed<T> {
    value: T,
    ms: f64,
}

impl Job for ProcessDocument {
    const KIND: &'static str = "documents.process";
    const QUEUE: &'static str = QUEUE;
    const MAX_ATTEMPTS: i32 = 8;
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);
    type Payload = ProcessPayload;

    async fn run(&self, ctx: JobContext, p: ProcessPayload) -> Result<(), JobError> {
        match self.process(&ctx, &p).await {
            Ok(()) => Ok(()),
            Err(e) => {
                // Out of attempts or hopeless: the document shows the failure (and goes to review).
                let last = matches!(e, JobError::Fatal(_)) || ctx.attempt() >= ctx.max_attempts();
                if last {
                    let mut tx = self.tx(p.organization_id).await?;
                    let batch = rows::mark_failed(&mut tx, p.document_id, &e.to_string())
                        .await
                        .map_err(JobError::retry)?;
                    crate::batches::settle(&mut tx, batch).await.map_err(JobError::retry)?;
                    tx.commit().await.map_err(JobError::retry)?;
                }
                Err(e)
            }
        }
    }
}

fn timed<T>(value: T, started: std::time::Instant) -> Timed<T> {
    Timed { value, ms: started.elapsed().as_secs_f64() * 1000.0 }
}

fn step_error(e: PipelineError) -> JobError {
    if e.is_transient() { JobError::retry(e) } else { JobError::fatal(e) }
}

impl ProcessDocument {
    async fn tx(&self, org: OrganizationId) -> Result<TenantTx, JobError> {
        TenantTx::begin(&self.deps.db, org, Actor::system()).await.map_err(JobError::retry)
    }

    async fn process(&self, ctx: &JobContext, p: &ProcessPayload) -> Result<(), JobError> {
        let org = p.organization_id;
        let start: Start = ctx
            .step("start", || async {
                let mut tx = self.tx(org).await?;
                let process =
                    rows::start_processing(&mut tx, p.document_id).await.map_err(JobError::retry)?;
                let doc = rows::get(&mut tx, p.document_id, &domain::ClientScope::All).await;
                tx.commit().await.map_err(JobError::retry)?;
                let Ok(doc) = doc else { return Ok(Start { process: false, upload: None, hint: None }) };
                let hash: ContentHash = hex::encode(&doc.content_sha256)
                    .parse()
                    .map_err(|_| JobError::fatal("stored content hash is not 32 bytes"))?;
                let upload = AcceptedUpload {
                    kind: doc.kind,
                    hash,
                    size: doc.size_bytes as u64,
                    pages: doc.pages as u32,
                    image_dimensions: None,
                    file_name: Some(doc.file_name),
                };
                Ok(Start { process, upload: Some(upload), hint: doc.category_hint })
            })
            .await?;
        let (true, Some(upload)) = (start.process, start.upload) else {
            // Deleted, or finished by an earlier run: nothing to do.
            return Ok(());
        };
        let bytes = self.deps.blobs.get(org, &upload.hash).await.map_err(JobError::retry)?;

        let detection: Timed<Detection> = ctx
            .step("detect", || async {
                let t = std::time::Instant::now();
                Ok(timed(pipeline::detect(&bytes, &upload).await.map_err(step_error)?, t))
            })
            .await?;
        let detection_ms = detection.ms;
        let detection = detection.value;

        if detection.processing == Processing::StoreOnly {
            return self.finish_store_only(ctx, p, detection_ms).await;
        }
        let e_invoice: Timed<Option<Invoice>> = ctx
            .step("e_invoice", || async {
                let t = std::time::Instant::now();
                Ok(timed(pipeline::read_e_invoice(&bytes, &detection).await.map_err(step_error)?, t))
            })
            .await?;
        let invoice = e_invoice.value.as_ref();

        let text_layer = ctx.step("text_layer", || async {
            let t = std::time::Instant::now();
            Ok(timed(pipeline::extract_text_layer(&bytes, &detection).await.map_err(step_error)?, t))
        });
        // A step of its own (not part of "text_layer"): checkpoints written before word boxes
        // existed still read back.
        let text_layer_words = ctx.step("text_layer_words", || async {
            pipeline::extract_text_layer_words(&bytes, &detection).await.map_err(step_error)
        });
        let ocr = async {
            // An e-invoice's XML says everything: no page is recognised.
            if invoice.is_some() {
                return Ok(Timed { value: None, ms: 0.0 });
            }
            self.ocr(ctx, &bytes, &detection, start.hint).await
        };
        let (text_layer, text_layer_words, ocr): (
            Timed<Vec<String>>,
            Vec<OcrPage>,
            Timed<Option<OcrOutput>>,
        ) = tokio::try_join!(text_layer, text_layer_words, ocr)?;

        let text =
            pipeline::assemble_text(&detection, &text_layer.value, &text_layer_words, ocr.value.as_ref());
        let layout = ctx.step("layout", || async { Ok(pipeline::detect_layout(&text)) });
        let classify = ctx.step("classify", || async {
            Ok(pipeline::classify(&text, ocr.value.as_ref(), start.hint, invoice))
        });
        let (tables, classification): (Vec<Table>, Classification) = tokio::try_join!(layout, classify)?;
        let extraction: Extraction = ctx
            .step("extract", || async {
                Ok(pipeline::extract_fields(&text, &tables, &classification, ocr.value.as_ref(), invoice))
            })
            .await?;
        // The firm's memory of this vendor, when a person corrected one of its documents before
        // (never for an e-invoice: its XML is exact).
        let (extraction, recalled): (Extraction, Option<Recalled>) = ctx
            .step("vendor_memory", || async {
                let mut extraction = extraction.clone();
                if invoice.is_some() {
                    return Ok((extraction, None));
                }
                let mut tx = self.tx(org).await?;
                let recalled = crate::vendor_memories::recall(&mut tx, &text, &mut extraction)
                    .await
                    .map_err(JobError::retry)?;
                tx.commit().await.map_err(JobError::retry)?;
                Ok((extraction, recalled))
            })
            .await?;
        let review: Review = ctx
            .step("validate", || async {
                Ok(pipeline::review(
                    &extraction,
                    &classification,
                    &self.deps.thresholds,
                    Utc::now().date_naive(),
                ))
            })
            .await?;

        // Index (the text feeds the search vector) and notify (the event), with the completion.
        let timings = serde_json::json!({
            "detect_ms": detection_ms,
            "e_invoice_ms": e_invoice.ms,
            "e_invoice": invoice.map(Invoice::format_name),
            "text_layer_ms": text_layer.ms,
            "ocr_ms": ocr.ms,
            "ocr_pages": ocr.value.as_ref().map_or(0, |o| o.pages.len()),
            "engine": ocr.value.as_ref().map(|o| format!("{} {}", o.engine.name, o.engine.version)),
            "vendor_memory": recalled,
        });
        let reasons = serde_json::to_value(&review.reasons).map_err(JobError::fatal)?;
        let status =
            if review.needs_review() { DocumentStatus::NeedsReview } else { DocumentStatus::Approved };
        let fields = stored_fields(&extraction, &text);
        self.save(
            ctx,
            p,
            recalled.as_ref().map(|r| r.id),
            Results {
                status,
                doc_type: Some(classification.doc_type),
                type_confidence: Some(classification.confidence),
                document_confidence: Some(review.document_confidence),
                needs_review: review.needs_review(),
                review_reasons: reasons,
                step_timings: timings,
                extracted_text: Some(&text.text),
                fields,
            },
        )
        .await
    }

    /// The final transaction: results, the batch's end if this was its last pending document,
    /// and the job's completion.
    async fn save(
        &self,
        ctx: &JobContext,
        p: &ProcessPayload,
        memory: Option<VendorMemoryId>,
        results: Results<'_>,
    ) -> Result<(), JobError> {
        let mut tx = self.tx(p.organization_id).await?;
        if let Some(memory) = memory {
            store::vendor_memories::count_applied(&mut tx, memory).await.map_err(JobError::retry)?;
        }
        let doc = rows::save_results(&mut tx, p.document_id, results).await.map_err(JobError::retry)?;
        crate::batches::settle(&mut tx, doc.batch_id).await.map_err(JobError::retry)?;
        ctx.complete_in(tx.conn()).await?;
        tx.commit().await.map_err(JobError::retry)?;
        Ok(())
    }

    /// OCR of the pages without a text layer: page by page (each a checkpoint, in parallel)
    /// for a local engine, in one call for a provider. Never called for an e-invoice.
    async fn ocr(
        &self,
        ctx: &JobContext,
        bytes: &[u8],
        detection: &Detection,
        hint: Option<DocType>,
    ) -> Result<Timed<Option<OcrOutput>>, JobError> {
        let started = std::time::Instant::now();
        let engine = self.deps.engine.as_ref();
        if !self.deps.per_page {
            return ctx
                .step("ocr", || async {
                    Ok(timed(
                        pipeline::recognize(engine, bytes, detection, hint, None)
                            .await
                            .map_err(step_error)?,
                        started,
                    ))
                })
                .await;
        }
        let pages = detection.ocr_pages();
        if pages.is_empty() {
            return Ok(Timed { value: None, ms: 0.0 });
        }
        let names: Vec<String> = pages.iter().map(|page| format!("ocr.page.{page}")).collect();
        let outputs: Vec<Option<OcrOutput>> = try_join_all(pages.iter().zip(&names).map(|(&page, name)| {
            ctx.step(name, move || async move {
                let one = Detection {
                    pages: detection.pages.iter().filter(|p| p.number == page).cloned().collect(),
                    ..detection.clone()
                };
                pipeline::recognize(engine, bytes, &one, hint, None).await.map_err(step_error)
            })
        }))
        .await?;
        let mut merged: Option<OcrOutput> = None;
        for out in outputs.into_iter().flatten() {
            match &mut merged {
                None => merged = Some(out),
                Some(m) => {
                    m.pages.extend(out.pages);
                    m.timings = OcrTimings {
                        prepare_ms: m.timings.prepare_ms + out.timings.prepare_ms,
                        recognize_ms: m.timings.recognize_ms + out.timings.recognize_ms,
                    };
                }
            }
        }
        Ok(timed(merged, started))
    }

    /// DOCX/XLSX/CSV: kept, not read.
    async fn finish_store_only(
        &self,
        ctx: &JobContext,
        p: &ProcessPayload,
        detect_ms: f64,
    ) -> Result<(), JobError> {
        self.save(
            ctx,
            p,
            None,
            Results {
                status: DocumentStatus::Stored,
                doc_type: None,
                type_confidence: None,
                document_confidence: None,
                needs_review: false,
                review_reasons: serde_json::json!([]),
                step_timings: serde_json::json!({ "detect_ms": detect_ms }),
                extracted_text: None,
                fields: Vec::new(),
            },
        )
        .await
    }
}

/// The fields as stored, each with its source: sensitive ones (SSNs, TINs) only masked — the
/// full value never reaches the database.
pub fn stored_fields(extraction: &Extraction, text: &DocumentText) -> Vec<DocumentField> {
    let masked = masked_for_display(extraction);
    extraction
        .fields
        .iter()
        .zip(&masked.fields)
        .map(|(f, shown)| {
            let sensitive = is_sensitive(extraction.doc_type, &f.key);
            DocumentField {
                key: f.key.clone(),
                value: if sensitive { None } else { serde_json::to_value(&f.value).ok() },
                display: shown.value.display(),
                masked: sensitive,
                confidence: f.confidence,
                span_start: f.span.map(|s| s.start as i32),
                span_end: f.span.map(|s| s.end as i32),
                region: f.region.filter(domain::Region::is_valid),
                source: Some(origin(f, text)),
                corrected_by: None,
                corrected_at: None,
            }
        })
        .collect()
}

/// Where a field's value came from: its source, and for our rules the page it was read on (a
/// field without a span counts as read from the text layer unless every page was recognised).
fn origin(field: &ExtractedField, text: &DocumentText) -> FieldOrigin {
    match &field.source {
        FieldSource::EInvoice { .. } => FieldOrigin::EInvoice,
        FieldSource::Provider { .. } => FieldOrigin::Provider,
        FieldSource::VendorMemory => FieldOrigin::VendorMemory,
        FieldSource::Rules => {
            let page = field.span.and_then(|s| text.page_of(s.start));
            let ocr = |p: &PageText| matches!(p.origin, TextOrigin::Ocr { .. });
            let read_by_ocr = match page {
                Some(p) => ocr(p),
                None => !text.pages.is_empty() && text.pages.iter().all(ocr),
            };
            if read_by_ocr { FieldOrigin::Ocr } else { FieldOrigin::TextLayer }
        }
    }
}
