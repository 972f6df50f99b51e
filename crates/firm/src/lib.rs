//! The firm's everyday work: clients, engagements, invoices, client-portal access, notes and
//! members' notifications.
//!
//! Use cases are plain async functions on [`Firm`], called alike by HTTP handlers, jobs, the seed
//! command and tests. Each checks the caller's permission and client scope, validates input,
//! writes through `store` inside one `TenantTx` (so the audit entries commit with the change),
//! and returns the API shape (tax ids are unsealed or masked here, by permission).
//!
//! The advisor marketplace lives here too ([`marketplace`]): profiles and their verification,
//! the public search, reviews, needs assessments and matching.

mod clients;
mod csv_io;
mod engagements;
mod error;
mod invoices;
mod marketplace;
mod notes;
mod notifications;
mod portal;
pub mod tax;
mod validate;

use store::Db;
use vault::KeyRing;

pub use clients::ExportStream;
pub use error::{FirmError, FirmResult};
pub use marketplace::{CACHE_USES, MarketplaceCache, UseSettings};
pub use notes::NoteSubject;

/// The firm service. Cheap to clone.
#[derive(Clone)]
pub struct Firm {
    db: Db,
    keys: KeyRing,
    market_cache: MarketplaceCache,
}

impl Firm {
    pub fn new(db: Db, keys: KeyRing) -> Self {
        Firm { db, keys, market_cache: MarketplaceCache::off() }
    }

    /// Caches the marketplace's reads (off unless given).
    pub fn with_marketplace_cache(mut self, cache: MarketplaceCache) -> Self {
        self.market_cache = cache;
        self
    }

    /// The cache behind the marketplace's reads, for its counters and state.
    pub fn cache(&self) -> &cache::Cache {
        self.market_cache.cache()
    }
}
