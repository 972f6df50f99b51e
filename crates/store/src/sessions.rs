//! Sign-in sessions: opaque bearer tokens, stored as hashes, with sliding expiry.

use chrono::{DateTime, Utc};
use domain::{Role, SessionId, UserId, UserStatus};

use crate::{StoreResult, TenantTx};

pub struct NewSession<'a> {
    pub id: SessionId,
    pub user_id: UserId,
    pub token_hash: &'a [u8],
    pub expires_at: DateTime<Utc>,
    pub mfa_enrolment_required: bool,
    pub ip: Option<String>,
    pub user_agent: Option<&'a str>,
}

pub async fn create(tx: &mut TenantTx, s: NewSession<'_>) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "insert into sessions (id, organization_id, user_id, token_hash, expires_at,
                               mfa_enrolment_required, ip, user_agent)
         values ($1, $2, $3, $4, $5, $6, $7::text::inet, $8)",
    )
    .bind(s.id)
    .bind(org)
    .bind(s.user_id)
    .bind(s.token_hash)
    .bind(s.expires_at)
    .bind(s.mfa_enrolment_required)
    .bind(s.ip)
    .bind(s.user_agent.map(|ua| truncate(ua, 512)))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A live session with its user's current role and status (a role change applies at once).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActiveSession {
    pub id: SessionId,
    pub user_id: UserId,
    pub role: Role,
    pub user_status: UserStatus,
    pub mfa_enrolment_required: bool,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn find_active(tx: &mut TenantTx, token_hash: &[u8]) -> StoreResult<Option<ActiveSession>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select s.id, s.user_id, m.role, u.status as user_status, s.mfa_enrolment_required,
                s.last_seen_at, s.expires_at
         from sessions s
         join users u on u.id = s.user_id and u.organization_id = s.organization_id
         join memberships m on m.user_id = s.user_id and m.organization_id = s.organization_id
         where s.organization_id = $1 and s.token_hash = $2
           and s.revoked_at is null and s.expires_at > now()",
    )
    .bind(org)
    .bind(token_hash)
    .fetch_optional(tx.conn())
    .await?)
}

/// Slides the expiry forward (the caller decides how often, to bound writes).
pub async fn touch(tx: &mut TenantTx, id: SessionId, expires_at: DateTime<Utc>) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "update sessions set last_seen_at = now(), expires_at = greatest(expires_at, $3)
         where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(id)
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn clear_mfa_enrolment(tx: &mut TenantTx, user_id: UserId) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "update sessions set mfa_enrolment_required = false
         where organization_id = $1 and user_id = $2 and revoked_at is null",
    )
    .bind(org)
    .bind(user_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Confines the live sessions of members without MFA to enrolment, for staff and/or client roles (the
/// organization has just started to require MFA of them). Returns how many sessions changed.
pub async fn require_mfa_enrolment(tx: &mut TenantTx, staff: bool, clients: bool) -> StoreResult<u64> {
    let org = tx.org_uuid();
    let changed = sqlx::query(
        "update sessions s set mfa_enrolment_required = true
         from users u, memberships m
         where s.organization_id = $1 and u.organization_id = $1 and m.organization_id = $1
           and u.id = s.user_id and m.user_id = s.user_id
           and s.revoked_at is null and s.expires_at > now() and not s.mfa_enrolment_required
           and u.mfa_enabled_at is null
           and ((m.role = 'client' and $3) or (m.role <> 'client' and $2))",
    )
    .bind(org)
    .bind(staff)
    .bind(clients)
    .execute(tx.conn())
    .await?;
    Ok(changed.rows_affected())
}

pub async fn revoke(tx: &mut TenantTx, id: SessionId) -> StoreResult<bool> {
    let org = tx.org_uuid();
    let done = sqlx::query(
        "update sessions set revoked_at = now()
         where organization_id = $1 and id = $2 and revoked_at is null",
    )
    .bind(org)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every session of a user except `keep` (the one making the change, if any).
pub async fn revoke_all_for_user(
    tx: &mut TenantTx,
    user_id: UserId,
    keep: Option<SessionId>,
) -> StoreResult<u64> {
    let org = tx.org_uuid();
    let done = sqlx::query(
        "update sessions set revoked_at = now()
         where organization_id = $1 and user_id = $2 and revoked_at is null
           and ($3::uuid is null or id <> $3)",
    )
    .bind(org)
    .bind(user_id)
    .bind(keep)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
