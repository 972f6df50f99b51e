//! A worker process for the fault tests in `crates/jobs/tests` (killed with SIGKILL, frozen with
//! SIGSTOP, stopped with SIGTERM). Not shipped: `countinghouse worker` is the real one.
//!
//! Usage: `jobs-test-worker <database-url> [name=value ...]` with `concurrency`, `batch`,
//! `lease_ms`, `heartbeat_ms`, `rescue_ms`, `poll_ms`, `grace_ms`. Prints `ready` once started.
//! Its job kinds write into tables the tests create (`test_started`, `side_effects`, `step_runs`,
//! `limited_runs`), each effect in the transaction that completes the job or saves the step.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jobs::{Job, JobContext, JobError, Limit, QueueConfig, Registry, Worker, WorkerConfig};
use resilience::Quota;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

const QUEUE: &str = "fault";

/// Marks its start, sleeps, then writes its effect and completes in one transaction.
struct Effect;

#[derive(serde::Serialize, serde::Deserialize)]
struct EffectPayload {
    /// Sleep of the first attempt (long: the test kills or freezes the worker meanwhile).
    first_sleep_ms: u64,
    /// Sleep of later attempts.
    sleep_ms: u64,
    /// Record `test_started` rows (when the test needs to know where the handler is).
    mark: bool,
}

impl Job for Effect {
    const KIND: &'static str = "fault.effect";
    const QUEUE: &'static str = QUEUE;
    const MAX_ATTEMPTS: i32 = 50;

    type Payload = EffectPayload;

    async fn run(&self, ctx: JobContext, p: EffectPayload) -> Result<(), JobError> {
        if p.mark {
            mark_started(&ctx, "effect").await?;
        }
        let sleep = if ctx.attempt() == 1 { p.first_sleep_ms } else { p.sleep_ms };
        tokio::time::sleep(Duration::from_millis(sleep)).await;
        if p.mark {
            mark_started(&ctx, "committing").await?;
        }
        let mut tx = ctx.pool().begin().await?;
        sqlx::query("insert into side_effects (job_id, attempt, fence, pid) values ($1, $2, $3, $4)")
            .bind(ctx.id().0)
            .bind(ctx.attempt())
            .bind(ctx.fence())
            .bind(pid())
            .execute(&mut *tx)
            .await?;
        ctx.complete_in(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Three steps with checkpoints; the first attempt pauses after step two (the test kills it).
struct Steps;

#[derive(serde::Serialize, serde::Deserialize)]
struct StepsPayload {
    pause_ms: u64,
}

impl Job for Steps {
    const KIND: &'static str = "fault.steps";
    const QUEUE: &'static str = QUEUE;

    type Payload = StepsPayload;

    async fn run(&self, ctx: JobContext, p: StepsPayload) -> Result<(), JobError> {
        for step in ["one", "two"] {
            if ctx.saved_step::<String>(step).await?.is_some() {
                continue;
            }
            let mut tx = ctx.pool().begin().await?;
            record_step(&mut tx, &ctx, step).await?;
            ctx.save_step_in(&mut tx, step, &format!("result of {step}")).await?;
            tx.commit().await?;
        }
        if ctx.attempt() == 1 {
            mark_started(&ctx, "paused").await?;
            tokio::time::sleep(Duration::from_millis(p.pause_ms)).await;
        }
        let mut tx = ctx.pool().begin().await?;
        record_step(&mut tx, &ctx, "three").await?;
        ctx.complete_in(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Counts against a limit from its payload; records when it was admitted, began and ended.
struct Limited;

#[derive(serde::Serialize, serde::Deserialize)]
struct LimitedPayload {
    key: String,
    per_second: Option<u32>,
    burst: u32,
    max_in_flight: Option<u32>,
    work_ms: u64,
}

impl Job for Limited {
    const KIND: &'static str = "fault.limited";
    const QUEUE: &'static str = QUEUE;

    type Payload = LimitedPayload;

    fn limit(p: &LimitedPayload) -> Option<Limit> {
        let mut limit = Limit::new(p.key.clone());
        if let Some(n) = p.per_second {
            limit = limit.rate(Quota::per_second(n).with_burst(p.burst));
        }
        if let Some(n) = p.max_in_flight {
            limit = limit.max_in_flight(n);
        }
        Some(limit)
    }

    async fn run(&self, ctx: JobContext, p: LimitedPayload) -> Result<(), JobError> {
        let began: DateTime<Utc> = Utc::now();
        tokio::time::sleep(Duration::from_millis(p.work_ms)).await;
        let mut tx = ctx.pool().begin().await?;
        sqlx::query(
            "insert into limited_runs (job_id, limit_key, admitted_at, began_at, ended_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(ctx.id().0)
        .bind(&p.key)
        .bind(ctx.started_at())
        .bind(began)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?;
        ctx.complete_in(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn pid() -> i32 {
    i32::try_from(std::process::id()).unwrap_or(i32::MAX)
}

async fn mark_started(ctx: &JobContext, what: &str) -> Result<(), JobError> {
    sqlx::query("insert into test_started (job_id, attempt, what, pid) values ($1, $2, $3, $4)")
        .bind(ctx.id().0)
        .bind(ctx.attempt())
        .bind(what)
        .bind(pid())
        .execute(ctx.pool())
        .await?;
    Ok(())
}

async fn record_step(tx: &mut sqlx::PgConnection, ctx: &JobContext, step: &str) -> Result<(), JobError> {
    sqlx::query("insert into step_runs (job_id, step, attempt, pid) values ($1, $2, $3, $4)")
        .bind(ctx.id().0)
        .bind(step)
        .bind(ctx.attempt())
        .bind(pid())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: jobs-test-worker <database-url> [name=value ...]")?;
    let settings: HashMap<String, u64> = args
        .map(|a| {
            let (k, v) = a.split_once('=').ok_or_else(|| format!("expected name=value, got {a}"))?;
            Ok((k.to_owned(), v.parse::<u64>().map_err(|e| format!("{k}: {e}"))?))
        })
        .collect::<Result<_, String>>()?;
    let get = |k: &str, default: u64| settings.get(k).copied().unwrap_or(default);
    let ms = |k: &str, default: u64| Duration::from_millis(get(k, default));

    let pool =
        PgPoolOptions::new().max_connections(4).connect_with(PgConnectOptions::from_str(&url)?).await?;
    let mut registry = Registry::new();
    registry.register(Effect).register(Steps).register(Limited);
    let concurrency = usize::try_from(get("concurrency", 8))?;
    let config = WorkerConfig {
        queues: vec![
            QueueConfig::new(QUEUE).concurrency(concurrency).batch(usize::try_from(get("batch", 8))?),
        ],
        lease: ms("lease_ms", 2_000),
        heartbeat: ms("heartbeat_ms", 400),
        rescue_every: ms("rescue_ms", 500),
        poll_interval: ms("poll_ms", 200),
        ..WorkerConfig::default()
    };
    let worker = Worker::new(pool, registry, config).start();
    println!("ready");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    term.recv().await;
    let report = worker.shutdown(ms("grace_ms", 5_000)).await;
    eprintln!("stopped in_flight={} released={}", report.in_flight, report.released);
    Ok(())
}
