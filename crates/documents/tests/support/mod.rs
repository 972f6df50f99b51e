//! Test support: a stand-in Azure Document Intelligence server (an HTTP server on 127.0.0.1
//! that replays recorded exchanges or scripted replies and logs every request), and a database
//! of its own per test.

// A failed unwrap in a helper is a failed test, with its location.
#![allow(clippy::unwrap_used)]
#![allow(dead_code, reason = "each test binary uses a different part")]

use std::collections::VecDeque;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use documents::ocr::azure::{ApiVersion, AzureClient, AzureConfig, AzureEngine, AzureGate, GateLimits};
use secrecy::SecretString;

pub const KEY: &str = "stand-in-key-0123456789";
pub const DOCUMENT: &[u8] = b"\x89PNG\r\n\x1a\n stand-in document bytes";

#[derive(Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

/// One request as the stand-in saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub key: Option<String>,
    pub body: Vec<u8>,
    pub at: Instant,
}

/// Replies per method, in order; the last one repeats once the others are used.
#[derive(Default)]
struct Script {
    posts: VecDeque<Reply>,
    gets: VecDeque<Reply>,
    seen: Vec<Seen>,
}

pub struct StandIn {
    pub base: String,
    script: Arc<Mutex<Script>>,
}

impl StandIn {
    pub async fn start() -> StandIn {
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
    pub fn replay(&self, set: &str) {
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

    pub fn push(&self, method: &str, reply: Reply) {
        let mut s = self.script.lock().unwrap();
        if method == "POST" { s.posts.push_back(reply) } else { s.gets.push_back(reply) }
    }

    pub fn seen(&self, method: Method) -> Vec<Seen> {
        self.script.lock().unwrap().seen.iter().filter(|s| s.method == method).cloned().collect()
    }

    /// A client of this stand-in whose calls pass `gate`.
    pub fn client(
        &self,
        version: ApiVersion,
        gate: AzureGate,
        tune: impl FnOnce(&mut AzureConfig),
    ) -> AzureClient {
        let mut config = AzureConfig::new(self.base.clone(), SecretString::from(KEY), version);
        // Polls without a Retry-After come quickly, so a honoured Retry-After stands out.
        config.poll_interval = Duration::from_millis(5);
        tune(&mut config);
        AzureClient::new(config, gate).unwrap()
    }

    /// An engine of this stand-in with a gate of its own, in process.
    pub fn engine(&self, version: ApiVersion, tune: impl FnOnce(&mut AzureConfig)) -> AzureEngine {
        AzureEngine::new(self.client(version, AzureGate::in_process(&self.base, GateLimits::default()), tune))
    }
}

pub fn reply(status: u16, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
    Reply {
        status,
        headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        body: body.map(str::to_string),
    }
}

/// An accepted submit whose operation lives on the stand-in.
pub fn accepted(stand_in: &StandIn) -> Reply {
    let operation = format!(
        "{}/formrecognizer/documentModels/prebuilt-layout/analyzeResults/op-1?api-version=2023-07-31",
        stand_in.base
    );
    reply(202, &[("Operation-Location", &operation)], None)
}

pub const SUCCEEDED_LAYOUT: &str = r#"{"status":"succeeded","analyzeResult":{"apiVersion":"2023-07-31","modelId":"prebuilt-layout","content":"Total","pages":[{"pageNumber":1,"width":10,"height":10,"unit":"pixel","words":[{"content":"Total","polygon":[1,1,4,1,4,2,1,2],"span":{"offset":0,"length":5},"confidence":0.9}],"lines":[],"spans":[{"offset":0,"length":5}]}]}}"#;

/// The test Redis (`make test` exports `TEST_REDIS_URL`).
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("test:{}:", uuid::Uuid::new_v4().simple())
}
