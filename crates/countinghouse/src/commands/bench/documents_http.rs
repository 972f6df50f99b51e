//! `countinghouse bench documents-http`: upload to extracted fields stored, through the whole system, in
//! this process against DATABASE_URL. The HTTP API serves on a local port; the `documents.process` jobs run
//! on the worker `countinghouse worker` runs (its configured concurrency, local Tesseract); each run has a
//! firm and a client of its own and a freshly generated corpus (a seed per run and phase, so no upload is a
//! duplicate that would skip the pipeline).
//!
//! Two phases per run:
//! - latency: one document at a time, from before its upload request to the first status poll that sees
//!   it finished (polls every 5 ms, so a figure is at most about 5 ms late), digital PDFs and scans apart;
//!   for scans also the share of that time spent outside the OCR step (the document's own `ocr_ms`):
//!   HTTP, storage, the queue, detection, analysis and saving;
//! - throughput: the digital PDFs of a second corpus uploaded by four uploaders at once, from the first
//!   upload to the last one finished, then its scans the same way: what a firm dropping a folder on the
//!   system sees.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use documents::eval::{LabeledDocument, Variant};
use futures::StreamExt;

use super::harness;
use crate::cli::BenchArgs;
use crate::commands::worker::JobRunner;
use crate::config::Config;
use crate::runtime::{self, Database};

const UPLOADERS: usize = 4;

struct RunFigures {
    digital_ms: Vec<f64>,
    scan_ms: Vec<f64>,
    /// Σ of the scans' own OCR step, for the share of their latency outside it.
    scan_ocr_ms: f64,
    digital_burst: Burst,
    scan_burst: Burst,
}

/// Documents uploaded at once and how long until the last was finished.
struct Burst {
    documents: usize,
    secs: f64,
    needs_review: usize,
    failed: usize,
}

/// A finished document: its status and how long its OCR step took (0 without OCR).
struct Finished {
    status: String,
    ocr_ms: f64,
}

/// The system under test: the API on a local port, signed in as a firm's owner with one client.
struct Target {
    http: reqwest::Client,
    base: String,
    token: String,
    client: String,
}

pub async fn run(args: &BenchArgs, config: &Config) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.runs > 0 && args.per_layout > 0, "runs and per-layout must be positive");
    harness::with_database(config, async |database| runs(args, config, database).await).await
}

async fn runs(args: &BenchArgs, config: &Config, database: &Database) -> anyhow::Result<ExitCode> {
    let db = database.connect().await?;
    let keys = runtime::key_ring(config)?;
    let cache = runtime::cache(config)?;
    let identity = runtime::identity(config, db.clone(), keys.clone(), cache.clone())?;
    let state = runtime::api_state(config, db.clone(), keys, identity.clone(), cache).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = api::router(state.clone());
    let server = tokio::spawn(api::serve(listener, router, std::future::pending()));
    let runner = JobRunner::start(config, &state, &[documents::jobs::QUEUE.to_owned()], false).await?;
    let corpus_dir = tempfile::tempdir()?;

    let mut figures = Vec::new();
    let mut loads = Vec::new();
    for run in 1..=args.runs {
        let target = sign_up(&identity, &state.practice, base.clone()).await?;
        let seed = 7_000 + run as u64 * 2;
        let one_by_one = corpus(&corpus_dir.path().join(format!("latency-{run}")), seed, args.per_layout)?;
        let burst = corpus(&corpus_dir.path().join(format!("burst-{run}")), seed + 1, args.per_layout)?;
        let load = harness::load_before();
        let f = one_run(&target, &one_by_one, &burst).await?;
        eprintln!(
            "run {run}/{}: load {} before; one at a time: digital p50 {:.0} ms, scan p50 {:.0} ms; all at once: {} digital in {:.1} s, {} scans in {:.1} s",
            args.runs,
            harness::show_load(load),
            percentile(&f.digital_ms, 50.0),
            percentile(&f.scan_ms, 50.0),
            f.digital_burst.documents,
            f.digital_burst.secs,
            f.scan_burst.documents,
            f.scan_burst.secs
        );
        figures.push(f);
        loads.push(load);
    }
    runner.shutdown(Duration::from_secs(10)).await;
    server.abort();
    db.close().await;
    report(args, &figures, &loads);
    Ok(ExitCode::SUCCESS)
}

fn corpus(dir: &Path, seed: u64, per_layout: usize) -> anyhow::Result<Vec<LabeledDocument>> {
    doc_corpus::generate(dir, &doc_corpus::CorpusSpec::benchmark(seed, per_layout))
        .with_context(|| format!("generating the corpus in {}", dir.display()))
}

async fn sign_up(
    identity: &identity::Identity,
    practice: &practice::Practice,
    base: String,
) -> anyhow::Result<Target> {
    let bench = harness::bench_firm(identity, practice, "docs-bench", "Shoebox Receipts LLC").await?;
    Ok(Target { http: reqwest::Client::new(), base, token: bench.token, client: bench.client.to_string() })
}

impl Target {
    /// Uploads one file; returns the new document's id.
    async fn upload(&self, doc: &LabeledDocument) -> anyhow::Result<String> {
        let bytes = tokio::fs::read(&doc.path).await?;
        let part = reqwest::multipart::Part::bytes(bytes).file_name(doc.truth.file.clone());
        let response = self
            .http
            .post(format!("{}/v1/clients/{}/documents", self.base, self.client))
            .bearer_auth(&self.token)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        let file = &body["files"][0];
        anyhow::ensure!(
            status == 201 && file["outcome"] == "accepted",
            "{} was not accepted: {body}",
            doc.truth.file
        );
        file["document"]["id"].as_str().map(str::to_owned).context("the upload response has no document id")
    }

    /// Polls until the document is finished.
    async fn finished(&self, id: &str) -> anyhow::Result<Finished> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(600) {
            let detail: serde_json::Value = self
                .http
                .get(format!("{}/v1/documents/{id}", self.base))
                .bearer_auth(&self.token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            match detail["document"]["status"].as_str() {
                Some("uploaded" | "processing") => tokio::time::sleep(Duration::from_millis(5)).await,
                Some(status) => {
                    let ocr_ms = detail["document"]["step_timings"]["ocr_ms"].as_f64().unwrap_or(0.0);
                    return Ok(Finished { status: status.to_owned(), ocr_ms });
                }
                None => anyhow::bail!("document {id} has no status: {detail}"),
            }
        }
        anyhow::bail!("document {id} did not finish within ten minutes")
    }
}

async fn one_run(
    target: &Target,
    one_by_one: &[LabeledDocument],
    burst: &[LabeledDocument],
) -> anyhow::Result<RunFigures> {
    let (mut digital_ms, mut scan_ms, mut scan_ocr_ms) = (Vec::new(), Vec::new(), 0.0);
    for doc in one_by_one {
        let started = Instant::now();
        let id = target.upload(doc).await?;
        let done = target.finished(&id).await?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        match doc.truth.variant {
            Variant::Digital => digital_ms.push(ms),
            Variant::Scan => {
                anyhow::ensure!(done.ocr_ms > 0.0, "scan {} has no OCR step timing", doc.truth.file);
                scan_ms.push(ms);
                scan_ocr_ms += done.ocr_ms;
            }
        }
    }
    let of = |variant: Variant| burst.iter().filter(|d| d.truth.variant == variant).collect::<Vec<_>>();
    Ok(RunFigures {
        digital_ms,
        scan_ms,
        scan_ocr_ms,
        digital_burst: all_at_once(target, &of(Variant::Digital)).await?,
        scan_burst: all_at_once(target, &of(Variant::Scan)).await?,
    })
}

async fn all_at_once(target: &Target, docs: &[&LabeledDocument]) -> anyhow::Result<Burst> {
    let started = Instant::now();
    let ids: Vec<String> = futures::stream::iter(docs.iter().map(|doc| target.upload(doc)))
        .buffer_unordered(UPLOADERS)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let mut statuses = Vec::new();
    for id in &ids {
        statuses.push(target.finished(id).await?.status);
    }
    Ok(Burst {
        documents: docs.len(),
        secs: started.elapsed().as_secs_f64(),
        needs_review: statuses.iter().filter(|s| *s == "needs_review").count(),
        failed: statuses.iter().filter(|s| *s == "failed").count(),
    })
}

/// The `p`th percentile by nearest rank.
fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn report(args: &BenchArgs, figures: &[RunFigures], loads: &[Option<f64>]) {
    let all = |f: &dyn Fn(&RunFigures) -> f64| figures.iter().map(f).collect::<Vec<_>>();
    let samples = figures.first().map_or(0, |f| f.scan_ms.len());
    let outside_ocr = |f: &RunFigures| {
        let latency: f64 = f.scan_ms.iter().sum();
        (latency - f.scan_ocr_ms) / f.scan_ocr_ms * 100.0
    };
    harness::print_median_table(&[
        (format!("documents per variant and phase (--per-layout {})", args.per_layout), vec![samples as f64]),
        (
            "one at a time: digital PDF, upload → fields p50 (ms)".into(),
            all(&|f| percentile(&f.digital_ms, 50.0)),
        ),
        (
            "one at a time: digital PDF, upload → fields p99 (ms)".into(),
            all(&|f| percentile(&f.digital_ms, 99.0)),
        ),
        (
            "one at a time: one-page scan, upload → fields p50 (ms)".into(),
            all(&|f| percentile(&f.scan_ms, 50.0)),
        ),
        (
            "one at a time: one-page scan, upload → fields p99 (ms)".into(),
            all(&|f| percentile(&f.scan_ms, 99.0)),
        ),
        ("one at a time: scan time outside the OCR step, % of the OCR step".into(), all(&outside_ocr)),
        (
            "all at once: digital PDFs/s".into(),
            all(&|f| f.digital_burst.documents as f64 / f.digital_burst.secs),
        ),
        (
            "all at once: one-page scans/hour".into(),
            all(&|f| f.scan_burst.documents as f64 * 3600.0 / f.scan_burst.secs),
        ),
        ("all at once: scans needing review".into(), all(&|f| f.scan_burst.needs_review as f64)),
        ("all at once: digital PDFs needing review".into(), all(&|f| f.digital_burst.needs_review as f64)),
        ("all at once: failed".into(), all(&|f| (f.digital_burst.failed + f.scan_burst.failed) as f64)),
        harness::load_row(loads),
    ]);
}
