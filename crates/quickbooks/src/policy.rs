//! Deadlines and backoff for API calls, as Intuit asks: on a throttle (429 or fault 3001) wait
//! 60 seconds before retrying — not trusting `Retry-After`, but honouring it when it asks for
//! longer; on 5xx and broken connections back off exponentially; every attempt and every call
//! has a deadline (Intuit itself kills calls running over 120 s).
//!
//! The knobs are Intuit's; the decisions (how many retries, how long apart) are the resilience
//! kit's: [`RequestPolicy::throttle_retries`] and [`RequestPolicy::server_error_retries`] are the
//! two [`RetryPolicy`]s the client asks, each with its own budget.

use std::time::Duration;

use resilience::{Backoff, Jitter, RetryAfter, RetryPolicy};

#[derive(Clone, Debug)]
pub struct RequestPolicy {
    /// Limit on one HTTP attempt, connect to last byte.
    pub attempt_timeout: Duration,
    /// Limit on a whole call: limiter waits, attempts, refresh and retries.
    pub deadline: Duration,
    /// Pause after a throttle, for the realm as a whole.
    pub throttle_pause: Duration,
    pub max_throttle_retries: u32,
    /// First backoff after a 5xx or a transport error; doubled each time up to `server_error_cap`.
    pub server_error_base: Duration,
    pub server_error_cap: Duration,
    pub max_server_retries: u32,
}

impl Default for RequestPolicy {
    fn default() -> Self {
        RequestPolicy {
            attempt_timeout: Duration::from_secs(60),
            deadline: Duration::from_secs(300),
            throttle_pause: Duration::from_secs(60),
            max_throttle_retries: 3,
            server_error_base: Duration::from_secs(1),
            server_error_cap: Duration::from_secs(30),
            max_server_retries: 4,
        }
    }
}

impl RequestPolicy {
    /// Retries after a throttle: the policy's pause (or a longer `Retry-After`) plus up to 10 %
    /// jitter so that a realm's workers do not all return in the same instant;
    /// `max_throttle_retries` of them.
    pub fn throttle_retries(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_throttle_retries.saturating_add(1),
            backoff: Backoff::exponential(self.throttle_pause, self.throttle_pause)
                .with_jitter(Jitter::Above { percent: 10 }),
            retry_after: RetryAfter::Floor,
            // However long Intuit asks for: only the call's deadline ends the waiting.
            max_retry_after: Duration::MAX,
        }
    }

    /// Retries after a 5xx or a broken connection: exponential with "equal jitter" (half fixed,
    /// half random), so retries spread out but never collapse to zero; `max_server_retries` of
    /// them.
    pub fn server_error_retries(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_server_retries.saturating_add(1),
            backoff: Backoff::exponential(self.server_error_base, self.server_error_cap)
                .with_jitter(Jitter::Equal),
            retry_after: RetryAfter::Replaces,
            max_retry_after: Duration::MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use resilience::{GiveUp, Idempotency, Retryability};

    #[test]
    fn backoff_grows_to_its_cap_and_throttles_wait_at_least_the_pause() {
        let policy = RequestPolicy::default();
        let server = policy.server_error_retries();
        let failed = Retryability::Unknown { retry_after: None };
        for attempt in 1..=10 {
            let delay = server.delay(attempt, failed).unwrap();
            let full = (Duration::from_secs(1) * 2u32.pow(attempt - 1)).min(Duration::from_secs(30));
            assert!(delay >= full / 2 && delay <= full, "attempt {attempt}: {delay:?}");
        }
        let throttles = policy.throttle_retries();
        let throttled =
            |after: Option<u64>| Retryability::Rejected { retry_after: after.map(Duration::from_secs) };
        let throttle = throttles.delay(1, throttled(None)).unwrap();
        assert!(throttle >= Duration::from_secs(60) && throttle <= Duration::from_secs(66));
        assert!(throttles.delay(1, throttled(Some(1))).unwrap() >= Duration::from_secs(60));
        assert!(throttles.delay(1, throttled(Some(120))).unwrap() >= Duration::from_secs(120));
    }

    #[test]
    fn each_kind_of_failure_has_its_own_number_of_retries() {
        let policy = RequestPolicy::default();
        let (throttles, server) = (policy.throttle_retries(), policy.server_error_retries());
        let throttled = Retryability::Rejected { retry_after: None };
        let failed = Retryability::Unknown { retry_after: None };
        assert!(throttles.permits(3, Idempotency::Idempotent, throttled).is_ok());
        assert_eq!(throttles.permits(4, Idempotency::Idempotent, throttled), Err(GiveUp::AttemptsExhausted));
        assert!(server.permits(4, Idempotency::Idempotent, failed).is_ok());
        assert_eq!(server.permits(5, Idempotency::Idempotent, failed), Err(GiveUp::AttemptsExhausted));
    }
}
