//! Runs the queue benchmarks of [`jobs::bench`] against a database that has the queue's schema,
//! until `countinghouse bench queue` does it for the whole system:
//!
//! `cargo run --release -p jobs --example queue_bench -- postgres://countinghouse_app@127.0.0.1:5432/DB [runs] [name=value ...]`
//!
//! with `jobs`, `producers`, `enqueue_batch`, `concurrency`, `claim_batch` (throughput) and
//! `rate`, `seconds` (latency) overriding the defaults. Prints each run and the medians.

use std::str::FromStr;

use jobs::bench::{self, LatencyConfig, ThroughputConfig};
use sqlx::postgres::PgConnectOptions;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: queue_bench <database-url> [runs]")?;
    let runs: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(3);
    let options = PgConnectOptions::from_str(&url)?;
    let mut tp = ThroughputConfig::default();
    let mut lat = LatencyConfig::default();
    for arg in args {
        let (name, value) = arg.split_once('=').ok_or("settings are name=value")?;
        let n: f64 = value.parse()?;
        match name {
            "jobs" => tp.jobs = n as usize,
            "producers" => tp.producers = n as usize,
            "enqueue_batch" => tp.enqueue_batch = n as usize,
            "concurrency" => tp.concurrency = n as usize,
            "claim_batch" => tp.claim_batch = n as usize,
            "rate" => lat.rate = n,
            "seconds" => lat.duration = std::time::Duration::from_secs_f64(n),
            _ => return Err(format!("unknown setting {name}").into()),
        }
    }

    let mut throughput = Vec::new();
    for run in (1..=runs).filter(|_| tp.jobs > 0) {
        let r = bench::throughput(&options, &tp).await?;
        println!(
            "throughput run {run}: {} jobs, enqueued {:.0}/s, enqueued+completed {:.0}/s ({:.2} s)",
            r.jobs, r.enqueued_per_second, r.completed_per_second, r.total_seconds
        );
        throughput.push(r.completed_per_second);
    }
    let mut latency = Vec::new();
    for run in (1..=runs).filter(|_| !lat.duration.is_zero()) {
        let r = bench::pickup_latency(&options, &lat).await?;
        println!(
            "latency run {run}: {:.0}/s of {:.0}/s, {} jobs, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
            r.achieved_rate, r.target_rate, r.jobs, r.p50_ms, r.p90_ms, r.p99_ms, r.p999_ms, r.max_ms
        );
        latency.push((r.p50_ms, r.p99_ms));
    }
    throughput.sort_by(f64::total_cmp);
    latency.sort_by(|a, b| a.1.total_cmp(&b.1));
    if let Some(t) = throughput.get(throughput.len() / 2) {
        println!("median of {}: {t:.0} jobs/s enqueued and completed", throughput.len());
    }
    if let Some((p50, p99)) = latency.get(latency.len() / 2) {
        println!("median of {}: pickup p99 {p99:.2} ms (that run's p50 {p50:.2} ms)", latency.len());
    }
    Ok(())
}
