//! OCR engines behind one trait.
//!
//! An engine turns the pages of a PDF or image that need OCR into positioned words with
//! confidences ([`OcrPage`]); the layout step lays them out as text. Two engines:
//! - [`tesseract::TesseractEngine`]: Tesseract in process, the default; a pool of engines, one
//!   per core, each single-threaded, pages recognised in parallel.
//! - [`azure::AzureEngine`]: Azure AI Document Intelligence over REST, one analyze call per
//!   document; with a prebuilt model it also returns typed fields ([`ProviderExtraction`]).
//!
//! Results are cacheable by [`OcrCacheKey`]: same tenant, same bytes, same engine and version ⇒
//! same output.

pub mod azure;
pub mod preprocess;
pub mod tesseract;

use domain::ids::OrganizationId;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::fields::{DocType, FieldValue};
use crate::hash::ContentHash;
use crate::kind::FileKind;
use crate::poppler::PopplerError;
pub use crate::words::{BBox, OcrPage, OcrWord};

/// An engine and the version of everything that shapes its output (library, model, settings).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EngineId {
    pub name: String,
    pub version: String,
}

/// The key of the OCR result cache: a re-upload or re-run with the same engine costs nothing.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OcrCacheKey {
    pub organization: OrganizationId,
    pub content: ContentHash,
    pub engine: String,
    pub engine_version: String,
}

impl OcrCacheKey {
    pub fn new(organization: OrganizationId, content: ContentHash, engine: &EngineId) -> OcrCacheKey {
        OcrCacheKey {
            organization,
            content,
            engine: engine.name.clone(),
            engine_version: engine.version.clone(),
        }
    }

    /// A flat form for key-value caches (`ocr:{org}:{hash}:{engine}:{version}`).
    pub fn to_cache_string(&self) -> String {
        format!("ocr:{}:{}:{}:{}", self.organization, self.content, self.engine, self.engine_version)
    }
}

/// A field as a provider's prebuilt model read it; `words` locate it in the page words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderField {
    pub key: String,
    pub value: FieldValue,
    pub confidence: f32,
    /// (page number, word index) of the words the field was read from.
    pub words: Vec<(u32, u32)>,
}

/// What a provider's prebuilt model extracted (Azure's `documents[0]`), mapped to our keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderExtraction {
    pub doc_type: DocType,
    pub model: String,
    pub confidence: f32,
    pub fields: Vec<ProviderField>,
}

/// Time spent inside an engine, for the overhead figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OcrTimings {
    /// Rasterising and decoding pages (ours).
    pub prepare_ms: f64,
    /// Recognition proper (Tesseract's work, or the provider round trips).
    pub recognize_ms: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OcrOutput {
    pub engine: EngineId,
    pub pages: Vec<OcrPage>,
    pub provider: Option<ProviderExtraction>,
    pub timings: OcrTimings,
}

/// What to recognise.
#[derive(Clone, Copy, Debug)]
pub struct OcrRequest<'a> {
    pub bytes: &'a [u8],
    pub kind: FileKind,
    /// 1-based pages to recognise.
    pub pages: &'a [u32],
    /// The document type if already known (a category given at upload): lets a provider pick
    /// a prebuilt model that also returns fields.
    pub hint: Option<DocType>,
}

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error("OCR engine failed: {0}")]
    Engine(String),
    #[error("cannot read page image: {0}")]
    Image(String),
    #[error(transparent)]
    Pdf(#[from] PopplerError),
    #[error(transparent)]
    Azure(#[from] azure::AzureError),
    #[error("{0} files are not OCR input")]
    NotOcrInput(FileKind),
}

impl OcrError {
    /// Whether trying again later may succeed (the job queue retries these).
    pub fn is_transient(&self) -> bool {
        match self {
            OcrError::Azure(e) => e.is_transient(),
            OcrError::Pdf(PopplerError::Timeout { .. } | PopplerError::Spawn { .. }) => true,
            _ => false,
        }
    }
}

/// An OCR engine. Implementations are shared by all workers of a process.
pub trait OcrEngine: Send + Sync {
    fn id(&self) -> EngineId;
    /// The engine and version a request's result is cached under (a provider may use a
    /// different model per request).
    fn cache_id(&self, request: &OcrRequest<'_>) -> EngineId {
        let _ = request;
        self.id()
    }
    fn recognize<'a>(&'a self, request: OcrRequest<'a>) -> BoxFuture<'a, Result<OcrOutput, OcrError>>;
}
