//! The gate every provider call passes: the Azure resource's rate limits (15 analyze calls per
//! second and 50 polls on S0, adjustable) and its circuit breaker, shared by all workers.
//!
//! - Limits: a [`DistributedLimiter`] per kind of call, keyed by the resource's endpoint (the
//!   quota is the resource's, whoever calls it). With Redis they hold across every worker; when
//!   Redis is absent or down they fall back to PostgreSQL (`rate_limit_take`, still shared) and
//!   then to this process alone — a dead Redis costs precision, never a call.
//! - Breaker: a [`SharedBreaker`]: this worker's own breaker counts its calls' outcomes, and when
//!   it opens it publishes "open until T" to Redis, which every worker reads (at most every
//!   [`SHARED_STATE_FRESH_FOR`]) before calling; see `resilience::shared_breaker` for why only
//!   the open state is shared. Without Redis the breaker is this worker's own.
//!
//! The breaker is asked first (an open breaker refuses at once instead of waiting for a slot),
//! then the limiter, waiting at most `max_wait`; a longer wait refuses the call, and the job queue
//! tries the document again later instead of holding a worker.

use std::sync::Arc;
use std::time::Duration;

use resilience::{
    BreakerConfig, Breakers, CircuitBreaker, DistributedLimiter, LimiterError, PgLimiter, Quota,
    RedisLimiter, SharedBreaker, SharedOpenState, SharedPermit,
};
use store::sqlx::PgPool;

/// How long a worker trusts what it last read of the shared breaker state.
pub const SHARED_STATE_FRESH_FOR: Duration = Duration::from_millis(200);

/// Which limit a call counts against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// `POST …:analyze` (the service's "analyze transactions per second").
    Analyze,
    /// `GET` of an operation (the "get operations per second").
    Poll,
}

/// How a call ended, for the breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    Success,
    /// 429: the service asked us to slow down (not a failure of the service).
    Throttled,
    /// 5xx, timeout or connection failure: counts toward opening the breaker.
    Failure,
    /// A 4xx other than 429: our request (or our quota) was wrong; says nothing about the
    /// service's health.
    Rejected,
}

/// Why a call may not start now.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("call refused: {reason}")]
pub struct GateRefusal {
    pub reason: &'static str,
    /// When to try again.
    pub retry_after: Option<Duration>,
}

/// The limits and the breaker's settings.
#[derive(Clone, Copy, Debug)]
pub struct GateLimits {
    pub analyze_per_second: u32,
    pub polls_per_second: u32,
    /// The longest a call waits for the rate limit before it is refused.
    pub max_wait: Duration,
    /// Longest a Redis request of the gate may take before the gate decides without it
    /// (PostgreSQL's shared limit, else this process's own).
    pub redis_timeout: Duration,
    pub breaker: BreakerConfig,
}

impl Default for GateLimits {
    /// S0's default quotas; the breaker opens on half the calls failing (at least 5 in 30 s) and
    /// lets one probe through after 30 s.
    fn default() -> Self {
        GateLimits {
            analyze_per_second: 15,
            polls_per_second: 50,
            max_wait: Duration::from_secs(30),
            redis_timeout: Duration::from_millis(100),
            breaker: BreakerConfig {
                failure_rate: 0.5,
                minimum_calls: 5,
                window: Duration::from_secs(30),
                open_for: Duration::from_secs(30),
                half_open_probes: 1,
            },
        }
    }
}

/// Where the state shared by all workers lives; each part optional.
#[derive(Clone, Debug, Default)]
pub struct GateStores {
    /// Redis: the limits and the breaker's open state.
    pub redis: Option<RedisStore>,
    /// PostgreSQL (the application's pool): the limits when Redis is absent or down.
    pub postgres: Option<PgPool>,
}

#[derive(Clone, Debug)]
pub struct RedisStore {
    pub url: String,
    /// Put before every key of the gate (`ch:` → `ch:azure:<endpoint>:analyze`).
    pub key_prefix: String,
}

/// The Redis URL could not be used.
#[derive(Debug, thiserror::Error)]
#[error("the Redis URL for the Azure gate is not usable: {0}")]
pub struct GateSetupError(String);

/// `azure:<endpoint>`: names the resource's limits, breaker and shared keys.
fn resource_key(endpoint: &str) -> String {
    format!("azure:{}", endpoint.trim_end_matches('/'))
}

/// Limits and breaker of one Azure resource. Cheap to clone; clones share everything.
#[derive(Clone, Debug)]
pub struct AzureGate {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    analyze: (DistributedLimiter, String),
    polls: (DistributedLimiter, String),
    max_wait: Duration,
    breaker: SharedBreaker,
}

impl AzureGate {
    /// The gate of the resource at `endpoint`. Its breaker is taken from `breakers` (the
    /// process's registry, which the health page lists), so every client of the resource in
    /// this process shares it.
    pub fn new(
        endpoint: &str,
        limits: GateLimits,
        stores: GateStores,
        breakers: &Breakers,
    ) -> Result<AzureGate, GateSetupError> {
        let resource = resource_key(endpoint);
        let redis = match &stores.redis {
            Some(redis) => Some((
                RedisLimiter::new(&redis.url, redis.key_prefix.clone(), limits.redis_timeout)
                    .map_err(|e| GateSetupError(e.to_string()))?,
                SharedOpenState::new(
                    &redis.url,
                    format!("{}{resource}:breaker-open", redis.key_prefix),
                    limits.redis_timeout,
                    SHARED_STATE_FRESH_FOR,
                )
                .map_err(|e| GateSetupError(e.to_string()))?,
            )),
            None => None,
        };
        let postgres = stores.postgres.map(PgLimiter::new);
        Ok(AzureGate::build(resource, limits, redis, postgres, breakers))
    }

    /// A gate of this process alone (limits and breaker in memory), for tests and single-process
    /// tools.
    pub fn in_process(endpoint: &str, limits: GateLimits) -> AzureGate {
        AzureGate::build(resource_key(endpoint), limits, None, None, &Breakers::default())
    }

    fn build(
        resource: String,
        limits: GateLimits,
        redis: Option<(RedisLimiter, SharedOpenState)>,
        postgres: Option<PgLimiter>,
        breakers: &Breakers,
    ) -> AzureGate {
        let (redis_limiter, shared_open) = redis.unzip();
        let limiter = |name: &str, per_second: u32| {
            DistributedLimiter::new(
                format!("azure-{name}"),
                Quota::per_second(per_second),
                redis_limiter.clone(),
                postgres.clone(),
            )
        };
        AzureGate {
            inner: Arc::new(Inner {
                analyze: (limiter("analyze", limits.analyze_per_second), format!("{resource}:analyze")),
                polls: (limiter("polls", limits.polls_per_second), format!("{resource}:polls")),
                max_wait: limits.max_wait,
                breaker: SharedBreaker::new(breakers.get_or_create(&resource, limits.breaker), shared_open),
            }),
        }
    }

    /// This process's breaker of the resource.
    pub fn breaker(&self) -> &CircuitBreaker {
        self.inner.breaker.local()
    }

    /// Admits one call unless the breaker is open (here or in another worker), after waiting for
    /// the rate limit of its kind.
    pub async fn admit(&self, kind: CallKind) -> Result<GatePermit, GateRefusal> {
        let permit = self.inner.breaker.try_acquire().await.map_err(|left| GateRefusal {
            reason: "the Azure circuit breaker is open (Azure failed in this or another worker)",
            retry_after: Some(left),
        })?;
        let (limiter, key) = match kind {
            CallKind::Analyze => &self.inner.analyze,
            CallKind::Poll => &self.inner.polls,
        };
        limiter.acquire(key, self.inner.max_wait).await.map_err(|e| GateRefusal {
            reason: "the Azure rate limit would hold this call longer than its longest wait",
            retry_after: match e {
                LimiterError::Denied(wait) => Some(wait),
                _ => None,
            },
        })?;
        Ok(GatePermit(permit))
    }
}

/// Leave for one call; report its outcome with [`GatePermit::finish`].
#[must_use = "report the call's outcome"]
#[derive(Debug)]
pub struct GatePermit(SharedPermit);

impl GatePermit {
    pub async fn finish(self, outcome: CallOutcome) {
        match outcome {
            CallOutcome::Failure => self.0.failure().await,
            // Throttling and our own bad requests say the service is up.
            CallOutcome::Success | CallOutcome::Throttled | CallOutcome::Rejected => self.0.success(),
        }
    }
}

#[cfg(test)]
mod tests {
    use resilience::BreakerState;

    use super::*;

    #[tokio::test]
    async fn the_breaker_opens_on_failures_lets_one_probe_through_and_ignores_throttling() {
        let defaults = GateLimits::default();
        let open_for = Duration::from_millis(50);
        let limits = GateLimits {
            analyze_per_second: 1000,
            breaker: BreakerConfig { minimum_calls: 2, open_for, ..defaults.breaker },
            ..defaults
        };
        let gate = AzureGate::in_process("http://azure.test", limits);
        for _ in 0..2 {
            gate.admit(CallKind::Analyze).await.unwrap().finish(CallOutcome::Failure).await;
        }
        assert_eq!(gate.breaker().state(), BreakerState::Open);
        let refused = gate.admit(CallKind::Analyze).await.unwrap_err();
        assert!(refused.retry_after.is_some_and(|left| left <= open_for), "{refused:?}");
        // A sleep never ends early: the open time is over afterwards.
        tokio::time::sleep(open_for).await;
        let probe = gate.admit(CallKind::Poll).await.unwrap();
        assert!(gate.admit(CallKind::Poll).await.is_err(), "one probe at a time");
        probe.finish(CallOutcome::Success).await;
        assert_eq!(gate.breaker().state(), BreakerState::Closed);
        for _ in 0..4 {
            gate.admit(CallKind::Analyze).await.unwrap().finish(CallOutcome::Throttled).await;
        }
        assert_eq!(gate.breaker().state(), BreakerState::Closed, "throttling is not a failure");
    }
}
