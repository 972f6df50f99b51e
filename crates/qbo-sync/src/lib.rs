//! The QuickBooks Online sync engine: what the `quickbooks` client leaves to "the integration".
//!
//! A crate of its own rather than a module of `quickbooks`, so dependencies point inward: the
//! client stays a protocol library (HTTP only, testable against the sandbox with no database),
//! and this crate adds the storage (`store`, forced-RLS tables of migration 0040), the queue
//! (`jobs`) and sealing (`vault`). The API depends on this crate, never the other way.
//!
//! - [`connections`]: OAuth states (hashed, single use, expiring, bound to user, org and client),
//!   connections with tokens sealed by the vault key ring, the realm routes webhooks use.
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
//! - [`summary`]: read models over the mirror (P&L-style totals, AR and AP).
//!
//! # Limits across workers
//! Every data request to a realm is made by that realm's one running sync job: the jobs carry a
//! per-realm [`jobs::Limit`] with `max_in_flight(1)`, enforced by the queue for all workers and
//! processes. Inside that job a [`quickbooks::LocalRealmLimiter`] keeps to Intuit's windows
//! (≤ 8/s, ≤ 450/min, ≤ 5 in flight by default), so the realm's traffic is bounded globally.
//! The API process itself only calls the OAuth endpoints, and once per connect the company's
//! `CompanyInfo` (proving the callback's realm is the one the tokens are for).
//!
//! # Reconnecting
//! A connection becomes `reconnect_needed` when Intuit refuses its refresh token
//! (`invalid_grant`), its access token even after a refresh (401), or the company (403): its realm
//! route is removed, so no schedule or webhook queues syncs for it, and a manual sync is refused
//! until the user connects the same company again, which revives it.

pub mod config;
pub mod connections;
pub mod engine;
mod error;
pub mod history;
pub mod mirror;
pub mod summary;
pub mod sync_jobs;
pub mod tokens;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use quickbooks::{
    ClientConfig, Endpoints, LocalRealmLimiter, OAuthClient, OAuthConfig, QboClient, RealmLimits,
    RequestPolicy,
};
use store::Db;
use vault::KeyRing;

pub use config::QuickBooksConfig;
pub use error::{SyncError, SyncResult};
pub use sync_jobs::{register, schedules};

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
    /// Builds the service; reads Intuit's discovery document when the config names one.
    pub async fn new(config: QuickBooksConfig, db: Db, keys: KeyRing) -> SyncResult<QuickBooks> {
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
        let qbo = QboClient::new(http, client_config, Arc::new(LocalRealmLimiter::new(limits)));
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
