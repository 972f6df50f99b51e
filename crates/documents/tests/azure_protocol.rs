//! The Azure analyze protocol against a local stand-in: an HTTP server on 127.0.0.1 that
//! replays recorded exchanges (tests/fixtures/azure) or scripted failures, checks what the
//! client sends and logs every request, driven through the [`OcrEngine`] trait.

// A failed unwrap in a helper is a failed test, with its location.
#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use documents::fields::{DocType, FieldValue};
use documents::kind::FileKind;
use documents::ocr::azure::{ApiVersion, AzureClient, AzureConfig, AzureEngine, AzureError, InProcessGate};
use documents::ocr::{OcrEngine, OcrError, OcrOutput, OcrRequest};
use rust_decimal::Decimal;
use secrecy::SecretString;

const KEY: &str = "stand-in-key-0123456789";
const DOCUMENT: &[u8] = b"\x89PNG\r\n\x1a\n stand-in document bytes";

#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

/// One request as the stand-in saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: Method,
    path: String,
    query: String,
    key: Option<String>,
    body: Vec<u8>,
    at: Instant,
}

/// Replies per method, in order; the last one repeats once the others are used.
#[derive(Default)]
struct Script {
    posts: VecDeque<Reply>,
    gets: VecDeque<Reply>,
    seen: Vec<Seen>,
}

struct StandIn {
    base: String,
    script: Arc<Mutex<Script>>,
}

impl StandIn {
    async fn start() -> StandIn {
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = Arc::clone(&script);
        let app =
            axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let script = Arc::clone(&shared);
                async move {
                    let mut s = script.lock().unwrap();
                    s.seen.push(Seen {
                        method: method.clone(),
                        path: uri.path().to_string(),
                        query: uri.query().unwrap_or_default().to_string(),
                        key: headers
                            .get("ocp-apim-subscription-key")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string),
                        body: body.to_vec(),
                        at: Instant::now(),
                    });
                    let queue = if method == Method::POST { &mut s.posts } else { &mut s.gets };
                    let reply = if queue.len() > 1 { queue.pop_front() } else { queue.front().cloned() };
                    let Some(reply) = reply else {
                        return (StatusCode::NOT_IMPLEMENTED, HeaderMap::new(), String::new());
                    };
                    let mut out = HeaderMap::new();
                    for (name, value) in &reply.headers {
                        out.insert(
                            axum::http::HeaderName::from_str(name).unwrap(),
                            axum::http::HeaderValue::from_str(value).unwrap(),
                        );
                    }
                    if reply.body.is_some() {
                        out.insert(axum::http::header::CONTENT_TYPE, "application/json".parse().unwrap());
                    }
                    (StatusCode::from_u16(reply.status).unwrap(), out, reply.body.unwrap_or_default())
                }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        StandIn { base, script }
    }

    /// Queues a recorded exchange (`<api-version>/<set>`), its `{endpoint}` pointing here.
    fn replay(&self, set: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/azure").join(set);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let recorded: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            let headers = recorded["headers"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(name, _)| name.as_str() != "Content-Type")
                .map(|(name, value)| {
                    (name.clone(), value.as_str().unwrap().replace("{endpoint}", &self.base))
                })
                .collect();
            let body = Some(&recorded["body"]).filter(|b| !b.is_null()).map(|b| b.to_string());
            self.push(
                recorded["method"].as_str().unwrap(),
                Reply { status: recorded["status"].as_u64().unwrap() as u16, headers, body },
            );
        }
    }

    fn push(&self, method: &str, reply: Reply) {
        let mut s = self.script.lock().unwrap();
        if method == "POST" { s.posts.push_back(reply) } else { s.gets.push_back(reply) }
    }

    fn seen(&self, method: Method) -> Vec<Seen> {
        self.script.lock().unwrap().seen.iter().filter(|s| s.method == method).cloned().collect()
    }

    fn engine(&self, version: ApiVersion, tune: impl FnOnce(&mut AzureConfig)) -> AzureEngine {
        let mut config = AzureConfig::new(self.base.clone(), SecretString::from(KEY), version);
        // Polls without a Retry-After come quickly, so a honoured Retry-After stands out.
        config.poll_interval = Duration::from_millis(5);
        tune(&mut config);
        AzureEngine::new(AzureClient::new(config, Arc::new(InProcessGate::default())).unwrap())
    }
}

fn reply(status: u16, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
    Reply {
        status,
        headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        body: body.map(str::to_string),
    }
}

async fn recognize(engine: &AzureEngine, hint: Option<DocType>) -> Result<OcrOutput, OcrError> {
    let engine: &dyn OcrEngine = engine;
    engine.recognize(OcrRequest { bytes: DOCUMENT, kind: FileKind::Png, pages: &[], hint }).await
}

fn azure(result: Result<OcrOutput, OcrError>) -> AzureError {
    match result {
        Err(OcrError::Azure(e)) => e,
        other => panic!("expected an Azure error, got {other:?}"),
    }
}

/// An accepted submit whose operation lives on the stand-in.
fn accepted(stand_in: &StandIn) -> Reply {
    let operation = format!(
        "{}/formrecognizer/documentModels/prebuilt-layout/analyzeResults/op-1?api-version=2023-07-31",
        stand_in.base
    );
    reply(202, &[("Operation-Location", &operation)], None)
}

const SUCCEEDED_LAYOUT: &str = r#"{"status":"succeeded","analyzeResult":{"apiVersion":"2023-07-31","modelId":"prebuilt-layout","content":"Total","pages":[{"pageNumber":1,"width":10,"height":10,"unit":"pixel","words":[{"content":"Total","polygon":[1,1,4,1,4,2,1,2],"span":{"offset":0,"length":5},"confidence":0.9}],"lines":[],"spans":[{"offset":0,"length":5}]}]}}"#;

#[tokio::test]
async fn a_w2_takes_one_analyze_call_and_the_recorded_polls_and_gives_the_recorded_fields() {
    let stand_in = StandIn::start().await;
    stand_in.replay("2023-07-31/prebuilt-w2-png");
    let engine = stand_in.engine(ApiVersion::V2023_07_31, |_| {});

    let output = recognize(&engine, Some(DocType::W2)).await.expect("analysis succeeds");

    let posts = stand_in.seen(Method::POST);
    assert_eq!(posts.len(), 1, "one provider call per document");
    let post = &posts[0];
    assert_eq!(post.path, "/formrecognizer/documentModels/prebuilt-tax.us.w2:analyze");
    assert!(post.query.split('&').any(|p| p == "api-version=2023-07-31"), "{}", post.query);
    assert_eq!(post.key.as_deref(), Some(KEY));
    assert_eq!(post.body, DOCUMENT);
    let gets = stand_in.seen(Method::GET);
    assert_eq!(gets.len(), 3, "two running polls, then succeeded");
    for get in &gets {
        assert_eq!(
            get.path,
            "/formrecognizer/documentModels/prebuilt-tax.us.w2/analyzeResults/b656421e-b07a-4cc7-ab3d-bb99670911a4"
        );
        assert_eq!(get.query, "api-version=2023-07-31");
        assert_eq!(get.key.as_deref(), Some(KEY));
    }

    assert_eq!(
        (output.engine.name.as_str(), output.engine.version.as_str()),
        ("azure-docintel", "2023-07-31/prebuilt-tax.us.w2")
    );
    assert_eq!(output.pages.len(), 1);
    assert_eq!(output.pages[0].words.len(), 209);
    let provider = output.provider.expect("the W-2 model's fields");
    assert_eq!(provider.doc_type, DocType::W2);
    let wages = provider.fields.iter().find(|f| f.key == "box1_wages").expect("box 1");
    assert_eq!(wages.value, FieldValue::Money(Decimal::from_str("37160.56").unwrap()));
}

#[tokio::test]
async fn each_poll_waits_at_least_the_retry_after_the_service_asked_for() {
    let stand_in = StandIn::start().await;
    stand_in.replay("2024-11-30/layout-url-barcodes-polling");
    let engine = stand_in.engine(ApiVersion::V2024_11_30, |_| {});

    let output = recognize(&engine, None).await.expect("analysis succeeds");

    assert_eq!(stand_in.seen(Method::POST).len(), 1);
    assert_eq!(
        stand_in.seen(Method::POST)[0].path,
        "/documentintelligence/documentModels/prebuilt-layout:analyze"
    );
    let gets = stand_in.seen(Method::GET);
    assert_eq!(gets.len(), 4, "three running polls, then succeeded");
    // The three running answers each said `Retry-After: 1`; without it the client would poll
    // every 5 ms. A sleep never ends early, so this lower bound cannot flake.
    for pair in gets.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_secs(1), "polled again after {gap:?}");
    }
    assert_eq!(output.engine.version, "2024-11-30/prebuilt-layout");
    assert_eq!(output.pages[0].words.len(), 240);
    assert!(output.provider.is_none());
}

#[tokio::test]
async fn a_429_is_retried_after_its_wait_and_then_succeeds() {
    let stand_in = StandIn::start().await;
    let throttled = r#"{"error":{"code":"429","message":"Requests to the Analyze Document operation have exceeded rate limit."}}"#;
    // 2 s: longer than the client's own backoff (1 s), so only a honoured header explains the gap.
    stand_in.push("POST", reply(429, &[("Retry-After", "2")], Some(throttled)));
    stand_in.push("POST", accepted(&stand_in));
    stand_in.push("GET", reply(200, &[], Some(SUCCEEDED_LAYOUT)));
    let engine = stand_in.engine(ApiVersion::V2023_07_31, |_| {});

    let output = recognize(&engine, None).await.expect("succeeds after the 429");

    let posts = stand_in.seen(Method::POST);
    assert_eq!(posts.len(), 2);
    assert!(posts[1].at - posts[0].at >= Duration::from_secs(2), "the 429's Retry-After was honoured");
    assert_eq!(stand_in.seen(Method::GET).len(), 1);
    assert_eq!(output.pages[0].words[0].text, "Total");
}

#[tokio::test]
async fn server_errors_beyond_max_attempts_fail_as_a_server_error() {
    let stand_in = StandIn::start().await;
    let body = r#"{"error":{"code":"InternalServerError","message":"An unexpected error occurred."}}"#;
    stand_in.push("POST", reply(503, &[("retry-after-ms", "10")], Some(body)));
    let engine = stand_in.engine(ApiVersion::V2023_07_31, |c| c.max_attempts = 3);

    let error = azure(recognize(&engine, None).await);

    match &error {
        AzureError::Server { status: 503, message } => assert_eq!(message, "An unexpected error occurred."),
        other => panic!("expected a 503 server error, got {other:?}"),
    }
    assert!(error.is_transient(), "the job queue may try the document again later");
    assert_eq!(stand_in.seen(Method::POST).len(), 3, "max_attempts submits, no more");
    assert!(stand_in.seen(Method::GET).is_empty());
}

#[tokio::test]
async fn a_failed_analysis_maps_to_analysis_failed() {
    let stand_in = StandIn::start().await;
    stand_in.push("POST", accepted(&stand_in));
    stand_in.push("GET", reply(200, &[], Some(r#"{"status":"running"}"#)));
    // The error of a failed operation, as the service reports a corrupt file (the body of
    // 2024-11-30/layout-invalid-content-400).
    let failed = r#"{"status":"failed","error":{"code":"InvalidRequest","message":"Invalid request.","innererror":{"code":"InvalidContent","message":"The file is corrupted or format is unsupported. Refer to documentation for the list of supported formats."}}}"#;
    stand_in.push("GET", reply(200, &[], Some(failed)));
    let engine = stand_in.engine(ApiVersion::V2023_07_31, |_| {});

    let error = azure(recognize(&engine, None).await);

    match &error {
        AzureError::AnalysisFailed { code, inner, message } => {
            assert_eq!((code.as_str(), inner.as_deref()), ("InvalidRequest", Some("InvalidContent")));
            assert!(message.starts_with("The file is corrupted"), "{message}");
        }
        other => panic!("expected AnalysisFailed, got {other:?}"),
    }
    assert!(!error.is_transient());
    assert_eq!((stand_in.seen(Method::POST).len(), stand_in.seen(Method::GET).len()), (1, 2));
}

#[tokio::test]
async fn a_wrong_key_is_not_retried() {
    let stand_in = StandIn::start().await;
    stand_in.replay("2023-02-28-preview/authentication-bad-key-401");
    let engine = stand_in.engine(ApiVersion::V2023_07_31, |c| c.max_attempts = 6);

    let error = azure(recognize(&engine, Some(DocType::Receipt)).await);

    assert!(matches!(&error, AzureError::Unauthorized { code, .. } if code == "401"), "{error:?}");
    assert!(!error.is_transient());
    assert_eq!(stand_in.seen(Method::POST).len(), 1, "a bad key is not tried again");
    assert!(stand_in.seen(Method::GET).is_empty());
}
