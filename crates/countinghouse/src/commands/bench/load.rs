//! The load scenarios: requests at a constant arrival rate against `--url` (and `--compare-url`,
//! run by run in alternation), with a BENCHMARKS.md table of the runs' medians.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use bench::LoadConfig;
use bench::machine::Machine;
use bench::report::{Ratio, Report, RunFigures, Summary};
use bench::scenarios::{self, Credentials, LoadScenario};

use super::harness;
use crate::cli::BenchArgs;

pub async fn run(args: &BenchArgs, scenario: LoadScenario) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.rate > 0.0 && args.runs > 0 && args.connections > 0,
        "rate, runs and connections must be positive"
    );
    let creds = Credentials {
        organization: args.organization.clone(),
        emails: args.emails.clone(),
        password: args.password.clone(),
    };
    let mut targets = vec![(args.label.clone(), harness::resolve(&args.url).await?)];
    if let Some(url) = &args.compare_url {
        targets.push((args.compare_label.clone(), harness::resolve(url).await?));
    }
    let mut makers = Vec::new();
    for (_, addr) in &targets {
        makers.push(scenarios::prepare(scenario, *addr, &creds).await?);
    }
    let mut figures: Vec<Vec<RunFigures>> = vec![Vec::new(); targets.len()];
    // Alternate configurations run by run, so drift on the machine hits both alike.
    for run in 0..args.runs {
        for (t, ((label, addr), make)) in targets.iter().zip(makers.iter_mut()).enumerate() {
            let cfg = LoadConfig {
                addr: *addr,
                rate: args.rate,
                duration: Duration::from_secs(args.duration),
                warmup: Duration::from_secs(args.warmup),
                connections: args.connections,
            };
            let result = bench::load::run(&cfg, &mut **make).await?;
            let f = RunFigures::from(&result);
            eprintln!(
                "run {}/{} {label}: {:.0} req/s achieved of {:.0}, {} errors, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                run + 1,
                args.runs,
                f.achieved_rps,
                f.target_rps,
                f.errors,
                f.p50_ms,
                f.p99_ms,
                f.max_ms
            );
            figures[t].push(f);
        }
    }
    let summaries: Vec<Summary> = targets
        .iter()
        .zip(figures)
        .map(|((label, _), runs)| Summary::new(&scenario.name(), label, runs))
        .collect();
    let ratio = (summaries.len() == 2).then(|| Ratio {
        achieved_rps: summaries[1].median.achieved_rps / summaries[0].median.achieved_rps,
        p50: summaries[1].median.p50_ms / summaries[0].median.p50_ms,
        p99: summaries[1].median.p99_ms / summaries[0].median.p99_ms,
    });
    let report = Report {
        machine: Machine::detect(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        summaries,
        ratio,
    };
    print!("{}", report.markdown());
    if let LoadScenario::Marketplace(_) = scenario {
        // Cumulative since each server started (warm-up and every run included).
        for (label, addr) in &targets {
            if let Some(rate) = scenarios::cache_hit_rate(*addr).await? {
                println!(
                    "\nCache hit rate on {label} (marketplace reads since the server started): {:.1} %",
                    rate * 100.0
                );
            }
        }
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let errors: u64 = report.summaries.iter().map(|s| s.median.errors).sum();
    Ok(if errors == 0 { ExitCode::SUCCESS } else { ExitCode::from(3) })
}
