//! `bench clients-import`: one CSV import of `--rows` clients into a fresh firm, `--runs` times.

use std::process::ExitCode;

use bench::machine::Machine;

use super::harness;
use crate::cli::BenchArgs;

pub async fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let addr = harness::resolve(&args.url).await?;
    let mut times = Vec::new();
    for run in 0..args.runs {
        let took = bench::import::run_once(addr, args.rows, run).await?;
        eprintln!(
            "run {}/{}: {} clients imported in {:.3} s",
            run + 1,
            args.runs,
            args.rows,
            took.as_secs_f64()
        );
        times.push(took.as_secs_f64());
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let median = times[times.len() / 2];
    println!("Machine: {}.", Machine::detect().describe());
    println!("Command: `{}`\n", std::env::args().collect::<Vec<_>>().join(" "));
    println!("| scenario | rows | runs | median s | min s | max s | rows/s (median) |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| clients-import | {} | {} | {median:.3} | {:.3} | {:.3} | {:.0} |",
        args.rows,
        args.runs,
        times[0],
        times[times.len() - 1],
        args.rows as f64 / median
    );
    Ok(ExitCode::SUCCESS)
}
