//! Job kinds: the [`Job`] trait, ids, states and per-key limits.

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use resilience::{Backoff, Jitter, Quota};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{JobContext, JobError};

pub const DEFAULT_QUEUE: &str = "default";

/// Retry delays unless a kind says otherwise: 2 s doubling to at most 1 h, equal jitter (so a
/// retry never comes back at once). With 20 attempts a job keeps trying for about 10 hours.
pub const DEFAULT_BACKOFF: Backoff =
    Backoff::exponential(Duration::from_secs(2), Duration::from_secs(3600)).with_jitter(Jitter::Equal);

/// A kind of job and its handler. The implementing value is the handler's state (clients, pools),
/// registered once in a [`crate::Registry`]; each job carries a [`Job::Payload`].
///
/// ```ignore
/// struct SyncRealm { qbo: QboClient }
/// impl Job for SyncRealm {
///     const KIND: &'static str = "qbo.sync_realm";
///     const QUEUE: &'static str = "quickbooks";
///     type Payload = SyncRealmPayload; // carries organization_id and realm_id
///     fn limit(p: &Self::Payload) -> Option<Limit> {
///         Some(Limit::new(format!("qbo:{}", p.realm_id)).rate(Quota::per_minute(450)).max_in_flight(8))
///     }
///     async fn run(&self, ctx: JobContext, p: Self::Payload) -> Result<(), JobError> { … }
/// }
/// ```
pub trait Job: Send + Sync + 'static {
    /// Stable name stored with every job; renaming it orphans queued jobs.
    const KIND: &'static str;
    const QUEUE: &'static str = DEFAULT_QUEUE;
    /// Lower runs first.
    const PRIORITY: i16 = 0;
    /// Attempts in all, the first included; then the job is dead (kept with its last error).
    const MAX_ATTEMPTS: i32 = 20;
    /// An attempt running longer is abandoned and counted as failed. Independent of the lease,
    /// which heartbeats renew for as long as the worker lives.
    const TIMEOUT: Duration = Duration::from_secs(300);
    const BACKOFF: Backoff = DEFAULT_BACKOFF;

    type Payload: Serialize + DeserializeOwned + Send + Sync + 'static;

    /// The limit this job counts against, from its payload (keys carry the tenant).
    fn limit(_payload: &Self::Payload) -> Option<Limit> {
        None
    }

    /// Runs one attempt. `Ok` completes the job (unless the handler already did, in its own
    /// transaction, with [`JobContext::complete_in`]).
    fn run(
        &self,
        ctx: JobContext,
        payload: Self::Payload,
    ) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// A limit shared by every worker and process, named by `key`: a token-bucket rate and/or a cap
/// on jobs running at once.
///
/// Enforced in `jobs_claim()`: the key's `job_limits` row is locked while its jobs are admitted,
/// the bucket refilled from the time elapsed, and at most `min(tokens, max_in_flight - running)`
/// jobs leased. Running jobs are counted from the leases themselves, so a crashed worker's jobs
/// hold their slots until rescued (never over the cap). Starts are at most `burst` at once, then
/// one per `quota.interval()`: any window of `quota.per()` sees at most `max + burst - 1` starts.
/// One key has one spec: jobs declaring different specs for a key overwrite each other's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub key: String,
    pub rate: Option<Quota>,
    pub max_in_flight: Option<u32>,
}

impl Limit {
    pub fn new(key: impl Into<String>) -> Limit {
        Limit { key: key.into(), rate: None, max_in_flight: None }
    }

    pub fn rate(mut self, quota: Quota) -> Limit {
        self.rate = Some(quota);
        self
    }

    pub fn max_in_flight(mut self, n: u32) -> Limit {
        self.max_in_flight = Some(n.max(1));
        self
    }

    pub(crate) fn rate_per_second(&self) -> Option<f64> {
        self.rate.map(|q| f64::from(q.max()) / q.per().as_secs_f64())
    }

    pub(crate) fn burst(&self) -> i32 {
        self.rate.map_or(1, |q| i32::try_from(q.burst()).unwrap_or(i32::MAX))
    }
}

/// A job's id (a bigint identity: the queue is internal and hot, so no UUIDs here).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct JobId(pub i64);

impl fmt::Debug for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JobId({})", self.0)
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a job is in its life. A job that succeeds is deleted, so there is no "completed".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waits for its `run_at` (new or released).
    Available,
    /// Leased by a worker.
    Running,
    /// Waits for its next attempt after a failure or a rescue.
    Retrying,
    /// Out of attempts or failed fatally; kept with its last error until retried or pruned.
    Dead,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 5] =
        [JobState::Available, JobState::Running, JobState::Retrying, JobState::Dead, JobState::Cancelled];

    pub const fn as_str(self) -> &'static str {
        match self {
            JobState::Available => "available",
            JobState::Running => "running",
            JobState::Retrying => "retrying",
            JobState::Dead => "dead",
            JobState::Cancelled => "cancelled",
        }
    }
}

impl FromStr for JobState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown job state `{s}`"))
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
