//! The `[quickbooks]` configuration section.

use std::time::Duration;

use quickbooks::Endpoints;
use reqwest::Url;
use serde::{Deserialize, Serialize, Serializer};

use crate::{SyncError, SyncResult};

/// Rendered (`countinghouse config`) with its two secrets redacted.
#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuickBooksConfig {
    /// The Intuit app's credentials.
    pub client_id: String,
    #[serde(serialize_with = "redact")]
    pub client_secret: String,
    /// Our callback, as registered with Intuit: `<public url>/v1/quickbooks/callback`.
    pub redirect_uri: String,
    /// Origin of the accounting API (`https://quickbooks.api.intuit.com`, or a local sandbox).
    pub api_base: String,
    /// Intuit's OpenID discovery document; when set, the OAuth URLs come from it.
    pub discovery_url: Option<String>,
    /// OAuth URLs when there is no discovery document (Intuit's production ones by default).
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub revoke_url: Option<String>,
    pub userinfo_url: Option<String>,
    /// The webhook verifier token Intuit shows for the app; webhooks are refused without one.
    #[serde(serialize_with = "redact_option")]
    pub webhook_verifier_token: Option<String>,
    /// How long a connect link stays usable.
    pub state_ttl_secs: u64,
    /// Where the browser lands after a successful callback (with `?quickbooks=connected&client_id=…`):
    /// a URL or a path of this site; none → the callback answers with the connection as JSON. The
    /// web console's page for it is `/quickbooks/connected` (on to the client's QuickBooks tab).
    pub after_connect_url: Option<String>,
    pub limits: LimitsConfig,
    /// Page size of full reads (Intuit's maximum is 1,000).
    pub page_size: u32,
    /// Pause after a throttle (Intuit asks for 60 s) and first backoff after a 5xx.
    pub throttle_pause_ms: u64,
    pub server_error_backoff_ms: u64,
}

/// Per-realm request limits inside a sync (below Intuit's 10/s, 500/min, 10 in flight).
#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    pub per_second: u32,
    pub per_minute: u32,
    pub in_flight: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig { per_second: 8, per_minute: 450, in_flight: 5 }
    }
}

impl Default for QuickBooksConfig {
    fn default() -> Self {
        QuickBooksConfig {
            client_id: String::new(),
            client_secret: String::new(),
            redirect_uri: "http://127.0.0.1:8080/v1/quickbooks/callback".into(),
            api_base: quickbooks::endpoints::PRODUCTION_API_BASE.into(),
            discovery_url: None,
            authorize_url: None,
            token_url: None,
            revoke_url: None,
            userinfo_url: None,
            webhook_verifier_token: None,
            state_ttl_secs: 600,
            after_connect_url: None,
            limits: LimitsConfig::default(),
            page_size: 1000,
            throttle_pause_ms: 60_000,
            server_error_backoff_ms: 1_000,
        }
    }
}

impl std::fmt::Debug for QuickBooksConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuickBooksConfig")
            .field("client_id", &self.client_id)
            .field("api_base", &self.api_base)
            .field("discovery_url", &self.discovery_url)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

fn redact<S: Serializer>(value: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if value.is_empty() { "" } else { "[redacted]" })
}

fn redact_option<S: Serializer>(value: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(_) => s.serialize_str("[redacted]"),
        None => s.serialize_none(),
    }
}

impl QuickBooksConfig {
    /// A config for a local `qbo-sandbox` at `base` with its default app.
    pub fn for_sandbox(base: &str, redirect_uri: String) -> QuickBooksConfig {
        QuickBooksConfig {
            client_id: "sandbox-client-id".into(),
            client_secret: "sandbox-client-secret".into(),
            redirect_uri,
            api_base: base.to_owned(),
            discovery_url: Some(format!("{}/.well-known/openid_configuration", base.trim_end_matches('/'))),
            webhook_verifier_token: Some("sandbox-verifier-token".into()),
            ..QuickBooksConfig::default()
        }
    }

    pub fn state_ttl(&self) -> Duration {
        Duration::from_secs(self.state_ttl_secs.max(1))
    }

    pub(crate) fn explicit_endpoints(&self) -> SyncResult<Endpoints> {
        let defaults = Endpoints::production();
        let parse = |name: &str, value: &Option<String>, default: Url| match value {
            Some(text) => Url::parse(text).map_err(|e| SyncError::Config(format!("quickbooks.{name}: {e}"))),
            None => Ok(default),
        };
        Ok(Endpoints {
            api_base: parse("api_base", &Some(self.api_base.clone()), defaults.api_base.clone())?,
            authorize: parse("authorize_url", &self.authorize_url, defaults.authorize)?,
            token: parse("token_url", &self.token_url, defaults.token)?,
            revoke: parse("revoke_url", &self.revoke_url, defaults.revoke)?,
            userinfo: parse("userinfo_url", &self.userinfo_url, defaults.userinfo)?,
        })
    }
}
