//! `countinghouse`: one binary, a subcommand per process role. This file parses the command line,
//! loads the configuration, sets up telemetry and hands over; no business logic lives here.

mod cli;
mod commands;
mod config;
mod runtime;

use clap::Parser;

/// mimalloc: the server allocates many small, short-lived buffers per request (rows, JSON),
/// where glibc's allocator showed up as a fifth of the CPU profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Tesseract (the document workers) runs 8-10x slower with OpenMP threads; the limit must be
    // in the environment when the library loads, so this re-executes once with it set.
    if let Err(e) = documents::ocr::tesseract::ensure_single_threaded_openmp() {
        eprintln!("warning: could not restart with OMP_THREAD_LIMIT=1 ({e}); OCR will be slow");
    }
    let cli = cli::Cli::parse();
    let config = match config::Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: configuration: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let format =
        if config.log.format == "json" { telemetry::LogFormat::Json } else { telemetry::LogFormat::Text };
    telemetry::init_tracing(format, &config.log.filter);

    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime starts");
    match runtime.block_on(commands::run(cli.command, config)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
