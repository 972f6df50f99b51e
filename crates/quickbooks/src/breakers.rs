//! A circuit breaker per realm (company), which every request to the realm passes before the
//! limiter: when Intuit keeps failing for one company (5xx, broken connections), calls to it are
//! refused at once ([`crate::QboError::CircuitOpen`], transient: the sync job runs again after the
//! wait) instead of each spending its retries and deadline on a dead service.
//!
//! The breakers are taken from a [`Breakers`] registry — the process's, which `/v1/admin/health`
//! lists, as `quickbooks:<realm>` — and, with [`SharedOpenStates`] (Redis), their open state is
//! shared by every worker, as the Azure gate's is: one worker finding the realm failing stops them
//! all. Throttles, refused tokens and faults say Intuit is answering: only 5xx and transport
//! failures count against the breaker.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use resilience::{BreakerConfig, Breakers, SharedBreaker, SharedOpenStates, SharedPermit};

use crate::realm::RealmId;

/// Opens on half the calls to a realm failing, at least 20 of them within a minute (a few 5xx
/// among many calls, which the retries absorb, never open it); lets one probe through after 30 s.
pub const DEFAULT_BREAKER: BreakerConfig = BreakerConfig {
    failure_rate: 0.5,
    minimum_calls: 20,
    window: Duration::from_secs(60),
    open_for: Duration::from_secs(30),
    half_open_probes: 1,
};

/// The breakers of every realm a client calls. Cheap to share behind the client.
pub struct RealmBreakers {
    config: BreakerConfig,
    registry: Breakers,
    shared: Option<SharedOpenStates>,
    realms: Mutex<HashMap<RealmId, SharedBreaker>>,
}

impl RealmBreakers {
    /// Breakers made with `config` in `registry` (pass `Breakers::process()` to show them on the
    /// health page), their open state shared through `shared` when given.
    pub fn new(
        config: BreakerConfig,
        registry: &Breakers,
        shared: Option<SharedOpenStates>,
    ) -> RealmBreakers {
        RealmBreakers { config, registry: registry.clone(), shared, realms: Mutex::new(HashMap::new()) }
    }

    /// The open states of realms' breakers in the Redis at `url`, under
    /// `<key_prefix>quickbooks:<realm>:breaker-open`; each Redis request bounded by 100 ms and its
    /// answer trusted for 200 ms (as the Azure gate's).
    pub fn shared_states(url: &str, key_prefix: &str) -> Result<SharedOpenStates, resilience::RedisError> {
        SharedOpenStates::new(url, key_prefix, Duration::from_millis(100), Duration::from_millis(200))
    }

    /// The name of a realm's breaker: `quickbooks:<realm>`.
    pub fn name(realm: &RealmId) -> String {
        format!("quickbooks:{realm}")
    }

    /// Leave to call `realm` now, or how long until calls are allowed again.
    pub(crate) async fn admit(&self, realm: &RealmId) -> Result<SharedPermit, Duration> {
        self.of(realm).try_acquire().await
    }

    fn of(&self, realm: &RealmId) -> SharedBreaker {
        let mut realms = self.realms.lock().unwrap_or_else(|e| e.into_inner());
        realms
            .entry(realm.clone())
            .or_insert_with(|| {
                let name = RealmBreakers::name(realm);
                let local = self.registry.get_or_create(&name, self.config);
                SharedBreaker::new(local, self.shared.as_ref().map(|s| s.state(&name)))
            })
            .clone()
    }
}
