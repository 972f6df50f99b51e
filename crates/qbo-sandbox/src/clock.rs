//! The sandbox's clock: wall time, but every reading is strictly later than the one before.
//!
//! Responses carry the server `time` that clients store as their next CDC `changedSince`; changes
//! are stamped from the same clock. Strictly increasing readings mean no change can share a
//! millisecond with a response's `time`, so "changed since T" is exact: a change made after a
//! response is always later than its `time`, and one made before is always earlier.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

#[derive(Debug, Default)]
pub struct Clock {
    last_millis: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        let wall = Utc::now().timestamp_millis();
        let mut last = self.last_millis.load(Ordering::Relaxed);
        loop {
            let next = wall.max(last + 1);
            match self.last_millis.compare_exchange_weak(last, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return DateTime::from_timestamp_millis(next).expect("current time is in range"),
                Err(seen) => last = seen,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_strictly_increase() {
        let clock = Clock::default();
        let readings: Vec<_> = (0..10_000).map(|_| clock.now()).collect();
        assert!(readings.windows(2).all(|w| w[0] < w[1]));
    }
}
