//! Query-result cache: an in-process tier (L1, moka) and, when configured, a shared Redis tier (L2).
//!
//! What is here: keys that always name their tenant (or say explicitly that they are public), a TTL, a
//! stale-while-revalidate window and an on/off switch per use, tag invalidation by version counters (kept in
//! Redis when there is one, so instances agree), cross-instance L1 invalidation over Redis pub/sub,
//! single-flight loading, a circuit breaker around Redis, and per-use hit (L1/L2) / miss / stale / error
//! counters (as `metrics` and as a snapshot for an admin endpoint).
//!
//! Reading a key: a fresh L1 entry is a hit. Otherwise, under the key's single-flight lock, one Redis `MGET`
//! returns the L2 value together with the current versions of its tags; a value whose tags are current is an
//! L2 hit. Otherwise the loader runs once and its value goes to both tiers. An entry past its TTL but within
//! the use's stale window is served as is while exactly one background task reloads it. An entry whose tag
//! was bumped is never served, stale or not.
//!
//! Across instances: Redis never serves a value past its tag's bump (the versions come with the value). An
//! instance's L1 copy is dropped when the bump's pub/sub message reaches it; until then (one network hop) it
//! may still serve it, so cross-instance invalidation of L1 is prompt but not synchronous. The writer's own
//! instance bumps its local version before returning, so the writer's next read sees its write.
//!
//! Redis restarting empty (or losing its keys) resets every tag counter to zero, so a counter could climb back
//! to a version an instance still holds entries under. Counters therefore belong to an epoch: a random token
//! in Redis that a restart loses. It comes with every read of versions and every bump message; an instance
//! that sees a new epoch forgets its versions and its in-process entries (a new generation) before going on,
//! and values in Redis carry the epoch they were stored under.
//!
//! Redis slow or down: every Redis call has a short timeout and goes through a [`CircuitBreaker`]; failures
//! open it, and while it is open the cache is L1 plus the loader. A failed Redis call is counted, never
//! returned: no request fails because of the cache. A tag bumped while Redis is unreachable is bumped
//! locally only; other instances then keep their L1 entries until their TTL (bounded staleness). The same
//! holds for missed pub/sub messages, and every (re)subscription clears the local tier for that reason.
//!
//! Why parts are hand-written:
//! - Tag invalidation: an entry remembers the versions of its tags when it was stored; bumping a tag is one
//!   counter increment (`INCR` plus `PUBLISH` in one script: O(1), no key scan) and every entry stored under an
//!   older version is a miss from then on. moka's `invalidate_entries_if` would scan, so it is not used; no
//!   crate in the workspace keeps tag versions in Redis.
//! - Single-flight: the workspace builds moka with the `sync` feature only, whose `get_with` cannot run an async
//!   loader; a per-key async mutex with a re-check after acquiring gives one loader call per burst of misses.
//! - Stale-while-revalidate and the two-tier read are a few lines on top of the above, and must share their
//!   single-flight lock and tag check, so they are not taken from a separate crate.
//!
//! Values are stored as compact JSON (serde_json, already in the workspace; no binary serializer is), after a
//! one-line text header in Redis (`stored_at_ms v1 v2 …`).

mod l2;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

pub use l2::{L2Config, L2State};
pub use resilience::breaker::{BreakerConfig, BreakerState};

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

/// One use of the cache (an endpoint or a read path): its name, TTL, stale window and whether caching is on.
#[derive(Clone, Debug)]
pub struct Use {
    pub name: &'static str,
    pub ttl: Duration,
    /// How long past its TTL an entry may still be served while one background refresh runs; zero turns
    /// stale-while-revalidate off for this use.
    pub stale_for: Duration,
    pub enabled: bool,
    /// Serve from process memory only while invalidations can reach this instance (Redis answers and the
    /// bump channel is subscribed); otherwise every read loads. For values whose staleness is a security
    /// matter (who may do what): a revocation on another instance then holds at once even while Redis is
    /// down, at the price of a load per read for as long as it is.
    pub strict: bool,
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
    /// The generation of the versions below: an entry of an older one is never served.
    generation: u64,
    tag_versions: Arc<[(String, u64)]>,
    stored_at_ms: u64,
    ttl: Duration,
    stale_for: Duration,
}

impl Entry {
    fn freshness(&self, now_ms: u64) -> Freshness {
        let age = Duration::from_millis(now_ms.saturating_sub(self.stored_at_ms));
        if age < self.ttl {
            Freshness::Fresh
        } else if age < self.ttl + self.stale_for {
            Freshness::Stale
        } else {
            Freshness::Expired
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Freshness {
    Fresh,
    Stale,
    Expired,
}

/// Expiry from the entry's own TTL and stale window, so each use keeps its own in one moka cache.
struct PerEntryTtl;

impl moka::Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        entry: &Entry,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(entry.ttl + entry.stale_for)
    }
}

/// Per-use counters, as returned by [`Cache::snapshot`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UseCounts {
    pub name: String,
    pub hits_l1: u64,
    pub hits_l2: u64,
    pub misses: u64,
    /// Stale values served (each starts or joins one background refresh).
    pub stale: u64,
    /// Background refreshes started.
    pub refreshes: u64,
    /// Loader failures, values that would not serialize, and failed Redis calls.
    pub errors: u64,
    /// Reads of a use that is switched off.
    pub bypassed: u64,
}

#[derive(Default)]
struct Counters {
    hits_l1: AtomicU64,
    hits_l2: AtomicU64,
    misses: AtomicU64,
    stale: AtomicU64,
    refreshes: AtomicU64,
    errors: AtomicU64,
    bypassed: AtomicU64,
}

/// The tag versions this instance knows, for the Redis epoch they belong to. `generation` goes up each time
/// the epoch changes (and the versions are forgotten).
#[derive(Default)]
struct TagVersions {
    epoch: Option<Arc<str>>,
    generation: u64,
    versions: HashMap<String, u64>,
}

/// The versions a value is stored under: its tags', in the generation (and Redis epoch) they were read in.
#[derive(Clone)]
struct Stamp {
    generation: u64,
    epoch: Option<Arc<str>>,
    tags: Vec<(String, u64)>,
}

struct Inner {
    entries: moka::sync::Cache<String, Entry>,
    tag_versions: Mutex<TagVersions>,
    in_flight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    refreshing: Mutex<HashSet<String>>,
    counters: Mutex<HashMap<&'static str, Arc<Counters>>>,
    l2: Option<l2::L2>,
}

/// The cache. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

/// What one tier had for a key.
enum Found<T> {
    Fresh(T),
    Stale(T),
    Nothing,
}

impl Cache {
    /// An in-process cache holding at most `max_entries` values.
    pub fn new(max_entries: u64) -> Cache {
        Cache { inner: Arc::new(Inner::new(max_entries, None)) }
    }

    /// A two-tier cache: `max_entries` in process, and Redis as configured. Connects lazily (Redis down now is
    /// not an error) and starts the invalidation listener, so it must be called inside a Tokio runtime.
    pub fn with_redis(max_entries: u64, config: L2Config) -> Result<Cache, redis::RedisError> {
        let l2 = l2::L2::new(&config)?;
        let inner = Arc::new(Inner::new(max_entries, Some(l2)));
        l2::L2::listen(&inner, &config)?;
        Ok(Cache { inner })
    }

    /// The value for `key` under `scope`, loading it with `loader` on a miss. Concurrent misses on one key make
    /// one loader call; the others wait for it and read its result. A loader error is returned and not stored.
    /// The loader is `'static` because a stale read hands it to a background refresh.
    pub async fn get_or_load<T, E, F, Fut>(
        &self,
        cache_use: &Use,
        scope: Scope,
        key: &str,
        tags: &[Tag],
        loader: F,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        E: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let counters = self.inner.counters_for(cache_use.name);
        let deaf = cache_use.strict && self.inner.l2.as_ref().is_some_and(|l2| !l2.hears_bumps());
        if !cache_use.enabled || deaf {
            record(&counters.bypassed, cache_use.name, "bypassed");
            return loader().await;
        }
        let full_key = format!("{}|{}|{key}", cache_use.name, scope);
        match self.inner.read_l1(&full_key) {
            Found::Fresh(value) => {
                record(&counters.hits_l1, cache_use.name, "hit_l1");
                return Ok(value);
            }
            Found::Stale(value) => {
                record(&counters.stale, cache_use.name, "stale");
                self.refresh_in_background(cache_use, full_key, tags, loader);
                return Ok(value);
            }
            Found::Nothing => {}
        }
        let lock = self.inner.key_lock(&full_key);
        let guard = lock.lock().await;
        match self.inner.read_l1(&full_key) {
            Found::Fresh(value) => {
                record(&counters.hits_l1, cache_use.name, "hit_l1");
                return Ok(value);
            }
            Found::Stale(value) => {
                drop(guard);
                record(&counters.stale, cache_use.name, "stale");
                self.refresh_in_background(cache_use, full_key, tags, loader);
                return Ok(value);
            }
            Found::Nothing => {}
        }
        // Versions are read before loading: a write that bumps a tag while the loader runs leaves this entry
        // stored under the old version, so it is never served.
        let (found, stamp) = self.inner.read_l2(cache_use, &counters, &full_key, tags).await;
        match found {
            Found::Fresh(value) => {
                record(&counters.hits_l2, cache_use.name, "hit_l2");
                return Ok(value);
            }
            Found::Stale(value) => {
                drop(guard);
                record(&counters.stale, cache_use.name, "stale");
                self.refresh_in_background(cache_use, full_key, tags, loader);
                return Ok(value);
            }
            Found::Nothing => {}
        }
        record(&counters.misses, cache_use.name, "miss");
        let loaded = loader().await;
        if let Some(bytes) = self.inner.encode(cache_use, &counters, &loaded) {
            self.inner.store(cache_use, &counters, &full_key, stamp, bytes).await;
        }
        drop(guard);
        self.inner.forget_lock(&full_key);
        loaded
    }

    /// Invalidates every entry stored under `tag`, here at once and on other instances as soon as they hear
    /// of it: one `INCR` and one `PUBLISH` in Redis (one round trip, no scan), or a local increment only if
    /// Redis is unreachable.
    pub async fn bump(&self, tag: &Tag) {
        let id = tag.id();
        self.inner.bump_local(&id);
        if let Some(l2) = &self.inner.l2
            && let Some((epoch, version)) = l2.bump(&id).await
        {
            self.inner.observe_epoch(&epoch);
            self.inner.raise(&id, version);
        }
    }

    /// Per-use counters, sorted by use name.
    pub fn snapshot(&self) -> Vec<UseCounts> {
        let counters = self.inner.counters.lock().expect("counter map poisoned");
        let mut out: Vec<UseCounts> = counters
            .iter()
            .map(|(name, c)| UseCounts {
                name: (*name).to_owned(),
                hits_l1: c.hits_l1.load(Ordering::Relaxed),
                hits_l2: c.hits_l2.load(Ordering::Relaxed),
                misses: c.misses.load(Ordering::Relaxed),
                stale: c.stale.load(Ordering::Relaxed),
                refreshes: c.refreshes.load(Ordering::Relaxed),
                errors: c.errors.load(Ordering::Relaxed),
                bypassed: c.bypassed.load(Ordering::Relaxed),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The Redis tier's state, or `None` when the cache is in-process only.
    pub fn l2_state(&self) -> Option<L2State> {
        self.inner.l2.as_ref().map(l2::L2::state)
    }

    /// Starts one reload of `full_key` unless one is already running; the value is served stale meanwhile.
    fn refresh_in_background<T, E, F, Fut>(&self, cache_use: &Use, full_key: String, tags: &[Tag], loader: F)
    where
        T: Serialize + Send + 'static,
        E: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        if !self.inner.refreshing.lock().expect("refresh set poisoned").insert(full_key.clone()) {
            return;
        }
        record(&self.inner.counters_for(cache_use.name).refreshes, cache_use.name, "refresh");
        let inner = self.inner.clone();
        let cache_use = cache_use.clone();
        let tags = tags.to_vec();
        tokio::spawn(async move {
            let counters = inner.counters_for(cache_use.name);
            let lock = inner.key_lock(&full_key);
            let guard = lock.lock().await;
            let stamp = inner.current_stamp(&cache_use, &counters, &tags).await;
            let loaded = loader().await;
            if let Some(bytes) = inner.encode(&cache_use, &counters, &loaded) {
                inner.store(&cache_use, &counters, &full_key, stamp, bytes).await;
            }
            drop(guard);
            inner.forget_lock(&full_key);
            inner.refreshing.lock().expect("refresh set poisoned").remove(&full_key);
        });
    }
}

impl Inner {
    fn new(max_entries: u64, l2: Option<l2::L2>) -> Inner {
        Inner {
            entries: moka::sync::Cache::builder().max_capacity(max_entries).expire_after(PerEntryTtl).build(),
            tag_versions: Mutex::default(),
            in_flight: Mutex::default(),
            refreshing: Mutex::default(),
            counters: Mutex::default(),
            l2,
        }
    }

    fn key_lock(&self, full_key: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.in_flight.lock().expect("in-flight map poisoned").entry(full_key.to_owned()).or_default().clone()
    }

    fn forget_lock(&self, full_key: &str) {
        self.in_flight.lock().expect("in-flight map poisoned").remove(full_key);
    }

    fn bump_local(&self, tag_id: &str) {
        *self
            .tag_versions
            .lock()
            .expect("tag map poisoned")
            .versions
            .entry(tag_id.to_owned())
            .or_insert(0) += 1;
    }

    /// Versions only go up within an epoch: a version learnt from Redis or pub/sub replaces a lower local one.
    fn raise(&self, tag_id: &str, version: u64) -> u64 {
        let mut known = self.tag_versions.lock().expect("tag map poisoned");
        let local = known.versions.entry(tag_id.to_owned()).or_insert(0);
        *local = (*local).max(version);
        *local
    }

    /// Adopts Redis's epoch; a different one than this instance's (a restarted Redis, or the first contact)
    /// makes every version known so far meaningless, so they and the in-process entries are dropped.
    fn observe_epoch(&self, epoch: &str) {
        let mut known = self.tag_versions.lock().expect("tag map poisoned");
        if known.epoch.as_deref() == Some(epoch) {
            return;
        }
        known.epoch = Some(epoch.into());
        known.generation += 1;
        known.versions.clear();
        self.entries.invalidate_all();
    }

    fn read_l1<T: DeserializeOwned>(&self, full_key: &str) -> Found<T> {
        let Some(entry) = self.entries.get(full_key) else { return Found::Nothing };
        let current = {
            let known = self.tag_versions.lock().expect("tag map poisoned");
            entry.generation == known.generation
                && entry
                    .tag_versions
                    .iter()
                    .all(|(tag, version)| known.versions.get(tag).copied().unwrap_or(0) == *version)
        };
        if !current {
            return Found::Nothing;
        }
        decode(&entry, now_ms())
    }

    /// The L2 value for `full_key` if its tags are current, and the stamp to store a reload under (versions
    /// from Redis when it answers, merged into the local ones).
    async fn read_l2<T: DeserializeOwned>(
        &self,
        cache_use: &Use,
        counters: &Counters,
        full_key: &str,
        tags: &[Tag],
    ) -> (Found<T>, Stamp) {
        let ids: Vec<String> = tags.iter().map(Tag::id).collect();
        let Some(l2) = &self.l2 else { return (Found::Nothing, self.local_stamp(ids)) };
        let (value, remote) = match l2.read(full_key, &ids).await {
            Ok(Some(read)) => read,
            Ok(None) => return (Found::Nothing, self.local_stamp(ids)),
            Err(()) => {
                record(&counters.errors, cache_use.name, "error");
                return (Found::Nothing, self.local_stamp(ids));
            }
        };
        let stamp = self.remote_stamp(ids, remote);
        let Some(stored) = value else { return (Found::Nothing, stamp) };
        let current = Some(stored.epoch.as_str()) == stamp.epoch.as_deref()
            && stored.versions.len() == stamp.tags.len()
            && stored.versions.iter().zip(&stamp.tags).all(|(stored, (_, current))| stored == current);
        if !current {
            return (Found::Nothing, stamp);
        }
        let entry = Entry {
            bytes: stored.bytes.into(),
            generation: stamp.generation,
            tag_versions: stamp.tags.clone().into(),
            stored_at_ms: stored.stored_at_ms,
            ttl: cache_use.ttl,
            stale_for: cache_use.stale_for,
        };
        let found = decode(&entry, now_ms());
        if !matches!(found, Found::Nothing) {
            self.insert_l1(full_key, entry);
        }
        (found, stamp)
    }

    async fn current_stamp(&self, cache_use: &Use, counters: &Counters, tags: &[Tag]) -> Stamp {
        let ids: Vec<String> = tags.iter().map(Tag::id).collect();
        if let Some(l2) = &self.l2 {
            match l2.versions(&ids).await {
                Ok(Some(remote)) => return self.remote_stamp(ids, remote),
                Ok(None) => {}
                Err(()) => record(&counters.errors, cache_use.name, "error"),
            }
        }
        self.local_stamp(ids)
    }

    /// The stamp for versions Redis gave under `remote.epoch`: adopts the epoch, then raises each version.
    fn remote_stamp(&self, ids: Vec<String>, remote: l2::Versions) -> Stamp {
        self.observe_epoch(&remote.epoch);
        let mut known = self.tag_versions.lock().expect("tag map poisoned");
        let tags = ids
            .into_iter()
            .zip(remote.tags)
            .map(|(id, v)| {
                let local = known.versions.entry(id.clone()).or_insert(0);
                *local = (*local).max(v);
                (id, *local)
            })
            .collect();
        Stamp { generation: known.generation, epoch: known.epoch.clone(), tags }
    }

    fn local_stamp(&self, ids: Vec<String>) -> Stamp {
        let known = self.tag_versions.lock().expect("tag map poisoned");
        let tags = ids
            .into_iter()
            .map(|id| {
                let v = known.versions.get(&id).copied().unwrap_or(0);
                (id, v)
            })
            .collect();
        Stamp { generation: known.generation, epoch: known.epoch.clone(), tags }
    }

    /// Keeps `entry` in process unless its generation has passed meanwhile (an epoch change while loading).
    fn insert_l1(&self, full_key: &str, entry: Entry) {
        let known = self.tag_versions.lock().expect("tag map poisoned");
        if entry.generation == known.generation {
            self.entries.insert(full_key.to_owned(), entry);
        }
    }

    /// A loaded value's bytes; a loader error or a value that will not serialize is counted and not stored.
    fn encode<T: Serialize, E>(
        &self,
        cache_use: &Use,
        counters: &Counters,
        loaded: &Result<T, E>,
    ) -> Option<Vec<u8>> {
        let bytes = loaded.as_ref().ok().and_then(|value| serde_json::to_vec(value).ok());
        if bytes.is_none() {
            record(&counters.errors, cache_use.name, "error");
        }
        bytes
    }

    /// Stores a value in both tiers.
    async fn store(
        &self,
        cache_use: &Use,
        counters: &Counters,
        full_key: &str,
        stamp: Stamp,
        bytes: Vec<u8>,
    ) {
        let stored_at_ms = now_ms();
        if let Some(l2) = &self.l2
            && let Some(epoch) = &stamp.epoch
        {
            let numbers: Vec<u64> = stamp.tags.iter().map(|(_, v)| *v).collect();
            let keep_for = cache_use.ttl + cache_use.stale_for;
            if l2.write(full_key, stored_at_ms, epoch, &numbers, &bytes, keep_for).await.is_err() {
                record(&counters.errors, cache_use.name, "error");
            }
        }
        self.insert_l1(
            full_key,
            Entry {
                bytes: bytes.into(),
                generation: stamp.generation,
                tag_versions: stamp.tags.into(),
                stored_at_ms,
                ttl: cache_use.ttl,
                stale_for: cache_use.stale_for,
            },
        );
    }

    fn counters_for(&self, name: &'static str) -> Arc<Counters> {
        self.counters.lock().expect("counter map poisoned").entry(name).or_default().clone()
    }
}

fn decode<T: DeserializeOwned>(entry: &Entry, now_ms: u64) -> Found<T> {
    let freshness = entry.freshness(now_ms);
    if freshness == Freshness::Expired {
        return Found::Nothing;
    }
    match serde_json::from_slice(&entry.bytes) {
        Ok(value) if freshness == Freshness::Fresh => Found::Fresh(value),
        Ok(value) => Found::Stale(value),
        Err(_) => Found::Nothing,
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn record(counter: &AtomicU64, name: &'static str, outcome: &'static str) {
    counter.fetch_add(1, Ordering::Relaxed);
    metrics::counter!("cache_requests_total", "use" => name, "outcome" => outcome).increment(1);
}
