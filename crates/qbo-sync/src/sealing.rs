//! Token sealing: a connection's OAuth tokens are stored only sealed by the vault key ring, bound
//! (as associated data) to the organization and the connection, so a sealed value copied to
//! another row or tenant does not open.

use chrono::{DateTime, Utc};
use domain::OrganizationId;
use quickbooks::TokenSet;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use store::TenantTx;
use uuid::Uuid;

use crate::{QuickBooks, SyncError, SyncResult};

/// The token document sealed into `tokens_sealed`.
#[derive(Serialize, Deserialize)]
struct SealedTokens {
    access_token: String,
    refresh_token: String,
    issued_at: DateTime<Utc>,
    access_expires_at: DateTime<Utc>,
    refresh_expires_at: DateTime<Utc>,
    refresh_hard_expires_at: Option<DateTime<Utc>>,
}

fn aad(org: OrganizationId, connection: Uuid) -> Vec<u8> {
    format!("qbo-tokens:{}:{connection}", org.as_uuid()).into_bytes()
}

pub(crate) fn seal_tokens(
    qb: &QuickBooks,
    org: OrganizationId,
    connection: Uuid,
    tokens: &TokenSet,
) -> Vec<u8> {
    let doc = SealedTokens {
        access_token: tokens.access_token.expose_secret().to_owned(),
        refresh_token: tokens.refresh_token.expose_secret().to_owned(),
        issued_at: tokens.issued_at,
        access_expires_at: tokens.access_expires_at,
        refresh_expires_at: tokens.refresh_expires_at,
        refresh_hard_expires_at: tokens.refresh_hard_expires_at,
    };
    let plain = serde_json::to_vec(&doc).expect("token document serializes");
    qb.keys().seal(&plain, &aad(org, connection))
}

pub(crate) fn open_tokens(
    qb: &QuickBooks,
    org: OrganizationId,
    connection: Uuid,
    sealed: &[u8],
) -> SyncResult<TokenSet> {
    let plain = qb.keys().open(sealed, &aad(org, connection))?;
    let doc: SealedTokens =
        serde_json::from_slice(&plain).map_err(|e| SyncError::Corrupt(format!("sealed tokens: {e}")))?;
    Ok(TokenSet {
        issued_at: doc.issued_at,
        access_token: SecretString::from(doc.access_token),
        refresh_token: SecretString::from(doc.refresh_token),
        access_expires_at: doc.access_expires_at,
        refresh_expires_at: doc.refresh_expires_at,
        refresh_hard_expires_at: doc.refresh_hard_expires_at,
        intuit_tid: None,
    })
}

/// Stores rotated tokens (the caller holds the connection row's lock).
pub(crate) async fn store_tokens(
    qb: &QuickBooks,
    tx: &mut TenantTx,
    connection: Uuid,
    tokens: &TokenSet,
) -> SyncResult<()> {
    let sealed = seal_tokens(qb, tx.organization_id(), connection, tokens);
    sqlx::query(
        "update qbo_connections set tokens_sealed = $3, token_key_id = $4, access_expires_at = $5,
             refresh_expires_at = $6, refresh_hard_expires_at = $7, refreshed_at = now()
         where organization_id = $1 and id = $2",
    )
    .bind(tx.org_uuid())
    .bind(connection)
    .bind(sealed)
    .bind(i32::from(qb.keys().active_key_id()))
    .bind(tokens.access_expires_at)
    .bind(tokens.refresh_expires_at)
    .bind(tokens.refresh_hard_expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}
