//! Where Intuit lives: the API base and the OAuth endpoints, all configurable. Intuit asks apps
//! to read the OAuth endpoints from its OpenID discovery document; [`Endpoints::discover`] does
//! that (and is how a client finds the local sandbox's endpoints too).

use reqwest::Url;
use serde::Deserialize;

pub const PRODUCTION_DISCOVERY_URL: &str =
    "https://developer.api.intuit.com/.well-known/openid_configuration";
pub const SANDBOX_DISCOVERY_URL: &str =
    "https://developer.intuit.com/.well-known/openid_sandbox_configuration";
pub const PRODUCTION_API_BASE: &str = "https://quickbooks.api.intuit.com";
pub const SANDBOX_API_BASE: &str = "https://sandbox-quickbooks.api.intuit.com";

/// The URLs a connection uses. `api_base` is the origin below which `/v3/company/{realm}/...` is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub api_base: Url,
    pub authorize: Url,
    pub token: Url,
    pub revoke: Url,
    pub userinfo: Url,
}

/// Intuit's OpenID discovery document (the keys we use).
#[derive(Clone, Debug, Deserialize)]
pub struct DiscoveryDocument {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub revocation_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("`{url}` is not a valid URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot fetch the discovery document: {0}")]
    Fetch(#[source] reqwest::Error),
    #[error("discovery document answered HTTP {0}")]
    Status(u16),
    #[error("discovery document does not parse: {0}")]
    Decode(String),
}

fn url(text: &str) -> Result<Url, EndpointError> {
    Url::parse(text).map_err(|e| EndpointError::BadUrl { url: text.to_owned(), reason: e.to_string() })
}

fn fixed(text: &str) -> Url {
    Url::parse(text).expect("built-in Intuit URLs are valid")
}

impl Endpoints {
    /// Intuit's production hosts.
    pub fn production() -> Endpoints {
        Endpoints {
            api_base: fixed(PRODUCTION_API_BASE),
            authorize: fixed("https://appcenter.intuit.com/connect/oauth2"),
            token: fixed("https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"),
            revoke: fixed("https://developer.api.intuit.com/v2/oauth2/tokens/revoke"),
            userinfo: fixed("https://accounts.platform.intuit.com/v1/openid_connect/userinfo"),
        }
    }

    /// Intuit's developer sandbox companies (same OAuth hosts, another API host).
    pub fn intuit_sandbox() -> Endpoints {
        Endpoints {
            api_base: fixed(SANDBOX_API_BASE),
            userinfo: fixed("https://sandbox-accounts.platform.intuit.com/v1/openid_connect/userinfo"),
            ..Endpoints::production()
        }
    }

    /// Endpoints from a discovery document plus an API base.
    pub fn from_discovery(document: &DiscoveryDocument, api_base: &str) -> Result<Endpoints, EndpointError> {
        Ok(Endpoints {
            api_base: url(api_base)?,
            authorize: url(&document.authorization_endpoint)?,
            token: url(&document.token_endpoint)?,
            revoke: url(&document.revocation_endpoint)?,
            userinfo: url(&document.userinfo_endpoint)?,
        })
    }

    /// Fetches the discovery document at `discovery_url` and combines it with `api_base`.
    pub async fn discover(
        http: &reqwest::Client,
        discovery_url: &str,
        api_base: &str,
    ) -> Result<Endpoints, EndpointError> {
        let response = http
            .get(url(discovery_url)?)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(std::time::Duration::from_secs(30))
            .send()
            .await
            .map_err(EndpointError::Fetch)?;
        if !response.status().is_success() {
            return Err(EndpointError::Status(response.status().as_u16()));
        }
        let body = response.bytes().await.map_err(EndpointError::Fetch)?;
        let document: DiscoveryDocument =
            serde_json::from_slice(&body).map_err(|e| EndpointError::Decode(e.to_string()))?;
        Endpoints::from_discovery(&document, api_base)
    }
}
