//! Invitations of staff and client users: a single-use token link, stored as a hash.

use chrono::{DateTime, Utc};
use domain::{InvitationId, Role, UserId};
use serde::{Deserialize, Serialize};

use crate::cursor::{self, Page};
use crate::{StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Invitation {
    pub id: InvitationId,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub invited_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

macro_rules! columns {
    () => {
        "id, email::text as email, name, role, invited_by, created_at, expires_at, accepted_at, revoked_at"
    };
}

pub struct NewInvitation<'a> {
    pub id: InvitationId,
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub role: Role,
    pub token_hash: &'a [u8],
    pub invited_by: UserId,
    pub expires_at: DateTime<Utc>,
}

/// One open invitation per address: a second is `Conflict("invitations_one_open_per_email")`.
pub async fn create(tx: &mut TenantTx, n: NewInvitation<'_>) -> StoreResult<Invitation> {
    let org = tx.org_uuid();
    // An expired, unaccepted invitation no longer blocks a new one.
    sqlx::query(
        "update invitations set revoked_at = now()
         where organization_id = $1 and email = $2 and accepted_at is null and revoked_at is null
           and expires_at <= now()",
    )
    .bind(org)
    .bind(n.email)
    .execute(tx.conn())
    .await?;
    let inv: Invitation = sqlx::query_as(concat!(
        "insert into invitations (id, organization_id, email, name, role, token_hash, invited_by, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning ",
        columns!()
    ))
    .bind(n.id)
    .bind(org)
    .bind(n.email)
    .bind(n.name)
    .bind(n.role)
    .bind(n.token_hash)
    .bind(n.invited_by)
    .bind(n.expires_at)
    .fetch_one(tx.conn())
    .await?;
    Ok(inv)
}

#[derive(Serialize, Deserialize)]
struct InvitationKey(DateTime<Utc>, InvitationId);

/// Newest first, keyset-paged; `open_only` keeps those that can still be accepted.
pub async fn list(
    tx: &mut TenantTx,
    open_only: bool,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<Invitation>> {
    let org = tx.org_uuid();
    let after: Option<InvitationKey> = after.map(cursor::decode).transpose()?;
    let (after_time, after_id) = after.map(|k| (Some(k.0), Some(k.1))).unwrap_or((None, None));
    let rows: Vec<Invitation> = sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from invitations where organization_id = $1
           and (not $2 or (accepted_at is null and revoked_at is null and expires_at > now()))
           and ($3::timestamptz is null or (created_at, id) < ($3, $4))
         order by created_at desc, id desc limit $5"
    ))
    .bind(org)
    .bind(open_only)
    .bind(after_time)
    .bind(after_id)
    .bind(limit as i64 + 1)
    .fetch_all(tx.conn())
    .await?;
    Ok(Page::from_overfetch(rows, limit, |i| InvitationKey(i.created_at, i.id)))
}

/// The open invitation a token names, locked until the transaction ends (single use).
pub async fn find_open_for_update(tx: &mut TenantTx, token_hash: &[u8]) -> StoreResult<Option<Invitation>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from invitations where organization_id = $1 and token_hash = $2
           and accepted_at is null and revoked_at is null and expires_at > now()
         for update"
    ))
    .bind(org)
    .bind(token_hash)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn mark_accepted(tx: &mut TenantTx, id: InvitationId, user: UserId) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "update invitations set accepted_at = now(), accepted_user_id = $3
         where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(id)
    .bind(user)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn revoke(tx: &mut TenantTx, id: InvitationId) -> StoreResult<Invitation> {
    let org = tx.org_uuid();
    let inv: Invitation = sqlx::query_as(concat!(
        "update invitations set revoked_at = coalesce(revoked_at, now())
         where organization_id = $1 and id = $2 and accepted_at is null returning ",
        columns!()
    ))
    .bind(org)
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    Ok(inv)
}
