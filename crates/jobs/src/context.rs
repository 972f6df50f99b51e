//! What a handler gets: the job's identity, completion inside the handler's own transaction,
//! and step checkpoints. Every write here names the job's fencing token, so a handler whose lease
//! was taken over writes nothing.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use domain::OrganizationId;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{PgConnection, PgPool};

use crate::{JobError, JobId};

/// The running attempt of one job. Cheap to clone.
#[derive(Clone)]
pub struct JobContext {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) id: JobId,
    pub(crate) kind: String,
    pub(crate) queue: String,
    pub(crate) attempt: i32,
    pub(crate) max_attempts: i32,
    pub(crate) fence: i32,
    pub(crate) organization: Option<OrganizationId>,
    pub(crate) run_at: DateTime<Utc>,
    pub(crate) started_at: DateTime<Utc>,
    pub(crate) pool: PgPool,
    /// Set once the handler completed the job in its own transaction.
    pub(crate) completed: AtomicBool,
    steps: tokio::sync::Mutex<Option<HashMap<String, serde_json::Value>>>,
}

impl std::fmt::Debug for JobContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobContext")
            .field("id", &self.inner.id)
            .field("kind", &self.inner.kind)
            .field("attempt", &self.inner.attempt)
            .field("fence", &self.inner.fence)
            .finish_non_exhaustive()
    }
}

impl JobContext {
    #[expect(clippy::too_many_arguments, reason = "built in one place, from one claimed row")]
    pub(crate) fn new(
        id: JobId,
        kind: String,
        queue: String,
        attempt: i32,
        max_attempts: i32,
        fence: i32,
        organization: Option<OrganizationId>,
        run_at: DateTime<Utc>,
        started_at: DateTime<Utc>,
        pool: PgPool,
    ) -> JobContext {
        JobContext {
            inner: Arc::new(Inner {
                id,
                kind,
                queue,
                attempt,
                max_attempts,
                fence,
                organization,
                run_at,
                started_at,
                pool,
                completed: AtomicBool::new(false),
                steps: tokio::sync::Mutex::new(None),
            }),
        }
    }

    pub fn id(&self) -> JobId {
        self.inner.id
    }

    pub fn kind(&self) -> &str {
        &self.inner.kind
    }

    pub fn queue(&self) -> &str {
        &self.inner.queue
    }

    /// 1 for the first attempt.
    pub fn attempt(&self) -> i32 {
        self.inner.attempt
    }

    pub fn max_attempts(&self) -> i32 {
        self.inner.max_attempts
    }

    /// The fencing token of this lease.
    pub fn fence(&self) -> i32 {
        self.inner.fence
    }

    /// The job's tenant: open a `TenantTx` for it before touching tenant tables.
    pub fn organization_id(&self) -> Option<OrganizationId> {
        self.inner.organization
    }

    /// When the job was due.
    pub fn run_at(&self) -> DateTime<Utc> {
        self.inner.run_at
    }

    /// When this attempt was admitted (the database's clock at the claim; limits count this).
    pub fn started_at(&self) -> DateTime<Utc> {
        self.inner.started_at
    }

    /// The pool the worker runs on, for the handler's own queries.
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    pub(crate) fn completed_in_tx(&self) -> bool {
        self.inner.completed.load(Ordering::Acquire)
    }

    /// Completes the job inside the caller's transaction: the job (and its checkpoints) is deleted
    /// there, so the handler's writes in that transaction happen **exactly once** — if the lease
    /// moved on (rescued after a freeze, cancelled), this fails with [`JobError::LeaseLost`] and
    /// the caller must roll back. Commit right after: the job's row stays locked until then, which
    /// holds off this worker's heartbeats.
    pub async fn complete_in(&self, conn: &mut PgConnection) -> Result<(), JobError> {
        let done: i64 = sqlx::query_scalar(
            "with done as (
                 delete from jobs where id = $1 and fence = $2 and state = 'running' returning id
             ), checkpoints as (
                 delete from job_checkpoints c using done where c.job_id = done.id
             )
             select count(*) from done",
        )
        .bind(self.inner.id.0)
        .bind(self.inner.fence)
        .fetch_one(&mut *conn)
        .await?;
        if done == 0 {
            return Err(JobError::LeaseLost);
        }
        self.inner.completed.store(true, Ordering::Release);
        Ok(())
    }

    /// The result saved for step `name` by this or an earlier attempt.
    pub async fn saved_step<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, JobError> {
        let mut steps = self.inner.steps.lock().await;
        if steps.is_none() {
            let rows: Vec<(String, serde_json::Value)> =
                sqlx::query_as("select step, result from job_checkpoints where job_id = $1")
                    .bind(self.inner.id.0)
                    .fetch_all(&self.inner.pool)
                    .await?;
            *steps = Some(rows.into_iter().collect());
        }
        match steps.as_ref().and_then(|s| s.get(name)) {
            None => Ok(None),
            Some(value) => serde_json::from_value(value.clone())
                .map(Some)
                .map_err(|e| JobError::fatal(format!("checkpoint `{name}` does not parse: {e}"))),
        }
    }

    /// Runs step `name` unless an earlier attempt completed it, in which case its saved result is
    /// returned without running it again. The result is saved (fenced) after the step succeeds;
    /// a crash between the step and the save runs the step again, so steps with outside effects
    /// should save with [`JobContext::save_step_in`] in the transaction of those effects.
    pub async fn step<T, F, Fut>(&self, name: &str, run: F) -> Result<T, JobError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, JobError>>,
    {
        if let Some(saved) = self.saved_step(name).await? {
            return Ok(saved);
        }
        let value = run().await?;
        let mut conn = self.inner.pool.acquire().await?;
        self.save_step_in(&mut conn, name, &value).await?;
        Ok(value)
    }

    /// Saves step `name`'s result in the caller's transaction, only while this attempt still holds
    /// the lease (the job's row is locked until the caller commits; commit promptly).
    pub async fn save_step_in<T: Serialize>(
        &self,
        conn: &mut PgConnection,
        name: &str,
        value: &T,
    ) -> Result<(), JobError> {
        let value =
            serde_json::to_value(value).map_err(|e| JobError::fatal(format!("checkpoint `{name}`: {e}")))?;
        let saved = sqlx::query_scalar::<_, i32>(
            "with lease as (
                 select id from jobs where id = $1 and fence = $2 and state = 'running' for no key update
             )
             insert into job_checkpoints (job_id, step, result)
             select lease.id, $3, $4 from lease
             on conflict (job_id, step) do update set result = excluded.result, saved_at = now()
             returning 1",
        )
        .bind(self.inner.id.0)
        .bind(self.inner.fence)
        .bind(name)
        .bind(&value)
        .fetch_optional(&mut *conn)
        .await?;
        if saved.is_none() {
            return Err(JobError::LeaseLost);
        }
        if let Some(steps) = self.inner.steps.lock().await.as_mut() {
            steps.insert(name.to_owned(), value);
        }
        Ok(())
    }
}
