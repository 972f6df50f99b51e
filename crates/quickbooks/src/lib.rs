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
//! - [`client`]: [`QboClient`] / [`CompanyClient`]: deadlines, retries and backoff as Intuit
//!   asks ([`RequestPolicy`]), one refresh on 401, faults parsed into [`QboError`].
//! - [`query`], [`paging`], [`cdc`]: the query-language builder, full reads by STARTPOSITION
//!   paging with resumable positions, and Change Data Capture with tombstones and the server
//!   `time` watermark.
//! - [`entity`]: typed views of the twelve entities we mirror, each keeping its raw JSON.
//! - [`fault`]: JSON and XML fault bodies, throttles included; [`webhook`]: payloads and
//!   `intuit-signature` verification.

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
mod time;
pub mod tokens;
pub mod webhook;

pub use cdc::{CdcResponse, EntityChanges, Tombstone};
pub use client::{ClientConfig, CompanyClient, QboClient};
pub use endpoints::{DiscoveryDocument, Endpoints};
pub use entity::{Entity, EntityKind, Header, Record};
pub use error::QboError;
pub use fault::{Fault, FaultError, FaultKind};
pub use limiter::{LimiterError, LimiterPermit, LocalRealmLimiter, RealmLimiter, RealmLimits};
pub use oauth::{OAuthClient, OAuthConfig, OAuthError, Scope, TokenSet};
pub use paging::{EntityPager, QueryPage};
pub use policy::RequestPolicy;
pub use query::{Query, Value};
pub use realm::{InvalidRealmId, RealmId};
pub use time::parse_datetime;
pub use tokens::{AccessToken, MemoryTokenStore, TokenError, TokenProvider};
