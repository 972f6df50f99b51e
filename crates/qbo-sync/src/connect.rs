//! Connecting a client's QuickBooks company (the OAuth flow) and disconnecting it.
//!
//! A `state` is `<organization id, 32 hex>.<32 random bytes, base64url>`: the organization part
//! lets the callback (a browser redirect from Intuit, which carries no credentials of ours) open
//! that tenant's transaction; only the SHA-256 of the whole value is stored, and consuming it is
//! one conditional UPDATE (unused, unexpired), so a state works once, and only within its TTL.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use domain::{ClientId, OrganizationId, SyncMode, SyncTrigger, UserId};
use quickbooks::{MemoryTokenStore, OAuthError, RealmId, Scope, TokenSet};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use store::{Actor, AuditRecord, TenantTx};
use uuid::Uuid;

use crate::connections::{Connection, ensure_client, get, require_for_client};
use crate::sealing::{open_tokens, seal_tokens, store_tokens};
use crate::sync_jobs;
use crate::{QuickBooks, SyncError, SyncResult};

fn state_hash(state: &str) -> Vec<u8> {
    Sha256::digest(state.as_bytes()).to_vec()
}

/// Where to send the user to connect `client`'s QuickBooks company.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectLink {
    pub authorization_url: String,
    pub expires_at: DateTime<Utc>,
}

/// Creates a single-use state for `user` connecting `client`, and the authorization URL.
pub async fn start_connect(
    qb: &QuickBooks,
    tx: &mut TenantTx,
    client: ClientId,
    user: UserId,
) -> SyncResult<ConnectLink> {
    ensure_client(tx, client).await?;
    let mut random = [0u8; 32];
    rand::rng().fill_bytes(&mut random);
    let state = format!("{}.{}", tx.org_uuid().simple(), URL_SAFE_NO_PAD.encode(random));
    let expires_at = Utc::now() + chrono::Duration::from_std(qb.config().state_ttl()).unwrap_or_default();
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into qbo_oauth_states (id, organization_id, client_id, user_id, state_hash, expires_at)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(tx.org_uuid())
    .bind(client.as_uuid())
    .bind(user.as_uuid())
    .bind(state_hash(&state))
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    tx.audit(AuditRecord::new("quickbooks.connect_started", "client", client.as_uuid()));
    let url = qb.oauth().authorization_url(&state, &[Scope::Accounting]);
    Ok(ConnectLink { authorization_url: url.to_string(), expires_at })
}

/// The tenant a state names, without trusting anything else in it.
fn state_organization(state: &str) -> SyncResult<OrganizationId> {
    let (org, random) = state.split_once('.').ok_or(SyncError::InvalidState)?;
    if org.len() != 32 || random.len() != 43 {
        return Err(SyncError::InvalidState);
    }
    let org = Uuid::try_parse(org).map_err(|_| SyncError::InvalidState)?;
    Ok(OrganizationId::from_uuid(org))
}

/// The callback: consumes the state (once, unexpired), exchanges the code, checks that the tokens
/// are for the company the callback names, stores the connection with its tokens sealed, and
/// queues the first full sync.
pub async fn complete_connect(
    qb: &QuickBooks,
    state: &str,
    code: &str,
    realm: &str,
) -> SyncResult<(OrganizationId, Connection)> {
    let org = state_organization(state)?;
    let realm =
        RealmId::parse(realm).map_err(|e| SyncError::Invalid { field: "realmId", message: e.to_string() })?;
    let mut tx = TenantTx::begin(qb.db(), org, Actor::system()).await?;
    let consumed: Option<(Uuid, Uuid)> = sqlx::query_as(
        "update qbo_oauth_states set used_at = now()
         where organization_id = $1 and state_hash = $2 and used_at is null and expires_at > now()
         returning client_id, user_id",
    )
    .bind(tx.org_uuid())
    .bind(state_hash(state))
    .fetch_optional(tx.conn())
    .await?;
    let Some((client, user)) = consumed else {
        return Err(SyncError::InvalidState);
    };
    // The state is spent whatever happens next: a second callback with it must fail.
    tx.commit().await?;

    let tokens = qb.oauth().exchange_code(code).await?;
    let (tokens, company_name) = verify_realm(qb, &realm, tokens).await?;
    let mut tx = TenantTx::begin(qb.db(), org, Actor::user(user)).await?;
    ensure_client(&mut tx, ClientId::from_uuid(client)).await?;
    let id = Uuid::now_v7();
    let sealed = seal_tokens(qb, org, id, &tokens);
    let inserted = sqlx::query(
        "insert into qbo_connections (id, organization_id, client_id, realm_id, status, company_name,
             tokens_sealed, token_key_id, access_expires_at, refresh_expires_at, refresh_hard_expires_at,
             connected_by)
         values ($1, $2, $3, $4, 'connected', left($5, 300), $6, $7, $8, $9, $10, $11)
         on conflict do nothing",
    )
    .bind(id)
    .bind(tx.org_uuid())
    .bind(client)
    .bind(realm.as_str())
    .bind(&company_name)
    .bind(sealed)
    .bind(i32::from(qb.keys().active_key_id()))
    .bind(tokens.access_expires_at)
    .bind(tokens.refresh_expires_at)
    .bind(tokens.refresh_hard_expires_at)
    .bind(user)
    .execute(tx.conn())
    .await?;
    if inserted.rows_affected() == 0 {
        // A live connection of this client or realm exists (or this exact one was disconnected
        // or needs reconnecting, and is connected again): reuse a row of the same triple that is
        // not connected, else refuse. Its tokens go in before its status (a connected row always
        // has tokens).
        let revived: Option<Uuid> = sqlx::query_scalar(
            "select id from qbo_connections
             where organization_id = $1 and client_id = $2 and realm_id = $3 and status <> 'connected'
             for update",
        )
        .bind(tx.org_uuid())
        .bind(client)
        .bind(realm.as_str())
        .fetch_optional(tx.conn())
        .await?;
        let Some(revived) = revived else { return Err(conflict(&mut tx, client, &realm).await) };
        store_tokens(qb, &mut tx, revived, &tokens).await?;
        let updated = sqlx::query(
            "update qbo_connections set status = 'connected', status_reason = null, disconnected_at = null,
                 connected_at = now(), connected_by = $3, company_name = coalesce(left($4, 300), company_name)
             where organization_id = $1 and id = $2",
        )
        .bind(tx.org_uuid())
        .bind(revived)
        .bind(user)
        .bind(&company_name)
        .execute(tx.conn())
        .await;
        match updated.map_err(store::StoreError::from) {
            Ok(_) => {}
            Err(store::StoreError::Conflict(_)) => return Err(conflict(&mut tx, client, &realm).await),
            Err(other) => return Err(other.into()),
        }
        return finish_connect(tx, revived, &realm).await;
    }
    finish_connect(tx, id, &realm).await
}

/// Why a connection of `client` to `realm` cannot be live: the company already feeds another
/// client of the firm, or the client already has a live connection.
async fn conflict(tx: &mut TenantTx, client: Uuid, realm: &RealmId) -> SyncError {
    let other_client: Result<Option<Uuid>, _> = sqlx::query_scalar(
        "select client_id from qbo_connections
         where organization_id = $1 and realm_id = $2 and client_id <> $3 and status <> 'disconnected'",
    )
    .bind(tx.org_uuid())
    .bind(realm.as_str())
    .bind(client)
    .fetch_optional(tx.conn())
    .await;
    match other_client {
        Ok(Some(_)) => SyncError::RealmTaken(realm.as_str().to_owned()),
        Ok(None) => SyncError::AlreadyConnected,
        Err(e) => e.into(),
    }
}

/// Intuit's redirect names the company in its query string, which anyone can edit; the tokens are
/// bound to the company the user picked at Intuit. Reading the named company's `CompanyInfo` with
/// them proves they are its: Intuit refuses a token for another company (403
/// `AuthorizationFault`, or 401 even after a refresh). Returns the tokens as they are after the
/// call (a 401 makes the store refresh and rotate them) and the company's name. A refused grant is
/// not revoked: revoking may disconnect the app from the company the user did pick.
async fn verify_realm(
    qb: &QuickBooks,
    realm: &RealmId,
    tokens: TokenSet,
) -> SyncResult<(TokenSet, Option<String>)> {
    let store = Arc::new(MemoryTokenStore::new(qb.oauth().clone()));
    store.insert(realm.clone(), tokens);
    let company = qb.client().company(realm.clone(), store.clone());
    let not_authorized = || SyncError::RealmNotAuthorized(realm.as_str().to_owned());
    let record = match company.company_info().await {
        Ok(record) => record,
        Err(error) if error.needs_reconnect() => return Err(not_authorized()),
        Err(error) => return Err(error.into()),
    };
    let name = match record.entity {
        quickbooks::Entity::CompanyInfo(info) => Some(info.company_name),
        _ => None,
    };
    let tokens = store.tokens(realm).await.ok_or_else(not_authorized)?;
    Ok((tokens, name))
}

async fn finish_connect(
    mut tx: TenantTx,
    id: Uuid,
    realm: &RealmId,
) -> SyncResult<(OrganizationId, Connection)> {
    sqlx::query(
        "insert into qbo_realm_routes (realm_id, organization_id, connection_id) values ($1, $2, $3)
         on conflict (realm_id, organization_id) do update set connection_id = excluded.connection_id",
    )
    .bind(realm.as_str())
    .bind(tx.org_uuid())
    .bind(id)
    .execute(tx.conn())
    .await?;
    let connection = get(&mut tx, id).await?;
    tx.audit(
        AuditRecord::new("quickbooks.connected", "qbo_connection", id)
            .after(serde_json::json!({"client_id": connection.client_id, "realm_id": realm.as_str()})),
    );
    sync_jobs::queue_sync(&mut tx, &connection, SyncMode::Full, SyncTrigger::Connect, None).await?;
    let org = tx.organization_id();
    tx.commit().await?;
    Ok((org, connection))
}

/// What disconnecting did.
#[derive(Debug, Clone, Serialize)]
pub struct Disconnected {
    pub connection: Connection,
    /// Whether Intuit confirmed the revocation (false when it could not be reached; the tokens
    /// are destroyed here either way).
    pub revoked: bool,
}

/// Revokes the tokens at Intuit and destroys them here; the mirror stays for history.
pub async fn disconnect(qb: &QuickBooks, tx: &mut TenantTx, client: ClientId) -> SyncResult<Disconnected> {
    let connection = require_for_client(tx, client).await?;
    let sealed: Option<Vec<u8>> = sqlx::query_scalar(
        "select tokens_sealed from qbo_connections where organization_id = $1 and id = $2 for update",
    )
    .bind(tx.org_uuid())
    .bind(connection.id)
    .fetch_one(tx.conn())
    .await?;
    let revoked = match sealed {
        Some(sealed) => {
            let tokens = open_tokens(qb, tx.organization_id(), connection.id, &sealed)?;
            match qb.oauth().revoke(&tokens.refresh_token).await {
                Ok(()) => true,
                // Already gone at Intuit: as good as revoked.
                Err(OAuthError::InvalidGrant { .. }) => true,
                Err(error) => {
                    tracing::warn!(connection = %connection.id, error = %error, "QuickBooks revoke failed");
                    false
                }
            }
        }
        None => true,
    };
    sqlx::query(
        "update qbo_connections set status = 'disconnected', tokens_sealed = null, token_key_id = null,
             disconnected_at = now(), status_reason = null
         where organization_id = $1 and id = $2",
    )
    .bind(tx.org_uuid())
    .bind(connection.id)
    .execute(tx.conn())
    .await?;
    sqlx::query("delete from qbo_realm_routes where connection_id = $1")
        .bind(connection.id)
        .execute(tx.conn())
        .await?;
    tx.audit(
        AuditRecord::new("quickbooks.disconnected", "qbo_connection", connection.id)
            .after(serde_json::json!({"revoked": revoked})),
    );
    let connection = get(tx, connection.id).await?;
    Ok(Disconnected { connection, revoked })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_states_name_an_organization() {
        let org = Uuid::now_v7();
        let good = format!("{}.{}", org.simple(), "A".repeat(43));
        assert_eq!(state_organization(&good).unwrap().as_uuid(), org);
        for bad in
            ["", "x.y", &format!("{}.{}", org.simple(), "A".repeat(42)), &format!("{org}.{}", "A".repeat(43))]
        {
            assert!(state_organization(bad).is_err(), "{bad}");
        }
    }
}
