//! The v3 API client. [`QboClient`] is shared by everything in a process (HTTP pool, limiter,
//! policy); [`CompanyClient`] is one realm with its token provider, and has the calls.
//!
//! Every attempt: pass the realm's circuit breaker when the client has breakers
//! ([`RealmBreakers`]; refused at once while it is open), take a limiter permit, then the realm's
//! current token, send with the attempt's
//! timeout, read the whole body, release the permit, and classify the answer:
//! - success (2xx without a fault) → done;
//! - throttle (429, or a fault 3001 `ThrottleExceeded` in any status, JSON or XML) → tell the
//!   limiter to pause the realm, wait the policy's throttle delay, retry;
//! - 5xx, or a broken or timed-out connection → exponential backoff, retry;
//! - 401 → ask the token provider for a refreshed token once, retry; a second 401 →
//!   [`QboError::Unauthorized`] (reconnect);
//! - any other fault → [`QboError::Fault`] with its code and detail, not retried.
//!
//! Nothing waits past the call's deadline: a wait that would end after it fails the call at once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{StatusCode, Url, header};
use resilience::{Idempotency, Retryability};
use serde_json::value::RawValue;
use tokio::time::Instant;

use crate::breakers::RealmBreakers;
use crate::cdc::{self, CdcResponse};
use crate::endpoints::PRODUCTION_API_BASE;
use crate::entity::{EntityKind, Record};
use crate::error::QboError;
use crate::fault::{self, Fault, FaultKind};
use crate::limiter::RealmLimiter;
use crate::policy::RequestPolicy;
use crate::query::Query;
use crate::realm::RealmId;
use crate::response::{Payload, QueryPage};
use crate::time::format_datetime;
use crate::tokens::{AccessToken, TokenProvider};

/// Intuit ignores minor versions below 75 since August 2025; 75 is the floor and the default.
pub const MINOR_VERSION: u32 = 75;

#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Origin of the API (`https://quickbooks.api.intuit.com`, or the local sandbox).
    pub api_base: Url,
    pub minor_version: u32,
    pub policy: RequestPolicy,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            api_base: Url::parse(PRODUCTION_API_BASE).expect("built-in URL is valid"),
            minor_version: MINOR_VERSION,
            policy: RequestPolicy::default(),
        }
    }
}

struct Shared {
    http: reqwest::Client,
    config: ClientConfig,
    limiter: Arc<dyn RealmLimiter>,
    breakers: Option<RealmBreakers>,
    calls: AtomicU64,
}

/// The process-wide client: cheap to clone.
#[derive(Clone)]
pub struct QboClient {
    shared: Arc<Shared>,
}

impl QboClient {
    /// `limiter` admits every attempt to a realm; pass the global one in production.
    pub fn new(http: reqwest::Client, config: ClientConfig, limiter: Arc<dyn RealmLimiter>) -> QboClient {
        QboClient::build(http, config, limiter, None)
    }

    /// Like [`QboClient::new`], with every request also passing its realm's circuit breaker.
    pub fn with_breakers(
        http: reqwest::Client,
        config: ClientConfig,
        limiter: Arc<dyn RealmLimiter>,
        breakers: RealmBreakers,
    ) -> QboClient {
        QboClient::build(http, config, limiter, Some(breakers))
    }

    fn build(
        http: reqwest::Client,
        config: ClientConfig,
        limiter: Arc<dyn RealmLimiter>,
        breakers: Option<RealmBreakers>,
    ) -> QboClient {
        QboClient { shared: Arc::new(Shared { http, config, limiter, breakers, calls: AtomicU64::new(0) }) }
    }

    /// A client for one company, with the provider of its tokens.
    pub fn company(&self, realm: RealmId, tokens: Arc<dyn TokenProvider>) -> CompanyClient {
        CompanyClient { client: self.clone(), realm, tokens, calls: Arc::new(AtomicU64::new(0)) }
    }

    /// HTTP requests sent by this client so far (retries included).
    pub fn api_calls(&self) -> u64 {
        self.shared.calls.load(Ordering::Relaxed)
    }
}

/// One company (realm). Cheap to clone; clones share the call counter.
#[derive(Clone)]
pub struct CompanyClient {
    client: QboClient,
    realm: RealmId,
    tokens: Arc<dyn TokenProvider>,
    calls: Arc<AtomicU64>,
}

enum Call<'a> {
    /// POST `/query` with the statement as an `application/text` body.
    Query(&'a str),
    /// GET `/<path>` with extra query parameters.
    Get { path: String, params: Vec<(&'static str, String)> },
}

enum Attempt {
    Done(Payload),
    Throttled(Option<Duration>),
    ServerError(String),
    Unauthorized(Option<Fault>),
    Failed(QboError),
}

/// Bodies above this size are decoded on the blocking pool.
const LARGE_BODY: usize = 64 * 1024;

/// Runs CPU-heavy decoding of a large body (a page of 1,000 entities is about a megabyte) on the
/// blocking pool. Decoding on the async threads would hold up other requests between their
/// limiter permit and the wire, bunching their arrival at Intuit past the per-second limit.
async fn off_the_runtime<T: Send + 'static>(size: usize, decode: impl FnOnce() -> T + Send + 'static) -> T {
    if size < LARGE_BODY {
        return decode();
    }
    match tokio::task::spawn_blocking(decode).await {
        Ok(decoded) => decoded,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned()
}

/// What a fault means for the retry loop.
fn classify(status: StatusCode, fault: Fault, intuit_tid: Option<String>) -> Attempt {
    match fault.kind() {
        FaultKind::Throttle => Attempt::Throttled(None),
        FaultKind::Authentication => Attempt::Unauthorized(Some(fault)),
        FaultKind::System if status.is_server_error() || status.is_success() => {
            Attempt::ServerError(fault.summary())
        }
        _ => Attempt::Failed(QboError::Fault { status: status.as_u16(), fault, intuit_tid }),
    }
}

impl CompanyClient {
    pub fn realm(&self) -> &RealmId {
        &self.realm
    }

    /// HTTP requests this company client (and its clones) sent, retries included: the "API calls
    /// used" of a sync.
    pub fn api_calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Runs a `SELECT *` query and returns one page.
    pub async fn query(&self, query: &Query) -> Result<QueryPage, QboError> {
        let payload = self.call(Call::Query(&query.to_string())).await?;
        let query = query.clone();
        off_the_runtime(payload.size, move || QueryPage::from_payload(&query, payload)).await
    }

    /// Runs a `SELECT COUNT(*)` query.
    pub async fn count(&self, query: &Query) -> Result<u64, QboError> {
        let payload = self.call(Call::Query(&query.to_string())).await?;
        QueryPage::count_from_payload(payload)
    }

    /// Reads one entity by id.
    pub async fn read(&self, kind: EntityKind, id: &str) -> Result<Record, QboError> {
        let segment = match kind {
            EntityKind::CompanyInfo => "companyinfo".to_owned(),
            other => other.path_segment(),
        };
        let path = format!("{segment}/{id}");
        let mut payload = self.call(Call::Get { path, params: Vec::new() }).await?;
        let raw = payload.fields.remove(kind.name()).ok_or_else(|| QboError::Unexpected {
            status: 200,
            detail: format!("the answer has no `{}`", kind.name()),
        })?;
        Ok(Record::parse(kind, raw)?)
    }

    /// The company's `CompanyInfo`.
    pub async fn company_info(&self) -> Result<Record, QboError> {
        let realm = self.realm.as_str().to_owned();
        self.read(EntityKind::CompanyInfo, &realm).await
    }

    /// Change Data Capture: what changed in `kinds` since `changed_since` (at most 30 days ago;
    /// older is refused here without a call). The answer's `time` is the next watermark.
    pub async fn cdc(
        &self,
        kinds: &[EntityKind],
        changed_since: DateTime<Utc>,
    ) -> Result<CdcResponse, QboError> {
        if changed_since < Utc::now() - chrono::Duration::days(cdc::LOOKBACK_DAYS) {
            return Err(QboError::CdcLookbackExceeded { changed_since });
        }
        let entities: Vec<&str> = kinds.iter().filter(|k| k.supports_cdc()).map(|k| k.name()).collect();
        let params = vec![("entities", entities.join(",")), ("changedSince", format_datetime(changed_since))];
        match self.call(Call::Get { path: "cdc".into(), params }).await {
            Ok(payload) => {
                let kinds = kinds.to_vec();
                off_the_runtime(payload.size, move || CdcResponse::from_payload(&kinds, payload)).await
            }
            Err(QboError::Fault { fault, .. }) if cdc::is_lookback_fault(&fault) => {
                Err(QboError::CdcLookbackExceeded { changed_since })
            }
            Err(other) => Err(other),
        }
    }

    fn url(&self, path: &str, params: &[(&'static str, String)]) -> Result<Url, QboError> {
        let config = &self.client.shared.config;
        let base = config.api_base.as_str().trim_end_matches('/');
        let text = format!("{base}/v3/company/{}/{path}", self.realm);
        let mut url = Url::parse(&text)
            .map_err(|e| QboError::Unexpected { status: 0, detail: format!("bad URL {text}: {e}") })?;
        {
            let mut query = url.query_pairs_mut();
            for (key, value) in params {
                query.append_pair(key, value);
            }
            query.append_pair("minorversion", &config.minor_version.to_string());
        }
        Ok(url)
    }

    async fn call(&self, call: Call<'_>) -> Result<Payload, QboError> {
        let shared = &self.client.shared;
        let policy = &shared.config.policy;
        let (throttle_retries, server_error_retries) =
            (policy.throttle_retries(), policy.server_error_retries());
        let deadline = Instant::now() + policy.deadline;
        let (mut throttles, mut failures, mut refreshed) = (0u32, 0u32, false);
        loop {
            let breaker = match &shared.breakers {
                Some(breakers) => Some(
                    breakers
                        .admit(&self.realm)
                        .await
                        .map_err(|retry_after| QboError::CircuitOpen { retry_after })?,
                ),
                None => None,
            };
            let permit = shared.limiter.acquire(&self.realm, deadline).await?;
            // Taken after the limiter's wait, so the token is as fresh as it can be when sent.
            let token = tokio::time::timeout_at(deadline, self.tokens.access_token(&self.realm))
                .await
                .map_err(|_| QboError::DeadlineExceeded)??;
            let attempt_deadline = (Instant::now() + policy.attempt_timeout).min(deadline);
            shared.calls.fetch_add(1, Ordering::Relaxed);
            self.calls.fetch_add(1, Ordering::Relaxed);
            let attempt = self.attempt(&call, &token, attempt_deadline).await;
            drop(permit);
            if let Some(breaker) = breaker {
                // Only a failing service counts; a throttle or a fault is Intuit answering.
                match attempt {
                    Attempt::ServerError(_) => breaker.failure().await,
                    _ => breaker.success(),
                }
            }
            let wait = match attempt {
                Attempt::Done(payload) => return Ok(payload),
                Attempt::Failed(error) => return Err(error),
                Attempt::Unauthorized(fault) => {
                    if refreshed {
                        return Err(QboError::Unauthorized { fault });
                    }
                    refreshed = true;
                    tokio::time::timeout_at(deadline, self.tokens.refresh_rejected(&self.realm, &token))
                        .await
                        .map_err(|_| QboError::DeadlineExceeded)??;
                    continue;
                }
                Attempt::Throttled(retry_after) => {
                    throttles += 1;
                    let class = Retryability::Rejected { retry_after };
                    // The whole realm pauses, even when this call gives up.
                    let pause = throttle_retries.delay(throttles, class).unwrap_or(policy.throttle_pause);
                    shared.limiter.throttled(&self.realm, pause);
                    tracing::debug!(realm = %self.realm, pause_ms = pause.as_millis() as u64, "quickbooks throttled");
                    let allowed = throttle_retries.permits(throttles, Idempotency::Idempotent, class);
                    if allowed.is_err() || Instant::now() + pause > deadline {
                        return Err(QboError::Throttled { attempts: throttles });
                    }
                    pause
                }
                Attempt::ServerError(detail) => {
                    failures += 1;
                    if Instant::now() >= deadline {
                        return Err(QboError::DeadlineExceeded);
                    }
                    let class = Retryability::Unknown { retry_after: None };
                    tracing::debug!(realm = %self.realm, attempt = failures, error = %detail, "quickbooks unavailable");
                    match server_error_retries.decide(failures, Idempotency::Idempotent, class) {
                        Ok(pause) if Instant::now() + pause <= deadline => pause,
                        _ => return Err(QboError::Unavailable { attempts: failures, last: detail }),
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, call: &Call<'_>, token: &AccessToken, deadline: Instant) -> Attempt {
        let http = &self.client.shared.http;
        let request = match call {
            Call::Query(text) => match self.url("query", &[]) {
                Ok(url) => {
                    http.post(url).header(header::CONTENT_TYPE, "application/text").body(text.to_string())
                }
                Err(error) => return Attempt::Failed(error),
            },
            Call::Get { path, params } => match self.url(path, params) {
                Ok(url) => http.get(url),
                Err(error) => return Attempt::Failed(error),
            },
        };
        let timeout = deadline.saturating_duration_since(Instant::now());
        let sent = request
            .bearer_auth(token.secret())
            .header(header::ACCEPT, "application/json")
            .timeout(timeout)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => return Attempt::ServerError(format!("transport: {error}")),
        };
        let status = response.status();
        let intuit_tid =
            response.headers().get("intuit_tid").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let retry_after = resilience::retry_after(response.headers());
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) => return Attempt::ServerError(format!("reading the body: {error}")),
        };
        tracing::debug!(realm = %self.realm, status = status.as_u16(), intuit_tid = intuit_tid.as_deref(), bytes = body.len(), "quickbooks response");
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Attempt::Throttled(retry_after);
        }
        if status == StatusCode::UNAUTHORIZED {
            return Attempt::Unauthorized(fault::parse(&body));
        }
        if status.is_server_error() {
            return match fault::parse(&body) {
                Some(f) if f.is_throttle() => Attempt::Throttled(retry_after),
                Some(f) => Attempt::ServerError(format!("HTTP {status}: {}", f.summary())),
                None => Attempt::ServerError(format!("HTTP {status}: {}", snippet(&body))),
            };
        }
        if status.is_success() {
            let body_size = body.len();
            let body = body.clone();
            let fields = off_the_runtime(body.len(), move || {
                serde_json::from_slice::<BTreeMap<String, Box<RawValue>>>(&body).ok()
            })
            .await;
            if let Some(fields) = fields.filter(|f| !f.keys().any(|k| k.eq_ignore_ascii_case("fault"))) {
                return Attempt::Done(Payload::new(fields, body_size));
            }
        }
        match fault::parse(&body) {
            Some(fault) => classify(status, fault, intuit_tid),
            None => Attempt::Failed(QboError::Unexpected { status: status.as_u16(), detail: snippet(&body) }),
        }
    }
}
