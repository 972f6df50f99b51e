//! Enqueueing, always on the caller's connection so the job commits or rolls back with the
//! business write: `jobs::enqueue(tenant_tx.conn(), NewJob::<SendInvoice>::new(p)).await?`.
//!
//! A job's organization defaults to the transaction's tenant (`app.organization_id`, set by
//! `TenantTx`), so jobs enqueued from tenant work carry their tenant without being told. One
//! statement inserts the whole batch (`unnest`), skips unique-key duplicates (`ON CONFLICT DO
//! NOTHING` on the partial unique index, which waits for a concurrent inserter of the same key and
//! then skips), and queues a NOTIFY per queue, delivered on commit.
//!
//! NOTIFYs of transactions that commit durably are debounced per process and queue
//! ([`NOTIFY_DEBOUNCE`]): PostgreSQL serialises the commits of notifying transactions (a global
//! lock held through the WAL flush), which capped single-job enqueues near 1,100/s here, while a
//! woken worker keeps claiming and then polls on a decaying interval (1 ms doubling up to its poll
//! interval) for a while, so the jobs whose NOTIFY was skipped are found within about the debounce
//! window. A NOTIFY skipped because an earlier one of the same window belongs to a transaction
//! that rolled back costs at most the poll interval. A transaction that commits asynchronously
//! (`synchronous_commit = off`) holds that lock only while its commit record is written, not
//! flushed, so it always notifies: each of its jobs wakes a worker the moment it commits.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use domain::OrganizationId;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{Job, JobId, JobsError, Limit};

/// One job of kind `J` to enqueue.
#[derive(Debug)]
pub struct NewJob<J: Job> {
    payload: J::Payload,
    options: Options,
    kind: PhantomData<fn() -> J>,
}

#[derive(Debug, Clone, Default)]
struct Options {
    run_at: Option<DateTime<Utc>>,
    unique_key: Option<String>,
    organization: Option<OrganizationId>,
    priority: Option<i16>,
    max_attempts: Option<i32>,
}

impl<J: Job> NewJob<J> {
    pub fn new(payload: J::Payload) -> NewJob<J> {
        NewJob { payload, options: Options::default(), kind: PhantomData }
    }

    /// Not before `at`.
    pub fn run_at(mut self, at: DateTime<Utc>) -> Self {
        self.options.run_at = Some(at);
        self
    }

    /// Not before `delay` from now (the server's clock decides "now" for undelayed jobs).
    pub fn delay(self, delay: Duration) -> Self {
        let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
        self.run_at(at)
    }

    /// At most one unfinished job per key: enqueueing another while one waits or runs does
    /// nothing ([`Enqueued::Duplicate`]). Carry the tenant in the key where there is one.
    pub fn unique_key(mut self, key: impl Into<String>) -> Self {
        self.options.unique_key = Some(key.into());
        self
    }

    /// The tenant, when not enqueued inside that tenant's `TenantTx`.
    pub fn organization(mut self, org: OrganizationId) -> Self {
        self.options.organization = Some(org);
        self
    }

    pub fn priority(mut self, priority: i16) -> Self {
        self.options.priority = Some(priority);
        self
    }

    pub fn max_attempts(mut self, n: i32) -> Self {
        self.options.max_attempts = Some(n.max(1));
        self
    }

    fn into_raw(self) -> Result<RawJob, JobsError> {
        let limit = J::limit(&self.payload);
        Ok(RawJob {
            kind: J::KIND.to_owned(),
            queue: J::QUEUE.to_owned(),
            payload: serde_json::to_value(&self.payload)?,
            priority: self.options.priority.unwrap_or(J::PRIORITY),
            max_attempts: self.options.max_attempts.unwrap_or(J::MAX_ATTEMPTS),
            run_at: self.options.run_at,
            unique_key: self.options.unique_key,
            organization: self.options.organization,
            limit,
        })
    }
}

/// A job without its Rust type, for the scheduler and tools that enqueue by kind name.
#[derive(Debug, Clone, PartialEq)]
pub struct RawJob {
    pub kind: String,
    pub queue: String,
    pub payload: serde_json::Value,
    pub priority: i16,
    pub max_attempts: i32,
    pub run_at: Option<DateTime<Utc>>,
    pub unique_key: Option<String>,
    pub organization: Option<OrganizationId>,
    pub limit: Option<Limit>,
}

/// What [`enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    New(JobId),
    /// An unfinished job with the same unique key exists; nothing was added.
    Duplicate,
}

/// Enqueues one job in the caller's transaction.
pub async fn enqueue<J: Job>(conn: &mut PgConnection, job: NewJob<J>) -> Result<Enqueued, JobsError> {
    let ids = enqueue_raw(conn, vec![job.into_raw()?]).await?;
    Ok(ids.first().map_or(Enqueued::Duplicate, |id| Enqueued::New(*id)))
}

/// Enqueues a batch in one statement, in the caller's transaction. Returns the ids of the jobs
/// added (in no particular order); unique-key duplicates, within the batch or against unfinished
/// jobs, are skipped.
pub async fn enqueue_many<J: Job>(
    conn: &mut PgConnection,
    jobs: Vec<NewJob<J>>,
) -> Result<Vec<JobId>, JobsError> {
    let raw = jobs.into_iter().map(NewJob::into_raw).collect::<Result<Vec<_>, _>>()?;
    enqueue_raw(conn, raw).await
}

/// [`enqueue_many`] for untyped jobs.
pub async fn enqueue_raw(conn: &mut PgConnection, mut jobs: Vec<RawJob>) -> Result<Vec<JobId>, JobsError> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    // Insert in unique-key order: concurrent batches then take the unique index's locks in the
    // same order and cannot deadlock on overlapping keys (they did, inserting in caller order).
    jobs.sort_by(|a, b| a.unique_key.cmp(&b.unique_key));
    upsert_limits(conn, &jobs).await?;
    let n = jobs.len();
    let mut queues = Vec::with_capacity(n);
    let mut kinds = Vec::with_capacity(n);
    let mut orgs: Vec<Option<Uuid>> = Vec::with_capacity(n);
    let mut payloads = Vec::with_capacity(n);
    let mut priorities = Vec::with_capacity(n);
    let mut run_ats = Vec::with_capacity(n);
    let mut max_attempts = Vec::with_capacity(n);
    let mut unique_keys = Vec::with_capacity(n);
    let mut limit_keys = Vec::with_capacity(n);
    let now = Utc::now();
    let due_queues: Vec<String> = {
        let mut due: Vec<String> =
            jobs.iter().filter(|j| j.run_at.is_none_or(|t| t <= now)).map(|j| j.queue.clone()).collect();
        due.sort_unstable();
        due.dedup();
        due
    };
    let notify = queues_to_notify(&due_queues);
    for job in jobs {
        queues.push(job.queue);
        kinds.push(job.kind);
        orgs.push(job.organization.map(|o| o.as_uuid()));
        payloads.push(job.payload);
        priorities.push(job.priority);
        run_ats.push(job.run_at);
        max_attempts.push(job.max_attempts.max(1));
        unique_keys.push(job.unique_key);
        limit_keys.push(job.limit.map(|l| l.key));
    }
    let ids: Vec<i64> = sqlx::query_scalar(
        "with added as (
             insert into jobs (queue, kind, organization_id, payload, priority, run_at, max_attempts,
                               unique_key, limit_key)
             select t.queue, t.kind,
                    coalesce(t.org, nullif(current_setting('app.organization_id', true), '')::uuid),
                    t.payload, t.priority, coalesce(t.run_at, now()), t.max_attempts, t.unique_key,
                    t.limit_key
             from unnest($1::text[], $2::text[], $3::uuid[], $4::jsonb[], $5::int2[],
                         $6::timestamptz[], $7::int4[], $8::text[], $9::text[])
                  as t(queue, kind, org, payload, priority, run_at, max_attempts, unique_key, limit_key)
             on conflict (unique_key)
                 where unique_key is not null and state in ('available', 'running', 'retrying')
                 do nothing
             returning id, queue
         )
         select added.id from added
         where (select count(*) from (select pg_notify('countinghouse_jobs', q.queue)
                                      from (select distinct queue from added
                                            where queue = any($10)
                                               or (queue = any($11)
                                                   and current_setting('synchronous_commit') = 'off')) q)
                       notified) >= 0",
    )
    .bind(&queues)
    .bind(&kinds)
    .bind(&orgs)
    .bind(&payloads)
    .bind(&priorities)
    .bind(&run_ats)
    .bind(&max_attempts)
    .bind(&unique_keys)
    .bind(&limit_keys)
    .bind(&notify)
    .bind(&due_queues)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ids.into_iter().map(JobId).collect())
}

/// At most one NOTIFY per queue per this long from one process.
pub const NOTIFY_DEBOUNCE: Duration = Duration::from_millis(10);

/// The queues among `due` that have not been notified from this process within the debounce
/// window (process-wide, like a connection cache: it only spares the database work).
fn queues_to_notify(due: &[String]) -> Vec<String> {
    static LAST: OnceLock<Mutex<HashMap<String, Instant>>> = OnceLock::new();
    let now = Instant::now();
    let mut last = LAST.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    due.iter()
        .filter(|q| match last.get(q.as_str()) {
            Some(t) if now.duration_since(*t) < NOTIFY_DEBOUNCE => false,
            _ => {
                last.insert((*q).clone(), now);
                true
            }
        })
        .cloned()
        .collect()
}

/// Creates the `job_limits` rows of the batch's limit keys, and updates a key's spec only when it
/// changed (an unconditional upsert would lock the row until the caller commits, stalling claims).
async fn upsert_limits(conn: &mut PgConnection, jobs: &[RawJob]) -> Result<(), JobsError> {
    let mut specs: Vec<&Limit> = jobs.iter().filter_map(|j| j.limit.as_ref()).collect();
    if specs.is_empty() {
        return Ok(());
    }
    specs.sort_by(|a, b| a.key.cmp(&b.key));
    specs.dedup_by(|a, b| a.key == b.key);
    let keys: Vec<&str> = specs.iter().map(|l| l.key.as_str()).collect();
    let rates: Vec<Option<f64>> = specs.iter().map(|l| l.rate_per_second()).collect();
    let bursts: Vec<i32> = specs.iter().map(|l| l.burst()).collect();
    let max_in_flight: Vec<Option<i32>> =
        specs.iter().map(|l| l.max_in_flight.map(|n| i32::try_from(n).unwrap_or(i32::MAX))).collect();
    sqlx::query(
        "insert into job_limits (key, rate_per_second, burst, max_in_flight, tokens)
         select t.key, t.rate, t.burst, t.max_in_flight, t.burst
         from unnest($1::text[], $2::float8[], $3::int4[], $4::int4[]) as t(key, rate, burst, max_in_flight)
         order by t.key
         on conflict (key) do nothing",
    )
    .bind(&keys)
    .bind(&rates)
    .bind(&bursts)
    .bind(&max_in_flight)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "update job_limits l set rate_per_second = t.rate, burst = t.burst, max_in_flight = t.max_in_flight
         from unnest($1::text[], $2::float8[], $3::int4[], $4::int4[]) as t(key, rate, burst, max_in_flight)
         where l.key = t.key
           and (l.rate_per_second, l.burst, l.max_in_flight) is distinct from (t.rate, t.burst, t.max_in_flight)",
    )
    .bind(&keys)
    .bind(&rates)
    .bind(&bursts)
    .bind(&max_in_flight)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
