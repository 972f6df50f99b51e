//! `countinghouse jobs`: the operator functions of [`::jobs::admin`] on the command line.

use std::process::ExitCode;
use std::time::Duration;

use ::jobs::JobId;
use ::jobs::admin::{self, JobFilter};
use anyhow::Context;
use store::{Db, PlatformAdmin};

use crate::cli::{JobListArgs, JobsCommand};
use crate::config::Config;
use crate::runtime::Database;

pub async fn run(config: Config, command: JobsCommand) -> anyhow::Result<ExitCode> {
    let database = Database::open(&config).await?;
    let result = match database.connect().await {
        Ok(db) => {
            let r = operate(&config, &database, &db, command).await;
            db.close().await;
            r
        }
        Err(e) => Err(e),
    };
    database.close().await;
    result
}

async fn operate(
    config: &Config,
    database: &Database,
    db: &Db,
    command: JobsCommand,
) -> anyhow::Result<ExitCode> {
    let pool = db.pool();
    match command {
        JobsCommand::Stats { window_minutes, json } => {
            anyhow::ensure!((1..=1440).contains(&window_minutes), "--window-minutes is 1..=1440");
            let stats = admin::queue_stats(pool, Duration::from_secs(window_minutes * 60)).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&stats)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:<16} {:>7} {:>9} {:>7} {:>8} {:>6} {:>9} {:>10} {:>9} {:>7} {:>5} {:>7} {:>7}",
                "queue",
                "ready",
                "scheduled",
                "running",
                "retrying",
                "dead",
                "cancelled",
                "oldest_s",
                "completed",
                "failed",
                "died",
                "rescued",
                "per_s"
            );
            for s in &stats {
                println!(
                    "{:<16} {:>7} {:>9} {:>7} {:>8} {:>6} {:>9} {:>10} {:>9} {:>7} {:>5} {:>7} {:>7.1}",
                    s.queue,
                    s.ready,
                    s.scheduled,
                    s.running,
                    s.retrying,
                    s.dead,
                    s.cancelled,
                    s.oldest_ready_age_seconds.map_or("-".to_owned(), |a| format!("{a:.1}")),
                    s.completed_in_window,
                    s.failed_in_window,
                    s.dead_in_window,
                    s.rescued_in_window,
                    s.throughput_per_second
                );
            }
            if stats.is_empty() {
                println!("(no jobs and no outcomes in the last {window_minutes} minutes)");
            }
        }
        JobsCommand::List { state, filter } => list(pool, filter, state.map(Into::into)).await?,
        JobsCommand::Dead(filter) => list(pool, filter, Some(::jobs::JobState::Dead)).await?,
        JobsCommand::Retry { id } => {
            let job = admin::retry(db, &operator(config, database, db).await?, JobId(id)).await?;
            println!(
                "job {} ({}) is {} again, attempt {} of {}",
                id, job.kind, job.state, job.attempt, job.max_attempts
            );
        }
        JobsCommand::Cancel { id } => {
            let job = admin::cancel(db, &operator(config, database, db).await?, JobId(id)).await?;
            println!("job {} ({}) is {}", id, job.kind, job.state);
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(
    pool: &store::sqlx::PgPool,
    args: JobListArgs,
    state: Option<::jobs::JobState>,
) -> anyhow::Result<()> {
    anyhow::ensure!((1..=500).contains(&args.limit), "--limit is 1..=500");
    let filter = JobFilter {
        queue: args.queue,
        kind: args.kind,
        state,
        organization: None,
        before: args.before.map(JobId),
        limit: Some(args.limit),
    };
    let jobs = admin::list_jobs(pool, &filter).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&jobs)?);
        return Ok(());
    }
    println!(
        "{:>10} {:<12} {:<28} {:<10} {:>7} {:<20} last error",
        "id", "queue", "kind", "state", "attempt", "run at"
    );
    for j in &jobs {
        println!(
            "{:>10} {:<12} {:<28} {:<10} {:>7} {:<20} {}",
            j.id.0,
            j.queue,
            j.kind,
            j.state.to_string(),
            format!("{}/{}", j.attempt, j.max_attempts),
            j.run_at.format("%Y-%m-%d %H:%M:%S"),
            j.last_error.as_deref().unwrap_or("").lines().next().unwrap_or("")
        );
    }
    if jobs.len() == args.limit as usize
        && let Some(last) = jobs.last()
    {
        println!("(more: --before {})", last.id.0);
    }
    Ok(())
}

/// The platform administrator's capability at the command line: the database owner's connection
/// acting in the platform organization, whose audit log records retries and cancellations (as the
/// system, from the command line).
async fn operator(config: &Config, database: &Database, db: &Db) -> anyhow::Result<PlatformAdmin> {
    let slug = config.platform.organization.as_deref().context(
        "set platform.organization (COUNTINGHOUSE_PLATFORM__ORGANIZATION): retry and cancel are recorded in \
         the platform organization's audit log",
    )?;
    match PlatformAdmin::operator(&database.config.owner, db, slug).await {
        Ok(Some(admin)) => Ok(admin),
        Ok(None) => anyhow::bail!("DATABASE_URL's role must own the database to retry or cancel jobs"),
        Err(store::StoreError::NotFound) => anyhow::bail!("platform.organization {slug:?} does not exist"),
        Err(e) => Err(e.into()),
    }
}
