//! `bench queue`: the job queue's throughput and pickup latency in this process.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use store::sqlx::Connection;
use store::sqlx::postgres::{PgConnectOptions, PgConnection};

use super::harness::{load_before, load_row, print_median_table, show_load, with_database};
use crate::cli::BenchArgs;
use crate::config::Config;
use crate::runtime::Database;

/// `bench queue`: [`jobs::bench`] against the configured database (migrated first), in this
/// process; each figure is the median of `--runs`.
pub async fn run(args: &BenchArgs, config: &Config) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.rate > 0.0 && args.runs > 0, "rate and runs must be positive");
    with_database(config, async |database| queue_runs(args, database).await).await
}

async fn queue_runs(args: &BenchArgs, database: &Database) -> anyhow::Result<ExitCode> {
    let options = database.config.app_options();
    let throughput_cfg = jobs::bench::ThroughputConfig { jobs: args.jobs, ..Default::default() };
    let latency_cfg = jobs::bench::LatencyConfig {
        rate: args.rate,
        duration: Duration::from_secs(args.duration),
        warmup: Duration::from_secs(args.warmup),
        ..Default::default()
    };
    let modes = args.enqueue_commit.modes();
    let mut throughput = Vec::new();
    let mut latency: Vec<Vec<jobs::bench::LatencyReport>> = vec![Vec::new(); modes.len()];
    let mut loads = Vec::new();
    // Interleaved: each round runs the throughput measurement, then pickup latency in each commit
    // mode, so drift on the machine hits every figure alike.
    for run in 1..=args.runs {
        vacuum_jobs(&database.config.owner).await?;
        let load = load_before();
        let r = jobs::bench::throughput(&options, &throughput_cfg).await?;
        eprintln!(
            "throughput run {run}/{}: load {} before; {} jobs, enqueued {:.0}/s, enqueued and completed {:.0}/s ({:.2} s)",
            args.runs,
            show_load(load),
            r.jobs,
            r.enqueued_per_second,
            r.completed_per_second,
            r.total_seconds
        );
        loads.push(load);
        throughput.push(r);
        for (&async_commit, reports) in modes.iter().zip(&mut latency) {
            vacuum_jobs(&database.config.owner).await?;
            let cfg = jobs::bench::LatencyConfig { async_commit, ..latency_cfg.clone() };
            let load = load_before();
            let r = jobs::bench::pickup_latency(&options, &cfg).await?;
            print_latency_run(run, args.runs, commit_name(async_commit), load, &r);
            loads.push(load);
            reports.push(r);
        }
    }
    let rate = format!("{:.0}/s", args.rate);
    let mut rows = vec![
        ("enqueued (jobs/s)".into(), throughput.iter().map(|r| r.enqueued_per_second).collect()),
        (
            "enqueued and completed (jobs/s)".into(),
            throughput.iter().map(|r| r.completed_per_second).collect(),
        ),
    ];
    for (&async_commit, reports) in modes.iter().zip(&latency) {
        let mode = commit_name(async_commit);
        rows.extend([
            (format!("pickup p50 at {rate}, {mode} (ms)"), reports.iter().map(|r| r.p50_ms).collect()),
            (format!("pickup p99 at {rate}, {mode} (ms)"), reports.iter().map(|r| r.p99_ms).collect()),
            (
                format!("achieved rate at {rate}, {mode} (jobs/s)"),
                reports.iter().map(|r| r.achieved_rate).collect(),
            ),
        ]);
    }
    rows.push(load_row(&loads));
    print_median_table(&rows);
    Ok(ExitCode::SUCCESS)
}

fn commit_name(async_commit: bool) -> &'static str {
    if async_commit { "async commit" } else { "durable commit" }
}

fn print_latency_run(run: usize, runs: usize, mode: &str, load: Option<f64>, r: &jobs::bench::LatencyReport) {
    eprintln!(
        "latency run {run}/{runs} ({mode}): load {} before; {:.0}/s of {:.0}/s, {} jobs, p50 {:.2} ms, p99 {:.2} ms, \
         max {:.2} ms; p50/p99 due→committed {:.2}/{:.2}, committed→claimed {:.2}/{:.2}, \
         claimed→started {:.2}/{:.2} ms",
        show_load(load),
        r.achieved_rate,
        r.target_rate,
        r.jobs,
        r.p50_ms,
        r.p99_ms,
        r.max_ms,
        r.enqueue.p50_ms,
        r.enqueue.p99_ms,
        r.to_claim.p50_ms,
        r.to_claim.p99_ms,
        r.to_start.p50_ms,
        r.to_start.p99_ms,
    );
}

/// Every run starts from a vacuumed queue table, as the first did: a run leaves its 200,000 jobs
/// as dead tuples, which autovacuum (configured aggressively for `jobs`) would clear, but a server
/// may run without it (the shared test server does). Needs the owner: VACUUM is the owner's.
async fn vacuum_jobs(owner: &PgConnectOptions) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect_with(owner).await.context("connecting as the owner to vacuum")?;
    store::sqlx::raw_sql("vacuum (analyze) jobs").execute(&mut conn).await.context("vacuum jobs")?;
    conn.close().await?;
    Ok(())
}
