//! `bench queue`: the job queue's throughput and pickup latency in this process.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use store::sqlx::Connection;
use store::sqlx::postgres::{PgConnectOptions, PgConnection};

use super::harness::{print_median_table, with_database};
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
    let mut throughput = Vec::new();
    for run in 1..=args.runs {
        vacuum_jobs(&database.config.owner).await?;
        let r = jobs::bench::throughput(&options, &throughput_cfg).await?;
        eprintln!(
            "throughput run {run}/{}: {} jobs, enqueued {:.0}/s, enqueued and completed {:.0}/s ({:.2} s)",
            args.runs, r.jobs, r.enqueued_per_second, r.completed_per_second, r.total_seconds
        );
        throughput.push(r);
    }
    let mut latency = Vec::new();
    for run in 1..=args.runs {
        vacuum_jobs(&database.config.owner).await?;
        let r = jobs::bench::pickup_latency(&options, &latency_cfg).await?;
        eprintln!(
            "latency run {run}/{}: {:.0}/s of {:.0}/s, {} jobs, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            args.runs, r.achieved_rate, r.target_rate, r.jobs, r.p50_ms, r.p99_ms, r.max_ms
        );
        latency.push(r);
    }
    let rate = format!("{:.0}/s", args.rate);
    print_median_table(&[
        ("enqueued (jobs/s)".into(), throughput.iter().map(|r| r.enqueued_per_second).collect()),
        (
            "enqueued and completed (jobs/s)".into(),
            throughput.iter().map(|r| r.completed_per_second).collect(),
        ),
        (format!("pickup p50 at {rate} (ms)"), latency.iter().map(|r| r.p50_ms).collect()),
        (format!("pickup p99 at {rate} (ms)"), latency.iter().map(|r| r.p99_ms).collect()),
        (format!("achieved rate at {rate} (jobs/s)"), latency.iter().map(|r| r.achieved_rate).collect()),
    ]);
    Ok(ExitCode::SUCCESS)
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
