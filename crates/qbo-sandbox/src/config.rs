//! What a sandbox serves and how it misbehaves: apps, companies, Intuit's limits, token lifetimes
//! and injected faults. Every field has a default, so a config file names only what it changes.

use std::net::{Ipv4Addr, SocketAddr};

use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// Where to listen; port 0 picks a free one.
    pub bind: SocketAddr,
    /// The base URL written into the discovery document, when clients reach the sandbox through
    /// another address than the bound one.
    pub public_url: Option<String>,
    /// OAuth apps allowed to connect.
    pub apps: Vec<AppCredentials>,
    /// The companies (realms) to generate at start.
    pub companies: Vec<CompanySpec>,
    pub limits: Limits,
    pub tokens: TokenLifetimes,
    pub faults: Faults,
    /// Seeds the generator of injected faults and of OAuth codes, so a run can be replayed.
    pub seed: u64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            public_url: None,
            apps: vec![AppCredentials::default()],
            companies: vec![CompanySpec::default()],
            limits: Limits::default(),
            tokens: TokenLifetimes::default(),
            faults: Faults::default(),
            seed: 1,
        }
    }
}

/// An OAuth app (client) registered with the sandbox.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: String,
    /// Allowed redirect URIs; empty allows any (handy for tests on random ports).
    pub redirect_uris: Vec<String>,
}

impl Default for AppCredentials {
    fn default() -> Self {
        AppCredentials {
            client_id: "sandbox-client-id".into(),
            client_secret: "sandbox-client-secret".into(),
            redirect_uris: Vec::new(),
        }
    }
}

/// A generated company. The same spec always yields the same entities (ids, names, amounts,
/// references); times are laid out backwards from `as_of`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompanySpec {
    /// The realm id (QuickBooks company id), digits.
    pub realm_id: String,
    pub name: String,
    /// How many entities to generate across all types, not counting the one `CompanyInfo`.
    pub entities: usize,
    pub seed: u64,
    /// The moment the company's history ends; defaults to when the sandbox starts.
    pub as_of: Option<DateTime<Utc>>,
}

impl Default for CompanySpec {
    fn default() -> Self {
        CompanySpec {
            realm_id: "9130350000000001".into(),
            name: "Sandbox Company US 1".into(),
            entities: 1_000,
            seed: 1,
            as_of: None,
        }
    }
}

/// Intuit's per-realm limits; a request beyond any of them is answered 429 `ThrottleExceeded`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub per_minute: u32,
    pub per_second: u32,
    pub concurrent: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { per_minute: 500, per_second: 10, concurrent: 10 }
    }
}

/// Token lifetimes as Intuit issues them.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenLifetimes {
    pub access_secs: u64,
    /// Rolling refresh-token lifetime (about 101 days), extended by each refresh.
    pub refresh_secs: u64,
    /// Hard maximum of a connection (five years), reported on request.
    pub refresh_hard_secs: u64,
    pub authorization_code_secs: u64,
}

impl Default for TokenLifetimes {
    fn default() -> Self {
        TokenLifetimes {
            access_secs: 3_600,
            refresh_secs: 8_726_400,
            refresh_hard_secs: 5 * 365 * 86_400,
            authorization_code_secs: 600,
        }
    }
}

/// Injected faults; all off by default. Rates are fractions of API requests (0.0–1.0).
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every API request (while it counts as in flight).
    pub latency_ms: u64,
    /// Answered with a 500/502/503 of a random realistic shape.
    pub server_error_rate: f64,
    /// Answered 429 `ThrottleExceeded` although no limit was reached.
    pub throttle_rate: f64,
    /// Access tokens issued from now on expire after this many seconds instead of an hour.
    pub access_token_secs: Option<u64>,
    /// Access tokens issued from now on expire after this many API requests: early expiry that
    /// does not depend on timing.
    pub access_token_uses: Option<u32>,
    /// Refresh requests answered `invalid_grant` (and the grant revoked, as Intuit does for a
    /// revoked or stale connection).
    pub refresh_invalid_grant_rate: f64,
}
