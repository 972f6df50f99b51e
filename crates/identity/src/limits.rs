//! Sign-in rate limits, per client address and per account, in process (GCRA via governor).
//! Lockout after repeated failures is separate and durable (in the users table).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::{IdentityError, IdentityResult};

pub struct LoginLimiter {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
}

impl LoginLimiter {
    pub fn new(per_ip_per_minute: u32, per_account_per_minute: u32) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).expect("at least one"));
        LoginLimiter {
            per_ip: RateLimiter::keyed(quota(per_ip_per_minute)),
            per_account: RateLimiter::keyed(quota(per_account_per_minute)),
        }
    }

    /// Takes one attempt from the address's and the account's budgets.
    pub fn check(&self, ip: Option<IpAddr>, account: &str) -> IdentityResult<()> {
        let clock = DefaultClock::default();
        if let Some(ip) = ip
            && let Err(not_until) = self.per_ip.check_key(&ip)
        {
            return Err(IdentityError::RateLimited {
                retry_after: wait(not_until.wait_time_from(clock.now())),
            });
        }
        if let Err(not_until) = self.per_account.check_key(&account.to_owned()) {
            return Err(IdentityError::RateLimited {
                retry_after: wait(not_until.wait_time_from(clock.now())),
            });
        }
        Ok(())
    }

    /// Takes one attempt from the address's budget only (signup, invitation acceptance).
    pub fn check_ip(&self, ip: Option<IpAddr>) -> IdentityResult<()> {
        let clock = DefaultClock::default();
        if let Some(ip) = ip
            && let Err(not_until) = self.per_ip.check_key(&ip)
        {
            return Err(IdentityError::RateLimited {
                retry_after: wait(not_until.wait_time_from(clock.now())),
            });
        }
        Ok(())
    }

    /// Forgets keys whose budget is full again, so memory stays bounded.
    pub fn retain_recent(&self) {
        self.per_ip.retain_recent();
        self.per_account.retain_recent();
    }
}

fn wait(d: Duration) -> Duration {
    d.max(Duration::from_secs(1))
}
