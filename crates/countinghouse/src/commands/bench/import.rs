//! `bench clients-import`: one CSV import of `--rows` clients into a fresh firm, `--runs` times.

use std::process::ExitCode;

use super::harness;
use crate::cli::BenchArgs;

pub async fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let addr = harness::resolve(&args.url).await?;
    let mut times = Vec::new();
    let mut loads = Vec::new();
    for run in 0..args.runs {
        let load = harness::load_before();
        let took = bench::import::run_once(addr, args.rows, run).await?;
        eprintln!(
            "run {}/{}: load {} before; {} clients imported in {:.3} s",
            run + 1,
            args.runs,
            harness::show_load(load),
            args.rows,
            took.as_secs_f64()
        );
        times.push(took.as_secs_f64());
        loads.push(load);
    }
    let rows_per_second: Vec<f64> = times.iter().map(|t| args.rows as f64 / t).collect();
    harness::print_median_table(&[
        (format!("import of {} clients, wall time (s)", args.rows), times),
        ("clients imported per second".into(), rows_per_second),
        harness::load_row(&loads),
    ]);
    Ok(ExitCode::SUCCESS)
}
