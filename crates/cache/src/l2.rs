//! The Redis tier: values with their tag versions, tag counters, the bump channel, and the breaker that keeps a
//! slow or dead Redis out of the request path.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use futures::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use resilience::breaker::{BreakerConfig, CircuitBreaker};
use serde::Serialize;

use super::Inner;

/// KEYS[1]: the tag's counter, KEYS[2]: the epoch. ARGV[1]: the channel, ARGV[2]: the tag id, ARGV[3]: a new
/// epoch in case Redis has none. One round trip bumps and announces `epoch version tag`.
const BUMP: &str = r"
local e = redis.call('GET', KEYS[2])
if not e then
  e = ARGV[3]
  redis.call('SET', KEYS[2], e)
end
local v = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], e .. ' ' .. v .. ' ' .. ARGV[2])
return {e, v}
";

/// KEYS[1]: the epoch; ARGV[1]: a new one. The epoch, set to ARGV[1] first if Redis has none (it restarted).
const ENSURE_EPOCH: &str = r"
local e = redis.call('GET', KEYS[1])
if not e then
  e = ARGV[1]
  redis.call('SET', KEYS[1], e)
end
return e
";

/// Where the shared tier lives and how much patience it gets.
#[derive(Clone, Debug)]
pub struct L2Config {
    pub url: String,
    /// Prefix of every key and of the bump channel; instances that should share entries share it.
    pub prefix: String,
    /// Longest one Redis call may take before it counts as a failure.
    pub timeout: Duration,
    pub breaker: BreakerConfig,
}

impl L2Config {
    /// 50 ms per call; the breaker opens at half the calls failing over at least 5 in 10 s, for 2 s: a cache
    /// must give up on Redis much sooner than a payment call would.
    pub fn new(url: impl Into<String>, prefix: impl Into<String>) -> L2Config {
        L2Config {
            url: url.into(),
            prefix: prefix.into(),
            timeout: Duration::from_millis(50),
            breaker: BreakerConfig {
                failure_rate: 0.5,
                minimum_calls: 5,
                window: Duration::from_secs(10),
                open_for: Duration::from_secs(2),
                half_open_probes: 1,
            },
        }
    }
}

/// The Redis tier's health, for `/v1/admin/cache`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct L2State {
    /// The breaker is closed and the invalidation listener is subscribed.
    pub connected: bool,
    /// `closed`, `half_open` or `open`.
    pub breaker: &'static str,
    pub subscribed: bool,
    /// Redis calls that failed or timed out.
    pub errors: u64,
    /// Redis calls not made because the breaker was open.
    pub skipped: u64,
}

/// A stored value: when it was stored, the epoch and its tags' versions then, and its bytes.
pub(crate) struct Stored {
    pub stored_at_ms: u64,
    pub epoch: String,
    pub versions: Vec<u64>,
    pub bytes: Vec<u8>,
}

/// Tag versions as Redis has them, with the epoch they count in.
pub(crate) struct Versions {
    pub epoch: String,
    pub tags: Vec<u64>,
}

pub(crate) struct L2 {
    conn: ConnectionManager,
    bump: redis::Script,
    ensure_epoch: redis::Script,
    prefix: String,
    timeout: Duration,
    breaker: CircuitBreaker,
    subscribed: Arc<AtomicBool>,
    errors: AtomicU64,
    skipped: AtomicU64,
    listener: OnceLock<tokio::task::AbortHandle>,
}

impl Drop for L2 {
    fn drop(&mut self) {
        if let Some(listener) = self.listener.get() {
            listener.abort();
        }
    }
}

impl L2 {
    pub(crate) fn new(config: &L2Config) -> Result<L2, redis::RedisError> {
        let client = redis::Client::open(config.url.as_str())?;
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout))
            .set_number_of_retries(1)
            .set_max_delay(config.timeout);
        Ok(L2 {
            conn: ConnectionManager::new_lazy_with_config(client, manager)?,
            bump: redis::Script::new(BUMP),
            ensure_epoch: redis::Script::new(ENSURE_EPOCH),
            prefix: config.prefix.clone(),
            timeout: config.timeout,
            // Private to this cache, not in the process registry: each cache instance judges its own Redis.
            breaker: CircuitBreaker::new("cache.redis", config.breaker),
            subscribed: Arc::default(),
            errors: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            listener: OnceLock::new(),
        })
    }

    /// Starts the task that applies other instances' bumps to `inner`'s local versions. It reconnects after a
    /// lost subscription and clears the local tier on every (re)subscription, since bumps may have been missed.
    pub(crate) fn listen(inner: &Arc<Inner>, config: &L2Config) -> Result<(), redis::RedisError> {
        let client = redis::Client::open(config.url.as_str())?;
        let channel = format!("{}bump", config.prefix);
        let Some(l2) = &inner.l2 else { return Ok(()) };
        let subscribed = l2.subscribed.clone();
        let weak: Weak<Inner> = Arc::downgrade(inner);
        let connect_timeout = config.timeout.max(Duration::from_millis(500));
        let task = tokio::spawn(async move {
            loop {
                if let Ok(Ok(mut pubsub)) =
                    tokio::time::timeout(connect_timeout, client.get_async_pubsub()).await
                    && pubsub.subscribe(&channel).await.is_ok()
                {
                    let Some(inner) = weak.upgrade() else { return };
                    inner.entries.invalidate_all();
                    drop(inner);
                    subscribed.store(true, Ordering::Relaxed);
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        let Some(inner) = weak.upgrade() else { return };
                        let payload = message.get_payload_bytes();
                        if let Some((epoch, version, tag_id)) = parse_bump(payload) {
                            inner.observe_epoch(epoch);
                            inner.raise(tag_id, version);
                        }
                    }
                    subscribed.store(false, Ordering::Relaxed);
                }
                if weak.strong_count() == 0 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
        // `listen` runs once per cache, right after `new`.
        let _ = l2.listener.set(task.abort_handle());
        Ok(())
    }

    /// The stored value of `full_key` (if any) and the current versions of `tag_ids` with their epoch, in one
    /// `MGET`. `Ok(None)`: not asked, the breaker is open.
    pub(crate) async fn read(
        &self,
        full_key: &str,
        tag_ids: &[String],
    ) -> Result<Option<(Option<Stored>, Versions)>, ()> {
        let mut cmd = redis::cmd("MGET");
        cmd.arg(self.value_key(full_key));
        for id in tag_ids {
            cmd.arg(self.tag_key(id));
        }
        cmd.arg(self.epoch_key());
        let mut conn = self.conn.clone();
        let Some(mut replies) = self.call(cmd.query_async::<Vec<Option<Vec<u8>>>>(&mut conn)).await? else {
            return Ok(None);
        };
        if replies.len() != tag_ids.len() + 2 {
            return Err(());
        }
        let epoch = replies.pop().flatten();
        let tags = replies.split_off(1).iter().map(|v| parse_version(v.as_deref())).collect();
        let stored = replies.pop().flatten().and_then(|bytes| parse_stored(&bytes));
        let Some(epoch) = self.epoch_or_new(epoch).await? else { return Ok(None) };
        Ok(Some((stored, Versions { epoch, tags })))
    }

    /// The current versions of `tag_ids` with their epoch; `Ok(None)` when the breaker is open.
    pub(crate) async fn versions(&self, tag_ids: &[String]) -> Result<Option<Versions>, ()> {
        let mut cmd = redis::cmd("MGET");
        for id in tag_ids {
            cmd.arg(self.tag_key(id));
        }
        cmd.arg(self.epoch_key());
        let mut conn = self.conn.clone();
        let Some(mut replies) = self.call(cmd.query_async::<Vec<Option<Vec<u8>>>>(&mut conn)).await? else {
            return Ok(None);
        };
        if replies.len() != tag_ids.len() + 1 {
            return Err(());
        }
        let epoch = replies.pop().flatten();
        let tags = replies.iter().map(|v| parse_version(v.as_deref())).collect();
        let Some(epoch) = self.epoch_or_new(epoch).await? else { return Ok(None) };
        Ok(Some(Versions { epoch, tags }))
    }

    /// The epoch Redis gave, or (when it has none: it restarted empty) the one it has after setting a new one.
    async fn epoch_or_new(&self, epoch: Option<Vec<u8>>) -> Result<Option<String>, ()> {
        if let Some(epoch) = epoch.and_then(|e| String::from_utf8(e).ok()) {
            return Ok(Some(epoch));
        }
        let mut invocation = self.ensure_epoch.key(self.epoch_key());
        invocation.arg(uuid::Uuid::new_v4().simple().to_string());
        let mut conn = self.conn.clone();
        self.call(invocation.invoke_async::<String>(&mut conn)).await
    }

    pub(crate) async fn write(
        &self,
        full_key: &str,
        stored_at_ms: u64,
        epoch: &str,
        versions: &[u64],
        bytes: &[u8],
        keep_for: Duration,
    ) -> Result<(), ()> {
        let mut value = format!("{stored_at_ms} {epoch}");
        for v in versions {
            value.push(' ');
            value.push_str(&v.to_string());
        }
        value.push('\n');
        let mut value = value.into_bytes();
        value.extend_from_slice(bytes);
        let keep_ms = u64::try_from(keep_for.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.value_key(full_key)).arg(value).arg("PX").arg(keep_ms);
        let mut conn = self.conn.clone();
        self.call(cmd.query_async::<()>(&mut conn)).await.map(|_| ())
    }

    /// Increments the tag's counter and announces it; the epoch and the new version, or `None` if Redis did not
    /// answer.
    pub(crate) async fn bump(&self, tag_id: &str) -> Option<(String, u64)> {
        let mut invocation = self.bump.key(self.tag_key(tag_id));
        invocation.key(self.epoch_key());
        invocation
            .arg(format!("{}bump", self.prefix))
            .arg(tag_id)
            .arg(uuid::Uuid::new_v4().simple().to_string());
        let mut conn = self.conn.clone();
        self.call(invocation.invoke_async::<(String, u64)>(&mut conn)).await.ok().flatten()
    }

    /// Whether other instances' bumps reach this one: subscribed, and Redis answering.
    pub(crate) fn hears_bumps(&self) -> bool {
        self.subscribed.load(Ordering::Relaxed)
            && self.breaker.state() == resilience::breaker::BreakerState::Closed
    }

    pub(crate) fn state(&self) -> L2State {
        let breaker = self.breaker.state();
        let subscribed = self.subscribed.load(Ordering::Relaxed);
        L2State {
            connected: subscribed && breaker == resilience::breaker::BreakerState::Closed,
            breaker: breaker.as_str(),
            subscribed,
            errors: self.errors.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
        }
    }

    /// One Redis call under the breaker and the timeout. `Ok(None)`: refused by the open breaker.
    async fn call<T>(&self, op: impl Future<Output = redis::RedisResult<T>>) -> Result<Option<T>, ()> {
        let Ok(permit) = self.breaker.try_acquire() else {
            self.skipped.fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        };
        match tokio::time::timeout(self.timeout, op).await {
            Ok(Ok(value)) => {
                permit.success();
                Ok(Some(value))
            }
            outcome => {
                permit.failure();
                self.errors.fetch_add(1, Ordering::Relaxed);
                match outcome {
                    Ok(Err(e)) => tracing::debug!(error = %e, "cache: redis call failed"),
                    _ => {
                        tracing::debug!(timeout_ms = self.timeout.as_millis(), "cache: redis call timed out")
                    }
                }
                Err(())
            }
        }
    }

    fn value_key(&self, full_key: &str) -> String {
        format!("{}v:{full_key}", self.prefix)
    }

    fn tag_key(&self, tag_id: &str) -> String {
        format!("{}t:{tag_id}", self.prefix)
    }

    fn epoch_key(&self) -> String {
        format!("{}epoch", self.prefix)
    }
}

fn parse_version(reply: Option<&[u8]>) -> u64 {
    reply.and_then(|b| std::str::from_utf8(b).ok()).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// `stored_at_ms epoch v1 v2 …\n<json>`.
fn parse_stored(bytes: &[u8]) -> Option<Stored> {
    let newline = bytes.iter().position(|b| *b == b'\n')?;
    let header = std::str::from_utf8(&bytes[..newline]).ok()?;
    let mut fields = header.split(' ');
    let stored_at_ms = fields.next()?.parse().ok()?;
    let epoch = fields.next()?.to_owned();
    let versions = fields.map(str::parse::<u64>).collect::<Result<Vec<u64>, _>>().ok()?;
    Some(Stored { stored_at_ms, epoch, versions, bytes: bytes[newline + 1..].to_vec() })
}

/// A bump message: `epoch version tag`.
fn parse_bump(payload: &[u8]) -> Option<(&str, u64, &str)> {
    let mut fields = std::str::from_utf8(payload).ok()?.splitn(3, ' ');
    let epoch = fields.next()?;
    let version = fields.next()?.parse().ok()?;
    Some((epoch, version, fields.next()?))
}
