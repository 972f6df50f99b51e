//! Resilience for outbound calls (OCR provider, QuickBooks, Redis): what to do when the other
//! side is slow, failing or asks us to slow down.
//!
//! # Layout
//! - [`backoff`]: exponential backoff with jitter and a cap ([`Backoff`]); also used by the job
//!   queue for its retries.
//! - [`retry`]: [`RetryPolicy`] runs an operation again only when that is safe: the error's
//!   [`Retryability`] (was the request sent? did the server refuse it before acting?) against
//!   the operation's [`Idempotency`]; a server's `Retry-After` ([`retry_after`]) replaces the
//!   computed backoff or is a floor under it ([`RetryAfter`]).
//! - [`breaker`]: [`CircuitBreaker`] (failure rate over a sliding window with a minimum of calls,
//!   open for a while, then half-open probes), its state exported as a metric and readable as a
//!   [`BreakerSnapshot`] from a [`Breakers`] registry for the health page.
//! - [`limiter`]: rate limits per key with one [`Quota`]: in process ([`LocalLimiter`], GCRA via
//!   governor), shared through Redis ([`RedisLimiter`]) or PostgreSQL ([`PgLimiter`]), and
//!   [`DistributedLimiter`], which uses Redis and falls back to PostgreSQL or the local limiter
//!   when Redis is absent or down, so no call fails because Redis does.
//! - [`shared_breaker`]: [`SharedBreaker`], a [`CircuitBreaker`] whose open state every process
//!   sees through Redis (one worker finding a dependency down stops them all); one key per
//!   breaker ([`SharedOpenState`]), or many keys on one connection ([`SharedOpenStates`]).
//!
//! A typical client wraps each call as: limiter → breaker → the request, inside a retry policy:
//! ```ignore
//! let result = policy.run(Idempotency::of_method(&method), |_attempt| async {
//!     limiter.acquire(&key, max_wait).await?;
//!     breaker.call(send(request.clone())).await
//! }).await;
//! ```

pub mod backoff;
pub mod breaker;
pub mod limiter;
pub mod retry;
pub mod shared_breaker;

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use backoff::{Backoff, Jitter};
pub use breaker::{
    BreakerConfig, BreakerError, BreakerSnapshot, BreakerState, Breakers, CircuitBreaker, Permit,
};
pub use limiter::{
    Decision, DistributedLimiter, LimitBackend, LimiterError, LocalLimiter, PgLimiter, Quota, RedisLimiter,
};
/// The error of the constructors that take a Redis URL.
pub use redis::RedisError;
pub use retry::{
    Classify, GiveUp, Idempotency, RetryAfter, RetryError, RetryPolicy, Retryability, retry_after,
};
pub use shared_breaker::{SharedBreaker, SharedOpenState, SharedOpenStates, SharedPermit};

/// A connection to the Redis at `url`, made on first use (a Redis that is down now is not an
/// error here), giving up on connecting or answering after `timeout` with one retry.
fn lazy_redis(url: &str, timeout: Duration) -> redis::RedisResult<ConnectionManager> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(1)
        .set_max_delay(timeout);
    ConnectionManager::new_lazy_with_config(client, config)
}
