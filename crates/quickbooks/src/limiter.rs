//! The per-realm limiter hook every API request passes through, and an in-process implementation.
//!
//! Intuit allows per realm 500 requests a minute, 10 a second and 10 in flight. Across several
//! workers that must be enforced globally (the job queue's resilience layer provides that); this
//! crate only asks for a [`RealmLimiter`] and calls it before each attempt, holding the returned
//! [`LimiterPermit`] until the response is read, and reports throttles so the limiter can hold the
//! whole realm back.
//!
//! [`LocalRealmLimiter`] is the in-process version: exact sliding windows (a log of start times)
//! plus a semaphore. It is hand-written because the windows must match how limits are counted —
//! a GCRA limiter such as `governor` admits a burst on top of the steady rate, so a window of one
//! second can see up to twice the rate — and because it also needs the in-flight cap and the
//! realm-wide pause after a throttle.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::realm::RealmId;

/// Held while a request is in flight; dropping it frees the slot.
pub struct LimiterPermit {
    _slot: Option<Box<dyn Send + Sync>>,
}

impl LimiterPermit {
    /// Wraps whatever the limiter must hold (a semaphore permit, a lease) until the request ends.
    pub fn new(slot: impl Send + Sync + 'static) -> LimiterPermit {
        LimiterPermit { _slot: Some(Box::new(slot)) }
    }

    /// A permit that holds nothing (for limiters without an in-flight cap).
    pub fn unbounded() -> LimiterPermit {
        LimiterPermit { _slot: None }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum LimiterError {
    #[error("the call's deadline passed while waiting for the realm's rate limit")]
    Deadline,
    /// The limiter's own store failed (say, Redis for a global limiter).
    #[error("rate limiter unavailable: {0}")]
    Unavailable(String),
}

/// The hook: admit a request to a realm, and hear about throttles.
pub trait RealmLimiter: Send + Sync {
    /// Waits until a request to `realm` may start, giving up at `deadline`.
    fn acquire<'a>(
        &'a self,
        realm: &'a RealmId,
        deadline: Instant,
    ) -> BoxFuture<'a, Result<LimiterPermit, LimiterError>>;

    /// QuickBooks throttled a request to `realm`: start no request to it for `pause`.
    fn throttled(&self, realm: &RealmId, pause: Duration);
}

/// Per-realm limits. The defaults stay below Intuit's (500/min, 10/s, 10 in flight), leaving
/// room for other apps' calls to the same company.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealmLimits {
    pub per_second: u32,
    pub per_minute: u32,
    pub in_flight: u32,
    /// Added to both windows. Requests reach Intuit a little after they start here, and not all
    /// equally late: a burst that starts just after the previous second's burst can arrive
    /// within the same second as it. Counting starts over one second plus this guard keeps
    /// arrivals within the limit for any delay spread up to the guard.
    pub guard: Duration,
}

impl Default for RealmLimits {
    fn default() -> Self {
        RealmLimits { per_second: 8, per_minute: 450, in_flight: 5, guard: Duration::from_millis(250) }
    }
}

struct Window {
    /// Start times of the requests of the last minute, oldest first.
    starts: VecDeque<Instant>,
    paused_until: Option<Instant>,
}

struct RealmState {
    in_flight: Arc<Semaphore>,
    window: Mutex<Window>,
}

/// The in-process [`RealmLimiter`]: exact within one process.
pub struct LocalRealmLimiter {
    limits: RealmLimits,
    realms: Mutex<HashMap<RealmId, Arc<RealmState>>>,
}

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);

impl LocalRealmLimiter {
    pub fn new(limits: RealmLimits) -> LocalRealmLimiter {
        assert!(
            limits.per_second > 0 && limits.per_minute > 0 && limits.in_flight > 0,
            "limits must be positive"
        );
        LocalRealmLimiter { limits, realms: Mutex::new(HashMap::new()) }
    }

    fn realm(&self, realm: &RealmId) -> Arc<RealmState> {
        let mut realms = self.realms.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(realms.entry(realm.clone()).or_insert_with(|| {
            Arc::new(RealmState {
                in_flight: Arc::new(Semaphore::new(self.limits.in_flight as usize)),
                window: Mutex::new(Window { starts: VecDeque::new(), paused_until: None }),
            })
        }))
    }

    /// Records a start now if the windows allow it; otherwise says how long to wait.
    fn try_start(&self, state: &RealmState) -> Option<Duration> {
        let mut window = state.window.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let (second, minute) = (SECOND + self.limits.guard, MINUTE + self.limits.guard);
        while window.starts.front().is_some_and(|t| now.duration_since(*t) >= minute) {
            window.starts.pop_front();
        }
        let mut wait = Duration::ZERO;
        if let Some(until) = window.paused_until {
            wait = wait.max(until.saturating_duration_since(now));
        }
        let len = window.starts.len();
        let per_second = self.limits.per_second as usize;
        let in_last_second =
            window.starts.iter().rev().take_while(|t| now.duration_since(**t) < second).count();
        if in_last_second >= per_second {
            // The start `per_second` back must leave the one-second window first.
            let blocking = window.starts[len - per_second];
            wait = wait.max((blocking + second).saturating_duration_since(now));
        }
        let per_minute = self.limits.per_minute as usize;
        if len >= per_minute {
            let blocking = window.starts[len - per_minute];
            wait = wait.max((blocking + minute).saturating_duration_since(now));
        }
        if wait.is_zero() {
            window.starts.push_back(now);
            None
        } else {
            Some(wait)
        }
    }
}

impl RealmLimiter for LocalRealmLimiter {
    fn acquire<'a>(
        &'a self,
        realm: &'a RealmId,
        deadline: Instant,
    ) -> BoxFuture<'a, Result<LimiterPermit, LimiterError>> {
        Box::pin(async move {
            let state = self.realm(realm);
            let slot = tokio::time::timeout_at(deadline, Arc::clone(&state.in_flight).acquire_owned())
                .await
                .map_err(|_| LimiterError::Deadline)?
                .map_err(|_| LimiterError::Unavailable("limiter closed".into()))?;
            loop {
                match self.try_start(&state) {
                    None => return Ok(LimiterPermit::new(slot)),
                    Some(wait) if Instant::now() + wait > deadline => return Err(LimiterError::Deadline),
                    Some(wait) => tokio::time::sleep(wait).await,
                }
            }
        })
    }

    fn throttled(&self, realm: &RealmId, pause: Duration) {
        let state = self.realm(realm);
        let mut window = state.window.lock().unwrap_or_else(|e| e.into_inner());
        let until = Instant::now() + pause;
        window.paused_until = Some(window.paused_until.map_or(until, |p| p.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn realm() -> RealmId {
        RealmId::parse("123").expect("digits")
    }

    #[tokio::test(start_paused = true)]
    async fn never_starts_more_than_the_per_second_limit_in_any_second() {
        let limiter = LocalRealmLimiter::new(RealmLimits {
            per_second: 4,
            per_minute: 100,
            in_flight: 100,
            guard: Duration::ZERO,
        });
        let far = Instant::now() + Duration::from_secs(600);
        let mut starts = Vec::new();
        for _ in 0..20 {
            let _permit = limiter.acquire(&realm(), far).await.expect("admitted");
            starts.push(Instant::now());
        }
        for (i, start) in starts.iter().enumerate() {
            let within = starts[i..].iter().take_while(|t| t.duration_since(*start) < SECOND).count();
            assert!(within <= 4, "{within} starts within a second of start {i}");
        }
        assert!(starts[19].duration_since(starts[0]) >= Duration::from_secs(4));
    }

    #[tokio::test(start_paused = true)]
    async fn the_guard_keeps_bursts_apart_by_more_than_a_second() {
        let guard = Duration::from_millis(250);
        let limiter =
            LocalRealmLimiter::new(RealmLimits { per_second: 5, per_minute: 100, in_flight: 100, guard });
        let far = Instant::now() + Duration::from_secs(600);
        let mut starts = Vec::new();
        for _ in 0..15 {
            drop(limiter.acquire(&realm(), far).await.expect("admitted"));
            starts.push(Instant::now());
        }
        // Arrivals delayed by anything from 0 to 250 ms still fall at most 5 to any one second.
        for (i, start) in starts.iter().enumerate() {
            let within = starts[i..].iter().take_while(|t| t.duration_since(*start) < SECOND + guard).count();
            assert!(within <= 5, "{within} starts within 1.25 s of start {i}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn caps_the_minute_and_the_requests_in_flight() {
        let limiter = LocalRealmLimiter::new(RealmLimits {
            per_second: 100,
            per_minute: 5,
            in_flight: 2,
            guard: Duration::ZERO,
        });
        let far = Instant::now() + Duration::from_secs(600);
        let first = limiter.acquire(&realm(), far).await.expect("admitted");
        let _second = limiter.acquire(&realm(), far).await.expect("admitted");
        let soon = Instant::now() + Duration::from_millis(10);
        assert!(
            matches!(limiter.acquire(&realm(), soon).await, Err(LimiterError::Deadline)),
            "third in flight"
        );
        drop(first);
        let began = Instant::now();
        for _ in 0..4 {
            drop(limiter.acquire(&realm(), far).await.expect("admitted"));
        }
        assert!(
            Instant::now().duration_since(began) >= Duration::from_secs(59),
            "the sixth start waits a minute"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_pauses_the_realm() {
        let limiter = LocalRealmLimiter::new(RealmLimits::default());
        limiter.throttled(&realm(), Duration::from_secs(60));
        let began = Instant::now();
        let far = began + Duration::from_secs(600);
        drop(limiter.acquire(&realm(), far).await.expect("admitted after the pause"));
        assert!(Instant::now().duration_since(began) >= Duration::from_secs(60));
        let other = RealmId::parse("456").expect("digits");
        let began = Instant::now();
        drop(limiter.acquire(&other, far).await.expect("other realms unaffected"));
        assert_eq!(Instant::now(), began);
    }
}
