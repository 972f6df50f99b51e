//! `countinghouse bench qbo-sync`: full and incremental QuickBooks sync through the real engine,
//! in this process, against a local sandbox company of `--entities` records and DATABASE_URL.
//!
//! Each run: a fresh firm and client, connect (OAuth against the sandbox), the first full sync on a
//! jobs worker at Intuit's limits (the sandbox enforces them and counts what arrived), then
//! `--changes` random changes in the sandbox and one incremental sync. Times are the run rows'
//! `started_at`..`finished_at`; calls are the sandbox's own count.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use domain::ClientId;
use domain::{SyncMode, SyncRunStatus, SyncTrigger};
use qbo_sandbox::{CompanySpec, Sandbox, SandboxConfig, SandboxHandle};
use qbo_sync::history::{self, SyncRun};
use qbo_sync::sync_jobs;
use qbo_sync::{QuickBooks, QuickBooksConfig};
use store::{Actor, TenantTx};

use super::harness;
use crate::cli::BenchArgs;
use crate::config::Config;
use crate::runtime::{self, Database};

const REALM: &str = "9130350000000001";

struct RunFigures {
    entities: usize,
    full_secs: f64,
    full_calls: u64,
    max_per_second: u32,
    max_per_minute: u32,
    max_in_flight: u32,
    throttled: u64,
    mirror_matches: bool,
    incremental_secs: f64,
    incremental_calls: u64,
    incremental_changes: usize,
}

pub async fn run(args: &BenchArgs, config: &Config) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.runs > 0 && args.entities > 0, "runs and entities must be positive");
    harness::with_database(config, async |database| runs(args, config, database).await).await
}

async fn runs(args: &BenchArgs, config: &Config, database: &Database) -> anyhow::Result<ExitCode> {
    let db = database.connect().await?;
    let keys = runtime::key_ring(config)?;
    let mut figures = Vec::new();
    let mut loads = Vec::new();
    for run in 1..=args.runs {
        let sandbox = Sandbox::start(SandboxConfig {
            companies: vec![CompanySpec {
                entities: args.entities,
                seed: run as u64,
                ..CompanySpec::default()
            }],
            ..SandboxConfig::default()
        })
        .await
        .context("starting the QuickBooks sandbox")?;
        let qb_config =
            QuickBooksConfig::for_sandbox(sandbox.base_url(), "http://127.0.0.1:9/callback".into());
        let qb = QuickBooks::new(qb_config, db.clone(), keys.clone()).await?;
        let load = harness::load_before();
        let f = one_run(config, &db, &keys, &qb, &sandbox, args.changes).await?;
        eprintln!(
            "run {run}/{}: load {} before; full sync of {} records {:.2} s, {} calls (max {}/s, {}/min, {} in flight, {} throttled), \
             mirror after both {}; incremental after {} records changed {:.2} s, {} calls",
            args.runs,
            harness::show_load(load),
            f.entities,
            f.full_secs,
            f.full_calls,
            f.max_per_second,
            f.max_per_minute,
            f.max_in_flight,
            f.throttled,
            if f.mirror_matches { "matches" } else { "DIFFERS" },
            f.incremental_changes,
            f.incremental_secs,
            f.incremental_calls
        );
        anyhow::ensure!(f.mirror_matches, "the mirror does not match the sandbox company");
        figures.push(f);
        loads.push(load);
    }
    db.close().await;
    report(args, &figures, &loads);
    Ok(ExitCode::SUCCESS)
}

async fn one_run(
    config: &Config,
    db: &store::Db,
    keys: &vault::KeyRing,
    qb: &QuickBooks,
    sandbox: &SandboxHandle,
    changes: usize,
) -> anyhow::Result<RunFigures> {
    // A firm of its own per run, so runs never share a mirror.
    let cache = runtime::cache(config)?;
    let identity = runtime::identity(config, db.clone(), keys.clone(), cache.clone())?;
    let practice = practice::Practice::new(db.clone(), keys.clone());
    let bench = harness::bench_firm(&identity, &practice, "qbo-bench", "Books client").await?;
    let (ctx, client) = (bench.caller, bench.client);

    let mut registry = jobs::Registry::new();
    qbo_sync::register(&mut registry, qb.clone());
    let worker = jobs::Worker::new(
        db.pool().clone(),
        registry,
        jobs::WorkerConfig {
            queues: vec![jobs::QueueConfig::new(sync_jobs::QUEUE)],
            poll_interval: Duration::from_millis(20),
            ..jobs::WorkerConfig::default()
        },
    )
    .start();

    let org = ctx.organization_id;
    crate::commands::qbo_sandbox::connect(qb, org, ctx.user_id(), client).await?;
    let full = finished(db, org, client, None).await?;
    anyhow::ensure!(full.status == SyncRunStatus::Succeeded, "full sync {}: {}", full.status, full.errors);
    let counters = sandbox.counters(REALM);
    let snapshot = sandbox.snapshot(REALM)?;
    let full_mirror_matches = mirror_count(db, org).await? == snapshot.len();

    let applied = sandbox.apply_random_changes(REALM, changes, 7)?;
    sandbox.reset_counters();
    let mut tx = TenantTx::begin(db, org, Actor::user(ctx.user_id())).await?;
    let connection = qbo_sync::connections::require_for_client(&mut tx, client).await?;
    let queued =
        sync_jobs::queue_sync(&mut tx, &connection, SyncMode::Incremental, SyncTrigger::Manual, None).await?;
    tx.commit().await?;
    let incremental = finished(db, org, client, Some(queued.run_id)).await?;
    anyhow::ensure!(
        incremental.status == SyncRunStatus::Succeeded,
        "incremental sync {}: {}",
        incremental.status,
        incremental.errors
    );
    let incremental_calls = sandbox.counters(REALM).requests;
    let incremental_mirror_matches = mirror_count(db, org).await? == sandbox.snapshot(REALM)?.len();
    worker.shutdown(Duration::from_secs(5)).await;

    let secs = |r: &SyncRun| match (r.started_at, r.finished_at) {
        (Some(s), Some(f)) => (f - s).num_microseconds().unwrap_or(0) as f64 / 1e6,
        _ => f64::NAN,
    };
    Ok(RunFigures {
        entities: snapshot.len(),
        full_secs: secs(&full),
        // The run's own count: the sandbox's also holds the connect's CompanyInfo read.
        full_calls: u64::try_from(full.api_calls).unwrap_or(0),
        max_per_second: counters.max_per_second,
        max_per_minute: counters.max_per_minute,
        max_in_flight: counters.max_in_flight,
        throttled: counters.throttled_by_limit,
        mirror_matches: full_mirror_matches && incremental_mirror_matches,
        incremental_secs: secs(&incremental),
        incremental_calls,
        incremental_changes: applied.changes.len(),
    })
}

/// Mirrored records of the organization (CompanyInfo aside, as in the sandbox's snapshot).
async fn mirror_count(db: &store::Db, org: domain::OrganizationId) -> anyhow::Result<usize> {
    let mut tx = TenantTx::begin(db, org, Actor::system()).await?;
    let mirrored: i64 = store::sqlx::query_scalar(
        "select count(*) from qbo_entities where organization_id = $1 and entity <> 'CompanyInfo'",
    )
    .bind(tx.org_uuid())
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(mirrored as usize)
}

/// Waits for the run (`None`: the client's newest) to finish; gives up after an hour.
async fn finished(
    db: &store::Db,
    org: domain::OrganizationId,
    client: ClientId,
    run: Option<uuid::Uuid>,
) -> anyhow::Result<SyncRun> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3600) {
        let mut tx = TenantTx::begin(db, org, Actor::system()).await?;
        let current = match run {
            Some(id) => Some(history::get(&mut tx, client.as_uuid(), id).await?),
            None => history::list(&mut tx, client.as_uuid(), None, 1).await?.items.into_iter().next(),
        };
        tx.commit().await?;
        if let Some(r) = current
            && r.status.is_finished()
        {
            return Ok(r);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the sync did not finish within an hour")
}

fn report(args: &BenchArgs, figures: &[RunFigures], loads: &[Option<f64>]) {
    let all = |f: fn(&RunFigures) -> f64| figures.iter().map(f).collect::<Vec<_>>();
    harness::print_median_table(&[
        ("records in the company".into(), all(|f| f.entities as f64)),
        ("full sync wall time (s)".into(), all(|f| f.full_secs)),
        ("full sync API calls".into(), all(|f| f.full_calls as f64)),
        ("full sync records/s".into(), all(|f| f.entities as f64 / f.full_secs)),
        ("most calls in one second (limit 10)".into(), all(|f| f64::from(f.max_per_second))),
        ("most calls in one minute (limit 500)".into(), all(|f| f64::from(f.max_per_minute))),
        ("most calls in flight (limit 10)".into(), all(|f| f64::from(f.max_in_flight))),
        ("calls refused for a limit".into(), all(|f| f.throttled as f64)),
        (
            format!("records changed before the incremental sync ({} random changes)", args.changes),
            all(|f| f.incremental_changes as f64),
        ),
        ("incremental sync wall time (s)".into(), all(|f| f.incremental_secs)),
        ("incremental sync API calls".into(), all(|f| f.incremental_calls as f64)),
        harness::load_row(loads),
    ]);
}
