//! Leases: renewal of this process's, rescue of everyone's expired ones, release at shutdown.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Notify, watch};

use super::Shared;
use crate::{JobId, metrics as m};

/// Most expired leases taken back per statement.
const RESCUE_BATCH: i32 = 500;

/// Renews the leases of running jobs every `heartbeat`. A lease that is no longer ours (rescued
/// while this process was frozen or cut off, or the job cancelled) aborts its handler: the fencing
/// token would refuse its writes anyway, this stops the work.
pub(super) async fn run_heartbeats(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(shared.config.heartbeat) => {}
            _ = stop.changed() => return,
        }
        let held: Vec<(JobId, i32)> = shared
            .active()
            .iter()
            .filter(|(_, a)| !a.ctx.completed_in_tx())
            .map(|(id, a)| (*id, a.fence))
            .collect();
        if held.is_empty() {
            continue;
        }
        let ids: Vec<i64> = held.iter().map(|(id, _)| id.0).collect();
        let fences: Vec<i32> = held.iter().map(|(_, f)| *f).collect();
        let renewed = sqlx::query_scalar::<_, i64>("select * from jobs_heartbeat($1, $2, $3)")
            .bind(&ids)
            .bind(&fences)
            .bind(shared.lease_ms())
            .fetch_all(&shared.control)
            .await;
        let renewed: BTreeSet<i64> = match renewed {
            Ok(r) => r.into_iter().collect(),
            Err(error) => {
                // Keep running: if the database stays away past the lease, the jobs are rescued
                // elsewhere and our late writes are fenced off.
                tracing::warn!(error = %error, "renewing job leases failed");
                continue;
            }
        };
        let mut active = shared.active();
        for (id, fence) in held {
            if renewed.contains(&id.0) {
                continue;
            }
            // Still running with the same lease (not just finished): the lease is gone.
            if active.get(&id).is_some_and(|a| a.fence == fence && !a.ctx.completed_in_tx())
                && let Some(lost) = active.remove(&id)
            {
                lost.abort.abort();
                tracing::warn!(job.id = id.0, job.fence = fence, "job lease lost; handler stopped");
                metrics::counter!(m::LEASE_LOST, "queue" => lost.queue).increment(1);
            }
        }
        drop(active);
        shared.job_done.notify_waiters();
    }
}

/// Takes back expired leases every `rescue_every` (jittered so processes spread out), and wakes
/// the fetchers of the queues that got jobs back.
pub(super) async fn run_rescues(
    shared: Arc<Shared>,
    wakeups: HashMap<String, Arc<Notify>>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let every = shared.config.rescue_every;
        let jittered = every.mul_f64(rand::rng().random_range(0.8..1.2));
        tokio::select! {
            _ = tokio::time::sleep(jittered) => {}
            _ = stop.changed() => return,
        }
        let rescued = sqlx::query_as::<_, (i64, String, String)>("select * from jobs_rescue($1, $2)")
            .bind(shared.id)
            .bind(RESCUE_BATCH)
            .fetch_all(&shared.control)
            .await;
        let rescued = match rescued {
            Ok(r) => r,
            Err(error) => {
                tracing::warn!(error = %error, "rescuing expired job leases failed");
                continue;
            }
        };
        let mut queues = BTreeSet::new();
        for (id, queue, state) in &rescued {
            tracing::warn!(job.id = id, queue = %queue, state = %state, "rescued a job whose lease expired");
            metrics::counter!(m::RESCUED, "queue" => queue.clone()).increment(1);
            queues.insert(queue.as_str());
        }
        if !queues.is_empty() {
            for q in &queues {
                if let Some(w) = wakeups.get(*q) {
                    w.notify_one();
                }
            }
            // Other processes serve these queues too.
            let queues: Vec<&str> = queues.into_iter().collect();
            let _ = sqlx::query("select pg_notify('countinghouse_jobs', q) from unnest($1::text[]) as q")
                .bind(&queues)
                .execute(&shared.control)
                .await;
        }
    }
}

/// Gives leased jobs back without counting the attempt; returns how many were released.
pub(super) async fn release(shared: &Shared, jobs: &[(JobId, i32)]) -> usize {
    if jobs.is_empty() {
        return 0;
    }
    let ids: Vec<i64> = jobs.iter().map(|(id, _)| id.0).collect();
    let fences: Vec<i32> = jobs.iter().map(|(_, f)| *f).collect();
    for attempt in 1..=3u32 {
        match sqlx::query_as::<_, (i64, String)>("select * from jobs_release($1, $2)")
            .bind(&ids)
            .bind(&fences)
            .fetch_all(&shared.control)
            .await
        {
            Ok(released) => {
                let queues: BTreeSet<&str> = released.iter().map(|(_, q)| q.as_str()).collect();
                let queues: Vec<&str> = queues.into_iter().collect();
                let _ = sqlx::query("select pg_notify('countinghouse_jobs', q) from unnest($1::text[]) as q")
                    .bind(&queues)
                    .execute(&shared.control)
                    .await;
                return released.len();
            }
            Err(error) => {
                tracing::warn!(error = %error, attempt, "releasing jobs at shutdown failed");
                tokio::time::sleep(Duration::from_millis(200) * attempt).await;
            }
        }
    }
    0 // their leases expire and they are rescued instead
}
