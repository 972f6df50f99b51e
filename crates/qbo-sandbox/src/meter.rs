//! Per-realm request metering: Intuit's limits enforced on sliding windows, and counters tests
//! read to prove a client stayed within them.
//!
//! Every API request that names a realm is counted when it arrives, whether it is then admitted
//! or refused, so the observed maxima describe what the client sent. A request is refused (429)
//! when, counting itself, more than `per_second` arrived in the last second, more than
//! `per_minute` in the last minute, or more than `concurrent` would be in flight.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::Limits;

/// What the sandbox saw of one realm's traffic since it started (or since the last reset).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RealmCounters {
    /// API requests that arrived, refused or not.
    pub requests: u64,
    /// Requests answered 2xx.
    pub succeeded: u64,
    /// Requests refused because a limit was exceeded.
    pub throttled_by_limit: u64,
    /// Requests refused by injected throttling (`Faults::throttle_rate`).
    pub throttled_injected: u64,
    /// Injected 5xx answers.
    pub server_errors_injected: u64,
    /// Requests refused 401 (missing, unknown, expired or revoked access token).
    pub unauthorized: u64,
    /// The most requests in flight at once, counting each arriving request.
    pub max_in_flight: u32,
    /// The most requests that arrived within any one second.
    pub max_per_second: u32,
    /// The most requests that arrived within any one minute.
    pub max_per_minute: u32,
}

#[derive(Default)]
struct RealmMeter {
    arrivals: VecDeque<Instant>,
    in_flight: u32,
    counters: RealmCounters,
}

#[derive(Default)]
pub struct Meter {
    realms: Mutex<BTreeMap<String, RealmMeter>>,
}

/// Holds the realm's in-flight slot until dropped.
pub struct InFlight {
    meter: Arc<Meter>,
    realm: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.meter.with(&self.realm, |m| m.in_flight = m.in_flight.saturating_sub(1));
    }
}

/// The outcome of counting an arriving request.
pub enum Admission {
    Admitted(InFlight),
    /// A limit was exceeded.
    Throttled,
}

/// How a finished request is tallied.
#[derive(Clone, Copy, Debug)]
pub enum Outcome {
    Succeeded,
    ThrottledInjected,
    ServerErrorInjected,
    Unauthorized,
    OtherError,
}

impl Meter {
    fn with<T>(&self, realm: &str, f: impl FnOnce(&mut RealmMeter) -> T) -> T {
        let mut realms = self.realms.lock().unwrap_or_else(|e| e.into_inner());
        f(realms.entry(realm.to_owned()).or_default())
    }

    pub fn arrive(self: &Arc<Self>, realm: &str, limits: Limits) -> Admission {
        let now = Instant::now();
        let admitted = self.with(realm, |m| {
            while m.arrivals.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60)) {
                m.arrivals.pop_front();
            }
            m.arrivals.push_back(now);
            let last_second = m
                .arrivals
                .iter()
                .rev()
                .take_while(|t| now.duration_since(**t) < Duration::from_secs(1))
                .count();
            let last_minute = m.arrivals.len();
            let c = &mut m.counters;
            c.requests += 1;
            c.max_per_second = c.max_per_second.max(last_second as u32);
            c.max_per_minute = c.max_per_minute.max(last_minute as u32);
            c.max_in_flight = c.max_in_flight.max(m.in_flight + 1);
            let within = last_second <= limits.per_second as usize
                && last_minute <= limits.per_minute as usize
                && m.in_flight < limits.concurrent;
            if within {
                m.in_flight += 1;
            } else {
                c.throttled_by_limit += 1;
            }
            within
        });
        if admitted {
            Admission::Admitted(InFlight { meter: Arc::clone(self), realm: realm.to_owned() })
        } else {
            Admission::Throttled
        }
    }

    pub fn record(&self, realm: &str, outcome: Outcome) {
        self.with(realm, |m| match outcome {
            Outcome::Succeeded => m.counters.succeeded += 1,
            Outcome::ThrottledInjected => m.counters.throttled_injected += 1,
            Outcome::ServerErrorInjected => m.counters.server_errors_injected += 1,
            Outcome::Unauthorized => m.counters.unauthorized += 1,
            Outcome::OtherError => {}
        });
    }

    pub fn counters(&self, realm: &str) -> RealmCounters {
        self.with(realm, |m| m.counters)
    }

    /// Zeroes the counters (not the windows, which keep enforcing the limits).
    pub fn reset(&self) {
        let mut realms = self.realms.lock().unwrap_or_else(|e| e.into_inner());
        for meter in realms.values_mut() {
            meter.counters = RealmCounters::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_the_eleventh_request_in_a_second_and_counts_it() {
        let meter = Arc::new(Meter::default());
        let limits = Limits { per_minute: 500, per_second: 10, concurrent: 100 };
        let mut held = Vec::new();
        for _ in 0..10 {
            match meter.arrive("1", limits) {
                Admission::Admitted(slot) => held.push(slot),
                Admission::Throttled => panic!("within the limit"),
            }
        }
        assert!(matches!(meter.arrive("1", limits), Admission::Throttled));
        let counters = meter.counters("1");
        assert_eq!((counters.requests, counters.throttled_by_limit, counters.max_per_second), (11, 1, 11));
        assert_eq!(counters.max_in_flight, 11);
        assert!(matches!(meter.arrive("2", limits), Admission::Admitted(_)), "limits are per realm");
    }

    #[test]
    fn refuses_beyond_the_concurrency_limit_until_a_slot_frees() {
        let meter = Arc::new(Meter::default());
        let limits = Limits { per_minute: 500, per_second: 100, concurrent: 2 };
        let first = meter.arrive("1", limits);
        let _second = meter.arrive("1", limits);
        assert!(matches!(meter.arrive("1", limits), Admission::Throttled));
        drop(first);
        assert!(matches!(meter.arrive("1", limits), Admission::Admitted(_)));
    }
}
