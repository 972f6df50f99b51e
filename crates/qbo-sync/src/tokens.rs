//! The database-backed token provider of one connection.
//!
//! Single flight: within a process, the provider's mutex is held across a refresh; across
//! processes, the refresh runs with the connection row locked (`FOR UPDATE`) and first re-reads
//! the tokens, so a caller that waited finds the refreshed ones instead of spending the (already
//! rotated) refresh token again. The rotated refresh token is stored and committed before the new
//! access token is handed out. `invalid_grant` marks the connection `reconnect_needed`.

use std::time::Duration;

use domain::{ConnectionStatus, OrganizationId};
use futures::future::BoxFuture;
use quickbooks::{AccessToken, RealmId, TokenError, TokenProvider, TokenSet};
use secrecy::ExposeSecret;
use store::{Actor, TenantTx};
use uuid::Uuid;

use crate::connections::mark_reconnect_needed;
use crate::sealing::{open_tokens, store_tokens};
use crate::{QuickBooks, SyncError};

/// Refresh this long before the access token expires.
const MARGIN: Duration = Duration::from_secs(300);

pub struct ConnectionTokens {
    qb: QuickBooks,
    org: OrganizationId,
    connection: Uuid,
    cached: tokio::sync::Mutex<Option<TokenSet>>,
}

fn failed(realm: &RealmId, error: SyncError) -> TokenError {
    if error.needs_reconnect() {
        TokenError::ReconnectNeeded { realm: realm.clone(), reason: error.to_string() }
    } else {
        // A database or vault failure while refreshing: may pass, like a network error.
        TokenError::Refresh(quickbooks::OAuthError::Decode(error.to_string()))
    }
}

impl ConnectionTokens {
    pub fn new(qb: QuickBooks, org: OrganizationId, connection: Uuid) -> ConnectionTokens {
        ConnectionTokens { qb, org, connection, cached: tokio::sync::Mutex::new(None) }
    }

    /// The stored tokens, with the row locked when `lock` (for a refresh).
    async fn load(&self, tx: &mut TenantTx, realm: &RealmId, lock: bool) -> Result<TokenSet, TokenError> {
        let sql = if lock {
            "select status, status_reason, tokens_sealed from qbo_connections
             where organization_id = $1 and id = $2 for update"
        } else {
            "select status, status_reason, tokens_sealed from qbo_connections
             where organization_id = $1 and id = $2"
        };
        let row: Option<(ConnectionStatus, Option<String>, Option<Vec<u8>>)> = sqlx::query_as(sql)
            .bind(self.org.as_uuid())
            .bind(self.connection)
            .fetch_optional(tx.conn())
            .await
            .map_err(|e| failed(realm, e.into()))?;
        match row {
            Some((ConnectionStatus::Connected, _, Some(sealed))) => {
                open_tokens(&self.qb, self.org, self.connection, &sealed).map_err(|e| failed(realm, e))
            }
            Some((ConnectionStatus::ReconnectNeeded, reason, _)) => Err(TokenError::ReconnectNeeded {
                realm: realm.clone(),
                reason: reason.unwrap_or_else(|| "marked reconnect needed".into()),
            }),
            _ => Err(TokenError::NotConnected(realm.clone())),
        }
    }

    /// Refreshes unless the stored access token differs from `stale` (someone refreshed) and is
    /// still good. Runs with the connection row locked.
    async fn refresh(&self, realm: &RealmId, stale: Option<&str>) -> Result<TokenSet, TokenError> {
        let begin = TenantTx::begin(self.qb.db(), self.org, Actor::system()).await;
        let mut tx = begin.map_err(|e| failed(realm, e.into()))?;
        let current = self.load(&mut tx, realm, true).await?;
        let refreshed_elsewhere = stale.is_some_and(|s| s != current.access_token.expose_secret());
        if refreshed_elsewhere && !current.should_refresh(MARGIN) {
            return Ok(current);
        }
        match self.qb.oauth().refresh(&current.refresh_token).await {
            Ok(tokens) => {
                store_tokens(&self.qb, &mut tx, self.connection, &tokens)
                    .await
                    .map_err(|e| failed(realm, e))?;
                tx.commit().await.map_err(|e| failed(realm, e.into()))?;
                Ok(tokens)
            }
            Err(error) => {
                let error = TokenError::from_refresh(realm, error);
                if error.needs_reconnect() {
                    mark_reconnect_needed(&mut tx, self.connection, &error.to_string())
                        .await
                        .map_err(|e| failed(realm, e))?;
                    tx.commit().await.map_err(|e| failed(realm, e.into()))?;
                }
                Err(error)
            }
        }
    }
}

impl TokenProvider for ConnectionTokens {
    fn access_token<'a>(&'a self, realm: &'a RealmId) -> BoxFuture<'a, Result<AccessToken, TokenError>> {
        Box::pin(async move {
            let mut cached = self.cached.lock().await;
            if let Some(tokens) = cached.as_ref().filter(|t| !t.should_refresh(MARGIN)) {
                return Ok(AccessToken::new(tokens.access_token.clone()));
            }
            let stored = {
                let begin = TenantTx::begin(self.qb.db(), self.org, Actor::system()).await;
                let mut tx = begin.map_err(|e| failed(realm, e.into()))?;
                self.load(&mut tx, realm, false).await?
            };
            let tokens = if stored.should_refresh(MARGIN) {
                self.refresh(realm, Some(stored.access_token.expose_secret())).await?
            } else {
                stored
            };
            let access = AccessToken::new(tokens.access_token.clone());
            *cached = Some(tokens);
            Ok(access)
        })
    }

    fn refresh_rejected<'a>(
        &'a self,
        realm: &'a RealmId,
        rejected: &'a AccessToken,
    ) -> BoxFuture<'a, Result<AccessToken, TokenError>> {
        Box::pin(async move {
            let mut cached = self.cached.lock().await;
            if let Some(tokens) = cached.as_ref() {
                let current = AccessToken::new(tokens.access_token.clone());
                if !current.same_as(rejected) {
                    return Ok(current);
                }
            }
            // Refused before its expiry (revoked, or expired early): refresh unless another
            // process already did.
            let tokens = self.refresh(realm, Some(rejected.secret())).await?;
            let access = AccessToken::new(tokens.access_token.clone());
            *cached = Some(tokens);
            Ok(access)
        })
    }
}
