//! The marketplace's cached reads and the tags its writes bump.
//!
//! Public reads (search and list pages, facets, featured lists, profile details) are cached under
//! `Scope::Public`; match results under the tenant's scope. Tags:
//! - `advisors` (public): every list, facet count and featured list, and the advisor summaries inside match
//!   results. Any profile or review write bumps it: lists depend on many profiles, so per-profile tags would
//!   make a list carry hundreds of tags for little gain.
//! - `advisor:<id>` (public): that advisor's detail.
//! - `assessment:<id>` (tenant): that needs assessment's match results.
//!
//! Writes bump after their transaction commits, so the writer's next read reloads and sees the write.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use api_types::marketplace::{
    AdvisorDetail, AdvisorSearchParams, AdvisorSearchResponse, AdvisorSummary, FeaturedParams, MatchResponse,
};
use cache::{Cache, Scope, Tag, Use};
use domain::{AdvisorId, AssessmentId, OrganizationId};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::search::{load_detail, load_featured, load_search};
use crate::{Marketplace, MarketplaceResult};

/// The marketplace's uses of the cache, by the names configuration gives them.
pub const CACHE_USES: [&str; 5] = [
    "marketplace.search",
    "marketplace.facets",
    "marketplace.detail",
    "marketplace.featured",
    "marketplace.matches",
];

/// How one use is cached: on or off, its TTL and its stale-while-revalidate window.
#[derive(Clone, Copy, Debug)]
pub struct UseSettings {
    pub enabled: bool,
    pub ttl: Duration,
    pub stale_for: Duration,
}

/// The cache and the marketplace's uses of it. Cheap to clone.
#[derive(Clone)]
pub struct MarketplaceCache {
    cache: Cache,
    uses: Arc<[Use; 5]>,
}

impl MarketplaceCache {
    /// `settings` gives each of [`CACHE_USES`] its switch, TTL and stale window.
    pub fn new(cache: Cache, settings: impl Fn(&'static str) -> UseSettings) -> MarketplaceCache {
        let uses = CACHE_USES.map(|name| {
            let s = settings(name);
            Use { name, ttl: s.ttl, stale_for: s.stale_for, enabled: s.enabled, strict: false }
        });
        MarketplaceCache { cache, uses: Arc::new(uses) }
    }

    /// Caching off for every use.
    pub fn off() -> MarketplaceCache {
        MarketplaceCache::new(Cache::new(1), |_| UseSettings {
            enabled: false,
            ttl: Duration::ZERO,
            stale_for: Duration::ZERO,
        })
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    fn use_named(&self, name: &str) -> &Use {
        self.uses.iter().find(|u| u.name == name).expect("a use named in CACHE_USES")
    }

    async fn get<T, F, Fut>(
        &self,
        use_name: &str,
        scope: Scope,
        key: &str,
        tags: &[Tag],
        loader: F,
    ) -> MarketplaceResult<T>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = MarketplaceResult<T>> + Send + 'static,
    {
        self.cache.get_or_load(self.use_named(use_name), scope, key, tags, loader).await
    }
}

fn advisors() -> Tag {
    Tag::new(Scope::Public, "advisors")
}

fn advisor(id: AdvisorId) -> Tag {
    Tag::new(Scope::Public, format!("advisor:{id}"))
}

fn assessment(org: OrganizationId, id: AssessmentId) -> Tag {
    Tag::new(Scope::Tenant(org.as_uuid()), format!("assessment:{id}"))
}

impl Marketplace {
    /// The public search (with facets when asked), cached by its parameters.
    pub async fn search_advisors(
        &self,
        q: &AdvisorSearchParams,
        limit: usize,
    ) -> MarketplaceResult<AdvisorSearchResponse> {
        let use_name = if q.facets == Some(true) { "marketplace.facets" } else { "marketplace.search" };
        // Serializing plain parameters cannot fail; `Debug` is an equally unique key if it ever did.
        let key = serde_json::to_string(&(q, limit)).unwrap_or_else(|_| format!("{q:?}/{limit}"));
        let (db, q) = (self.db.clone(), q.clone());
        self.market_cache
            .get(use_name, Scope::Public, &key, &[advisors()], move || async move {
                load_search(&db, &q, limit).await
            })
            .await
    }

    pub async fn advisor_detail(&self, id: AdvisorId) -> MarketplaceResult<AdvisorDetail> {
        let db = self.db.clone();
        self.market_cache
            .get("marketplace.detail", Scope::Public, &id.to_string(), &[advisor(id)], move || async move {
                load_detail(&db, id).await
            })
            .await
    }

    pub async fn featured_advisors(&self, q: &FeaturedParams) -> MarketplaceResult<Vec<AdvisorSummary>> {
        let key = serde_json::to_string(q).unwrap_or_else(|_| format!("{q:?}"));
        let (db, q) = (self.db.clone(), q.clone());
        self.market_cache
            .get("marketplace.featured", Scope::Public, &key, &[advisors()], move || async move {
                load_featured(&db, &q).await
            })
            .await
    }

    /// Match results of one assessment, cached for the tenant. The caller's permission is checked before.
    pub(crate) async fn cached_matches<F, Fut>(
        &self,
        org: OrganizationId,
        id: AssessmentId,
        loader: F,
    ) -> MarketplaceResult<Vec<MatchResponse>>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = MarketplaceResult<Vec<MatchResponse>>> + Send + 'static,
    {
        let tags = [assessment(org, id), advisors()];
        self.market_cache
            .get("marketplace.matches", Scope::Tenant(org.as_uuid()), &id.to_string(), &tags, loader)
            .await
    }

    /// After a committed write to an advisor's profile, reviews or client count.
    pub(crate) async fn advisor_changed(&self, id: AdvisorId) {
        self.market_cache.cache.bump(&advisors()).await;
        self.market_cache.cache.bump(&advisor(id)).await;
    }

    /// After a committed write to an assessment's matches.
    pub(crate) async fn matches_changed(&self, org: OrganizationId, id: AssessmentId) {
        self.market_cache.cache.bump(&assessment(org, id)).await;
    }
}
