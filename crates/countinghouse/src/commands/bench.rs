//! `countinghouse bench`: runs a scenario against a running system and prints the report.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use bench::LoadConfig;
use bench::machine::Machine;
use bench::report::{Ratio, Report, RunFigures, Summary};
use bench::scenarios::{self, Credentials};

use store::sqlx::Connection;
use store::sqlx::postgres::{PgConnectOptions, PgConnection};

use crate::cli::BenchArgs;
use crate::config::Config;
use crate::runtime::Database;

pub async fn run(args: BenchArgs, config: Config) -> anyhow::Result<ExitCode> {
    if args.scenario == "list" {
        for (name, what) in scenarios::SCENARIOS.iter().chain(scenarios::MARKETPLACE_SCENARIOS) {
            println!("{name:<16} {what}");
        }
        println!("{:<16} one CSV import of --rows clients into a fresh firm, --runs times", "clients-import");
        println!(
            "{:<16} the job queue in this process against DATABASE_URL: --jobs no-op jobs enqueued and \
             completed, then pickup latency at --rate jobs/s, --runs times",
            "queue"
        );
        println!(
            "{:<16} QuickBooks sync in this process against DATABASE_URL and a local sandbox company of \
             --entities records: full sync, then one incremental sync after --changes random changes, --runs times",
            "qbo-sync"
        );
        println!(
            "{:<16} the document pipeline in this process with local OCR over a generated corpus \
             (--per-layout documents per type and layout, digital and scan-like), --runs times",
            "documents"
        );
        println!(
            "{:<16} upload to extracted fields through the HTTP API and the documents worker in this process \
             against DATABASE_URL: one document at a time (latency), then all at once (throughput), over a \
             corpus of --per-layout documents per type and layout, --runs times",
            "documents-http"
        );
        return Ok(ExitCode::SUCCESS);
    }
    if args.scenario == "documents" {
        return documents(&args).await;
    }
    if args.scenario == "documents-http" {
        return super::bench_docs::run(&args, &config).await;
    }
    if args.scenario == "clients-import" {
        return import(&args).await;
    }
    if args.scenario == "queue" {
        return queue(&args, &config).await;
    }
    if args.scenario == "qbo-sync" {
        return super::bench_qbo::run(&args, &config).await;
    }
    anyhow::ensure!(
        args.rate > 0.0 && args.runs > 0 && args.connections > 0,
        "rate, runs and connections must be positive"
    );
    let creds = Credentials {
        organization: args.organization.clone(),
        emails: args.emails.clone(),
        password: args.password.clone(),
    };
    let mut targets = vec![(args.label.clone(), resolve(&args.url).await?)];
    if let Some(url) = &args.compare_url {
        targets.push((args.compare_label.clone(), resolve(url).await?));
    }
    let mut makers = Vec::new();
    for (_, addr) in &targets {
        makers.push(scenarios::prepare(&args.scenario, *addr, &creds).await?);
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
        .map(|((label, _), runs)| Summary::new(&args.scenario, label, runs))
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
    if args.scenario.starts_with("marketplace-") {
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

async fn import(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let addr = resolve(&args.url).await?;
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

/// `bench queue`: [`jobs::bench`] against the configured database (migrated first), in this
/// process; each figure is the median of `--runs`.
async fn queue(args: &BenchArgs, config: &Config) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.rate > 0.0 && args.runs > 0, "rate and runs must be positive");
    with_database(config, async |database| queue_runs(args, database).await).await
}

/// Runs an in-process scenario against DATABASE_URL, migrated first; the database is closed after
/// it whether it succeeded or not.
pub(super) async fn with_database(
    config: &Config,
    scenario: impl AsyncFnOnce(&Database) -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    let database = Database::open(config).await?;
    let result = async {
        database.migrate().await?;
        scenario(&database).await
    }
    .await;
    database.close().await;
    result
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

/// The report of the in-process scenarios: the machine, the command, and per figure the median,
/// minimum and maximum of its runs' values.
/// A firm of its own for one in-process benchmark run: signed up, its owner signed in, one client.
pub(super) struct BenchFirm {
    pub token: String,
    pub caller: identity::Caller,
    pub client: domain::ClientId,
}

pub(super) async fn bench_firm(
    identity: &identity::Identity,
    practice: &practice::Practice,
    slug_prefix: &str,
    client_name: &str,
) -> anyhow::Result<BenchFirm> {
    const PASSWORD: &str = "bench-password-2026";
    let meta = identity::RequestMeta::default();
    let slug = format!("{slug_prefix}-{}", uuid::Uuid::now_v7().simple());
    let email = format!("owner@{slug}.test");
    identity
        .signup(
            identity::SignupRequest {
                organization_name: format!("{slug_prefix} firm"),
                slug: slug.clone(),
                name: "Bench Owner".into(),
                email: email.clone(),
                password: PASSWORD.into(),
            },
            &meta,
        )
        .await?;
    let login =
        identity::LoginRequest { organization: slug, email, password: PASSWORD.into(), mfa_code: None };
    let token = identity.login(login, &meta).await?.token;
    let caller = identity::Caller::new(identity.authenticate(&token, &meta).await?, meta);
    let new_client = api_types::clients::CreateClientRequest {
        business_name: client_name.to_owned(),
        ..Default::default()
    };
    let client = practice.create_client(&caller, new_client).await?.id;
    Ok(BenchFirm { token, caller, client })
}

pub(super) fn print_median_table(rows: &[(String, Vec<f64>)]) {
    println!("Machine: {}.", Machine::detect().describe());
    println!("Command: `{}`\n", std::env::args().collect::<Vec<_>>().join(" "));
    println!("| figure | median | min | max |");
    println!("|---|---:|---:|---:|");
    for (name, values) in rows {
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let (Some(lo), Some(hi)) = (sorted.first(), sorted.last()) else { continue };
        println!("| {name} | {:.2} | {lo:.2} | {hi:.2} |", sorted[sorted.len() / 2]);
    }
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

async fn resolve(url: &str) -> anyhow::Result<SocketAddr> {
    let host = url
        .strip_prefix("http://")
        .context("only http:// URLs are supported (benchmark the server directly, not through TLS)")?
        .trim_end_matches('/');
    tokio::net::lookup_host(host)
        .await
        .with_context(|| format!("cannot resolve {host}"))?
        .next()
        .with_context(|| format!("no address for {host}"))
}

/// `documents`: accuracy per type and throughput of the pipeline (`doc_corpus::bench`), which
/// runs its own runtime on a thread of its own.
async fn documents(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let options = doc_corpus::bench::BenchOptions {
        spec: doc_corpus::CorpusSpec::benchmark(2026, args.per_layout),
        dir: None,
        runs: args.runs,
        misses: 0,
        generate_only: false,
    };
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = done.send(doc_corpus::bench::run(options).map_err(|e| anyhow::anyhow!(e)));
    });
    result.await.context("the documents benchmark thread stopped")??;
    Ok(ExitCode::SUCCESS)
}
