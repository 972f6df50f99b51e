//! A circuit breaker whose *open* state is shared by every process through Redis.
//!
//! Each process keeps its own [`CircuitBreaker`] to count outcomes (a window of its own calls is
//! enough to see a dependency failing). When that breaker opens, the process publishes "open for
//! the next `open_for`" as one Redis key with that expiry (`SET key 1 PX ms`); before each call,
//! every process reads the key's remaining time (`PTTL`, at most once per `fresh_for`, the answer
//! kept in process meanwhile) and refuses the call while it is set, as its own open breaker would.
//! So one worker seeing the dependency fail stops all of them within `fresh_for`.
//!
//! Why not the whole breaker in Redis (shared window, shared half-open probes): that is a Redis
//! round trip and a script per outcome on the hot path, for little gain; the window only decides
//! *when* to open, and any worker deciding is enough. What this gives up: when the shared open
//! time ends, every worker may call again at once instead of one probe — the worker that opened
//! the breaker is half-open at that moment, so a still-failing dependency reopens it (and
//! republishes) after its first probe, and the others' own breakers count their failures too.
//!
//! Redis never fails a call: an unreachable or slow Redis (each request bounded by `timeout`)
//! reads as "not open", remembered for `fresh_for` so a dead Redis costs at most one bounded
//! attempt per `fresh_for`, and the local breaker still protects this process.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::time::Instant;

use crate::breaker::{BreakerState, CircuitBreaker, Permit};

/// The open state of one breaker in Redis: `key` exists while the breaker is open.
#[derive(Clone)]
pub struct SharedOpenState {
    conn: ConnectionManager,
    key: String,
    timeout: Duration,
    fresh_for: Duration,
    seen: Arc<Mutex<Seen>>,
}

impl std::fmt::Debug for SharedOpenState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedOpenState").field("key", &self.key).finish_non_exhaustive()
    }
}

/// What Redis last said, and when it was asked.
#[derive(Debug, Default)]
struct Seen {
    asked_at: Option<Instant>,
    open_until: Option<Instant>,
}

impl Seen {
    fn open_for(&self, now: Instant) -> Option<Duration> {
        self.open_until.filter(|until| *until > now).map(|until| until - now)
    }
}

impl SharedOpenState {
    /// The state under `key` on the Redis at `url` (connected lazily: a Redis that is down now is
    /// not an error). Each Redis request gets at most `timeout`; an answer is reused for
    /// `fresh_for`.
    pub fn new(
        url: &str,
        key: impl Into<String>,
        timeout: Duration,
        fresh_for: Duration,
    ) -> Result<SharedOpenState, redis::RedisError> {
        Ok(SharedOpenState::on(crate::lazy_redis(url, timeout)?, key.into(), timeout, fresh_for))
    }

    fn on(conn: ConnectionManager, key: String, timeout: Duration, fresh_for: Duration) -> SharedOpenState {
        SharedOpenState { conn, key, timeout, fresh_for, seen: Arc::new(Mutex::new(Seen::default())) }
    }

    /// How long the breaker stays open by some process's decision, if it is open.
    pub async fn open_for(&self) -> Option<Duration> {
        let now = Instant::now();
        {
            let seen = self.lock();
            if seen.asked_at.is_some_and(|at| now < at + self.fresh_for) {
                return seen.open_for(now);
            }
        }
        let mut conn = self.conn.clone();
        let mut pttl = redis::cmd("PTTL");
        let ask = pttl.arg(&self.key).query_async::<i64>(&mut conn);
        // -2: no key; -1: a key without expiry (not ours, ignored); an error or timeout: unknown,
        // which must not stop calls.
        let remaining = match tokio::time::timeout(self.timeout, ask).await {
            Ok(Ok(ms)) if ms > 0 => Some(Duration::from_millis(ms.unsigned_abs())),
            Ok(Ok(_)) => None,
            Ok(Err(error)) => {
                tracing::debug!(key = %self.key, error = %error, "shared breaker state unreadable; using the local breaker");
                None
            }
            Err(_) => {
                tracing::debug!(key = %self.key, "shared breaker state timed out; using the local breaker");
                None
            }
        };
        let mut seen = self.lock();
        *seen = Seen { asked_at: Some(now), open_until: remaining.map(|left| now + left) };
        remaining
    }

    /// Records that the breaker is open for `open_for` from now, here and in Redis.
    pub async fn publish_open(&self, open_for: Duration) {
        let now = Instant::now();
        *self.lock() = Seen { asked_at: Some(now), open_until: Some(now + open_for) };
        let ms = u64::try_from(open_for.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("SET");
        let set = cmd.arg(&self.key).arg(1).arg("PX").arg(ms).query_async::<()>(&mut conn);
        match tokio::time::timeout(self.timeout, set).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(key = %self.key, error = %error, "could not share the open breaker; other processes keep calling")
            }
            Err(_) => {
                tracing::warn!(key = %self.key, "sharing the open breaker timed out; other processes keep calling")
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        // Two plain fields: a panic elsewhere cannot leave them inconsistent.
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The open states of many breakers on one Redis connection, for a client with a breaker per
/// key (QuickBooks has one per company): the breaker called `name` keeps its state under
/// `<key_prefix><name>:breaker-open`.
#[derive(Clone)]
pub struct SharedOpenStates {
    conn: ConnectionManager,
    key_prefix: String,
    timeout: Duration,
    fresh_for: Duration,
}

impl std::fmt::Debug for SharedOpenStates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedOpenStates").field("key_prefix", &self.key_prefix).finish_non_exhaustive()
    }
}

impl SharedOpenStates {
    /// As [`SharedOpenState::new`], for every breaker whose key starts with `key_prefix`.
    pub fn new(
        url: &str,
        key_prefix: impl Into<String>,
        timeout: Duration,
        fresh_for: Duration,
    ) -> Result<SharedOpenStates, redis::RedisError> {
        Ok(SharedOpenStates {
            conn: crate::lazy_redis(url, timeout)?,
            key_prefix: key_prefix.into(),
            timeout,
            fresh_for,
        })
    }

    /// The open state of the breaker called `name`.
    pub fn state(&self, name: &str) -> SharedOpenState {
        let key = format!("{}{name}:breaker-open", self.key_prefix);
        SharedOpenState::on(self.conn.clone(), key, self.timeout, self.fresh_for)
    }
}

/// A [`CircuitBreaker`] plus, when Redis is configured, the open state every process shares.
#[derive(Debug, Clone)]
pub struct SharedBreaker {
    local: CircuitBreaker,
    shared: Option<SharedOpenState>,
}

/// Leave to make one call; report how it went with [`SharedPermit::success`] or
/// [`SharedPermit::failure`] (dropping it counts as neither, as with [`Permit`]).
#[must_use = "report the call's outcome"]
#[derive(Debug)]
pub struct SharedPermit {
    permit: Permit,
    breaker: SharedBreaker,
}

impl SharedBreaker {
    pub fn new(local: CircuitBreaker, shared: Option<SharedOpenState>) -> SharedBreaker {
        SharedBreaker { local, shared }
    }

    /// This process's breaker (for health pages).
    pub fn local(&self) -> &CircuitBreaker {
        &self.local
    }

    /// Leave to call now, or how long until calls are allowed again: refused while any process
    /// has published the breaker open, or while this process's breaker is open.
    pub async fn try_acquire(&self) -> Result<SharedPermit, Duration> {
        if let Some(shared) = &self.shared
            && let Some(left) = shared.open_for().await
        {
            metrics::counter!("resilience_breaker_rejected_total", "breaker" => self.local.name().to_owned())
                .increment(1);
            return Err(left);
        }
        let permit = self.local.try_acquire()?;
        Ok(SharedPermit { permit, breaker: self.clone() })
    }
}

impl SharedPermit {
    pub fn success(self) {
        self.permit.success();
    }

    /// Counts a failure; if that opens this process's breaker, tells the others.
    pub async fn failure(self) {
        self.permit.failure();
        let SharedBreaker { local, shared } = &self.breaker;
        if let Some(shared) = shared {
            let snapshot = local.snapshot();
            if snapshot.state == BreakerState::Open
                && let Some(left) = snapshot.retry_after.filter(|left| !left.is_zero())
            {
                shared.publish_open(left).await;
            }
        }
    }
}
