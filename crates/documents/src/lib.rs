//! Documents: everything between an uploaded file and its reviewed fields. The tables are in
//! `store::documents`, the routes in the API; the pipeline runs on the `jobs` queue.
//!
//! # Layout
//! - [`kind`], [`intake`]: what a file is (from its bytes), upload limits and rejections, batch
//!   zips with per-file results.
//! - [`hash`], [`blob`], [`blobs`], [`thumbnail`]: content addresses, the durable local blob
//!   store (tenant in every path, encrypted at rest), its per-organization keys and sweep,
//!   thumbnails.
//! - [`poppler`]: `pdfinfo`/`pdftotext`/`pdftoppm`/`pdfdetach` subprocesses.
//! - [`span`], [`values`]: the leaves — byte ranges in the document text, and value parsers
//!   (amounts, dates, times, tax ids).
//! - [`detect`], [`render`], [`text`], [`layout`]: per-page text-layer-or-OCR plan, OCR words
//!   laid out as text, the document text with spans and OCR confidences, lines, cells and
//!   tables.
//! - [`ocr`]: the engine trait, Tesseract (default, in process) and Azure Document Intelligence.
//! - [`language`]: which of our languages a document is in (date order, labels, OCR data).
//! - [`classify`], [`fields`], [`extract`], [`validate`]: type, fields with spans and
//!   confidences, rules (the label finder over the layout, per language) and auto-approval.
//! - [`e_invoice`]: an upload that is or carries a structured e-invoice (Factur-X/ZUGFeRD,
//!   XRechnung, UBL/Peppol), read from its XML (the `einvoice` crate) instead of its text.
//! - [`pipeline`]: the steps one by one (each a checkpointable job step) and [`pipeline::process`].
//! - [`vendor_memory`]: what corrections of a vendor's document teach (where its fields sit, how
//!   its dates read, its name and currency), recognising its next documents and applying it.
//! - [`eval`]: accuracy and throughput on a labelled corpus.
//! - [`service`], [`jobs`]: the use cases over storage (uploads, lists, review, signed links) and
//!   the pipeline as a checkpointed job on the queue ([`jobs::register`]).
//! - [`vendor_memories`]: learning from corrections, the firm's vendor memories and forgetting
//!   one (use cases), and recalling a memory in the pipeline.
//! - [`batches`]: when an upload batch is finished (exactly once), its event and its notification.

pub mod batches;
pub mod blob;
pub mod blobs;
pub mod classify;
pub mod detect;
pub mod e_invoice;
pub mod eval;
pub mod extract;
pub mod fields;
pub mod hash;
pub mod intake;
pub mod jobs;
pub mod kind;
pub mod language;
pub mod layout;
pub mod ocr;
pub mod pipeline;
pub mod poppler;
pub mod render;
pub mod service;
pub mod span;
pub mod text;
pub mod thumbnail;
pub mod validate;
pub mod values;
pub mod vendor_memories;
pub mod vendor_memory;
pub mod words;

pub use blob::{BlobError, BlobStore, StoredBlob};
pub use blobs::{Blobs, SweepReport};
pub use classify::Classification;
pub use detect::Detection;
pub use fields::{DocType, ExtractedField, Extraction, FieldValue};
pub use hash::ContentHash;
pub use intake::{
    AcceptedUpload, BatchEntry, UploadError, UploadLimits, UploadRejection, expand_batch, validate_upload,
};
pub use kind::FileKind;
pub use ocr::{EngineId, OcrCacheKey, OcrEngine, OcrOutput};
pub use span::Span;
pub use text::DocumentText;
pub use validate::{Review, ReviewStatus, Thresholds};
