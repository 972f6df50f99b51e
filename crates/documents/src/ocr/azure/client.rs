//! The analyze protocol: submit (`POST …/documentModels/{model}:analyze`, 202 +
//! `Operation-Location`), then poll that URL verbatim until `succeeded` or `failed`, honouring
//! `Retry-After` (and `retry-after-ms`), retrying 429 and 5xx within an overall deadline, and
//! failing fast on errors that waiting cannot fix (bad key, exhausted quota, bad input). Whether
//! and when to retry is the resilience kit's [`RetryPolicy`] ([`AzureConfig::retry_policy`]).
//! Every request first passes the [`AzureGate`] (rate limits and breaker shared by all workers).
//!
//! Exhausted quota (F0's monthly pages, or a spending limit) comes as a 403 — and sometimes a
//! 429 — whose message says "Out of call volume quota", with a `Retry-After` of up to days: it
//! is [`AzureError::QuotaExhausted`], not transient, never slept on, and does not count against
//! the breaker (the service is up; our allowance is not).

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use resilience::{Backoff, Idempotency, Jitter, RetryAfter, RetryPolicy, Retryability, retry_after};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use super::gate::{AzureGate, CallKind, CallOutcome, GatePermit};
use super::model::{AnalyzeResult, ErrorResponse, OperationState, OperationStatus};

/// The API versions this client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ApiVersion {
    /// v3.1 GA, under `/formrecognizer/`.
    #[serde(rename = "2023-07-31")]
    V2023_07_31,
    /// v4.0 GA, under `/documentintelligence/`.
    #[serde(rename = "2024-11-30")]
    V2024_11_30,
}

impl ApiVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V2023_07_31 => "2023-07-31",
            ApiVersion::V2024_11_30 => "2024-11-30",
        }
    }

    pub fn path_prefix(self) -> &'static str {
        match self {
            ApiVersion::V2023_07_31 => "formrecognizer",
            ApiVersion::V2024_11_30 => "documentintelligence",
        }
    }
}

/// Where and how to call the service.
#[derive(Clone, Debug)]
pub struct AzureConfig {
    /// `https://<resource>.cognitiveservices.azure.com` (no trailing slash needed).
    pub endpoint: String,
    pub key: SecretString,
    pub api_version: ApiVersion,
    /// Wait between polls when the service sends no `Retry-After`.
    pub poll_interval: Duration,
    /// The longest single wait we accept; a longer `Retry-After` fails the call as throttled
    /// (the job queue retries it later instead of holding a worker).
    pub max_wait: Duration,
    /// Deadline for the whole analysis (submit and polls).
    pub deadline: Duration,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
    /// Most attempts of one request on 429/5xx/connection errors.
    pub max_attempts: u32,
}

impl AzureConfig {
    pub fn new(endpoint: impl Into<String>, key: SecretString, api_version: ApiVersion) -> AzureConfig {
        AzureConfig {
            endpoint: endpoint.into().trim_end_matches('/').to_string(),
            key,
            api_version,
            poll_interval: Duration::from_secs(1),
            max_wait: Duration::from_secs(60),
            deadline: Duration::from_secs(180),
            request_timeout: Duration::from_secs(60),
            max_attempts: 6,
        }
    }

    /// When to retry a request: at most `max_attempts` in all; after the service's `Retry-After`
    /// when it sent one (the client takes 1 s for a 429 or 5xx without one), up to `max_wait`;
    /// half a second after a broken connection.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_attempts,
            backoff: Backoff::exponential(BROKEN_CONNECTION_WAIT, BROKEN_CONNECTION_WAIT)
                .with_jitter(Jitter::None),
            retry_after: RetryAfter::Replaces,
            max_retry_after: self.max_wait,
        }
    }
}

/// The wait after a broken connection.
const BROKEN_CONNECTION_WAIT: Duration = Duration::from_millis(500);
/// The wait after a 429 or 5xx that named none.
const UNNAMED_WAIT: Duration = Duration::from_secs(1);

/// Submitting an analysis twice has the effect of submitting it once: the first operation is
/// never polled and keeps nothing of ours (so 5xx and broken connections are retried).
const ANALYZE: Idempotency = Idempotency::Idempotent;

#[derive(Debug, thiserror::Error)]
pub enum AzureError {
    #[error("Azure rejected the key or endpoint ({code}): {message}")]
    Unauthorized { code: String, message: String },
    #[error("Azure quota exhausted: {message}")]
    QuotaExhausted { message: String, retry_after: Option<Duration> },
    #[error("Azure refused the request ({status}, {code}{}): {message}", inner.as_ref().map(|i| format!("/{i}")).unwrap_or_default())]
    InvalidRequest { status: u16, code: String, inner: Option<String>, message: String },
    #[error("Azure resource or model not found: {message}")]
    NotFound { message: String },
    #[error("Azure is throttling us (retry after {retry_after:?})")]
    Throttled { retry_after: Option<Duration> },
    #[error("Azure server error {status}: {message}")]
    Server { status: u16, message: String },
    #[error("analysis failed ({code}{}): {message}", inner.as_ref().map(|i| format!("/{i}")).unwrap_or_default())]
    AnalysisFailed { code: String, inner: Option<String>, message: String },
    #[error("unexpected answer from Azure: {0}")]
    Protocol(String),
    #[error("could not reach Azure: {0}")]
    Transport(String),
    #[error("the analysis did not finish before the deadline")]
    DeadlineExceeded,
    #[error(transparent)]
    Refused(#[from] super::gate::GateRefusal),
    #[error(
        "{endpoint} is https, but this binary was built without TLS: build countinghouse with its `tls` feature (on by default), or documents with `rustls`"
    )]
    TlsNotBuilt { endpoint: String },
}

impl AzureError {
    /// Whether the same request may succeed later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            AzureError::Throttled { .. }
                | AzureError::Server { .. }
                | AzureError::Transport(_)
                | AzureError::DeadlineExceeded
                | AzureError::Refused(_)
        )
    }
}

/// A finished analysis and what it took.
#[derive(Debug)]
pub struct Analysis {
    pub result: AnalyzeResult,
    pub model_id: String,
    /// Submit attempts (more than one after 429 or 5xx).
    pub submits: u32,
    pub polls: u32,
}

/// Options of one analyze call.
#[derive(Clone, Debug, Default)]
pub struct AnalyzeOptions {
    /// Pages to analyse (`1-3,5`); all when `None`.
    pub pages: Option<String>,
    /// Optional features (`keyValuePairs`, `ocrHighResolution`, …).
    pub features: Vec<String>,
}

/// The REST client.
#[derive(Clone)]
pub struct AzureClient {
    http: reqwest::Client,
    config: Arc<AzureConfig>,
    gate: AzureGate,
}

const KEY_HEADER: &str = "Ocp-Apim-Subscription-Key";

fn error_parts(body: &[u8]) -> (String, Option<String>, String) {
    match serde_json::from_slice::<ErrorResponse>(body) {
        Ok(e) => (
            e.error.code.clone(),
            e.error.inner_code().map(str::to_string),
            e.error.inner_message().to_string(),
        ),
        Err(_) => (String::new(), None, String::from_utf8_lossy(body).chars().take(300).collect()),
    }
}

enum Step<T> {
    Done(T),
    /// A failure worth retrying, and what it says about the request.
    Retry {
        class: Retryability,
        error: AzureError,
    },
}

/// A connection that broke before the whole answer arrived: a failure for the breaker, retried.
async fn broken<T>(permit: GatePermit, error: reqwest::Error) -> Step<T> {
    permit.finish(CallOutcome::Failure).await;
    Step::Retry {
        class: Retryability::Unknown { retry_after: None },
        error: AzureError::Transport(error.to_string()),
    }
}

impl AzureClient {
    /// A client of `config.endpoint` whose calls pass `gate`. An https endpoint in a build without
    /// TLS is refused here, at startup, rather than on every document.
    pub fn new(config: AzureConfig, gate: AzureGate) -> Result<AzureClient, AzureError> {
        if !super::TLS && config.endpoint.to_ascii_lowercase().starts_with("https:") {
            return Err(AzureError::TlsNotBuilt { endpoint: config.endpoint });
        }
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .build()
            .map_err(|e| AzureError::Transport(e.to_string()))?;
        Ok(AzureClient { http, config: Arc::new(config), gate })
    }

    pub fn config(&self) -> &AzureConfig {
        &self.config
    }

    /// The analyze URL of a model.
    pub fn analyze_url(&self, model_id: &str, options: &AnalyzeOptions) -> String {
        let c = &self.config;
        let mut url = format!(
            "{}/{}/documentModels/{model_id}:analyze?api-version={}&stringIndexType=unicodeCodePoint",
            c.endpoint,
            c.api_version.path_prefix(),
            c.api_version.as_str()
        );
        if let Some(pages) = &options.pages {
            url.push_str(&format!("&pages={pages}"));
        }
        if !options.features.is_empty() {
            url.push_str(&format!("&features={}", options.features.join(",")));
        }
        url
    }

    /// Runs one analysis of `document` with `model_id` and returns its result.
    pub async fn analyze(
        &self,
        model_id: &str,
        document: &[u8],
        options: &AnalyzeOptions,
    ) -> Result<Analysis, AzureError> {
        let deadline = Instant::now() + self.config.deadline;
        let retries = self.config.retry_policy();
        let url = self.analyze_url(model_id, options);
        let mut submits = 0;
        let (operation, first_wait) = loop {
            submits += 1;
            match self.submit(&url, document).await? {
                Step::Done(found) => break found,
                Step::Retry { class, error } => match retries.decide(submits, ANALYZE, class) {
                    Ok(wait) if Instant::now() + wait <= deadline => tokio::time::sleep(wait).await,
                    _ => return Err(error),
                },
            }
        };
        let mut wait = first_wait.unwrap_or(self.config.poll_interval);
        let mut polls = 0;
        let mut attempts = 0;
        loop {
            if Instant::now() + wait > deadline {
                return Err(AzureError::DeadlineExceeded);
            }
            tokio::time::sleep(wait).await;
            polls += 1;
            match self.poll(&operation).await? {
                Step::Done((OperationState::Succeeded, status)) => {
                    let result = status
                        .analyze_result
                        .ok_or_else(|| AzureError::Protocol("succeeded without analyzeResult".into()))?;
                    return Ok(Analysis { result, model_id: model_id.to_string(), submits, polls });
                }
                Step::Done((OperationState::NotStarted | OperationState::Running, status)) => {
                    attempts = 0;
                    wait = status.retry_after.unwrap_or(self.config.poll_interval).min(self.config.max_wait);
                }
                Step::Done((state, status)) => {
                    let error = status.error;
                    return Err(AzureError::AnalysisFailed {
                        code: error.as_ref().map_or_else(|| format!("{state:?}"), |e| e.code.clone()),
                        inner: error.as_ref().and_then(|e| e.inner_code().map(str::to_string)),
                        message: error
                            .as_ref()
                            .map_or_else(|| "no error detail".into(), |e| e.inner_message().to_string()),
                    });
                }
                Step::Retry { class, error } => {
                    attempts += 1;
                    // Reading an operation's state is idempotent.
                    match retries.decide(attempts, Idempotency::Idempotent, class) {
                        Ok(w) => wait = w,
                        Err(_) => return Err(error),
                    }
                }
            }
        }
    }

    async fn send(
        &self,
        permit: GatePermit,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>, GatePermit), Step<()>> {
        let response = match request.header(KEY_HEADER, self.config.key.expose_secret()).send().await {
            Ok(r) => r,
            Err(e) => return Err(broken(permit, e).await),
        };
        let status = response.status();
        let headers = response.headers().clone();
        match response.bytes().await {
            Ok(body) => Ok((status, headers, body.to_vec(), permit)),
            Err(e) => Err(broken(permit, e).await),
        }
    }

    /// One submit attempt: the operation URL (and a first wait) or what to do next.
    async fn submit(
        &self,
        url: &str,
        document: &[u8],
    ) -> Result<Step<(String, Option<Duration>)>, AzureError> {
        let permit = self.gate.admit(CallKind::Analyze).await?;
        let request =
            self.http.post(url).header(CONTENT_TYPE, "application/octet-stream").body(document.to_vec());
        let (status, headers, body, permit) = match self.send(permit, request).await {
            Ok(parts) => parts,
            Err(Step::Retry { class, error }) => return Ok(Step::Retry { class, error }),
            Err(Step::Done(())) => return Err(AzureError::Protocol("unreachable".into())),
        };
        if status == StatusCode::ACCEPTED {
            permit.finish(CallOutcome::Success).await;
            let operation = headers
                .get("operation-location")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| AzureError::Protocol("202 without Operation-Location".into()))?;
            return Ok(Step::Done((operation.to_string(), retry_after(&headers))));
        }
        self.failure(status, &headers, &body, permit).await
    }

    /// One poll: the operation's state, or what to do next.
    async fn poll(&self, operation: &str) -> Result<Step<(OperationState, PollStatus)>, AzureError> {
        let permit = self.gate.admit(CallKind::Poll).await?;
        let (status, headers, body, permit) = match self.send(permit, self.http.get(operation)).await {
            Ok(parts) => parts,
            Err(Step::Retry { class, error }) => return Ok(Step::Retry { class, error }),
            Err(Step::Done(())) => return Err(AzureError::Protocol("unreachable".into())),
        };
        if status == StatusCode::OK {
            permit.finish(CallOutcome::Success).await;
            let parsed: OperationStatus = serde_json::from_slice(&body)
                .map_err(|e| AzureError::Protocol(format!("operation status: {e}")))?;
            let state = parsed.status;
            return Ok(Step::Done((
                state,
                PollStatus {
                    retry_after: retry_after(&headers),
                    error: parsed.error,
                    analyze_result: parsed.analyze_result,
                },
            )));
        }
        self.failure(status, &headers, &body, permit).await
    }

    /// Maps a non-success answer: retry with a wait (429, 5xx) or an error now.
    async fn failure<T>(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        permit: GatePermit,
    ) -> Result<Step<T>, AzureError> {
        let (code, inner, message) = error_parts(body);
        let after = retry_after(headers);
        let lower = message.to_ascii_lowercase();
        // A 403 about quota, or a 429 that is the used-up volume quota rather than the rate limit.
        let out_of_quota = (status == StatusCode::FORBIDDEN && lower.contains("quota"))
            || lower.contains("out of call volume quota");
        match status.as_u16() {
            403 | 429 if out_of_quota => {
                permit.finish(CallOutcome::Rejected).await;
                Err(AzureError::QuotaExhausted { message, retry_after: after })
            }
            429 => {
                permit.finish(CallOutcome::Throttled).await;
                Ok(Step::Retry {
                    class: Retryability::Rejected { retry_after: Some(after.unwrap_or(UNNAMED_WAIT)) },
                    error: AzureError::Throttled { retry_after: after },
                })
            }
            s if s >= 500 => {
                permit.finish(CallOutcome::Failure).await;
                Ok(Step::Retry {
                    class: Retryability::Unknown { retry_after: Some(after.unwrap_or(UNNAMED_WAIT)) },
                    error: AzureError::Server { status: s, message },
                })
            }
            s => {
                permit.finish(CallOutcome::Rejected).await;
                Err(match s {
                    401 | 403 => AzureError::Unauthorized { code, message },
                    404 => AzureError::NotFound { message },
                    s => AzureError::InvalidRequest { status: s, code, inner, message },
                })
            }
        }
    }
}

/// What a poll returned besides the state.
pub struct PollStatus {
    pub retry_after: Option<Duration>,
    pub error: Option<super::model::ErrorDetail>,
    pub analyze_result: Option<AnalyzeResult>,
}
