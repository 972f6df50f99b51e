//! The fetcher of one queue: claim batches into free slots, run each job in its own task.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::OrganizationId;
use futures::FutureExt;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use uuid::Uuid;

use super::complete::Finished;
use super::{Active, QueueConfig, Shared};
use crate::{JobContext, JobError, JobId, metrics as m};

/// A row of `jobs_claim()`: a leased job, or (id NULL) the time a rate-limited key refills.
#[derive(sqlx::FromRow)]
struct Claimed {
    id: Option<i64>,
    kind: Option<String>,
    organization_id: Option<Uuid>,
    payload: Option<serde_json::Value>,
    attempt: Option<i32>,
    max_attempts: Option<i32>,
    fence: Option<i32>,
    limit_key: Option<String>,
    run_at: Option<DateTime<Utc>>,
    started_at: Option<DateTime<Utc>>,
    wake_at: Option<DateTime<Utc>>,
}

/// A job just leased.
struct Leased {
    id: JobId,
    kind: String,
    organization: Option<OrganizationId>,
    payload: serde_json::Value,
    attempt: i32,
    max_attempts: i32,
    fence: i32,
    limited: bool,
    run_at: DateTime<Utc>,
    started_at: DateTime<Utc>,
}

pub(super) async fn run(
    shared: Arc<Shared>,
    queue: QueueConfig,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(queue.concurrency));
    let mut failures: u32 = 0;
    // Empty claims in a row: the wait before the next claim doubles from 1 ms with each, up to the
    // poll interval, so a queue that just had work is checked often (jobs whose NOTIFY was
    // debounced away are found quickly) and an idle one rarely.
    let mut empty_claims: u32 = 0;
    loop {
        if *stop.borrow() {
            return;
        }
        let first = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit { Ok(p) => p, Err(_) => return },
            _ = stop.changed() => return,
        };
        let mut permits = vec![first];
        while permits.len() < queue.batch {
            match slots.clone().try_acquire_owned() {
                Ok(p) => permits.push(p),
                Err(_) => break,
            }
        }
        let wanted = permits.len();
        let wait = match claim(&shared, &queue.name, wanted).await {
            Ok((jobs, wake_at)) => {
                failures = 0;
                let claimed = jobs.len();
                for job in jobs {
                    if let Some(permit) = permits.pop() {
                        spawn_job(&shared, &queue.name, job, permit);
                    }
                }
                drop(permits);
                if claimed == wanted {
                    empty_claims = 0;
                    continue;
                }
                empty_claims = if claimed == 0 { empty_claims.saturating_add(1) } else { 0 };
                let backoff =
                    Duration::from_millis(1u64 << empty_claims.min(20)).min(shared.config.poll_interval);
                let until_token = wake_at.and_then(|at| (at - Utc::now()).to_std().ok());
                until_token.map_or(backoff, |d| {
                    d.clamp(Duration::from_millis(1), backoff.max(Duration::from_millis(1)))
                })
            }
            Err(error) => {
                drop(permits);
                failures += 1;
                tracing::warn!(queue = %queue.name, error = %error, "claiming jobs failed");
                // Linear, up to 5 s: a database blip deserves a quick retry, an outage a calm one.
                Duration::from_millis(100) * failures.min(50)
            }
        };
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn claim(
    shared: &Shared,
    queue: &str,
    n: usize,
) -> Result<(Vec<Leased>, Option<DateTime<Utc>>), sqlx::Error> {
    let rows: Vec<Claimed> = sqlx::query_as("select * from jobs_claim($1, $2, $3, $4)")
        .bind(queue)
        .bind(shared.id)
        .bind(i32::try_from(n).unwrap_or(i32::MAX))
        .bind(shared.lease_ms())
        .fetch_all(&shared.control)
        .await?;
    let mut wake_at = None;
    let mut jobs = Vec::with_capacity(rows.len());
    for row in rows {
        match row {
            Claimed {
                id: Some(id),
                kind: Some(kind),
                payload: Some(payload),
                attempt: Some(attempt),
                max_attempts: Some(max_attempts),
                fence: Some(fence),
                run_at: Some(run_at),
                started_at: Some(started_at),
                organization_id,
                limit_key,
                ..
            } => jobs.push(Leased {
                id: JobId(id),
                kind,
                organization: organization_id.map(OrganizationId::from_uuid),
                payload,
                attempt,
                max_attempts,
                fence,
                limited: limit_key.is_some(),
                run_at,
                started_at,
            }),
            Claimed { wake_at: Some(at), .. } => wake_at = Some(at),
            Claimed { .. } => {}
        }
    }
    Ok((jobs, wake_at))
}

fn spawn_job(shared: &Arc<Shared>, queue: &str, job: Leased, permit: OwnedSemaphorePermit) {
    let labels = [("queue", queue.to_owned()), ("kind", job.kind.clone())];
    metrics::counter!(m::ATTEMPTS, &labels).increment(1);
    let delay = (job.started_at - job.run_at).to_std().unwrap_or_default();
    metrics::histogram!(m::PICKUP_DELAY, "queue" => queue.to_owned()).record(delay.as_secs_f64());

    let ctx = JobContext::new(
        job.id,
        job.kind.clone(),
        queue.to_owned(),
        job.attempt,
        job.max_attempts,
        job.fence,
        job.organization,
        job.run_at,
        job.started_at,
        shared.pool.clone(),
    );
    let task = run_job(shared.clone(), queue.to_owned(), job.kind.clone(), ctx.clone(), job, permit);
    // Insert under the lock the task needs to remove itself, so it cannot finish first.
    let mut active = shared.active();
    let id = ctx.id();
    let fence = ctx.fence();
    let handle = tokio::spawn(task);
    active.insert(id, Active { fence, queue: queue.to_owned(), ctx, abort: handle.abort_handle() });
}

async fn run_job(
    shared: Arc<Shared>,
    queue: String,
    kind: String,
    ctx: JobContext,
    job: Leased,
    permit: OwnedSemaphorePermit,
) {
    let _slot = permit;
    let started = tokio::time::Instant::now();
    let handler = shared.registry.get(&kind).cloned();
    let result = match &handler {
        // A kind this build does not know (a newer release enqueued it): leave it for a worker
        // that does, counting the attempt so it cannot bounce forever.
        None => {
            Err(JobError::retry_after(Duration::from_secs(30), format!("no handler for kind `{kind}` here")))
        }
        Some(h) => {
            let run = AssertUnwindSafe(h.run(ctx.clone(), job.payload)).catch_unwind();
            match tokio::time::timeout(h.timeout(), run).await {
                Err(_) => Err(JobError::retry(format!("timed out after {} s", h.timeout().as_secs()))),
                Ok(Err(panic)) => {
                    Err(JobError::retry(format!("handler panicked: {}", panic_message(&*panic))))
                }
                Ok(Ok(result)) => result,
            }
        }
    };
    let labels = [("queue", queue.clone()), ("kind", kind.clone())];
    metrics::histogram!(m::RUN_SECONDS, &labels).record(started.elapsed().as_secs_f64());

    let lease_lost =
        (!ctx.completed_in_tx() && matches!(result, Err(JobError::LeaseLost))).then(|| queue.clone());
    let finished = if ctx.completed_in_tx() {
        Some(Finished::CompletedInTx { queue, kind })
    } else {
        match result {
            Ok(()) => Some(Finished::Completed {
                id: ctx.id(),
                fence: job.fence,
                queue,
                kind,
                limited: job.limited,
            }),
            Err(JobError::LeaseLost) => None,
            Err(JobError::Fatal(message)) => Some(Finished::Failed {
                id: ctx.id(),
                fence: job.fence,
                queue,
                kind,
                error: message,
                retry_at: None,
                limited: job.limited,
            }),
            Err(JobError::Retry { message, after }) => {
                let retry_at = (job.attempt < job.max_attempts).then(|| {
                    let wait = after.unwrap_or_else(|| {
                        handler
                            .as_ref()
                            .map_or(crate::DEFAULT_BACKOFF, |h| h.backoff())
                            .delay(job.attempt.unsigned_abs())
                    });
                    from_now(wait)
                });
                Some(Finished::Failed {
                    id: ctx.id(),
                    fence: job.fence,
                    queue,
                    kind,
                    error: message,
                    retry_at,
                    limited: job.limited,
                })
            }
        }
    };
    // Leave `active` and hand the outcome to the completer under one lock: a shutdown that finds
    // no job running then finds every outcome queued (handed over after the lock, an outcome
    // could miss the completer's last flush and the completed job would be rescued and run again).
    let still_ours = {
        let mut active = shared.active();
        let ours = active.remove(&ctx.id()).is_some();
        if let (true, Some(finished)) = (ours, finished) {
            let _ = shared.finished.send(finished);
        }
        ours
    };
    shared.job_done.notify_waiters();
    // Not ours: the lease keeper found the lease gone and already accounted for it.
    if let (true, Some(queue)) = (still_ours, lease_lost) {
        metrics::counter!(m::LEASE_LOST, "queue" => queue).increment(1);
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

/// Now plus `wait`, capped at a year (a `Retry-After` of centuries must not overflow).
pub(super) fn from_now(wait: Duration) -> DateTime<Utc> {
    let wait = chrono::Duration::from_std(wait.min(Duration::from_secs(365 * 86_400)))
        .unwrap_or(chrono::Duration::zero());
    Utc::now() + wait
}
