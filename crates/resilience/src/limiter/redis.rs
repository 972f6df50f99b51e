//! GCRA in Redis: one Lua script reads the key's theoretical arrival time, decides, and writes it
//! back atomically, on Redis's own clock (so the callers' clocks need not agree). The key expires
//! when its bucket would be full again, so idle keys cost nothing.

use std::time::Duration;

use redis::aio::ConnectionManager;

use super::{Decision, LimiterError, Quota};

/// KEYS[1]: the key. ARGV[1]: interval (µs), ARGV[2]: burst tolerance (µs) = (burst - 1) × interval.
/// Returns 0 when allowed, else the microseconds to wait.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - tolerance
if allow_at > now then return allow_at - now end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
return 0
";

#[derive(Clone)]
pub struct RedisLimiter {
    conn: ConnectionManager,
    script: redis::Script,
    prefix: String,
    timeout: Duration,
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl RedisLimiter {
    /// A limiter on the Redis at `url`, its keys under `prefix`. Connects lazily (a Redis that is
    /// down now is not an error here), and gives every call at most `timeout`.
    pub fn new(
        url: &str,
        prefix: impl Into<String>,
        timeout: Duration,
    ) -> Result<RedisLimiter, LimiterError> {
        let conn = crate::lazy_redis(url, timeout)?;
        Ok(RedisLimiter { conn, script: redis::Script::new(GCRA), prefix: prefix.into(), timeout })
    }

    pub async fn check(&self, key: &str, quota: Quota) -> Result<Decision, LimiterError> {
        let interval = quota.interval().as_micros();
        let tolerance = interval * u128::from(quota.burst() - 1);
        let mut conn = self.conn.clone();
        let mut invocation = self.script.key(format!("{}{key}", self.prefix));
        invocation.arg(interval.to_string()).arg(tolerance.to_string());
        let wait_us: i64 = tokio::time::timeout(self.timeout, invocation.invoke_async(&mut conn))
            .await
            .map_err(|_| LimiterError::RedisTimeout(self.timeout))??;
        Ok(if wait_us <= 0 {
            Decision::Allowed
        } else {
            Decision::Denied { retry_after: Duration::from_micros(wait_us.unsigned_abs()) }
        })
    }
}
