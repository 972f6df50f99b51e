//! QuickBooks Online v3 client: everything a sync engine needs to talk to Intuit, and nothing of
//! the sync itself (mirror tables, jobs and schedules live with the integration's jobs).
//!
//! - [`oauth`]: authorization URL, code exchange, refresh (returning the rotated refresh token),
//!   revoke; `invalid_grant` is [`OAuthError::InvalidGrant`], i.e. "reconnect needed".
//! - [`endpoints`]: the five configurable URLs, Intuit's defaults and the discovery document.
//! - [`tokens`]: the [`TokenProvider`] hook a per-realm single-flight token store implements,
//!   and [`MemoryTokenStore`], an in-process one.
//! - [`limiter`]: the [`RealmLimiter`] hook every request passes through, and
//!   [`LocalRealmLimiter`], an in-process implementation of Intuit's per-realm limits.
//! - [`breakers`]: [`RealmBreakers`], a circuit breaker per realm (opt-in), shown on the health
//!   page and shared by every worker through Redis.
//! - [`client`]: [`QboClient`] / [`CompanyClient`]: deadlines, retries and backoff as Intuit
//!   asks ([`RequestPolicy`], decided by the resilience kit's retry policies), one refresh on
//!   401, faults parsed into [`QboError`].
//! - [`query`], [`paging`], [`cdc`]: the query-language builder, full reads by STARTPOSITION
//!   paging with resumable positions, and Change Data Capture with tombstones and the server
//!   `time` watermark.
//! - [`entity`]: typed views of the twelve entities we mirror, each keeping its raw JSON.
//! - [`fault`]: JSON and XML fault bodies, throttles included; [`webhook`]: payloads and
//!   `intuit-signature` verification.
//!
//! # Driving it from a sync engine
//!
//! 1. Once per process: a `reqwest::Client`, [`Endpoints`] (`Endpoints::production()` or
//!    `Endpoints::discover` for the local sandbox), an [`OAuthClient`], and a [`QboClient`] built
//!    with the global [`RealmLimiter`]. Per connection: `qbo.company(realm, tokens)` where
//!    `tokens` is the connection store's [`TokenProvider`] (single-flight refresh, rotated refresh
//!    token stored before use; map [`TokenError::ReconnectNeeded`] to "reconnect needed").
//! 2. Full sync, per kind in the order of [`EntityKind::depends_on`]: `EntityPager::new(kind)`
//!    (or `.resume_at(checkpoint)`), then `while let Some(page) = pager.next_page(&company)` store
//!    `page.records` (upsert by (realm, kind, `header.id`), newer `header.sync_token` wins, keep
//!    `raw`) and `pager.position()` as the checkpoint in one transaction. Before starting, note
//!    the server time (`QueryPage::time` of the first page) as the CDC watermark to use next.
//! 3. Incremental sync: `company.cdc(&EntityKind::LISTED, watermark)`; apply `upserts` and
//!    `deletes` per kind and store `response.time` as the new watermark in the same transaction.
//!    If [`CdcResponse::is_truncated`], ask again one kind per call; a kind still truncated on
//!    its own can be advanced from its last returned `LastUpdatedTime` (CDC lists oldest first),
//!    or re-read with `EntityPager::over(Query::select(kind).include_inactive().updated_since(w))`
//!    (a query never shows hard deletes; only CDC or an id reconciliation does). On
//!    [`QboError::CdcLookbackExceeded`] run a full sync.
//! 4. Errors: [`QboError::is_transient`] → retry the job later; [`QboError::needs_reconnect`] →
//!    mark the connection; anything else (a [`QboError::Fault`]) → record `fault.summary()`.
//!    [`CompanyClient::api_calls`] is the "API calls used" of a sync run.

pub mod breakers;
pub mod cdc;
pub mod client;
pub mod endpoints;
pub mod entity;
pub mod error;
pub mod fault;
pub mod limiter;
pub mod oauth;
pub mod paging;
pub mod policy;
pub mod query;
mod realm;
mod response;
mod time;
pub mod tokens;
pub mod webhook;

pub use breakers::RealmBreakers;
pub use cdc::{CdcResponse, EntityChanges, Tombstone};
pub use client::{ClientConfig, CompanyClient, QboClient};
pub use endpoints::{DiscoveryDocument, Endpoints};
pub use entity::{Entity, EntityKind, Header, Record};
pub use error::QboError;
pub use fault::{Fault, FaultError, FaultKind};
pub use limiter::{LimiterError, LimiterPermit, LocalRealmLimiter, RealmLimiter, RealmLimits};
pub use oauth::{OAuthClient, OAuthConfig, OAuthError, Scope, TokenSet};
pub use paging::EntityPager;
pub use policy::RequestPolicy;
pub use query::{Query, Value};
pub use realm::{InvalidRealmId, RealmId};
pub use response::QueryPage;
pub use time::parse_datetime;
pub use tokens::{AccessToken, MemoryTokenStore, TokenError, TokenProvider};
