//! The completer: records finished attempts in batches. Whatever has arrived while the previous
//! statement ran goes into the next one, so batches grow with load and cost no added latency.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};

use super::Shared;
use crate::{JobId, metrics as m};

/// The outcome of one attempt.
#[derive(Debug)]
pub(super) enum Finished {
    Completed {
        id: JobId,
        fence: i32,
        queue: String,
        kind: String,
        limited: bool,
    },
    /// The handler completed the job in its own transaction; only counted here.
    CompletedInTx {
        queue: String,
        kind: String,
    },
    /// `retry_at` None: dead letter.
    Failed {
        id: JobId,
        fence: i32,
        queue: String,
        kind: String,
        error: String,
        retry_at: Option<DateTime<Utc>>,
        limited: bool,
    },
}

/// Tries per batch before giving up on recording it (the jobs are then rescued and run again).
const TRIES: u32 = 5;

pub(super) async fn run(
    shared: Arc<Shared>,
    mut rx: mpsc::UnboundedReceiver<Finished>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let first = tokio::select! {
            f = rx.recv() => match f { Some(f) => f, None => return },
            _ = stop.changed() => {
                // Shutdown: every job task is done or aborted, so what is queued is all there is.
                let rest: Vec<Finished> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
                for chunk in rest.chunks(shared.config.completion_batch.max(1)) {
                    flush(&shared, chunk).await;
                }
                return;
            }
        };
        let mut batch = vec![first];
        while batch.len() < shared.config.completion_batch {
            match rx.try_recv() {
                Ok(f) => batch.push(f),
                Err(_) => break,
            }
        }
        flush(&shared, &batch).await;
    }
}

async fn flush(shared: &Shared, batch: &[Finished]) {
    let mut done_ids = Vec::new();
    let mut done_fences = Vec::new();
    let mut failed_ids = Vec::new();
    let mut failed_fences = Vec::new();
    let mut errors = Vec::new();
    let mut retry_ats = Vec::new();
    let mut in_tx: BTreeMap<&str, i64> = BTreeMap::new();
    let mut wake: BTreeSet<&str> = BTreeSet::new();
    for f in batch {
        match f {
            Finished::Completed { id, fence, queue, limited, .. } => {
                done_ids.push(id.0);
                done_fences.push(*fence);
                if *limited {
                    wake.insert(queue);
                }
            }
            Finished::CompletedInTx { queue, .. } => *in_tx.entry(queue).or_default() += 1,
            Finished::Failed { id, fence, queue, error, retry_at, limited, .. } => {
                failed_ids.push(id.0);
                failed_fences.push(*fence);
                errors.push(error.as_str());
                retry_ats.push(*retry_at);
                if *limited {
                    wake.insert(queue);
                }
            }
        }
    }

    if !done_ids.is_empty() {
        let ok = with_retries("complete", || async {
            sqlx::query_scalar::<_, i64>("select * from jobs_complete($1, $2, $3)")
                .bind(shared.id)
                .bind(&done_ids)
                .bind(&done_fences)
                .fetch_all(&shared.control)
                .await
        })
        .await;
        if let Some(completed) = ok {
            let completed: BTreeSet<i64> = completed.into_iter().collect();
            for f in batch {
                if let Finished::Completed { id, queue, kind, .. } = f {
                    if completed.contains(&id.0) {
                        metrics::counter!(m::COMPLETED, "queue" => queue.clone(), "kind" => kind.clone())
                            .increment(1);
                    } else {
                        metrics::counter!(m::LEASE_LOST, "queue" => queue.clone()).increment(1);
                    }
                }
            }
        }
    }

    if !failed_ids.is_empty() {
        let ok = with_retries("fail", || async {
            sqlx::query_as::<_, (i64, String, String)>("select * from jobs_fail($1, $2, $3, $4, $5)")
                .bind(shared.id)
                .bind(&failed_ids)
                .bind(&failed_fences)
                .bind(&errors)
                .bind(&retry_ats)
                .fetch_all(&shared.control)
                .await
        })
        .await;
        if let Some(rows) = ok {
            let recorded: BTreeMap<i64, String> =
                rows.into_iter().map(|(id, _, state)| (id, state)).collect();
            for f in batch {
                if let Finished::Failed { id, queue, kind, error, .. } = f {
                    match recorded.get(&id.0).map(String::as_str) {
                        Some(state) => {
                            metrics::counter!(m::FAILED, "queue" => queue.clone(), "kind" => kind.clone())
                                .increment(1);
                            if state == "dead" {
                                metrics::counter!(m::DEAD, "queue" => queue.clone(), "kind" => kind.clone())
                                    .increment(1);
                                tracing::warn!(job.id = id.0, job.kind = %kind, error = %error, "job dead-lettered");
                            } else {
                                tracing::debug!(job.id = id.0, job.kind = %kind, error = %error, "job attempt failed");
                            }
                        }
                        None => metrics::counter!(m::LEASE_LOST, "queue" => queue.clone()).increment(1),
                    }
                }
            }
        }
    }

    if !in_tx.is_empty() {
        let queues: Vec<&str> = in_tx.keys().copied().collect();
        let counts: Vec<i64> = in_tx.values().copied().collect();
        with_retries("count", || async {
            sqlx::query(
                "insert into job_stats as s (bucket, queue, worker, completed)
                 select date_trunc('minute', clock_timestamp()), t.queue, $1, t.n
                 from unnest($2::text[], $3::int8[]) as t(queue, n)
                 on conflict on constraint job_stats_pkey do update set completed = s.completed + excluded.completed",
            )
            .bind(shared.id)
            .bind(&queues)
            .bind(&counts)
            .execute(&shared.control)
            .await
        })
        .await;
        for f in batch {
            if let Finished::CompletedInTx { queue, kind } = f {
                metrics::counter!(m::COMPLETED, "queue" => queue.clone(), "kind" => kind.clone())
                    .increment(1);
            }
        }
    }

    // A limited job ended: its key has a free slot, so claimers waiting on it may go on.
    if !wake.is_empty() {
        let queues: Vec<&str> = wake.into_iter().collect();
        with_retries("notify", || async {
            sqlx::query("select pg_notify('countinghouse_jobs', q) from unnest($1::text[]) as q")
                .bind(&queues)
                .execute(&shared.control)
                .await
        })
        .await;
    }
}

/// Runs a statement up to [`TRIES`] times; logs and gives up after that.
async fn with_retries<T, F, Fut>(what: &str, mut statement: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    for attempt in 1..=TRIES {
        match statement().await {
            Ok(v) => return Some(v),
            Err(error) if attempt < TRIES => {
                tracing::warn!(statement = what, attempt, error = %error, "recording job outcomes failed; retrying");
                tokio::time::sleep(Duration::from_millis(200) * attempt).await;
            }
            Err(error) => {
                tracing::error!(statement = what, error = %error, "recording job outcomes failed; their leases will expire and the jobs run again");
            }
        }
    }
    None
}
