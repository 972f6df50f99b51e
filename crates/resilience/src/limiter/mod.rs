//! Rate limits per key, with one algorithm everywhere: GCRA (the generic cell rate algorithm, a
//! token bucket kept as one timestamp). A [`Quota`] of `max` calls per `per` with `burst` lets one
//! call through every `per / max`, up to `burst` at once after a quiet spell; so any window of
//! length `per` sees at most `max + burst - 1` calls (exactly `max` with the default burst of 1).
//!
//! Where the state lives:
//! - [`LocalLimiter`]: this process only (governor); for limits that are per process anyway, and
//!   the last resort of the distributed limiter.
//! - [`RedisLimiter`]: shared by every process through a Lua script (atomic, Redis's clock).
//! - [`PgLimiter`]: shared through PostgreSQL (`rate_limit_take()`, an unlogged table).
//! - [`DistributedLimiter`]: Redis, and when Redis is not configured or fails (its own circuit
//!   breaker skips it while it is down) PostgreSQL if given, else local. It never returns an
//!   error: a dead Redis costs precision, never a request.
//!
//! Keys are built by callers and must carry the tenant where there is one
//! (`qbo:<organization>:<realm>`).

mod distributed;
mod local;
mod postgres;
mod redis;

use std::num::NonZeroU32;
use std::time::Duration;

pub use distributed::DistributedLimiter;
pub use local::LocalLimiter;
pub use postgres::PgLimiter;
pub use redis::RedisLimiter;

/// `max` calls per `per`, up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    max: NonZeroU32,
    per: Duration,
    burst: NonZeroU32,
}

impl Quota {
    /// `max` calls per `per` (a zero `max` is taken as 1; a zero `per` as 1 µs).
    pub fn new(max: u32, per: Duration) -> Quota {
        Quota { max: non_zero(max), per: per.max(Duration::from_micros(1)), burst: NonZeroU32::MIN }
    }

    pub fn per_second(max: u32) -> Quota {
        Quota::new(max, Duration::from_secs(1))
    }

    pub fn per_minute(max: u32) -> Quota {
        Quota::new(max, Duration::from_secs(60))
    }

    /// Allows up to `burst` calls at once (then one per interval again).
    pub fn with_burst(mut self, burst: u32) -> Quota {
        self.burst = non_zero(burst);
        self
    }

    /// Time between two calls at the steady rate.
    pub fn interval(&self) -> Duration {
        (self.per / self.max.get()).max(Duration::from_micros(1))
    }

    pub fn burst(&self) -> u32 {
        self.burst.get()
    }

    pub fn max(&self) -> u32 {
        self.max.get()
    }

    pub fn per(&self) -> Duration {
        self.per
    }
}

fn non_zero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// The answer to one call's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Over the limit: try again after `retry_after`.
    Denied {
        retry_after: Duration,
    },
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed)
    }
}

/// Which store answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitBackend {
    Local,
    Redis,
    Postgres,
}

impl LimitBackend {
    pub const fn as_str(self) -> &'static str {
        match self {
            LimitBackend::Local => "local",
            LimitBackend::Redis => "redis",
            LimitBackend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LimiterError {
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    #[error("redis did not answer within {0:?}")]
    RedisTimeout(Duration),
    #[error("redis is skipped while its circuit breaker is open")]
    RedisUnavailable,
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("rate limited; retry after {0:?}")]
    Denied(Duration),
}
