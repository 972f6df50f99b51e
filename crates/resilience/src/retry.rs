//! Retry policies: how often, how long apart, and above all *whether* an operation may be retried.
//!
//! Whether depends on two things:
//! - the operation's [`Idempotency`]: running it twice must have the effect of running it once
//!   (GET, PUT, DELETE; a POST carrying an idempotency key the server honours, such as an
//!   `Idempotency-Key` header or QuickBooks' `requestid`);
//! - what the failure says about the request, its [`Retryability`]: not sent at all (connect
//!   refused), refused by the server before acting (429, 503, 408), possibly acted on (timeout
//!   after sending, 500, 502, 504, connection reset), or permanent (other 4xx, bad data).
//!
//! | failure \ operation | idempotent | not idempotent |
//! |---|---|---|
//! | `NotSent`, `Rejected` | retry | retry |
//! | `Unknown` | retry | **give up** (the first call may have worked: reconcile instead) |
//! | `Permanent` | give up | give up |
//!
//! Delays come from the policy's [`Backoff`], and a server's `Retry-After` (read from the
//! response by [`retry_after`]) either replaces it or is a floor under it ([`RetryAfter`]); one
//! longer than `max_retry_after` ends the retries at once (returning the error with that hint)
//! rather than parking the caller for minutes.
//!
//! Callers with their own loop (a token refresh between attempts, a limiter told about each
//! pause, a deadline) ask [`RetryPolicy::decide`] — or its two halves, [`RetryPolicy::permits`]
//! and [`RetryPolicy::delay`] — instead of [`RetryPolicy::run`].

use std::fmt;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::backoff::{Backoff, Jitter};

/// Whether running an operation twice has the effect of running it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    Idempotent,
    NotIdempotent,
}

impl Idempotency {
    /// By HTTP semantics (RFC 9110 §9.2.2): GET, HEAD, OPTIONS, TRACE, PUT and DELETE are
    /// idempotent; POST and PATCH are not unless the caller adds an idempotency key (then it
    /// passes [`Idempotency::Idempotent`] itself).
    pub fn of_method(method: &http::Method) -> Idempotency {
        match *method {
            http::Method::GET
            | http::Method::HEAD
            | http::Method::OPTIONS
            | http::Method::TRACE
            | http::Method::PUT
            | http::Method::DELETE => Idempotency::Idempotent,
            _ => Idempotency::NotIdempotent,
        }
    }
}

/// What a failure says about the request that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retryability {
    /// Retrying cannot help (validation error, 4xx other than 408/429, bad credentials).
    Permanent,
    /// The request never reached the server (connection refused, DNS, no connection available):
    /// safe to retry anything.
    NotSent,
    /// The server refused the request without acting on it (429, 503, 408, a throttling fault):
    /// safe to retry anything, after `retry_after` when it said so.
    Rejected { retry_after: Option<Duration> },
    /// The request may have been acted on (timeout after sending, 500, 502, 504, reset
    /// mid-response): retried only when idempotent.
    Unknown { retry_after: Option<Duration> },
}

impl Retryability {
    /// By HTTP status, for a failed response (`retry_after` parsed from its header).
    pub fn of_status(status: http::StatusCode, retry_after: Option<Duration>) -> Retryability {
        match status.as_u16() {
            408 | 429 | 503 => Retryability::Rejected { retry_after },
            500 | 502 | 504 => Retryability::Unknown { retry_after },
            _ => Retryability::Permanent,
        }
    }

    fn retry_after(self) -> Option<Duration> {
        match self {
            Retryability::Rejected { retry_after } | Retryability::Unknown { retry_after } => retry_after,
            Retryability::Permanent | Retryability::NotSent => None,
        }
    }
}

/// Errors that know their [`Retryability`].
pub trait Classify {
    fn retryability(&self) -> Retryability;
}

/// Parses a `Retry-After` value: delay-seconds (`"120"`, fractions accepted) or an HTTP-date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`, taken relative to `now`; a date in the past means 0).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs >= 0.0 && secs.is_finite()).then(|| Duration::from_secs_f64(secs));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// The wait a response asks for: `retry-after-ms`, `x-ms-retry-after-ms` (Azure), then
/// `Retry-After` (seconds or an HTTP-date) — the order azure-core uses.
pub fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(ms) =
            text(name).and_then(|v| v.parse::<f64>().ok()).filter(|v| *v >= 0.0 && v.is_finite())
        {
            return Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    parse_retry_after(text("retry-after")?, Utc::now())
}

/// How a server's `Retry-After` combines with the policy's backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// The server's wait replaces the backoff, exactly.
    Replaces,
    /// The server's wait is a floor under the backoff's ceiling: the longer of the two, spread
    /// by the backoff's jitter (QuickBooks: at least the throttle pause, longer when asked).
    Floor,
}

/// Why a [`RetryPolicy`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    Permanent,
    /// The failure may have had its effect and the operation is not idempotent.
    NotIdempotent,
    AttemptsExhausted,
    /// The server asked for a longer pause than the policy waits.
    RetryAfterTooLong(Duration),
}

impl fmt::Display for GiveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GiveUp::Permanent => f.write_str("permanent failure"),
            GiveUp::NotIdempotent => f.write_str("outcome unknown and the operation is not idempotent"),
            GiveUp::AttemptsExhausted => f.write_str("attempts exhausted"),
            GiveUp::RetryAfterTooLong(d) => write!(f, "server asked to retry after {} s", d.as_secs()),
        }
    }
}

/// The last error of a retried operation, and why the retries stopped.
#[derive(Debug)]
pub struct RetryError<E> {
    pub error: E,
    pub attempts: u32,
    pub reason: GiveUp,
}

impl<E: fmt::Display> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} after {} attempt(s): {}", self.reason, self.attempts, self.error)
    }
}

impl<E: std::error::Error + 'static> std::error::Error for RetryError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub backoff: Backoff,
    pub retry_after: RetryAfter,
    /// The longest `Retry-After` honoured by waiting.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 200 ms doubling to at most 10 s with full jitter, `Retry-After` up to 60 s
    /// (QuickBooks asks for 60 s after a 429).
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            backoff: Backoff::exponential(Duration::from_millis(200), Duration::from_secs(10))
                .with_jitter(Jitter::Full),
            retry_after: RetryAfter::Replaces,
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Whether to retry after `attempts` attempts ended in a failure of `class`, and after how long.
    pub fn decide(
        &self,
        attempts: u32,
        idempotency: Idempotency,
        class: Retryability,
    ) -> Result<Duration, GiveUp> {
        self.permits(attempts, idempotency, class)?;
        self.delay(attempts, class)
    }

    /// Whether another attempt is allowed after `attempts` ended in a failure of `class`,
    /// whatever the wait.
    pub fn permits(
        &self,
        attempts: u32,
        idempotency: Idempotency,
        class: Retryability,
    ) -> Result<(), GiveUp> {
        match class {
            Retryability::Permanent => Err(GiveUp::Permanent),
            Retryability::Unknown { .. } if idempotency == Idempotency::NotIdempotent => {
                Err(GiveUp::NotIdempotent)
            }
            _ if attempts >= self.max_attempts => Err(GiveUp::AttemptsExhausted),
            _ => Ok(()),
        }
    }

    /// The wait before retry `attempt` (1-based) after a failure of `class`: the backoff, and the
    /// server's `Retry-After` as [`RetryPolicy::retry_after`] says; a `Retry-After` longer than
    /// `max_retry_after` gives up.
    pub fn delay(&self, attempt: u32, class: Retryability) -> Result<Duration, GiveUp> {
        match (class.retry_after(), self.retry_after) {
            (Some(wait), _) if wait > self.max_retry_after => Err(GiveUp::RetryAfterTooLong(wait)),
            (Some(wait), RetryAfter::Replaces) => Ok(wait),
            (Some(wait), RetryAfter::Floor) => {
                Ok(self.backoff.jittered(wait.max(self.backoff.ceiling(attempt))))
            }
            (None, _) => Ok(self.backoff.delay(attempt)),
        }
    }

    /// Runs `op` (given the 1-based attempt number) until it succeeds or [`RetryPolicy::decide`]
    /// gives up, sleeping between attempts.
    pub async fn run<T, E, F, Fut>(&self, idempotency: Idempotency, mut op: F) -> Result<T, RetryError<E>>
    where
        E: Classify,
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match op(attempts).await {
                Ok(value) => return Ok(value),
                Err(error) => match self.decide(attempts, idempotency, error.retryability()) {
                    Ok(wait) => {
                        tracing::debug!(attempt = attempts, wait_ms = wait.as_millis() as u64, "retrying");
                        tokio::time::sleep(wait).await;
                    }
                    Err(reason) => return Err(RetryError { error, attempts, reason }),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[derive(Debug)]
    struct Failure(Retryability);
    impl Classify for Failure {
        fn retryability(&self) -> Retryability {
            self.0
        }
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            backoff: Backoff::exponential(Duration::from_millis(100), Duration::from_secs(1))
                .with_jitter(Jitter::None),
            retry_after: RetryAfter::Replaces,
            max_retry_after: Duration::from_secs(60),
        }
    }

    #[test]
    fn methods_have_their_http_idempotency() {
        assert_eq!(Idempotency::of_method(&http::Method::GET), Idempotency::Idempotent);
        assert_eq!(Idempotency::of_method(&http::Method::PUT), Idempotency::Idempotent);
        assert_eq!(Idempotency::of_method(&http::Method::DELETE), Idempotency::Idempotent);
        assert_eq!(Idempotency::of_method(&http::Method::POST), Idempotency::NotIdempotent);
        assert_eq!(Idempotency::of_method(&http::Method::PATCH), Idempotency::NotIdempotent);
    }

    #[test]
    fn statuses_classify_by_whether_the_server_acted() {
        use http::StatusCode as S;
        let ra = Some(Duration::from_secs(3));
        assert_eq!(
            Retryability::of_status(S::TOO_MANY_REQUESTS, ra),
            Retryability::Rejected { retry_after: ra }
        );
        assert_eq!(
            Retryability::of_status(S::SERVICE_UNAVAILABLE, None),
            Retryability::Rejected { retry_after: None }
        );
        assert_eq!(
            Retryability::of_status(S::GATEWAY_TIMEOUT, None),
            Retryability::Unknown { retry_after: None }
        );
        assert_eq!(
            Retryability::of_status(S::INTERNAL_SERVER_ERROR, None),
            Retryability::Unknown { retry_after: None }
        );
        assert_eq!(Retryability::of_status(S::BAD_REQUEST, None), Retryability::Permanent);
        assert_eq!(Retryability::of_status(S::UNAUTHORIZED, None), Retryability::Permanent);
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z").expect("date").with_timezone(&Utc);
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::from_secs(60)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("1.5", now), Some(Duration::from_millis(1_500)));
    }

    #[test]
    fn retry_after_headers_prefer_milliseconds() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", http::HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert("x-ms-retry-after-ms", http::HeaderValue::from_static("250"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
        headers.insert("retry-after-ms", http::HeaderValue::from_static("40"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(40)));
    }

    #[test]
    fn a_floor_retry_after_waits_the_longer_of_it_and_the_backoff() {
        let pause = Duration::from_secs(60);
        let p = RetryPolicy {
            backoff: Backoff::exponential(pause, pause).with_jitter(Jitter::Above { percent: 10 }),
            retry_after: RetryAfter::Floor,
            max_retry_after: Duration::MAX,
            ..policy()
        };
        let asked = |s| Retryability::Rejected { retry_after: Some(Duration::from_secs(s)) };
        let within = |d: Duration, floor: Duration| d >= floor && d <= floor.mul_f64(1.1);
        assert!(within(p.delay(1, Retryability::Rejected { retry_after: None }).unwrap(), pause));
        assert!(
            within(p.delay(1, asked(1)).unwrap(), pause),
            "a shorter Retry-After does not shorten the pause"
        );
        assert!(within(p.delay(1, asked(120)).unwrap(), Duration::from_secs(120)));
    }

    #[test]
    fn unknown_outcomes_are_retried_only_when_idempotent() {
        let p = policy();
        let unknown = Retryability::Unknown { retry_after: None };
        assert_eq!(p.decide(1, Idempotency::Idempotent, unknown), Ok(Duration::from_millis(100)));
        assert_eq!(p.decide(1, Idempotency::NotIdempotent, unknown), Err(GiveUp::NotIdempotent));
        assert_eq!(
            p.decide(2, Idempotency::NotIdempotent, Retryability::NotSent),
            Ok(Duration::from_millis(200))
        );
        let rejected = Retryability::Rejected { retry_after: None };
        assert_eq!(p.decide(1, Idempotency::NotIdempotent, rejected), Ok(Duration::from_millis(100)));
        assert_eq!(p.decide(1, Idempotency::Idempotent, Retryability::Permanent), Err(GiveUp::Permanent));
        assert_eq!(
            p.decide(3, Idempotency::Idempotent, Retryability::NotSent),
            Err(GiveUp::AttemptsExhausted)
        );
    }

    #[test]
    fn retry_after_wins_over_backoff_up_to_the_cap() {
        let p = policy();
        let asked = |s| Retryability::Rejected { retry_after: Some(Duration::from_secs(s)) };
        assert_eq!(p.decide(1, Idempotency::NotIdempotent, asked(7)), Ok(Duration::from_secs(7)));
        assert_eq!(
            p.decide(1, Idempotency::Idempotent, asked(61)),
            Err(GiveUp::RetryAfterTooLong(Duration::from_secs(61)))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn run_retries_until_success_and_waits_as_told() {
        let calls = Cell::new(0);
        let started = tokio::time::Instant::now();
        let out = policy()
            .run(Idempotency::Idempotent, |attempt| {
                calls.set(attempt);
                async move {
                    match attempt {
                        1 => {
                            Err(Failure(Retryability::Rejected { retry_after: Some(Duration::from_secs(5)) }))
                        }
                        2 => Err(Failure(Retryability::Unknown { retry_after: None })),
                        _ => Ok("done"),
                    }
                }
            })
            .await;
        assert_eq!(out.ok(), Some("done"));
        assert_eq!(calls.get(), 3);
        // 5 s as the server asked, then the second backoff step (200 ms); paused time is exact.
        assert_eq!(started.elapsed(), Duration::from_millis(5_200));
    }

    #[tokio::test(start_paused = true)]
    async fn run_stops_at_once_on_an_unsafe_retry() {
        let calls = Cell::new(0);
        let out: Result<(), _> = policy()
            .run(Idempotency::NotIdempotent, |attempt| {
                calls.set(attempt);
                async { Err(Failure(Retryability::Unknown { retry_after: None })) }
            })
            .await;
        let err = out.expect_err("a POST that timed out must not be sent again");
        assert_eq!((err.attempts, err.reason, calls.get()), (1, GiveUp::NotIdempotent, 1));
    }
}
