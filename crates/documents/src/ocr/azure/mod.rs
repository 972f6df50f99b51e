//! Azure AI Document Intelligence (formerly Form Recognizer) as an OCR engine.
//!
//! One analyze call per document — never the reference system's four (read, model, read,
//! layout): when the type is known up front (a category given at upload) we call that type's
//! prebuilt model, whose answer has the words *and* typed fields; otherwise `prebuilt-layout`,
//! whose words feed our own classifier and extractors. Either way the words become
//! [`OcrPage`]s, laid out like every other engine's.
//!
//! # Layout
//! - [`client`]: the REST protocol (submit, 202 + `Operation-Location`, polling, retries).
//! - [`gate`]: the rate limits and circuit breaker every call passes, shared by all workers.
//! - [`model`]: the JSON of results and errors.
//! - [`mapping`]: result → pages of words and our fields.

pub mod client;
pub mod gate;
pub mod mapping;
pub mod model;

use futures::future::BoxFuture;

pub use client::{AnalyzeOptions, ApiVersion, AzureClient, AzureConfig, AzureError};
pub use gate::{AzureGate, CallKind, CallOutcome, GateLimits, GateRefusal, GateStores, RedisStore};

use crate::fields::DocType;

/// Whether this build speaks TLS (the `rustls` feature): without it only `http://` endpoints
/// (local stand-ins) can be reached, and [`AzureClient::new`] refuses an `https://` one.
pub const TLS: bool = cfg!(feature = "rustls");
use crate::ocr::{EngineId, OcrEngine, OcrError, OcrOutput, OcrRequest, OcrTimings};

/// The prebuilt model for a known document type (or layout when unknown or not offered by the
/// API version).
pub fn model_for(hint: Option<DocType>, version: ApiVersion) -> &'static str {
    let v4 = version == ApiVersion::V2024_11_30;
    match hint {
        Some(DocType::W2) => "prebuilt-tax.us.w2",
        Some(DocType::Invoice) => "prebuilt-invoice",
        Some(DocType::Receipt) => "prebuilt-receipt",
        Some(DocType::Form1099Nec) if v4 => "prebuilt-tax.us.1099NEC",
        Some(DocType::Form1099Misc) if v4 => "prebuilt-tax.us.1099MISC",
        Some(DocType::TaxReturn1040) if v4 => "prebuilt-tax.us.1040",
        _ => "prebuilt-layout",
    }
}

/// Compresses sorted page numbers to the service's `pages` syntax (`1-3,5`).
fn page_ranges(pages: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < pages.len() {
        let start = pages[i];
        let mut end = start;
        while i + 1 < pages.len() && pages[i + 1] == end + 1 {
            i += 1;
            end = pages[i];
        }
        out.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
        i += 1;
    }
    out.join(",")
}

/// The Azure [`OcrEngine`].
pub struct AzureEngine {
    client: AzureClient,
}

impl AzureEngine {
    pub fn new(client: AzureClient) -> AzureEngine {
        AzureEngine { client }
    }

    fn engine_id(&self, model: &str) -> EngineId {
        EngineId {
            name: "azure-docintel".into(),
            version: format!("{}/{model}", self.client.config().api_version.as_str()),
        }
    }
}

impl OcrEngine for AzureEngine {
    fn id(&self) -> EngineId {
        self.engine_id("prebuilt-layout")
    }

    fn cache_id(&self, request: &OcrRequest<'_>) -> EngineId {
        self.engine_id(model_for(request.hint, self.client.config().api_version))
    }

    fn recognize<'a>(&'a self, request: OcrRequest<'a>) -> BoxFuture<'a, Result<OcrOutput, OcrError>> {
        Box::pin(async move {
            if !request.kind.is_ocr_input() {
                return Err(OcrError::NotOcrInput(request.kind));
            }
            let model = model_for(request.hint, self.client.config().api_version);
            let mut pages = request.pages.to_vec();
            pages.sort_unstable();
            let options = AnalyzeOptions {
                pages: (!pages.is_empty()).then(|| page_ranges(&pages)),
                features: Vec::new(),
            };
            let started = std::time::Instant::now();
            let analysis = self.client.analyze(model, request.bytes, &options).await?;
            let recognize_ms = started.elapsed().as_secs_f64() * 1000.0;
            let ocr_pages = mapping::pages(&analysis.result);
            let provider = mapping::provider_extraction(&analysis.result);
            Ok(OcrOutput {
                engine: self.engine_id(model),
                pages: ocr_pages,
                provider,
                timings: OcrTimings { prepare_ms: 0.0, recognize_ms },
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_one_model_per_document() {
        assert_eq!(model_for(Some(DocType::W2), ApiVersion::V2023_07_31), "prebuilt-tax.us.w2");
        assert_eq!(model_for(Some(DocType::Form1099Nec), ApiVersion::V2023_07_31), "prebuilt-layout");
        assert_eq!(model_for(Some(DocType::Form1099Nec), ApiVersion::V2024_11_30), "prebuilt-tax.us.1099NEC");
        assert_eq!(model_for(None, ApiVersion::V2024_11_30), "prebuilt-layout");
        assert_eq!(page_ranges(&[1, 2, 3, 5, 7, 8]), "1-3,5,7-8");
    }
}
