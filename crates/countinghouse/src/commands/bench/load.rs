//! The load scenarios: requests at a constant arrival rate against `--url` (and `--compare-url`).
//! Several scenarios run in one session with their runs interleaved (run 1 of each scenario
//! against each configuration, then run 2, …), the 1-minute load average read before each run;
//! the report is a BENCHMARKS.md table of each figure's median (min–max), with p99 marked
//! unstable when its runs disagree.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use bench::LoadConfig;
use bench::machine::{self, Machine};
use bench::plan;
use bench::report::{Ratio, Report, Run, RunFigures, Summary};
use bench::scenarios::{self, Credentials, LoadScenario, MakeRequest};

use super::harness;
use crate::cli::BenchArgs;

pub async fn run(args: &BenchArgs, scenarios: &[LoadScenario]) -> anyhow::Result<ExitCode> {
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
    // makers[scenario][target]
    let mut makers: Vec<Vec<MakeRequest>> = Vec::new();
    for scenario in scenarios {
        let mut per_target = Vec::new();
        for (_, addr) in &targets {
            per_target.push(scenarios::prepare(*scenario, *addr, &creds).await?);
        }
        makers.push(per_target);
    }
    let cfg = |addr| LoadConfig {
        addr,
        rate: args.rate,
        duration: Duration::from_secs(args.duration),
        warmup: Duration::from_secs(args.warmup),
        connections: args.connections,
    };
    let mut runs: Vec<Vec<Vec<Run>>> = vec![vec![Vec::new(); targets.len()]; scenarios.len()];
    // Interleaved, so drift on the machine hits every scenario and configuration alike.
    for (seq, slot) in plan::interleave(args.runs, scenarios.len(), targets.len()).into_iter().enumerate() {
        let (label, addr) = &targets[slot.target];
        let load_1m = machine::load_average();
        let result = bench::load::run(&cfg(*addr), &mut *makers[slot.scenario][slot.target]).await?;
        let f = RunFigures::from(&result);
        eprintln!(
            "run {}/{} {} {label}: load {} before; {:.0} req/s achieved of {:.0}, {} errors, \
             p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            slot.run + 1,
            args.runs,
            scenarios[slot.scenario].name(),
            load_1m.map(|l| format!("{l:.2}")).unwrap_or_else(|| "?".into()),
            f.achieved_rps,
            f.target_rps,
            f.errors,
            f.p50_ms,
            f.p99_ms,
            f.max_ms
        );
        runs[slot.scenario][slot.target].push(Run { seq: seq + 1, load_1m, figures: f });
    }
    let mut summaries = Vec::new();
    let mut ratios = Vec::new();
    for (scenario, per_target) in scenarios.iter().zip(runs) {
        let of_scenario: Vec<Summary> = targets
            .iter()
            .zip(per_target)
            .map(|((label, _), runs)| Summary::new(&scenario.name(), label, runs, args.target_p99))
            .collect();
        if let [a, b] = of_scenario.as_slice() {
            ratios.push(Ratio::of(a, b));
        }
        summaries.extend(of_scenario);
    }
    let report = Report {
        machine: Machine::detect(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        summaries,
        ratios,
        target_p99_ms: args.target_p99,
    };
    print!("{}", report.markdown());
    if scenarios.iter().any(|s| matches!(s, LoadScenario::Marketplace(_))) {
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
