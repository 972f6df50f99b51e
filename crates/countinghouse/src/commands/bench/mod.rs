//! `countinghouse bench`: runs a scenario and prints its report.
//!
//! # Layout
//! - [`load`]: the load scenarios of the `bench` crate against a running server.
//! - `import`, `queue`, `documents`, `documents_http`, `qbo_sync`, `workflows`: one measurement
//!   each, with its own runner and report (all but `import` in this process against DATABASE_URL).
//! - [`harness`]: what they share (the target's address, a migrated database, a firm of their
//!   own, the table of medians).

mod documents;
mod documents_http;
mod harness;
mod import;
mod load;
mod qbo_sync;
mod queue;
mod workflows;

use std::process::ExitCode;

use clap::ValueEnum;

use crate::cli::{BenchArgs, BenchScenario, Measurement};
use crate::config::Config;

pub async fn run(args: BenchArgs, config: Config) -> anyhow::Result<ExitCode> {
    match args.scenario {
        BenchScenario::List => list(),
        BenchScenario::Load(scenario) => load::run(&args, scenario).await,
        BenchScenario::Measure(Measurement::ClientsImport) => import::run(&args).await,
        BenchScenario::Measure(Measurement::Queue) => queue::run(&args, &config).await,
        BenchScenario::Measure(Measurement::QboSync) => qbo_sync::run(&args, &config).await,
        BenchScenario::Measure(Measurement::Documents) => documents::run(&args).await,
        BenchScenario::Measure(Measurement::DocumentsReal) => documents::run_real(&args).await,
        BenchScenario::Measure(Measurement::DocumentsHttp) => documents_http::run(&args, &config).await,
        BenchScenario::Measure(Measurement::Workflows) => workflows::run(&args, &config).await,
    }
}

/// Every scenario with what it measures (the help of its value).
fn list() -> anyhow::Result<ExitCode> {
    for scenario in BenchScenario::value_variants().iter().filter(|s| **s != BenchScenario::List) {
        if let Some(value) = scenario.to_possible_value() {
            println!(
                "{:<20} {}",
                value.get_name(),
                value.get_help().map(ToString::to_string).unwrap_or_default()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
