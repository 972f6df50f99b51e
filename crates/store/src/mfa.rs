//! Multi-factor sign-in state: the sealed TOTP seed, its replay guard and recovery codes.

use chrono::{DateTime, Utc};
use domain::UserId;

use crate::{StoreResult, TenantTx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MfaState {
    pub mfa_secret: Option<Vec<u8>>,
    pub mfa_enabled_at: Option<DateTime<Utc>>,
    pub mfa_last_step: Option<i64>,
}

pub async fn state(tx: &mut TenantTx, user: UserId) -> StoreResult<MfaState> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select mfa_secret, mfa_enabled_at, mfa_last_step from users where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(user)
    .fetch_one(tx.conn())
    .await?)
}

/// Stores a new, not yet confirmed seed (replacing an unconfirmed one).
pub async fn set_pending_secret(tx: &mut TenantTx, user: UserId, sealed: &[u8]) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "update users set mfa_secret = $3, mfa_last_step = null
         where organization_id = $1 and id = $2 and mfa_enabled_at is null",
    )
    .bind(org)
    .bind(user)
    .bind(sealed)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Turns MFA on and replaces the recovery codes.
pub async fn enable(
    tx: &mut TenantTx,
    user: UserId,
    step: i64,
    recovery_hashes: &[Vec<u8>],
) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "update users set mfa_enabled_at = now(), mfa_last_step = $3 where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(user)
    .bind(step)
    .execute(tx.conn())
    .await?;
    replace_recovery_codes(tx, user, recovery_hashes).await?;
    Ok(())
}

pub async fn disable(tx: &mut TenantTx, user: UserId) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "update users set mfa_secret = null, mfa_enabled_at = null, mfa_last_step = null
         where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(user)
    .execute(tx.conn())
    .await?;
    replace_recovery_codes(tx, user, &[]).await?;
    Ok(())
}

/// Accepts a TOTP time step only if it is newer than the last one accepted (no replay, even
/// between two concurrent sign-ins).
pub async fn accept_step(tx: &mut TenantTx, user: UserId, step: i64) -> StoreResult<bool> {
    let org = tx.org_uuid();
    let done = sqlx::query(
        "update users set mfa_last_step = $3
         where organization_id = $1 and id = $2 and (mfa_last_step is null or mfa_last_step < $3)",
    )
    .bind(org)
    .bind(user)
    .bind(step)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Spends a recovery code; false if it does not exist or was used.
pub async fn use_recovery_code(tx: &mut TenantTx, user: UserId, code_hash: &[u8]) -> StoreResult<bool> {
    let org = tx.org_uuid();
    let done = sqlx::query(
        "update mfa_recovery_codes set used_at = now()
         where organization_id = $1 and user_id = $2 and code_hash = $3 and used_at is null",
    )
    .bind(org)
    .bind(user)
    .bind(code_hash)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn replace_recovery_codes(tx: &mut TenantTx, user: UserId, hashes: &[Vec<u8>]) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query("delete from mfa_recovery_codes where organization_id = $1 and user_id = $2")
        .bind(org)
        .bind(user)
        .execute(tx.conn())
        .await?;
    if !hashes.is_empty() {
        let ids: Vec<uuid::Uuid> = hashes.iter().map(|_| uuid::Uuid::now_v7()).collect();
        sqlx::query(
            "insert into mfa_recovery_codes (id, organization_id, user_id, code_hash)
             select id, $1, $2, h from unnest($3::uuid[], $4::bytea[]) as t(id, h)",
        )
        .bind(org)
        .bind(user)
        .bind(&ids)
        .bind(hashes)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}
