//! Query-result cache, in-process tier (L1).
//!
//! What is here: keys that always name their tenant (or say explicitly that they are public), a TTL and an
//! on/off switch per use, tag invalidation by version counters, single-flight loading, and per-use
//! hit/miss/error counters (as `metrics` and as a snapshot for an admin endpoint).
//!
//! Why parts are hand-written:
//! - Tag invalidation: an entry remembers the versions of its tags when it was stored; bumping a tag is one
//!   counter increment (O(1), no key scan) and every entry stored under an older version is a miss from then on.
//!   moka's `invalidate_entries_if` would scan, so it is not used.
//! - Single-flight: the workspace builds moka with the `sync` feature only, whose `get_with` cannot run an async
//!   loader; a per-key async mutex with a re-check after acquiring gives one loader call per burst of misses.
//!
//! Not here yet (see the issue): the Redis L2 tier, cross-instance invalidation over pub/sub, the breaker around
//! Redis, and stale-while-revalidate.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// Whose data a key holds. There is no default: a caller must name the tenant or say `Public`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Tenant(Uuid),
    Public,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Tenant(id) => write!(f, "t:{id}"),
            Scope::Public => f.write_str("public"),
        }
    }
}

/// One use of the cache (an endpoint or a read path): its name, TTL and whether caching is on.
#[derive(Clone, Debug)]
pub struct Use {
    pub name: &'static str,
    pub ttl: Duration,
    pub enabled: bool,
}

/// A tag that writes bump; it is scoped like keys so one tenant's writes never invalidate another's entries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Tag {
    scope: Scope,
    name: String,
}

impl Tag {
    pub fn new(scope: Scope, name: impl Into<String>) -> Tag {
        Tag { scope, name: name.into() }
    }

    fn id(&self) -> String {
        format!("{}|{}", self.scope, self.name)
    }
}

#[derive(Clone)]
struct Entry {
    bytes: Arc<[u8]>,
    tag_versions: Arc<[(String, u64)]>,
    ttl: Duration,
}

/// Expiry from the entry's own TTL, so each use keeps its TTL in one moka cache.
struct PerEntryTtl;

impl moka::Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        entry: &Entry,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// Per-use counters, as returned by [`Cache::snapshot`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UseCounts {
    pub name: String,
    pub hits: u64,
    pub misses: u64,
    pub errors: u64,
    pub bypassed: u64,
}

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    errors: AtomicU64,
    bypassed: AtomicU64,
}

/// The cache. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Cache {
    entries: moka::sync::Cache<String, Entry>,
    tag_versions: Arc<Mutex<HashMap<String, u64>>>,
    in_flight: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    counters: Arc<Mutex<HashMap<&'static str, Arc<Counters>>>>,
}

impl Cache {
    /// A cache holding at most `max_entries` values in process.
    pub fn new(max_entries: u64) -> Cache {
        Cache {
            entries: moka::sync::Cache::builder().max_capacity(max_entries).expire_after(PerEntryTtl).build(),
            tag_versions: Arc::default(),
            in_flight: Arc::default(),
            counters: Arc::default(),
        }
    }

    /// The value for `key` under `scope`, loading it with `loader` on a miss. Concurrent misses on one key make
    /// one loader call; the others wait for it and read its result. A loader error is returned and not stored.
    pub async fn get_or_load<T, E, F, Fut>(
        &self,
        cache_use: &Use,
        scope: Scope,
        key: &str,
        tags: &[Tag],
        loader: F,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let counters = self.counters_for(cache_use.name);
        if !cache_use.enabled {
            counters.bypassed.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("cache_requests_total", "use" => cache_use.name, "outcome" => "bypassed")
                .increment(1);
            return loader().await;
        }
        let full_key = format!("{}|{}|{key}", cache_use.name, scope);
        if let Some(value) = self.read_fresh(&full_key) {
            record(&counters.hits, cache_use.name, "hit");
            return Ok(value);
        }
        let lock = {
            let mut in_flight = self.in_flight.lock().expect("in-flight map poisoned");
            in_flight.entry(full_key.clone()).or_default().clone()
        };
        let _guard = lock.lock().await;
        if let Some(value) = self.read_fresh(&full_key) {
            record(&counters.hits, cache_use.name, "hit");
            return Ok(value);
        }
        record(&counters.misses, cache_use.name, "miss");
        // Versions are read before loading: a write that bumps a tag while the loader runs leaves this entry
        // stored under the old version, so it is never served.
        let tag_versions: Vec<(String, u64)> = tags.iter().map(|t| (t.id(), self.tag_version(t))).collect();
        let loaded = loader().await;
        match &loaded {
            Ok(value) => match serde_json::to_vec(value) {
                Ok(bytes) => self.entries.insert(
                    full_key.clone(),
                    Entry { bytes: bytes.into(), tag_versions: tag_versions.into(), ttl: cache_use.ttl },
                ),
                Err(_) => record(&counters.errors, cache_use.name, "error"),
            },
            Err(_) => record(&counters.errors, cache_use.name, "error"),
        }
        self.in_flight.lock().expect("in-flight map poisoned").remove(&full_key);
        loaded
    }

    /// Invalidates every entry stored under `tag`: one counter increment, no scan.
    pub fn bump(&self, tag: &Tag) {
        *self.tag_versions.lock().expect("tag map poisoned").entry(tag.id()).or_insert(0) += 1;
    }

    /// Per-use counters, sorted by use name.
    pub fn snapshot(&self) -> Vec<UseCounts> {
        let counters = self.counters.lock().expect("counter map poisoned");
        let mut out: Vec<UseCounts> = counters
            .iter()
            .map(|(name, c)| UseCounts {
                name: (*name).to_owned(),
                hits: c.hits.load(Ordering::Relaxed),
                misses: c.misses.load(Ordering::Relaxed),
                errors: c.errors.load(Ordering::Relaxed),
                bypassed: c.bypassed.load(Ordering::Relaxed),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    fn tag_version(&self, tag: &Tag) -> u64 {
        self.tag_versions.lock().expect("tag map poisoned").get(&tag.id()).copied().unwrap_or(0)
    }

    fn read_fresh<T: DeserializeOwned>(&self, full_key: &str) -> Option<T> {
        let entry = self.entries.get(full_key)?;
        let versions = self.tag_versions.lock().expect("tag map poisoned");
        let current = entry
            .tag_versions
            .iter()
            .all(|(tag, version)| versions.get(tag).copied().unwrap_or(0) == *version);
        drop(versions);
        if !current {
            return None;
        }
        serde_json::from_slice(&entry.bytes).ok()
    }

    fn counters_for(&self, name: &'static str) -> Arc<Counters> {
        self.counters.lock().expect("counter map poisoned").entry(name).or_default().clone()
    }
}

fn record(counter: &AtomicU64, name: &'static str, outcome: &'static str) {
    counter.fetch_add(1, Ordering::Relaxed);
    metrics::counter!("cache_requests_total", "use" => name, "outcome" => outcome).increment(1);
}
