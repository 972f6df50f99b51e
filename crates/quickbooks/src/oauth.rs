//! OAuth 2.0 with Intuit: the authorization URL, the code exchange, refresh (whose answer may
//! carry a new refresh token, which the caller must store before using the new access token),
//! and revocation. Hand-rolled over reqwest rather than the `oauth2` crate: that crate pulls a
//! second reqwest (0.12), and Intuit's flow is four small requests.
//!
//! `invalid_grant` (a refresh token that is expired, rotated away or revoked, or a reused code) is
//! [`OAuthError::InvalidGrant`]: the connection needs the user to reconnect.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::endpoints::Endpoints;

/// What the app registered with Intuit.
#[derive(Clone, Debug)]
pub struct OAuthConfig {
    pub client_id: String,
    pub client_secret: SecretString,
    /// Must match a redirect URI registered for the app.
    pub redirect_uri: String,
}

/// The scopes Intuit knows; reading the books needs [`Scope::Accounting`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Accounting,
    Payment,
    OpenId,
    Profile,
    Email,
    Phone,
    Address,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Accounting => "com.intuit.quickbooks.accounting",
            Scope::Payment => "com.intuit.quickbooks.payment",
            Scope::OpenId => "openid",
            Scope::Profile => "profile",
            Scope::Email => "email",
            Scope::Phone => "phone",
            Scope::Address => "address",
        }
    }
}

/// Tokens from the token endpoint, with their lifetimes made absolute.
#[derive(Clone, Debug)]
pub struct TokenSet {
    pub issued_at: DateTime<Utc>,
    pub access_token: SecretString,
    /// Possibly new: always store it (replacing the old one) before using `access_token`.
    pub refresh_token: SecretString,
    pub access_expires_at: DateTime<Utc>,
    /// Rolling lifetime (about 100 days), extended by every refresh.
    pub refresh_expires_at: DateTime<Utc>,
    /// The connection's hard end (five years), when Intuit says.
    pub refresh_hard_expires_at: Option<DateTime<Utc>>,
    /// Intuit's transaction id for the call, for support requests.
    pub intuit_tid: Option<String>,
}

impl TokenSet {
    /// True when the access token expires within `margin`, or within half its lifetime when that
    /// is shorter (so short-lived tokens are not refreshed on every call).
    pub fn should_refresh(&self, margin: Duration) -> bool {
        let margin = chrono::Duration::from_std(margin).unwrap_or(chrono::Duration::MAX);
        let half_life = (self.access_expires_at - self.issued_at) / 2;
        self.access_expires_at <= Utc::now() + margin.min(half_life)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The grant is gone (expired, rotated, revoked, or a code used twice): reconnect.
    #[error("invalid_grant{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    InvalidGrant { description: Option<String> },
    /// The app's client id or secret was refused: a configuration error.
    #[error("invalid_client: Intuit refused the app's client id or secret")]
    InvalidClient,
    #[error("token endpoint answered {status} `{error}`{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Endpoint { status: u16, error: String, description: Option<String> },
    #[error("cannot reach Intuit's OAuth endpoint: {0}")]
    Transport(#[source] reqwest::Error),
    #[error("unexpected token response: {0}")]
    Decode(String),
}

impl OAuthError {
    pub fn needs_reconnect(&self) -> bool {
        matches!(self, OAuthError::InvalidGrant { .. })
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: String,
    expires_in: u64,
    x_refresh_token_expires_in: Option<u64>,
    x_refresh_token_hard_expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    error_description: Option<String>,
}

/// The OAuth side of one Intuit app.
#[derive(Clone, Debug)]
pub struct OAuthClient {
    http: reqwest::Client,
    config: OAuthConfig,
    endpoints: Endpoints,
    timeout: Duration,
}

impl OAuthClient {
    pub fn new(http: reqwest::Client, config: OAuthConfig, endpoints: Endpoints) -> OAuthClient {
        OAuthClient { http, config, endpoints, timeout: Duration::from_secs(30) }
    }

    /// The deadline of each token request (default 30 s).
    pub fn with_timeout(mut self, timeout: Duration) -> OAuthClient {
        self.timeout = timeout;
        self
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Where to send the user to consent; `state` must be unguessable, single-use and tied to the
    /// user's session (the callback must check it).
    pub fn authorization_url(&self, state: &str, scopes: &[Scope]) -> Url {
        let mut url = self.endpoints.authorize.clone();
        let scope = scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
        url.query_pairs_mut()
            .append_pair("client_id", &self.config.client_id)
            .append_pair("response_type", "code")
            .append_pair("scope", &scope)
            .append_pair("redirect_uri", &self.config.redirect_uri)
            .append_pair("state", state);
        url
    }

    /// Exchanges the callback's `code` (once: a second exchange revokes the grant).
    pub async fn exchange_code(&self, code: &str) -> Result<TokenSet, OAuthError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.config.redirect_uri),
        ])
        .await
    }

    /// Refreshes; the answer's refresh token replaces the one sent.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, OAuthError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ])
        .await
    }

    /// Revokes the connection (either token revokes both).
    pub async fn revoke(&self, token: &SecretString) -> Result<(), OAuthError> {
        let response = self
            .http
            .post(self.endpoints.revoke.clone())
            .header(reqwest::header::AUTHORIZATION, self.basic_auth())
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&serde_json::json!({ "token": token.expose_secret() }))
            .timeout(self.timeout)
            .send()
            .await
            .map_err(OAuthError::Transport)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.bytes().await.map_err(OAuthError::Transport)?;
        Err(error_from(status, &body))
    }

    fn basic_auth(&self) -> String {
        let pair = format!("{}:{}", self.config.client_id, self.config.client_secret.expose_secret());
        format!("Basic {}", STANDARD.encode(pair))
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenSet, OAuthError> {
        let issued_at = Utc::now();
        let response = self
            .http
            .post(self.endpoints.token.clone())
            .header(reqwest::header::AUTHORIZATION, self.basic_auth())
            .header(reqwest::header::ACCEPT, "application/json")
            .header("x-include-refresh-token-hard-expires-in", "true")
            .form(form)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(OAuthError::Transport)?;
        let status = response.status();
        let intuit_tid =
            response.headers().get("intuit_tid").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = response.bytes().await.map_err(OAuthError::Transport)?;
        if !status.is_success() {
            return Err(error_from(status, &body));
        }
        let tokens: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| OAuthError::Decode(e.to_string()))?;
        let after = |secs: u64| issued_at + chrono::Duration::seconds(secs.min(i64::MAX as u64) as i64);
        Ok(TokenSet {
            issued_at,
            access_token: tokens.access_token.into(),
            refresh_token: tokens.refresh_token.into(),
            access_expires_at: after(tokens.expires_in),
            refresh_expires_at: after(tokens.x_refresh_token_expires_in.unwrap_or(100 * 86_400)),
            refresh_hard_expires_at: tokens.x_refresh_token_hard_expires_in.map(after),
            intuit_tid,
        })
    }
}

fn error_from(status: StatusCode, body: &[u8]) -> OAuthError {
    match serde_json::from_slice::<ErrorResponse>(body) {
        Ok(e) if e.error == "invalid_grant" => OAuthError::InvalidGrant { description: e.error_description },
        Ok(e) if e.error == "invalid_client" => OAuthError::InvalidClient,
        Ok(e) => {
            OAuthError::Endpoint { status: status.as_u16(), error: e.error, description: e.error_description }
        }
        Err(_) if status == StatusCode::UNAUTHORIZED => OAuthError::InvalidClient,
        Err(_) => OAuthError::Endpoint {
            status: status.as_u16(),
            error: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
            description: None,
        },
    }
}
