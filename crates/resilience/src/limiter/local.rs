//! GCRA in this process (governor's keyed limiter).

use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, RateLimiter};

use super::{Decision, Quota};

/// Keys are dropped once their bucket is full again, checked every this many calls.
const SHRINK_EVERY: u64 = 4096;

pub struct LocalLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    calls: AtomicU64,
}

impl std::fmt::Debug for LocalLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalLimiter").field("keys", &self.limiter.len()).finish()
    }
}

impl LocalLimiter {
    pub fn new(quota: Quota) -> LocalLimiter {
        let q = governor::Quota::with_period(quota.interval())
            .unwrap_or_else(|| governor::Quota::per_second(std::num::NonZeroU32::MAX))
            .allow_burst(std::num::NonZeroU32::new(quota.burst()).unwrap_or(std::num::NonZeroU32::MIN));
        LocalLimiter {
            limiter: RateLimiter::keyed(q),
            clock: DefaultClock::default(),
            calls: AtomicU64::new(0),
        }
    }

    pub fn check(&self, key: &str) -> Decision {
        if self.calls.fetch_add(1, Ordering::Relaxed) % SHRINK_EVERY == SHRINK_EVERY - 1 {
            self.limiter.retain_recent();
        }
        match self.limiter.check_key(&key.to_owned()) {
            Ok(()) => Decision::Allowed,
            Err(not_until) => Decision::Denied { retry_after: not_until.wait_time_from(self.clock.now()) },
        }
    }
}
