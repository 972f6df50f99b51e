//! Circuit breaker: stop calling a dependency that is failing, and try it again carefully.
//!
//! - **Closed**: calls pass; outcomes go into a sliding window of `window` (ten buckets). When
//!   the window holds at least `minimum_calls` outcomes and the failure share reaches
//!   `failure_rate`, the breaker opens.
//! - **Open** for `open_for`: calls are refused at once with the time left
//!   ([`BreakerError::Open`]), so callers fall back or fail fast instead of queueing on a dead
//!   service.
//! - **Half-open**: up to `half_open_probes` calls go through as probes. Any probe failing opens
//!   the breaker again; all of them succeeding closes it with an empty window.
//!
//! Outcomes of calls admitted in an earlier state are ignored (a slow call started before the
//! breaker opened does not decide a probe). State is exported as the gauge
//! `resilience_breaker_state{breaker}` (0 closed, 1 half-open, 2 open) with
//! `resilience_breaker_transitions_total{breaker,to}` and `resilience_breaker_rejected_total`;
//! [`Breakers`] lists every breaker's [`BreakerSnapshot`] for `/v1/admin/health`.
//!
//! Hand-written (about 250 lines) rather than tower-resilience: that crate is young with one
//! maintainer, and its tower `Service` shape does not fit callers that classify errors
//! themselves. Time is `tokio::time::Instant`, so tests run on paused time.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

const BUCKETS: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// Failure share (0..=1) at which the breaker opens.
    pub failure_rate: f64,
    /// Outcomes the window must hold before the rate counts.
    pub minimum_calls: u32,
    /// Length of the sliding window.
    pub window: Duration,
    pub open_for: Duration,
    /// Trial calls while half-open; all must succeed to close.
    pub half_open_probes: u32,
}

impl Default for BreakerConfig {
    /// 50 % failures over ≥ 20 calls in 30 s opens for 5 s, then 3 probes (Polly's window and
    /// break, resilience4j's threshold).
    fn default() -> Self {
        BreakerConfig {
            failure_rate: 0.5,
            minimum_calls: 20,
            window: Duration::from_secs(30),
            open_for: Duration::from_secs(5),
            half_open_probes: 3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    HalfOpen,
    Open,
}

impl BreakerState {
    pub const fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::HalfOpen => "half_open",
            BreakerState::Open => "open",
        }
    }

    /// The value of the `resilience_breaker_state` gauge.
    pub const fn metric_value(self) -> f64 {
        match self {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        }
    }
}

/// A breaker's state for health pages.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerSnapshot {
    pub name: String,
    pub state: BreakerState,
    /// Outcomes in the current window (closed state).
    pub calls: u64,
    pub failures: u64,
    /// While open: how long until probes are let through.
    pub retry_after: Option<Duration>,
}

#[derive(Debug)]
pub enum BreakerError<E> {
    /// Refused without calling; probes are allowed after `retry_after`.
    Open { retry_after: Duration },
    /// The call ran and failed.
    Failed(E),
}

impl<E: fmt::Display> fmt::Display for BreakerError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BreakerError::Open { retry_after } => {
                write!(f, "circuit open; retry in {} ms", retry_after.as_millis())
            }
            BreakerError::Failed(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for BreakerError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BreakerError::Open { .. } => None,
            BreakerError::Failed(e) => Some(e),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    start: Instant,
    successes: u64,
    failures: u64,
}

#[derive(Debug)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { in_flight: u32, succeeded: u32 },
}

#[derive(Debug)]
struct Machine {
    phase: Phase,
    /// Bumped on every transition; a permit's outcome counts only in its own generation.
    generation: u64,
    buckets: VecDeque<Bucket>,
}

#[derive(Debug)]
struct Inner {
    name: String,
    config: BreakerConfig,
    machine: Mutex<Machine>,
}

/// A circuit breaker; clones share state.
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    inner: Arc<Inner>,
}

/// Leave to make one call. Report its outcome with [`Permit::success`] or [`Permit::failure`];
/// dropping it unreported (a cancelled call) counts as neither.
#[must_use = "report the call's outcome"]
#[derive(Debug)]
pub struct Permit {
    breaker: CircuitBreaker,
    generation: u64,
    probe: bool,
    reported: bool,
}

impl CircuitBreaker {
    pub fn new(name: impl Into<String>, config: BreakerConfig) -> CircuitBreaker {
        let breaker = CircuitBreaker {
            inner: Arc::new(Inner {
                name: name.into(),
                config,
                machine: Mutex::new(Machine {
                    phase: Phase::Closed,
                    generation: 0,
                    buckets: VecDeque::new(),
                }),
            }),
        };
        breaker.export(BreakerState::Closed);
        breaker
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Leave to call now, or the time until the breaker lets probes through.
    pub fn try_acquire(&self) -> Result<Permit, Duration> {
        let now = Instant::now();
        let mut m = self.lock();
        if let Phase::Open { until } = m.phase {
            if now < until {
                drop(m);
                metrics::counter!("resilience_breaker_rejected_total", "breaker" => self.inner.name.clone())
                    .increment(1);
                return Err(until - now);
            }
            self.transition(&mut m, Phase::HalfOpen { in_flight: 0, succeeded: 0 });
        }
        let probes = self.inner.config.half_open_probes.max(1);
        let probe = match &mut m.phase {
            Phase::HalfOpen { in_flight, succeeded } => {
                if *in_flight + *succeeded >= probes {
                    drop(m);
                    metrics::counter!("resilience_breaker_rejected_total", "breaker" => self.inner.name.clone())
                        .increment(1);
                    // The probes decide soon; a short pause is the honest hint.
                    return Err(self.inner.config.open_for.min(Duration::from_millis(100)));
                }
                *in_flight += 1;
                true
            }
            // Closed (an open phase whose time is up became half-open above).
            _ => false,
        };
        Ok(Permit { breaker: self.clone(), generation: m.generation, probe, reported: false })
    }

    /// Runs `call` if the breaker allows it, counting any `Err` as a failure. Callers that must
    /// not count some errors (a 404 is the dependency working) use [`CircuitBreaker::try_acquire`].
    pub async fn call<T, E, F>(&self, call: F) -> Result<T, BreakerError<E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        let permit = self.try_acquire().map_err(|retry_after| BreakerError::Open { retry_after })?;
        match call.await {
            Ok(v) => {
                permit.success();
                Ok(v)
            }
            Err(e) => {
                permit.failure();
                Err(BreakerError::Failed(e))
            }
        }
    }

    pub fn state(&self) -> BreakerState {
        let m = self.lock();
        match m.phase {
            Phase::Closed => BreakerState::Closed,
            Phase::HalfOpen { .. } => BreakerState::HalfOpen,
            // Still "open" until a call arrives to probe, even if the time is up.
            Phase::Open { .. } => BreakerState::Open,
        }
    }

    pub fn snapshot(&self) -> BreakerSnapshot {
        let now = Instant::now();
        let mut m = self.lock();
        self.expire_buckets(&mut m, now);
        let (calls, failures) =
            m.buckets.iter().fold((0, 0), |(c, f), b| (c + b.successes + b.failures, f + b.failures));
        let (state, retry_after) = match m.phase {
            Phase::Closed => (BreakerState::Closed, None),
            Phase::HalfOpen { .. } => (BreakerState::HalfOpen, None),
            Phase::Open { until } => (BreakerState::Open, Some(until.saturating_duration_since(now))),
        };
        BreakerSnapshot { name: self.inner.name.clone(), state, calls, failures, retry_after }
    }

    fn record(&self, generation: u64, probe: bool, failed: bool) {
        let now = Instant::now();
        let mut m = self.lock();
        if m.generation != generation {
            return;
        }
        if probe {
            let probes = self.inner.config.half_open_probes.max(1);
            if let Phase::HalfOpen { in_flight, succeeded } = &mut m.phase {
                *in_flight = in_flight.saturating_sub(1);
                if failed {
                    let until = now + self.inner.config.open_for;
                    self.transition(&mut m, Phase::Open { until });
                } else {
                    *succeeded += 1;
                    if *succeeded >= probes {
                        self.transition(&mut m, Phase::Closed);
                    }
                }
            }
            return;
        }
        self.expire_buckets(&mut m, now);
        let width = self.inner.config.window / BUCKETS;
        match m.buckets.back_mut() {
            Some(b) if now < b.start + width => {
                if failed {
                    b.failures += 1
                } else {
                    b.successes += 1
                }
            }
            _ => m.buckets.push_back(Bucket {
                start: now,
                successes: u64::from(!failed),
                failures: u64::from(failed),
            }),
        }
        let (calls, failures) =
            m.buckets.iter().fold((0, 0), |(c, f), b| (c + b.successes + b.failures, f + b.failures));
        if calls >= u64::from(self.inner.config.minimum_calls)
            && calls > 0
            && failures as f64 / calls as f64 >= self.inner.config.failure_rate
        {
            let until = now + self.inner.config.open_for;
            self.transition(&mut m, Phase::Open { until });
        }
    }

    fn release_probe(&self, generation: u64) {
        let mut m = self.lock();
        if m.generation == generation
            && let Phase::HalfOpen { in_flight, .. } = &mut m.phase
        {
            *in_flight = in_flight.saturating_sub(1);
        }
    }

    fn expire_buckets(&self, m: &mut Machine, now: Instant) {
        let window = self.inner.config.window;
        while m.buckets.front().is_some_and(|b| b.start + window <= now) {
            m.buckets.pop_front();
        }
    }

    fn transition(&self, m: &mut Machine, phase: Phase) {
        let state = match phase {
            Phase::Closed => BreakerState::Closed,
            Phase::HalfOpen { .. } => BreakerState::HalfOpen,
            Phase::Open { .. } => BreakerState::Open,
        };
        m.phase = phase;
        m.generation += 1;
        m.buckets.clear();
        tracing::info!(breaker = %self.inner.name, state = state.as_str(), "circuit breaker changed state");
        metrics::counter!("resilience_breaker_transitions_total", "breaker" => self.inner.name.clone(), "to" => state.as_str())
            .increment(1);
        self.export(state);
    }

    fn export(&self, state: BreakerState) {
        metrics::gauge!("resilience_breaker_state", "breaker" => self.inner.name.clone())
            .set(state.metric_value());
    }

    fn lock(&self) -> MutexGuard<'_, Machine> {
        // The machine stays consistent between statements, so a poisoned lock is still usable.
        self.inner.machine.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Permit {
    pub fn success(mut self) {
        self.reported = true;
        self.breaker.record(self.generation, self.probe, false);
    }

    pub fn failure(mut self) {
        self.reported = true;
        self.breaker.record(self.generation, self.probe, true);
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.reported && self.probe {
            self.breaker.release_probe(self.generation);
        }
    }
}

/// The process's breakers by name, for the health page. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Breakers {
    map: Arc<Mutex<BTreeMap<String, CircuitBreaker>>>,
}

impl Breakers {
    /// The registry of this process, which `/v1/admin/health` shows: clients of outbound services
    /// take their breakers from it.
    pub fn process() -> &'static Breakers {
        static PROCESS: std::sync::OnceLock<Breakers> = std::sync::OnceLock::new();
        PROCESS.get_or_init(Breakers::default)
    }

    /// The breaker called `name`, made with `config` the first time.
    pub fn get_or_create(&self, name: &str, config: BreakerConfig) -> CircuitBreaker {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(name.to_owned()).or_insert_with(|| CircuitBreaker::new(name, config)).clone()
    }

    /// Every breaker's state, by name.
    pub fn snapshots(&self) -> Vec<BreakerSnapshot> {
        let breakers: Vec<CircuitBreaker> =
            self.map.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        breakers.iter().map(CircuitBreaker::snapshot).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> BreakerConfig {
        BreakerConfig {
            failure_rate: 0.5,
            minimum_calls: 4,
            window: Duration::from_secs(10),
            open_for: Duration::from_secs(5),
            half_open_probes: 2,
        }
    }

    fn outcome(b: &CircuitBreaker, failed: bool) {
        let p = b.try_acquire().expect("breaker lets the call through");
        if failed { p.failure() } else { p.success() }
    }

    #[tokio::test(start_paused = true)]
    async fn opens_only_past_the_minimum_number_of_calls() {
        let b = CircuitBreaker::new("min", config());
        for _ in 0..3 {
            outcome(&b, true);
        }
        assert_eq!(b.state(), BreakerState::Closed, "three failures are below the minimum of four calls");
        outcome(&b, true);
        assert_eq!(b.state(), BreakerState::Open);
        let wait = b.try_acquire().expect_err("an open breaker refuses calls");
        assert_eq!(wait, Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn stays_closed_below_the_failure_rate() {
        let b = CircuitBreaker::new("rate", config());
        for i in 0..20 {
            outcome(&b, i % 3 == 2); // every third call fails: at most a third of any prefix
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn old_outcomes_slide_out_of_the_window() {
        let b = CircuitBreaker::new("window", config());
        for _ in 0..3 {
            outcome(&b, true);
        }
        tokio::time::advance(Duration::from_secs(11)).await;
        outcome(&b, true);
        assert_eq!(b.state(), BreakerState::Closed, "failures older than the window do not count");
        assert_eq!(b.snapshot().calls, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn half_open_probes_close_on_success_and_reopen_on_failure() {
        let b = CircuitBreaker::new("probe", config());
        for _ in 0..4 {
            outcome(&b, true);
        }
        tokio::time::advance(Duration::from_secs(5)).await;
        let p1 = b.try_acquire().expect("first probe");
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let p2 = b.try_acquire().expect("second probe");
        assert!(b.try_acquire().is_err(), "no more than two probes at once");
        p1.success();
        p2.failure();
        assert_eq!(b.state(), BreakerState::Open, "a failed probe opens again");

        tokio::time::advance(Duration::from_secs(5)).await;
        outcome(&b, false);
        assert_eq!(b.state(), BreakerState::HalfOpen);
        outcome(&b, false);
        assert_eq!(b.state(), BreakerState::Closed, "all probes succeeded");
        assert_eq!(b.snapshot().calls, 0, "closing starts an empty window");
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_probe_frees_its_slot_and_stale_outcomes_are_ignored() {
        let b = CircuitBreaker::new("stale", config());
        let slow = b.try_acquire().expect("admitted while closed");
        for _ in 0..4 {
            outcome(&b, true);
        }
        assert_eq!(b.state(), BreakerState::Open);
        tokio::time::advance(Duration::from_secs(5)).await;
        drop(b.try_acquire().expect("probe"));
        let p = b.try_acquire().expect("the dropped probe's slot is free again");
        slow.failure(); // started before the breaker opened: must not reopen it
        assert_eq!(b.state(), BreakerState::HalfOpen);
        p.success();
    }

    #[tokio::test(start_paused = true)]
    async fn call_counts_errors_and_refuses_when_open() {
        let b = CircuitBreaker::new("call", config());
        for _ in 0..4 {
            let r: Result<(), BreakerError<&str>> = b.call(async { Err("down") }).await;
            assert!(matches!(r, Err(BreakerError::Failed("down"))));
        }
        let r: Result<(), BreakerError<&str>> = b.call(async { Ok(()) }).await;
        assert!(matches!(r, Err(BreakerError::Open { .. })));
    }

    #[tokio::test(start_paused = true)]
    async fn the_registry_reports_every_breaker() {
        let breakers = Breakers::default();
        let qbo = breakers.get_or_create("qbo", config());
        breakers.get_or_create("ocr", config());
        for _ in 0..4 {
            outcome(&qbo, true);
        }
        assert_eq!(breakers.get_or_create("qbo", BreakerConfig::default()).state(), BreakerState::Open);
        let snaps = breakers.snapshots();
        let states: Vec<_> = snaps.iter().map(|s| (s.name.as_str(), s.state)).collect();
        assert_eq!(states, [("ocr", BreakerState::Closed), ("qbo", BreakerState::Open)]);
        assert_eq!(snaps[1].retry_after, Some(Duration::from_secs(5)));
    }
}
