//! Redis first, then PostgreSQL or this process: a limiter that always answers.

use std::time::Duration;

use super::{Decision, LimitBackend, LimiterError, LocalLimiter, PgLimiter, Quota, RedisLimiter};
use crate::breaker::{BreakerConfig, CircuitBreaker};

/// Redis errors that open its breaker: a few in a row, then Redis is left alone for a while and
/// one probe call tries it again.
const REDIS_BREAKER: BreakerConfig = BreakerConfig {
    failure_rate: 0.5,
    minimum_calls: 3,
    window: Duration::from_secs(10),
    open_for: Duration::from_secs(5),
    half_open_probes: 1,
};

/// One quota, shared by all processes through Redis when it is there; see the module doc of
/// [`crate::limiter`] for the fallback order.
#[derive(Debug)]
pub struct DistributedLimiter {
    name: String,
    quota: Quota,
    redis: Option<(RedisLimiter, CircuitBreaker)>,
    postgres: Option<PgLimiter>,
    local: LocalLimiter,
}

impl DistributedLimiter {
    /// `name` labels metrics and the Redis breaker (`limiter:<name>:redis`).
    pub fn new(
        name: impl Into<String>,
        quota: Quota,
        redis: Option<RedisLimiter>,
        postgres: Option<PgLimiter>,
    ) -> DistributedLimiter {
        let name = name.into();
        let redis = redis.map(|r| (r, CircuitBreaker::new(format!("limiter:{name}:redis"), REDIS_BREAKER)));
        DistributedLimiter { name, quota, redis, postgres, local: LocalLimiter::new(quota) }
    }

    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// Takes one call from `key`'s budget if it has one, and says which store decided.
    pub async fn check(&self, key: &str) -> (Decision, LimitBackend) {
        let (decision, backend) = self.decide(key).await;
        metrics::counter!(
            "resilience_limiter_decisions_total",
            "limiter" => self.name.clone(),
            "backend" => backend.as_str(),
            "decision" => if decision.is_allowed() { "allowed" } else { "denied" },
        )
        .increment(1);
        (decision, backend)
    }

    /// Waits for `key`'s budget, up to `max_wait`; refuses at once when the wait would be longer.
    pub async fn acquire(&self, key: &str, max_wait: Duration) -> Result<LimitBackend, LimiterError> {
        let deadline = tokio::time::Instant::now() + max_wait;
        loop {
            match self.check(key).await {
                (Decision::Allowed, backend) => return Ok(backend),
                (Decision::Denied { retry_after }, _) => {
                    if tokio::time::Instant::now() + retry_after > deadline {
                        return Err(LimiterError::Denied(retry_after));
                    }
                    tokio::time::sleep(retry_after).await;
                }
            }
        }
    }

    async fn decide(&self, key: &str) -> (Decision, LimitBackend) {
        // While Redis's breaker is open, Redis is skipped; the breaker says when to try again.
        if let Some((redis, breaker)) = &self.redis
            && let Ok(permit) = breaker.try_acquire()
        {
            match redis.check(key, self.quota).await {
                Ok(decision) => {
                    permit.success();
                    return (decision, LimitBackend::Redis);
                }
                Err(error) => {
                    permit.failure();
                    tracing::debug!(limiter = %self.name, error = %error, "redis limiter failed; falling back");
                }
            }
        }
        if let Some(pg) = &self.postgres {
            match pg.check(key, self.quota).await {
                Ok(decision) => return (decision, LimitBackend::Postgres),
                Err(error) => {
                    tracing::warn!(limiter = %self.name, error = %error, "postgres limiter failed; limiting in process")
                }
            }
        }
        (self.local.check(key), LimitBackend::Local)
    }
}
