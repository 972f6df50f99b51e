//! API keys for integrations: scoped to permissions, stored as hashes, the prefix kept for display.

use chrono::{DateTime, Utc};
use domain::{ApiKeyId, Role, UserId, UserStatus};
use serde::Serialize;

use crate::{StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

macro_rules! columns {
    () => {
        "id, name, prefix, scopes, created_by, created_at, last_used_at, expires_at, revoked_at"
    };
}

pub struct NewApiKey<'a> {
    pub id: ApiKeyId,
    pub name: &'a str,
    pub prefix: &'a str,
    pub key_hash: &'a [u8],
    pub scopes: &'a [String],
    pub created_by: UserId,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn create(tx: &mut TenantTx, k: NewApiKey<'_>) -> StoreResult<ApiKey> {
    let org = tx.org_uuid();
    let key: ApiKey = sqlx::query_as(concat!(
        "insert into api_keys (id, organization_id, name, prefix, key_hash, scopes, created_by, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning ",
        columns!()
    ))
    .bind(k.id)
    .bind(org)
    .bind(k.name)
    .bind(k.prefix)
    .bind(k.key_hash)
    .bind(k.scopes)
    .bind(k.created_by)
    .bind(k.expires_at)
    .fetch_one(tx.conn())
    .await?;
    Ok(key)
}

pub async fn list(tx: &mut TenantTx) -> StoreResult<Vec<ApiKey>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from api_keys where organization_id = $1 order by created_at desc limit 1000"
    ))
    .bind(org)
    .fetch_all(tx.conn())
    .await?)
}

/// Revokes a key (a second revocation keeps the first time); returns the key as it was.
pub async fn revoke(tx: &mut TenantTx, id: ApiKeyId) -> StoreResult<ApiKey> {
    let org = tx.org_uuid();
    let key: ApiKey = sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from api_keys where organization_id = $1 and id = $2"
    ))
    .bind(org)
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    sqlx::query(
        "update api_keys set revoked_at = coalesce(revoked_at, now()) where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(key)
}

/// A usable key with the role and status of the member who made it: a key never outranks its maker.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActiveApiKey {
    pub id: ApiKeyId,
    pub scopes: Vec<String>,
    pub created_by: UserId,
    pub creator_role: Role,
    pub creator_status: UserStatus,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub async fn find_active(tx: &mut TenantTx, key_hash: &[u8]) -> StoreResult<Option<ActiveApiKey>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select k.id, k.scopes, k.created_by, m.role as creator_role, u.status as creator_status,
                k.last_used_at
         from api_keys k
         join users u on u.id = k.created_by and u.organization_id = k.organization_id
         join memberships m on m.user_id = k.created_by and m.organization_id = k.organization_id
         where k.organization_id = $1 and k.key_hash = $2 and k.revoked_at is null
           and (k.expires_at is null or k.expires_at > now())",
    )
    .bind(org)
    .bind(key_hash)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn touch(tx: &mut TenantTx, id: ApiKeyId) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query("update api_keys set last_used_at = now() where organization_id = $1 and id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}
