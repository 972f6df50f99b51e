//! `countinghouse bench`: runs a scenario (or several load scenarios, interleaved) and prints its
//! report.
//!
//! # Layout
//! - [`load`]: the load scenarios of the `bench` crate against a running server, several in one
//!   session with their runs interleaved.
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

use bench::scenarios::LoadScenario;
use clap::ValueEnum;

use crate::cli::{BenchArgs, BenchScenario, Measurement};
use crate::config::Config;

pub async fn run(args: BenchArgs, config: Config) -> anyhow::Result<ExitCode> {
    let loads: Vec<LoadScenario> = args
        .scenarios
        .iter()
        .filter_map(|s| match s {
            BenchScenario::Load(l) => Some(*l),
            _ => None,
        })
        .collect();
    match args.scenarios.as_slice() {
        [BenchScenario::List] => list(),
        [BenchScenario::Measure(m)] => measure(*m, &args, &config).await,
        all if !all.is_empty() && loads.len() == all.len() => {
            let mut unique = loads.clone();
            unique.sort_by_key(|s| s.name());
            unique.dedup();
            anyhow::ensure!(unique.len() == loads.len(), "a scenario is given twice");
            load::run(&args, &loads).await
        }
        _ => anyhow::bail!(
            "only load scenarios (against --url) can be given together; run `list` and each \
             in-process measurement on its own"
        ),
    }
}

async fn measure(m: Measurement, args: &BenchArgs, config: &Config) -> anyhow::Result<ExitCode> {
    match m {
        Measurement::ClientsImport => import::run(args).await,
        Measurement::Queue => queue::run(args, config).await,
        Measurement::QboSync => qbo_sync::run(args, config).await,
        Measurement::Documents => documents::run(args).await,
        Measurement::DocumentsReal => documents::run_real(args).await,
        Measurement::DocumentsHttp => documents_http::run(args, config).await,
        Measurement::Workflows => workflows::run(args, config).await,
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
