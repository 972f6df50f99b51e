//! A local QuickBooks Online stand-in that speaks the v3 protocol closely enough for the
//! published client libraries (python-quickbooks + intuit-oauth, node-quickbooks) to work
//! against it unmodified, and for our own client to be tested and measured offline.
//!
//! - OAuth 2.0 as Intuit runs it (`oauth`): authorize with automatic consent, code exchange,
//!   refresh with rotation, `invalid_grant`, revocation, the discovery document.
//! - The accounting API (`api`): query (GET and POST, the query-language subset in `query`,
//!   evaluated by `eval`), CDC with the 30-day look-back and the 1,000-object cap, reads by id,
//!   `companyinfo`; responses and faults in QuickBooks' JSON and XML shapes (`render`).
//! - Deterministic generated companies of any size with realistic references (`generate`,
//!   `company`), and changes over time with new SyncTokens, LastUpdatedTimes and tombstones.
//! - Intuit's per-realm limits (500/min, 10/s, 10 in flight) answered 429 `ThrottleExceeded`,
//!   with counters tests read to prove a client stayed within them (`meter`), and fault
//!   injection: latency, 5xx, throttles, early token expiry, `invalid_grant` (`config::Faults`).
//!
//! Start one with [`Sandbox::start`]; the returned [`SandboxHandle`] gives its URLs, counters,
//! fault switches, changes over time and shutdown.

mod api;
mod clock;
mod company;
mod config;
mod eval;
mod generate;
mod grants;
mod meter;
mod model;
mod oauth;
mod query;
mod render;
mod server;
mod state;
mod webhook;

pub use company::{AppliedChange, ChangeOperation, ChangeSummary};
pub use config::{AppCredentials, CompanySpec, Faults, Limits, SandboxConfig, TokenLifetimes};
pub use grants::{IssuedTokens, OAuthCounters};
pub use meter::RealmCounters;
pub use model::EntityType;
pub use server::{CompanySnapshot, Sandbox, SandboxError, SandboxHandle};
pub use webhook::{SignedNotification, notification as webhook_notification, sign as sign_webhook};
