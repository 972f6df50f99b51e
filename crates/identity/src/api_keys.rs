//! API keys: made by a member with `api:keys`, scoped to at most what that member may do.

use chrono::Utc;
use domain::{ApiKeyId, Permission, PermissionSet};
use store::AuditRecord;
use store::api_keys::{self, ApiKey, NewApiKey};

use crate::tokens::{self, TokenKind};
use crate::{Caller, Identity, IdentityError, IdentityResult};

/// A new key: the secret is returned once, here, and never again.
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub secret: String,
}

impl Identity {
    pub async fn create_api_key(
        &self,
        caller: &Caller,
        name: &str,
        scopes: &[Permission],
        expires_in_days: Option<u32>,
    ) -> IdentityResult<CreatedApiKey> {
        caller.require(Permission::ApiKeys)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(IdentityError::invalid("name", "must be 1 to 100 characters"));
        }
        if scopes.is_empty() {
            return Err(IdentityError::invalid("scopes", "name at least one permission"));
        }
        let requested: PermissionSet = scopes.iter().copied().collect();
        if !requested.is_subset_of(caller.permissions) {
            let beyond: Vec<&str> =
                requested.iter().filter(|p| !caller.has(*p)).map(|p| p.as_str()).collect();
            return Err(IdentityError::invalid(
                "scopes",
                format!("a key cannot exceed its maker's permissions; you lack {}", beyond.join(", ")),
            ));
        }
        let expires_at = match expires_in_days {
            Some(0) => {
                return Err(IdentityError::invalid("expires_in_days", "must be at least 1"));
            }
            Some(d) if d > 3650 => {
                return Err(IdentityError::invalid("expires_in_days", "must be at most 3650"));
            }
            Some(d) => Some(Utc::now() + chrono::TimeDelta::days(d.into())),
            None => None,
        };
        let issued = tokens::issue(TokenKind::ApiKey, caller.organization_id);
        let scopes: Vec<String> = requested.iter().map(|p| p.as_str().to_owned()).collect();
        let mut tx = self.tenant_tx(caller).await?;
        let key = api_keys::create(
            &mut tx,
            NewApiKey {
                id: ApiKeyId::new(),
                name,
                prefix: &tokens::display_prefix(&issued.token),
                key_hash: &issued.hash,
                scopes: &scopes,
                created_by: caller.user_id(),
                expires_at,
            },
        )
        .await?;
        tx.audit(AuditRecord::new("api_key.create", "api_key", key.id).after(&key));
        tx.commit().await?;
        Ok(CreatedApiKey { key, secret: issued.token })
    }

    pub async fn list_api_keys(&self, caller: &Caller) -> IdentityResult<Vec<ApiKey>> {
        caller.require(Permission::ApiKeys)?;
        let mut tx = self.tenant_tx(caller).await?;
        let keys = api_keys::list(&mut tx).await?;
        tx.commit().await?;
        Ok(keys)
    }

    pub async fn revoke_api_key(&self, caller: &Caller, id: ApiKeyId) -> IdentityResult<ApiKey> {
        caller.require(Permission::ApiKeys)?;
        let mut tx = self.tenant_tx(caller).await?;
        let key = api_keys::revoke(&mut tx, id).await?;
        tx.audit(AuditRecord::new("api_key.revoke", "api_key", id).before(&key));
        tx.commit().await?;
        self.forget_cached_auth(caller.organization_id).await;
        Ok(key)
    }
}
