//! The advisor marketplace: an advisor's own profile and its verification by platform
//! administrators, the public search (filters, facets, typo-tolerant text, featured lists,
//! comparison), needs assessments, matching with per-component reasons, the match lifecycle and
//! reviews. Public-by-design data lives in the marketplace's own tables (`store::marketplace`).
//!
//! # Layout
//! - [`profiles`](crate::Marketplace::create_profile): an advisor's profile, verification.
//! - `search`: the public reads; `matching`: assessments, scoring, matches, reviews.
//! - `cached`: the reads served through [`cache::Cache`] and the tags each write bumps.
//! - `views`: rows → response shapes; `error`: [`MarketplaceError`].

mod cached;
mod error;
mod matching;
mod profiles;
mod search;
mod views;

use identity::Caller;
use store::{Db, TenantTx};

pub use cached::{CACHE_USES, MarketplaceCache, UseSettings};
pub use error::{MarketplaceError, MarketplaceResult};

/// The marketplace's use cases. Cheap to clone.
#[derive(Clone)]
pub struct Marketplace {
    db: Db,
    market_cache: MarketplaceCache,
}

impl Marketplace {
    /// Reads uncached unless [`Marketplace::with_cache`] gives a cache.
    pub fn new(db: Db) -> Self {
        Marketplace { db, market_cache: MarketplaceCache::off() }
    }

    /// Caches the marketplace's reads.
    pub fn with_cache(mut self, cache: MarketplaceCache) -> Self {
        self.market_cache = cache;
        self
    }

    /// The cache behind the marketplace's reads, for its counters and state.
    pub fn cache(&self) -> &cache::Cache {
        self.market_cache.cache()
    }

    async fn tx(&self, caller: &Caller) -> MarketplaceResult<TenantTx> {
        Ok(caller.begin(&self.db).await?)
    }
}
