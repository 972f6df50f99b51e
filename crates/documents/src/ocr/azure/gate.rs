//! The hook through which every provider call asks for permission and reports how it went:
//! the process-wide rate limit (15 analyze calls per second per resource, 50 polls) and the
//! circuit breaker live behind it. The shared implementation (Redis/PostgreSQL-backed limiter,
//! breaker registry) comes from the `resilience` crate and is wired by the binary;
//! [`InProcessGate`] is the simple one for tests and single-process use.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

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
    /// A 4xx other than 429: our request was wrong; says nothing about the service's health.
    Rejected,
}

/// Permission for one call; report its outcome when it ends.
pub trait CallPermit: Send {
    fn finish(self: Box<Self>, outcome: CallOutcome);
}

/// Why a call may not start now.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("call refused: {reason}")]
pub struct GateRefusal {
    pub reason: String,
    /// When to try again, if known (an open breaker's remaining time).
    pub retry_after: Option<Duration>,
}

/// A limiter and breaker around provider calls.
pub trait CallGate: Send + Sync {
    /// Waits for the rate limit, then admits the call unless the breaker is open.
    fn admit(&self, kind: CallKind) -> BoxFuture<'_, Result<Box<dyn CallPermit>, GateRefusal>>;
}

/// Limits and breaker settings of [`InProcessGate`].
#[derive(Clone, Copy, Debug)]
pub struct InProcessGateConfig {
    pub analyze_per_second: NonZeroU32,
    pub polls_per_second: NonZeroU32,
    /// Consecutive failures that open the breaker.
    pub failures_to_open: u32,
    /// How long the breaker stays open before letting one trial call through.
    pub open_for: Duration,
}

impl Default for InProcessGateConfig {
    fn default() -> Self {
        InProcessGateConfig {
            analyze_per_second: NonZeroU32::new(15).unwrap_or(NonZeroU32::MIN),
            polls_per_second: NonZeroU32::new(50).unwrap_or(NonZeroU32::MIN),
            failures_to_open: 5,
            open_for: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Default)]
struct BreakerState {
    consecutive_failures: u32,
    open_until: Option<Instant>,
    trial_in_flight: bool,
}

/// GCRA limiters per call kind (governor) and a consecutive-failure breaker, in this process.
pub struct InProcessGate {
    config: InProcessGateConfig,
    analyze: DefaultDirectRateLimiter,
    poll: DefaultDirectRateLimiter,
    breaker: Arc<Mutex<BreakerState>>,
}

impl InProcessGate {
    pub fn new(config: InProcessGateConfig) -> InProcessGate {
        InProcessGate {
            config,
            analyze: RateLimiter::direct(Quota::per_second(config.analyze_per_second)),
            poll: RateLimiter::direct(Quota::per_second(config.polls_per_second)),
            breaker: Arc::new(Mutex::new(BreakerState::default())),
        }
    }

    /// Whether the breaker currently refuses calls.
    pub fn is_open(&self) -> bool {
        self.breaker.lock().is_ok_and(|b| b.open_until.is_some_and(|t| Instant::now() < t))
    }
}

impl Default for InProcessGate {
    fn default() -> Self {
        InProcessGate::new(InProcessGateConfig::default())
    }
}

struct Permit {
    breaker: Arc<Mutex<BreakerState>>,
    failures_to_open: u32,
    open_for: Duration,
    trial: bool,
}

impl CallPermit for Permit {
    fn finish(self: Box<Self>, outcome: CallOutcome) {
        let Ok(mut b) = self.breaker.lock() else { return };
        if self.trial {
            b.trial_in_flight = false;
        }
        match outcome {
            CallOutcome::Failure => {
                b.consecutive_failures += 1;
                if self.trial || b.consecutive_failures >= self.failures_to_open {
                    b.open_until = Some(Instant::now() + self.open_for);
                }
            }
            CallOutcome::Success | CallOutcome::Rejected | CallOutcome::Throttled => {
                b.consecutive_failures = 0;
                b.open_until = None;
            }
        }
    }
}

impl CallGate for InProcessGate {
    fn admit(&self, kind: CallKind) -> BoxFuture<'_, Result<Box<dyn CallPermit>, GateRefusal>> {
        Box::pin(async move {
            let trial = {
                let mut b = self
                    .breaker
                    .lock()
                    .map_err(|_| GateRefusal { reason: "breaker lock poisoned".into(), retry_after: None })?;
                match b.open_until {
                    Some(until) if Instant::now() < until => {
                        return Err(GateRefusal {
                            reason: "the provider's circuit breaker is open".into(),
                            retry_after: Some(until - Instant::now()),
                        });
                    }
                    // Half-open: one trial call at a time.
                    Some(_) if b.trial_in_flight => {
                        return Err(GateRefusal {
                            reason: "a trial call is in flight".into(),
                            retry_after: Some(Duration::from_secs(1)),
                        });
                    }
                    Some(_) => {
                        b.trial_in_flight = true;
                        true
                    }
                    None => false,
                }
            };
            match kind {
                CallKind::Analyze => self.analyze.until_ready().await,
                CallKind::Poll => self.poll.until_ready().await,
            }
            let permit = Permit {
                breaker: Arc::clone(&self.breaker),
                failures_to_open: self.config.failures_to_open,
                open_for: self.config.open_for,
                trial,
            };
            Ok(Box::new(permit) as Box<dyn CallPermit>)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_breaker_opens_after_failures_and_closes_after_a_good_trial() {
        let gate = InProcessGate::new(InProcessGateConfig {
            failures_to_open: 2,
            open_for: Duration::from_millis(50),
            ..InProcessGateConfig::default()
        });
        for _ in 0..2 {
            gate.admit(CallKind::Analyze).await.unwrap().finish(CallOutcome::Failure);
        }
        assert!(gate.is_open());
        assert!(gate.admit(CallKind::Analyze).await.is_err());
        tokio::time::sleep(Duration::from_millis(60)).await;
        let trial = gate.admit(CallKind::Poll).await.unwrap();
        assert!(gate.admit(CallKind::Poll).await.is_err(), "one trial at a time");
        trial.finish(CallOutcome::Success);
        assert!(!gate.is_open());
        gate.admit(CallKind::Analyze).await.unwrap().finish(CallOutcome::Throttled);
        assert!(!gate.is_open(), "throttling is not a failure");
    }
}
