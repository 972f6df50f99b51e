//! The QuickBooks Online sync engine: what the `quickbooks` client leaves to "the integration".
//!
//! A crate of its own rather than a module of `quickbooks`, so dependencies point inward: the
//! client stays a protocol library (HTTP only, testable against the sandbox with no database),
//! and this crate adds the storage (`store`, forced-RLS tables of migration 0040), the queue
//! (`jobs`) and sealing (`vault`). The API depends on this crate, never the other way.
//!
//! - [`connections`]: the connection rows (status, `reconnect_needed`) and the realm routes
//!   webhooks and the scheduler use.
//! - [`sealing`]: a connection's tokens sealed by the vault key ring, bound to org and connection.
//! - [`connect`]: the OAuth flow — states (hashed, single use, expiring, bound to user, org and
//!   client), the callback proving the realm, the first sync queued — and disconnecting.
//! - [`tokens`]: [`tokens::ConnectionTokens`], the database-backed `TokenProvider`: refresh
//!   single-flight per connection (in process by a mutex, across processes by the connection
//!   row's lock), the rotated refresh token stored before the new access token is used,
//!   `invalid_grant` → `reconnect_needed`.
//! - [`mirror`]: the mirror writes (batched upserts where the larger SyncToken wins, lines,
//!   tombstone deletes) and the customer → client links.
//! - [`engine`]: full sync (paged query per kind, kinds as a dependency DAG run concurrently,
//!   a checkpoint per page in the page's transaction) and incremental sync (CDC from the stored
//!   server-time watermark, per-kind retries and windowed queries when the 1,000-object cap is
//!   hit, full sync past the 30-day look-back).
//! - [`sync_jobs`]: the job kinds ([`register`]) and their schedules ([`schedules`]).
//! - [`summary`]: read models over the mirror (P&L-style totals, AR and AP); [`overview`]: the
//!   firm's connections with their last sync.
//! - [`usecases`]: [`Integration`], what the API and the console call — each use case takes the
//!   `identity::Caller`, checks permission and reach, opens the tenant transaction, writes its
//!   audit entries and commits. Sync modes, triggers and run and connection states are `domain`
//!   enums ([`domain::SyncMode`], [`domain::SyncRunStatus`], …).
//!
//! # Limits across workers
//! Every data request to a realm is made by that realm's one running sync job: the jobs carry a
//! per-realm [`jobs::Limit`] with `max_in_flight(1)`, enforced by the queue for all workers and
//! processes. Inside that job a [`quickbooks::LocalRealmLimiter`] keeps to Intuit's windows
//! (≤ 8/s, ≤ 450/min, ≤ 5 in flight by default), so the realm's traffic is bounded globally.
//! Every request to a realm also passes the realm's circuit breaker (`quickbooks:<realm>` on
//! `/v1/admin/health`), whose open state the workers share through Redis when `[redis]` is set
//! ([`QuickBooks::sharing_breakers`]). The API process itself only calls the OAuth endpoints, and once per connect the company's
//! `CompanyInfo` (proving the callback's realm is the one the tokens are for).
//!
//! # Reconnecting
//! A connection becomes `reconnect_needed` when Intuit refuses its refresh token
//! (`invalid_grant`), its access token even after a refresh (401), or the company (403): its realm
//! route is removed, so no schedule or webhook queues syncs for it, and a manual sync is refused
//! until the user connects the same company again, which revives it.

pub mod config;
pub mod connect;
pub mod connections;
pub mod engine;
mod error;
pub mod history;
pub mod mirror;
pub mod overview;
pub mod sealing;
pub mod summary;
pub mod sync_jobs;
pub mod tokens;
pub mod usecases;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use quickbooks::{
    ClientConfig, Endpoints, LocalRealmLimiter, OAuthClient, OAuthConfig, QboClient, RealmBreakers,
    RealmLimits, RequestPolicy,
};
use resilience::{Breakers, SharedOpenStates};
use store::Db;
use vault::KeyRing;

pub use config::QuickBooksConfig;
pub use error::{SyncError, SyncResult};
pub use sync_jobs::{register, schedules};
pub use usecases::Integration;

/// Everything the routes and jobs share: the pool, the key ring, the OAuth client and the API
/// client with its per-realm limiter. Cheap to clone.
#[derive(Clone)]
pub struct QuickBooks {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    keys: KeyRing,
    config: QuickBooksConfig,
    oauth: OAuthClient,
    qbo: QboClient,
}

impl std::fmt::Debug for QuickBooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuickBooks").field("api_base", &self.inner.config.api_base).finish_non_exhaustive()
    }
}

impl QuickBooks {
    /// Builds the service; reads Intuit's discovery document when the config names one. Each
    /// realm's circuit breaker is this process's alone.
    pub async fn new(config: QuickBooksConfig, db: Db, keys: KeyRing) -> SyncResult<QuickBooks> {
        QuickBooks::sharing_breakers(config, db, keys, None).await
    }

    /// Like [`QuickBooks::new`], with the open state of each realm's circuit breaker shared by
    /// every process through `shared` (Redis) when given.
    pub async fn sharing_breakers(
        config: QuickBooksConfig,
        db: Db,
        keys: KeyRing,
        shared: Option<SharedOpenStates>,
    ) -> SyncResult<QuickBooks> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(16)
            .build()
            .map_err(|e| SyncError::Config(format!("HTTP client: {e}")))?;
        let endpoints = match &config.discovery_url {
            Some(url) => Endpoints::discover(&http, url, &config.api_base)
                .await
                .map_err(|e| SyncError::Config(format!("QuickBooks discovery at {url}: {e}")))?,
            None => config.explicit_endpoints()?,
        };
        let oauth = OAuthClient::new(
            http.clone(),
            OAuthConfig {
                client_id: config.client_id.clone(),
                client_secret: config.client_secret.clone().into(),
                redirect_uri: config.redirect_uri.clone(),
            },
            endpoints.clone(),
        );
        let limits = RealmLimits {
            per_second: config.limits.per_second,
            per_minute: config.limits.per_minute,
            in_flight: config.limits.in_flight,
            ..RealmLimits::default()
        };
        let policy = RequestPolicy {
            throttle_pause: Duration::from_millis(config.throttle_pause_ms),
            server_error_base: Duration::from_millis(config.server_error_backoff_ms),
            ..RequestPolicy::default()
        };
        let client_config =
            ClientConfig { api_base: endpoints.api_base.clone(), policy, ..ClientConfig::default() };
        let breakers = RealmBreakers::new(quickbooks::breakers::DEFAULT_BREAKER, Breakers::process(), shared);
        let qbo =
            QboClient::with_breakers(http, client_config, Arc::new(LocalRealmLimiter::new(limits)), breakers);
        Ok(QuickBooks { inner: Arc::new(Inner { db, keys, config, oauth, qbo }) })
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn keys(&self) -> &KeyRing {
        &self.inner.keys
    }

    pub fn config(&self) -> &QuickBooksConfig {
        &self.inner.config
    }

    pub fn oauth(&self) -> &OAuthClient {
        &self.inner.oauth
    }

    pub fn client(&self) -> &QboClient {
        &self.inner.qbo
    }
}
