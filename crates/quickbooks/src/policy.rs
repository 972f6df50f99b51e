//! Deadlines and backoff for API calls, as Intuit asks: on a throttle (429 or fault 3001) wait
//! 60 seconds before retrying — not trusting `Retry-After`, but honouring it when it asks for
//! longer; on 5xx and broken connections back off exponentially; every attempt and every call
//! has a deadline (Intuit itself kills calls running over 120 s).

use std::time::Duration;

use rand::Rng;

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
    /// The wait before retry `attempt` (1-based) after a 5xx: exponential with "equal jitter"
    /// (half fixed, half random), so retries spread out but never collapse to zero.
    pub fn server_error_delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(16);
        let full = self.server_error_base.saturating_mul(1 << exponent).min(self.server_error_cap);
        let half = full / 2;
        half + half.mul_f64(rand::rng().random::<f64>())
    }

    /// The wait after a throttle: the policy's pause (or a longer `Retry-After`) plus up to 10 %
    /// jitter so that a realm's workers do not all return in the same instant.
    pub fn throttle_delay(&self, retry_after: Option<Duration>) -> Duration {
        let base = retry_after.map_or(self.throttle_pause, |r| r.max(self.throttle_pause));
        base + base.mul_f64(rand::rng().random::<f64>() * 0.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_and_throttles_wait_at_least_the_pause() {
        let policy = RequestPolicy::default();
        for attempt in 1..=10 {
            let delay = policy.server_error_delay(attempt);
            let full = (Duration::from_secs(1) * 2u32.pow(attempt - 1)).min(Duration::from_secs(30));
            assert!(delay >= full / 2 && delay <= full, "attempt {attempt}: {delay:?}");
        }
        let throttle = policy.throttle_delay(None);
        assert!(throttle >= Duration::from_secs(60) && throttle <= Duration::from_secs(66));
        assert!(policy.throttle_delay(Some(Duration::from_secs(1))) >= Duration::from_secs(60));
        assert!(policy.throttle_delay(Some(Duration::from_secs(120))) >= Duration::from_secs(120));
    }
}
