//! Exponential backoff with jitter and a cap.
//!
//! The delay before retry `n` (1 = the first retry) grows as `base × factor^(n-1)`, capped at
//! `max`, then jittered so that clients failing together do not retry together: `Full` draws from
//! `[0, ceiling]` (best spread, for calls to a shared service), `Equal` from
//! `[ceiling/2, ceiling]` (never retries almost at once, for queued jobs), `Above` from
//! `[ceiling, ceiling + percent]` (never earlier than the ceiling: a pause a server asked for).

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Exactly the ceiling (tests and callers that jitter elsewhere).
    None,
    /// Uniform in `[0, ceiling]`.
    Full,
    /// Uniform in `[ceiling / 2, ceiling]`.
    Equal,
    /// Uniform in `[ceiling, ceiling × (1 + percent / 100)]`.
    Above { percent: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub base: Duration,
    pub factor: f64,
    pub max: Duration,
    pub jitter: Jitter,
}

impl Backoff {
    /// Doubling from `base`, capped at `max`, with full jitter.
    pub const fn exponential(base: Duration, max: Duration) -> Backoff {
        Backoff { base, factor: 2.0, max, jitter: Jitter::Full }
    }

    pub const fn with_jitter(mut self, jitter: Jitter) -> Backoff {
        self.jitter = jitter;
        self
    }

    pub const fn with_factor(mut self, factor: f64) -> Backoff {
        self.factor = factor;
        self
    }

    /// The delay before retry `retry` (1-based) without jitter.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(1_000) as i32;
        let secs = self.base.as_secs_f64() * self.factor.max(1.0).powi(exponent);
        let max = self.max.as_secs_f64();
        // NaN and infinity (huge exponents) end at the cap as well.
        if secs.is_finite() && secs < max { Duration::from_secs_f64(secs) } else { self.max }
    }

    /// The jittered delay before retry `retry` (1-based).
    pub fn delay(&self, retry: u32) -> Duration {
        self.delay_with(retry, &mut rand::rng())
    }

    /// [`Backoff::delay`] with a given random source (deterministic tests).
    pub fn delay_with<R: Rng + ?Sized>(&self, retry: u32, rng: &mut R) -> Duration {
        self.jittered_with(self.ceiling(retry), rng)
    }

    /// `ceiling` spread by this backoff's jitter (for a ceiling that is not this backoff's own,
    /// such as a server's `Retry-After`).
    pub fn jittered(&self, ceiling: Duration) -> Duration {
        self.jittered_with(ceiling, &mut rand::rng())
    }

    fn jittered_with<R: Rng + ?Sized>(&self, ceiling: Duration, rng: &mut R) -> Duration {
        match self.jitter {
            Jitter::None => ceiling,
            Jitter::Full => ceiling.mul_f64(rng.random_range(0.0..=1.0)),
            Jitter::Equal => ceiling / 2 + (ceiling / 2).mul_f64(rng.random_range(0.0..=1.0)),
            Jitter::Above { percent } => {
                ceiling + ceiling.mul_f64(f64::from(percent) / 100.0 * rng.random_range(0.0..=1.0))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_by_the_factor_and_stops_at_the_cap() {
        let b = Backoff::exponential(Duration::from_millis(100), Duration::from_secs(1))
            .with_jitter(Jitter::None);
        let delays: Vec<_> = (1..=6).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn jitter_stays_within_its_range() {
        let full = Backoff::exponential(Duration::from_secs(1), Duration::from_secs(60));
        let equal = full.with_jitter(Jitter::Equal);
        let above = full.with_jitter(Jitter::Above { percent: 10 });
        let mut rng = rand::rng();
        for n in 1..12 {
            let ceiling = full.ceiling(n);
            let f = full.delay_with(n, &mut rng);
            let e = equal.delay_with(n, &mut rng);
            let a = above.delay_with(n, &mut rng);
            assert!(f <= ceiling, "full jitter {f:?} above {ceiling:?}");
            assert!(a >= ceiling && a <= ceiling.mul_f64(1.1), "jitter above {a:?} outside its range");
            assert!(
                e >= ceiling / 2 && e <= ceiling,
                "equal jitter {e:?} outside [{:?}, {ceiling:?}]",
                ceiling / 2
            );
        }
    }

    #[test]
    fn full_jitter_spreads_clients_apart() {
        let b = Backoff::exponential(Duration::from_secs(10), Duration::from_secs(10));
        let mut rng = rand::rng();
        let draws: std::collections::BTreeSet<u128> =
            (0..50).map(|_| b.delay_with(1, &mut rng).as_micros()).collect();
        assert!(draws.len() > 40, "50 draws gave only {} distinct delays", draws.len());
    }
}
