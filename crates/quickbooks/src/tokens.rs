//! Access tokens for API calls: the [`TokenProvider`] hook and [`MemoryTokenStore`], an
//! in-process implementation.
//!
//! The client asks the provider for a token before a call and, when QuickBooks refuses it (401),
//! asks once for a refreshed one, naming the token that was refused. A provider must refresh at
//! most once per realm at a time (single flight: concurrent refreshes with the same refresh token
//! lose the connection, because the first rotates it away) and must store the rotated refresh
//! token before handing out the new access token. Naming the refused token lets a provider see
//! that another caller has already refreshed and just return the newer token.
//!
//! A database-backed provider does the same under a per-realm lock (an advisory lock, or
//! `SELECT … FOR UPDATE` on the connection row), using [`crate::OAuthClient::refresh`].

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

use crate::oauth::{OAuthClient, OAuthError, TokenSet};
use crate::realm::RealmId;

/// A bearer token for API calls.
#[derive(Clone)]
pub struct AccessToken(SecretString);

impl AccessToken {
    pub fn new(token: SecretString) -> AccessToken {
        AccessToken(token)
    }

    pub fn secret(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether two handles hold the same token (to tell if someone refreshed meanwhile).
    pub fn same_as(&self, other: &AccessToken) -> bool {
        self.secret() == other.secret()
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessToken(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The refresh token was refused (`invalid_grant`) or the connection was marked so: the user
    /// must connect again.
    #[error("the QuickBooks connection for realm {realm} must be reconnected: {reason}")]
    ReconnectNeeded { realm: RealmId, reason: String },
    #[error("no QuickBooks connection for realm {0}")]
    NotConnected(RealmId),
    /// Refreshing failed for a reason that may pass (network, Intuit down).
    #[error("refreshing the QuickBooks token failed: {0}")]
    Refresh(#[source] OAuthError),
}

impl TokenError {
    pub fn needs_reconnect(&self) -> bool {
        matches!(self, TokenError::ReconnectNeeded { .. } | TokenError::NotConnected(_))
    }

    /// Classifies a failed refresh: `invalid_grant` means reconnect, anything else may pass.
    pub fn from_refresh(realm: &RealmId, error: OAuthError) -> TokenError {
        if error.needs_reconnect() {
            TokenError::ReconnectNeeded { realm: realm.clone(), reason: error.to_string() }
        } else {
            TokenError::Refresh(error)
        }
    }
}

/// Supplies access tokens per realm.
pub trait TokenProvider: Send + Sync {
    /// A token to call with, refreshed first if it is (nearly) expired.
    fn access_token<'a>(&'a self, realm: &'a RealmId) -> BoxFuture<'a, Result<AccessToken, TokenError>>;

    /// QuickBooks refused `rejected`: return a newer token, refreshing unless another caller
    /// already did.
    fn refresh_rejected<'a>(
        &'a self,
        realm: &'a RealmId,
        rejected: &'a AccessToken,
    ) -> BoxFuture<'a, Result<AccessToken, TokenError>>;
}

enum Connection {
    Live(TokenSet),
    ReconnectNeeded(String),
}

/// Tokens held in memory, refreshed single-flight per realm (a per-realm async mutex held across
/// the refresh). For one process: a demo, a CLI, tests. Refreshes ahead of expiry by `margin`.
pub struct MemoryTokenStore {
    oauth: OAuthClient,
    margin: Duration,
    realms: std::sync::Mutex<HashMap<RealmId, Arc<tokio::sync::Mutex<Connection>>>>,
    refreshes: AtomicU64,
}

impl MemoryTokenStore {
    pub fn new(oauth: OAuthClient) -> MemoryTokenStore {
        MemoryTokenStore {
            oauth,
            margin: Duration::from_secs(300),
            realms: std::sync::Mutex::new(HashMap::new()),
            refreshes: AtomicU64::new(0),
        }
    }

    /// Refresh this long before the access token expires (default 5 minutes).
    pub fn with_margin(mut self, margin: Duration) -> MemoryTokenStore {
        self.margin = margin;
        self
    }

    /// Stores (or replaces) a realm's tokens, e.g. after a code exchange.
    pub fn insert(&self, realm: RealmId, tokens: TokenSet) {
        let mut realms = self.realms.lock().unwrap_or_else(|e| e.into_inner());
        realms.insert(realm, Arc::new(tokio::sync::Mutex::new(Connection::Live(tokens))));
    }

    /// The realm's current tokens, if it is connected.
    pub async fn tokens(&self, realm: &RealmId) -> Option<TokenSet> {
        let slot = self.slot(realm).ok()?;
        let connection = slot.lock().await;
        match &*connection {
            Connection::Live(tokens) => Some(tokens.clone()),
            Connection::ReconnectNeeded(_) => None,
        }
    }

    /// How many refreshes this store has made (successful or not).
    pub fn refresh_count(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    fn slot(&self, realm: &RealmId) -> Result<Arc<tokio::sync::Mutex<Connection>>, TokenError> {
        let realms = self.realms.lock().unwrap_or_else(|e| e.into_inner());
        realms.get(realm).cloned().ok_or_else(|| TokenError::NotConnected(realm.clone()))
    }

    /// Refreshes while the caller holds the realm's lock.
    async fn refresh_locked(
        &self,
        realm: &RealmId,
        connection: &mut Connection,
    ) -> Result<AccessToken, TokenError> {
        let refresh_token = match &*connection {
            Connection::Live(tokens) => tokens.refresh_token.clone(),
            Connection::ReconnectNeeded(reason) => {
                return Err(TokenError::ReconnectNeeded { realm: realm.clone(), reason: reason.clone() });
            }
        };
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        match self.oauth.refresh(&refresh_token).await {
            Ok(tokens) => {
                let access = AccessToken::new(tokens.access_token.clone());
                *connection = Connection::Live(tokens);
                Ok(access)
            }
            Err(error) => {
                let error = TokenError::from_refresh(realm, error);
                if error.needs_reconnect() {
                    *connection = Connection::ReconnectNeeded(error.to_string());
                }
                Err(error)
            }
        }
    }
}

impl TokenProvider for MemoryTokenStore {
    fn access_token<'a>(&'a self, realm: &'a RealmId) -> BoxFuture<'a, Result<AccessToken, TokenError>> {
        Box::pin(async move {
            let slot = self.slot(realm)?;
            let mut connection = slot.lock().await;
            match &*connection {
                Connection::Live(tokens) if !tokens.should_refresh(self.margin) => {
                    Ok(AccessToken::new(tokens.access_token.clone()))
                }
                _ => self.refresh_locked(realm, &mut connection).await,
            }
        })
    }

    fn refresh_rejected<'a>(
        &'a self,
        realm: &'a RealmId,
        rejected: &'a AccessToken,
    ) -> BoxFuture<'a, Result<AccessToken, TokenError>> {
        Box::pin(async move {
            let slot = self.slot(realm)?;
            let mut connection = slot.lock().await;
            if let Connection::Live(tokens) = &*connection {
                let current = AccessToken::new(tokens.access_token.clone());
                if !current.same_as(rejected) {
                    return Ok(current);
                }
            }
            self.refresh_locked(realm, &mut connection).await
        })
    }
}
