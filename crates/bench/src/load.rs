//! The open-loop engine: a scheduler emits requests at a constant rate onto a queue; a fixed pool
//! of HTTP/1.1 connections serves the queue; each latency runs from the request's due time to
//! the end of its response body.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::BenchError;

/// One request to make.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: http::Method,
    pub path: String,
    pub token: Option<Arc<str>>,
    /// Send the token as the console's session cookie instead of a bearer header (a browser).
    pub as_cookie: bool,
    pub body: Option<Bytes>,
}

impl Request {
    pub fn get(path: impl Into<String>, token: &Arc<str>) -> Request {
        Request {
            method: http::Method::GET,
            path: path.into(),
            token: Some(token.clone()),
            as_cookie: false,
            body: None,
        }
    }

    /// A console page, as a signed-in browser asks for it.
    pub fn page(path: impl Into<String>, token: &Arc<str>) -> Request {
        Request { as_cookie: true, ..Request::get(path, token) }
    }
}

#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub addr: SocketAddr,
    /// Requests per second, constant.
    pub rate: f64,
    /// Measured time.
    pub duration: Duration,
    /// Time at the same rate before measuring (connections, caches, JIT-free but pools warm).
    pub warmup: Duration,
    pub connections: usize,
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub target_rate: f64,
    pub achieved_rate: f64,
    pub completed: u64,
    /// Non-2xx responses and transport failures.
    pub errors: u64,
    pub status_counts: BTreeMap<u16, u64>,
    /// Microseconds from due time to the end of the response.
    pub latency_us: Histogram<u64>,
}

impl RunResult {
    pub fn percentile_ms(&self, p: f64) -> f64 {
        self.latency_us.value_at_quantile(p / 100.0) as f64 / 1000.0
    }

    pub fn max_ms(&self) -> f64 {
        self.latency_us.max() as f64 / 1000.0
    }
}

struct Due {
    at: Instant,
    measured: bool,
    request: Request,
}

struct WorkerResult {
    hist: Histogram<u64>,
    completed: u64,
    errors: u64,
    status_counts: BTreeMap<u16, u64>,
    last_done: Option<Instant>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds")
}

/// Runs the load: `next(i)` makes the i-th request.
pub async fn run(cfg: &LoadConfig, mut next: impl FnMut(u64) -> Request) -> Result<RunResult, BenchError> {
    let (tx, rx) = async_channel::unbounded::<Due>();
    let mut workers = Vec::with_capacity(cfg.connections);
    for _ in 0..cfg.connections {
        let rx = rx.clone();
        let addr = cfg.addr;
        // Connect up front so a wrong address fails fast.
        let sender = connect(addr).await?;
        workers.push(tokio::spawn(worker(addr, sender, rx)));
    }
    drop(rx);

    let start = Instant::now();
    let measure_from = start + cfg.warmup;
    let end = measure_from + cfg.duration;
    let interval = Duration::from_secs_f64(1.0 / cfg.rate);
    let mut i: u64 = 0;
    loop {
        let now = Instant::now();
        let mut due = start + interval.mul_f64(i as f64);
        if due >= end {
            break;
        }
        // Emit everything due by now: the timer wakes at ~1 ms granularity, the schedule does not.
        while due <= now && due < end {
            let request = next(i);
            let _ = tx.send(Due { at: due, measured: due >= measure_from, request }).await;
            i += 1;
            due = start + interval.mul_f64(i as f64);
        }
        tokio::time::sleep_until(tokio::time::Instant::from_std(due.min(end))).await;
    }
    tx.close();

    let mut hist = histogram();
    let (mut completed, mut errors) = (0, 0);
    let mut status_counts = BTreeMap::new();
    let mut last_done = measure_from;
    for w in workers {
        let r = w.await.map_err(|e| BenchError::Setup(format!("worker panicked: {e}")))?;
        hist.add(&r.hist).map_err(|e| BenchError::Setup(e.to_string()))?;
        completed += r.completed;
        errors += r.errors;
        for (k, v) in r.status_counts {
            *status_counts.entry(k).or_insert(0) += v;
        }
        if let Some(t) = r.last_done {
            last_done = last_done.max(t);
        }
    }
    // Achieved: measured completions over the time they took, which stretches past the
    // schedule's end when the server falls behind.
    let span = last_done.saturating_duration_since(measure_from).max(cfg.duration);
    Ok(RunResult {
        target_rate: cfg.rate,
        achieved_rate: completed as f64 / span.as_secs_f64(),
        completed,
        errors,
        status_counts,
        latency_us: hist,
    })
}

type Sender = http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Result<Sender, BenchError> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|source| BenchError::Connect { url: addr.to_string(), source })?;
    let _ = stream.set_nodelay(true);
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn worker(addr: SocketAddr, mut sender: Sender, rx: async_channel::Receiver<Due>) -> WorkerResult {
    let mut r = WorkerResult {
        hist: histogram(),
        completed: 0,
        errors: 0,
        status_counts: BTreeMap::new(),
        last_done: None,
    };
    let host = addr.to_string();
    while let Ok(due) = rx.recv().await {
        let mut builder = hyper::Request::builder().method(due.request.method.clone()).uri(&due.request.path);
        builder = builder.header(http::header::HOST, &host);
        match &due.request.token {
            Some(t) if due.request.as_cookie => {
                builder = builder.header(http::header::COOKIE, format!("ch_session={t}"))
            }
            Some(t) => builder = builder.header(http::header::AUTHORIZATION, format!("Bearer {t}")),
            None => {}
        }
        if due.request.body.is_some() {
            builder = builder.header(http::header::CONTENT_TYPE, "application/json");
        }
        let body = Full::new(due.request.body.clone().unwrap_or_default());
        let outcome = match builder.body(body) {
            Ok(req) => match sender.send_request(req).await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    match resp.into_body().collect().await {
                        Ok(_) => Some(status),
                        Err(_) => None,
                    }
                }
                Err(_) => None,
            },
            Err(_) => None,
        };
        let done = Instant::now();
        if due.measured {
            let _ = r.hist.record(done.saturating_duration_since(due.at).as_micros().max(1) as u64);
            r.completed += 1;
            r.last_done = Some(done);
            match outcome {
                Some(s) => {
                    *r.status_counts.entry(s).or_insert(0) += 1;
                    if !(200..300).contains(&s) {
                        r.errors += 1;
                    }
                }
                None => r.errors += 1,
            }
        }
        if outcome.is_none() || sender.is_closed() {
            match connect(addr).await {
                Ok(s) => sender = s,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
    r
}
