//! Password resets: single-use links to set a new password, stored as the hash of their token.

use chrono::{DateTime, Utc};
use domain::{PasswordResetId, UserId};
use serde::Serialize;

use crate::{StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PasswordReset {
    pub id: PasswordResetId,
    pub user_id: UserId,
    pub requested_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

macro_rules! columns {
    () => {
        "id, user_id, requested_by, created_at, expires_at, used_at"
    };
}

pub struct NewPasswordReset<'a> {
    pub id: PasswordResetId,
    pub user_id: UserId,
    pub token_hash: &'a [u8],
    pub requested_by: Option<UserId>,
    pub expires_at: DateTime<Utc>,
}

pub async fn create(tx: &mut TenantTx, n: NewPasswordReset<'_>) -> StoreResult<PasswordReset> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "insert into password_resets (id, organization_id, user_id, token_hash, requested_by, expires_at)
         values ($1, $2, $3, $4, $5, $6) returning ",
        columns!()
    ))
    .bind(n.id)
    .bind(org)
    .bind(n.user_id)
    .bind(n.token_hash)
    .bind(n.requested_by)
    .bind(n.expires_at)
    .fetch_one(tx.conn())
    .await?)
}

/// The reset a token names, whatever its state, locked until the transaction ends (so two
/// completions of one link serialise and the second sees it used).
pub async fn find_for_update(tx: &mut TenantTx, token_hash: &[u8]) -> StoreResult<Option<PasswordReset>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from password_resets where organization_id = $1 and token_hash = $2 for update"
    ))
    .bind(org)
    .bind(token_hash)
    .fetch_optional(tx.conn())
    .await?)
}

/// The reset a token names if it can still be used (unused, not expired).
pub async fn find_open(tx: &mut TenantTx, token_hash: &[u8]) -> StoreResult<Option<PasswordReset>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from password_resets where organization_id = $1 and token_hash = $2
           and used_at is null and expires_at > now()"
    ))
    .bind(org)
    .bind(token_hash)
    .fetch_optional(tx.conn())
    .await?)
}

/// Marks every open reset of `user` used (the one completed, and any other link still out).
/// Returns how many were open.
pub async fn use_all_for_user(tx: &mut TenantTx, user: UserId) -> StoreResult<u64> {
    let org = tx.org_uuid();
    let done = sqlx::query(
        "update password_resets set used_at = now()
         where organization_id = $1 and user_id = $2 and used_at is null",
    )
    .bind(org)
    .bind(user)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}
