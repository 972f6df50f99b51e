//! What every handler shares: apps, companies, the OAuth books, the meter, fault switches, the
//! random source and the clock. Locks are std locks held only for synchronous sections.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::clock::Clock;
use crate::company::Company;
use crate::config::{AppCredentials, Faults, Limits, SandboxConfig, TokenLifetimes};
use crate::grants::{OAuthCounters, TokenRegistry};
use crate::meter::Meter;

pub type AppState = Arc<SandboxState>;

/// Everything the handlers share.
pub struct SandboxState {
    apps: Vec<AppCredentials>,
    pub limits: Limits,
    pub lifetimes: TokenLifetimes,
    pub base_url: String,
    companies: RwLock<BTreeMap<String, Arc<RwLock<Company>>>>,
    tokens: Mutex<TokenRegistry>,
    pub meter: Arc<Meter>,
    faults: RwLock<Faults>,
    rng: Mutex<ChaCha8Rng>,
    pub clock: Clock,
    oauth_counters: Mutex<OAuthCounters>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl SandboxState {
    /// The state of a sandbox serving at `base_url`, with no companies yet.
    pub fn new(config: &SandboxConfig, base_url: &str) -> SandboxState {
        SandboxState {
            apps: config.apps.clone(),
            limits: config.limits,
            lifetimes: config.tokens,
            base_url: base_url.trim_end_matches('/').to_owned(),
            companies: RwLock::new(BTreeMap::new()),
            tokens: Mutex::new(TokenRegistry::default()),
            meter: Arc::new(Meter::default()),
            faults: RwLock::new(config.faults),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(config.seed)),
            clock: Clock::default(),
            oauth_counters: Mutex::new(OAuthCounters::default()),
        }
    }

    pub fn app(&self, client_id: &str) -> Option<&AppCredentials> {
        self.apps.iter().find(|a| a.client_id == client_id)
    }

    pub fn company(&self, realm: &str) -> Option<Arc<RwLock<Company>>> {
        self.companies.read().unwrap_or_else(|e| e.into_inner()).get(realm).cloned()
    }

    pub fn realm_ids(&self) -> Vec<String> {
        self.companies.read().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect()
    }

    pub fn tokens(&self) -> MutexGuard<'_, TokenRegistry> {
        lock(&self.tokens)
    }

    pub fn rng(&self) -> MutexGuard<'_, ChaCha8Rng> {
        lock(&self.rng)
    }

    pub fn faults(&self) -> Faults {
        *self.faults.read().unwrap_or_else(|e| e.into_inner())
    }

    /// True with probability `rate`.
    pub fn roll(&self, rate: f64) -> bool {
        rate > 0.0 && self.rng().random_bool(rate.clamp(0.0, 1.0))
    }

    pub fn oauth_counters(&self, f: impl FnOnce(&mut OAuthCounters)) {
        f(&mut lock(&self.oauth_counters));
    }

    /// What the OAuth endpoints did so far.
    pub fn oauth_counts(&self) -> OAuthCounters {
        *lock(&self.oauth_counters)
    }

    /// The lifetimes and faults new tokens are minted with.
    pub fn token_terms(&self) -> (TokenLifetimes, Faults) {
        (self.lifetimes, self.faults())
    }

    /// Switches fault injection at run time.
    pub fn set_faults(&self, faults: Faults) {
        *self.faults.write().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// Adds a company (replacing one with the same realm id).
    pub fn insert_company(&self, realm: String, company: Company) {
        self.companies
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(realm, Arc::new(RwLock::new(company)));
    }
}
