//! `bench documents`: the document pipeline's accuracy per type and its throughput; `bench
//! documents-real`: its accuracy on the real-world set per split, language and field.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::BenchArgs;

/// `documents`: accuracy per type and throughput of the pipeline (`doc_corpus::bench`), which
/// runs its own runtime on a thread of its own.
pub async fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let options = doc_corpus::bench::BenchOptions {
        spec: doc_corpus::CorpusSpec::benchmark(2026, args.per_layout),
        dir: None,
        runs: args.runs,
        misses: 0,
        generate_only: false,
    };
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = done.send(doc_corpus::bench::run(options).map_err(|e| anyhow::anyhow!(e)));
    });
    result.await.context("the documents benchmark thread stopped")??;
    Ok(ExitCode::SUCCESS)
}

/// `documents-real`: the real-world set (`doc_corpus::real`) scored once, on a thread of its own
/// like `documents`.
pub async fn run_real(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let misses = args.dev_misses.then_some("dev");
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let dir = doc_corpus::real::default_dir();
        let _ =
            done.send(doc_corpus::bench::run_real(&dir, misses).map(|_| ()).map_err(|e| anyhow::anyhow!(e)));
    });
    result.await.context("the real-world documents thread stopped")??;
    Ok(ExitCode::SUCCESS)
}
