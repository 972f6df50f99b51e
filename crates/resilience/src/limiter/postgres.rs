//! GCRA in PostgreSQL: `rate_limit_take(key, interval_us, burst)` (migration 0011) keeps one
//! timestamp per key in an unlogged table and answers 0 (go) or the microseconds to wait, in one
//! round trip under the row's lock.

use std::time::Duration;

use sqlx::PgPool;

use super::{Decision, LimiterError, Quota};

#[derive(Debug, Clone)]
pub struct PgLimiter {
    pool: PgPool,
}

impl PgLimiter {
    pub fn new(pool: PgPool) -> PgLimiter {
        PgLimiter { pool }
    }

    pub async fn check(&self, key: &str, quota: Quota) -> Result<Decision, LimiterError> {
        let interval_us = i64::try_from(quota.interval().as_micros()).unwrap_or(i64::MAX);
        let burst = i32::try_from(quota.burst()).unwrap_or(i32::MAX);
        let wait_us: i64 = sqlx::query_scalar("select rate_limit_take($1, $2, $3)")
            .bind(key)
            .bind(interval_us)
            .bind(burst)
            .fetch_one(&self.pool)
            .await?;
        Ok(if wait_us <= 0 {
            Decision::Allowed
        } else {
            Decision::Denied { retry_after: Duration::from_micros(wait_us.unsigned_abs()) }
        })
    }
}
