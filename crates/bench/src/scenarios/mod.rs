//! Benchmark scenarios: each logs in, gathers ids and search terms from the running system, and
//! returns a request maker for the load engine. Each is a variant of [`FirmScenario`] or
//! [`MarketplaceScenario`] (clap values whose doc comments are the scenarios' help).

mod firm;
mod marketplace;
mod work;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use clap::ValueEnum;
use clap::builder::PossibleValue;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

use crate::{BenchError, Request};

pub use firm::FirmScenario;
pub use marketplace::{MarketplaceScenario, cache_hit_rate};

/// Who the scenarios sign in as (the seeded benchmark firm by default).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub organization: String,
    pub emails: Vec<String>,
    pub password: String,
}

/// A request maker: called with the request's sequence number.
pub type MakeRequest = Box<dyn FnMut(u64) -> Request + Send>;

/// A scenario of requests at a constant rate against a running server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadScenario {
    Firm(FirmScenario),
    Marketplace(MarketplaceScenario),
}

impl LoadScenario {
    /// Every load scenario, in the order `countinghouse bench list` prints them.
    pub fn all() -> impl Iterator<Item = LoadScenario> {
        let firm = FirmScenario::value_variants().iter().copied().map(LoadScenario::Firm);
        firm.chain(MarketplaceScenario::value_variants().iter().copied().map(LoadScenario::Marketplace))
    }

    /// Its name on the command line and in reports, with its help.
    pub fn possible_value(self) -> PossibleValue {
        match self {
            LoadScenario::Firm(s) => s.to_possible_value(),
            LoadScenario::Marketplace(s) => s.to_possible_value(),
        }
        .expect("no scenario is skipped")
    }

    pub fn name(self) -> String {
        self.possible_value().get_name().to_owned()
    }
}

pub async fn prepare(
    scenario: LoadScenario,
    addr: SocketAddr,
    creds: &Credentials,
) -> Result<MakeRequest, BenchError> {
    match scenario {
        LoadScenario::Firm(s) => firm::prepare(s, addr, creds).await,
        LoadScenario::Marketplace(s) => marketplace::prepare(s, addr, creds).await,
    }
}

/// One request outside the load (setup), answering the JSON body.
pub async fn call(
    addr: SocketAddr,
    method: http::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Result<(u16, Value), BenchError> {
    let (status, bytes) = call_bytes(addr, method, path, token, body).await?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

/// One request outside the load, answering the body as it came (`/metrics` is text).
pub async fn call_bytes(
    addr: SocketAddr,
    method: http::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Result<(u16, Bytes), BenchError> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|source| BenchError::Connect { url: addr.to_string(), source })?;
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut req =
        hyper::Request::builder().method(method).uri(path).header(http::header::HOST, addr.to_string());
    if let Some(t) = token {
        req = req.header(http::header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let body = match body {
        Some(b) => {
            req = req.header(http::header::CONTENT_TYPE, "application/json");
            Bytes::from(b.to_string())
        }
        None => Bytes::new(),
    };
    let resp =
        sender.send_request(req.body(Full::new(body)).map_err(|e| BenchError::Setup(e.to_string()))?).await?;
    let status = resp.status().as_u16();
    Ok((status, resp.into_body().collect().await?.to_bytes()))
}

/// One request with a raw body (CSV uploads), answering the JSON body.
pub async fn call_raw(
    addr: SocketAddr,
    path: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<(u16, Value), BenchError> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|source| BenchError::Connect { url: addr.to_string(), source })?;
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = hyper::Request::builder()
        .method(http::Method::POST)
        .uri(path)
        .header(http::header::HOST, addr.to_string())
        .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
        .header(http::header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| BenchError::Setup(e.to_string()))?;
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await?.to_bytes();
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

/// Signs in and returns the bearer token.
pub async fn login(
    addr: SocketAddr,
    organization: &str,
    email: &str,
    password: &str,
) -> Result<Arc<str>, BenchError> {
    let body = serde_json::json!({"organization": organization, "email": email, "password": password});
    let (status, v) = call(addr, http::Method::POST, "/v1/sessions", None, Some(body)).await?;
    match v["token"].as_str() {
        Some(t) if status == 201 => Ok(Arc::from(t)),
        _ => Err(BenchError::Setup(format!(
            "sign-in as {email} at {organization} failed ({status}): {v}. Seed the database first: countinghouse seed --scale seed"
        ))),
    }
}
